/* tessera-agent.c: a client for the running ssh-agent
 *
 * Speaks the agent protocol (draft-ietf-sshm-ssh-agent, OpenSSH's
 * PROTOCOL.agent) over $SSH_AUTH_SOCK itself, so that a PIN never goes
 * through argv or a pipe of ours.  Every exchange runs on a worker thread
 * with a timeout, so a hung agent gives an error, not a frozen window.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "tessera-agent.h"
#include "tessera-agent-provider.h"
#include "tessera-private.h"

#define SSH_AGENT_FAILURE                    5
#define SSH_AGENT_SUCCESS                    6
#define SSH2_AGENTC_REQUEST_IDENTITIES      11
#define SSH2_AGENT_IDENTITIES_ANSWER        12
#define SSH_AGENTC_ADD_SMARTCARD_KEY        20
#define SSH_AGENTC_REMOVE_SMARTCARD_KEY     21
#define SSH_AGENTC_ADD_SMARTCARD_KEY_CONSTRAINED 26
#define SSH_AGENT_CONSTRAIN_LIFETIME         1
#define SSH_AGENT_CONSTRAIN_CONFIRM          2

#define MAX_REPLY (256 * 1024)

/* Loading a provider starts ssh-pkcs11-helper, which logs in to the card:
 * seconds on a real card, longer with a PIN pad. */
#define ADD_TIMEOUT_SECONDS 120

struct _TesseraAgent
{
  GObject  parent_instance;

  char    *socket_path;
  guint    timeout;
};

G_DEFINE_FINAL_TYPE (TesseraAgent, tessera_agent, G_TYPE_OBJECT)
G_DEFINE_QUARK (tessera-agent-error-quark, tessera_agent_error)

static void
tessera_agent_finalize (GObject *object)
{
  TesseraAgent *self = (TesseraAgent *) object;

  g_clear_pointer (&self->socket_path, g_free);

  G_OBJECT_CLASS (tessera_agent_parent_class)->finalize (object);
}

static void
tessera_agent_class_init (TesseraAgentClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tessera_agent_finalize;
}

static void
tessera_agent_init (TesseraAgent *self)
{
  self->timeout = 10;
}

void
tessera_agent_identity_free (TesseraAgentIdentity *identity)
{
  g_clear_pointer (&identity->blob, g_bytes_unref);
  g_clear_pointer (&identity->comment, g_free);
  g_free (identity);
}

/**
 * tessera_agent_new:
 * @socket_path: (nullable): the agent's socket; %NULL for $SSH_AUTH_SOCK
 *
 * Returns: (transfer full): a client; nothing is connected yet
 */
TesseraAgent *
tessera_agent_new (const char *socket_path)
{
  TesseraAgent *self = g_object_new (TESSERA_TYPE_AGENT, NULL);

  if (socket_path == NULL)
    socket_path = g_getenv ("SSH_AUTH_SOCK");
  self->socket_path = g_strdup (socket_path != NULL && socket_path[0] != '\0' ? socket_path : NULL);

  return self;
}

/**
 * tessera_agent_get_socket_path:
 *
 * Returns: (nullable): the socket, or %NULL when SSH_AUTH_SOCK is unset
 */
const char *
tessera_agent_get_socket_path (TesseraAgent *self)
{
  g_return_val_if_fail (TESSERA_IS_AGENT (self), NULL);
  return self->socket_path;
}

/**
 * tessera_agent_set_timeout:
 *
 * Sets how long to wait for the agent to answer a query (default 10 s).
 */
void
tessera_agent_set_timeout (TesseraAgent *self,
                           guint         seconds)
{
  g_return_if_fail (TESSERA_IS_AGENT (self));
  self->timeout = MAX (seconds, 1);
}

/**
 * tessera_agent_is_gpg_agent:
 *
 * Returns: whether the socket is gpg-agent's, which does not take
 *   smart-card providers at all
 */
gboolean
tessera_agent_is_gpg_agent (TesseraAgent *self)
{
  g_return_val_if_fail (TESSERA_IS_AGENT (self), FALSE);

  return self->socket_path != NULL &&
         (strstr (self->socket_path, "gnupg") != NULL ||
          g_str_has_suffix (self->socket_path, "S.gpg-agent.ssh"));
}

/* '*' matches any run of characters, '/' included, as in ssh-agent's
 * match_pattern(). */
static gboolean
match_pattern (const char *string,
               const char *pattern)
{
  for (;;)
    {
      if (*pattern == '\0')
        return *string == '\0';

      if (*pattern == '*')
        {
          pattern++;
          if (*pattern == '\0')
            return TRUE;
          for (; *string != '\0'; string++)
            if (match_pattern (string, pattern))
              return TRUE;
          return FALSE;
        }

      if (*string == '\0')
        return FALSE;
      if (*pattern != '?' && *pattern != *string)
        return FALSE;
      string++;
      pattern++;
    }
}

/**
 * tessera_agent_provider_allowed:
 * @provider: a module file
 * @real_path: (out) (optional): where it really is
 *
 * Checks a provider the way ssh-agent does by default: its real path must
 * match one of the patterns "/usr/lib*" "/" "*" or "/usr/local/lib*" "/" "*",
 * where a star also matches slashes.  For an agent started with -P, the
 * user gives Tessera the same comma-separated list in
 * TESSERA_AGENT_ALLOWLIST.
 *
 * Returns: whether ssh-agent accepts it
 */
gboolean
tessera_agent_provider_allowed (const char  *provider,
                                char       **real_path)
{
  static const char *defaults[] = { "/usr/lib*/*", "/usr/local/lib*/*", NULL };
  const char *allowlist = g_getenv ("TESSERA_AGENT_ALLOWLIST");
  g_auto(GStrv) custom = NULL;
  const char * const *patterns = defaults;
  const char *root = _tessera_sandbox_host_root ();
  g_autofree char *resolved = NULL;
  gboolean allowed = FALSE;

  /* In a sandbox the provider is a host path: resolve it on the host. */
  if (root != NULL)
    {
      g_autofree char *seen = g_build_filename (root, provider, NULL);

      resolved = realpath (seen, NULL);
      if (resolved != NULL && g_str_has_prefix (resolved, root) && resolved[strlen (root)] == '/')
        memmove (resolved, resolved + strlen (root), strlen (resolved + strlen (root)) + 1);
    }
  else
    resolved = realpath (provider, NULL);

  /* An agent started with -P: its list, as the user told Tessera */
  if (allowlist != NULL && allowlist[0] != '\0')
    {
      custom = g_strsplit (allowlist, ",", -1);
      patterns = (const char * const *) custom;
    }

  if (resolved != NULL)
    for (guint i = 0; patterns[i] != NULL; i++)
      allowed |= match_pattern (resolved, patterns[i]);

  if (real_path != NULL)
    *real_path = g_strdup (resolved != NULL ? resolved : provider);
  return allowed;
}

/* The wire ------------------------------------------------------------------- */

static void
put_uint32 (GByteArray *out,
            guint32     value)
{
  guint8 bytes[4] = { value >> 24, value >> 16, value >> 8, value };

  g_byte_array_append (out, bytes, 4);
}

static void
put_string (GByteArray *out,
            const char *text)
{
  gsize len = text != NULL ? strlen (text) : 0;

  put_uint32 (out, len);
  if (len > 0)
    g_byte_array_append (out, (const guint8 *) text, len);
}

static guint32
read_uint32 (const guint8 *data)
{
  return ((guint32) data[0] << 24) | ((guint32) data[1] << 16) | ((guint32) data[2] << 8) | data[3];
}

typedef struct
{
  char       *socket_path;
  guint       timeout;
  GByteArray *request;   /* may hold a PIN: wiped when freed */
  gboolean    adding;
} Exchange;

static void
exchange_free (Exchange *exchange)
{
  if (exchange->request != NULL)
    {
      explicit_bzero (exchange->request->data, exchange->request->len);
      g_byte_array_unref (exchange->request);
    }
  g_free (exchange->socket_path);
  g_free (exchange);
}

static gboolean
socket_write_all (GSocket       *socket,
                  const guint8  *data,
                  gsize          len,
                  GCancellable  *cancellable,
                  GError       **error)
{
  while (len > 0)
    {
      gssize sent = g_socket_send (socket, (const char *) data, len, cancellable, error);

      if (sent <= 0)
        return FALSE;
      data += sent;
      len -= sent;
    }
  return TRUE;
}

static gboolean
socket_read_all (GSocket       *socket,
                 guint8        *data,
                 gsize          len,
                 GCancellable  *cancellable,
                 GError       **error)
{
  while (len > 0)
    {
      gssize got = g_socket_receive (socket, (char *) data, len, cancellable, error);

      if (got < 0)
        return FALSE;
      if (got == 0)
        {
          g_set_error_literal (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_PROTOCOL,
                               _("The SSH agent closed the connection."));
          return FALSE;
        }
      data += got;
      len -= got;
    }
  return TRUE;
}

/* Sends one message and reads one reply, on a worker thread.  The request
 * is framed here: a length, then the type byte and payload it holds. */
static GBytes *
exchange_run (Exchange      *exchange,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree guint8 *reply = NULL;
  guint8 header[4];
  guint32 reply_len;

  if (exchange->socket_path == NULL)
    {
      g_set_error_literal (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_NO_AGENT,
                           _("No SSH agent is running: SSH_AUTH_SOCK is not set. Start one with "
                             "“eval $(ssh-agent)”, or log in to a desktop session that runs one."));
      return NULL;
    }

  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  if (socket == NULL)
    return NULL;
  g_socket_set_timeout (socket, exchange->timeout);

  address = g_unix_socket_address_new (exchange->socket_path);
  if (!g_socket_connect (socket, address, cancellable, &local_error))
    {
      g_set_error (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_NO_AGENT,
                   _("No SSH agent answers at %s: %s. The agent may have stopped; start one with "
                     "“eval $(ssh-agent)” and point SSH_AUTH_SOCK at it."),
                   exchange->socket_path, local_error->message);
      return NULL;
    }

  {
    guint8 length[4] = {
      exchange->request->len >> 24, exchange->request->len >> 16,
      exchange->request->len >> 8, exchange->request->len
    };

    if (!socket_write_all (socket, length, 4, cancellable, &local_error) ||
        !socket_write_all (socket, exchange->request->data, exchange->request->len,
                           cancellable, &local_error) ||
        !socket_read_all (socket, header, 4, cancellable, &local_error))
      goto failed;
  }

  reply_len = read_uint32 (header);
  if (reply_len == 0 || reply_len > MAX_REPLY)
    {
      g_set_error_literal (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_PROTOCOL,
                           _("The SSH agent sent a reply Tessera does not understand."));
      return NULL;
    }

  reply = g_malloc (reply_len);
  if (!socket_read_all (socket, reply, reply_len, cancellable, &local_error))
    goto failed;

  return g_bytes_new_take (g_steal_pointer (&reply), reply_len);

failed:
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_set_error (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_TIMEOUT,
                 _("The SSH agent at %s did not answer within %u seconds."),
                 exchange->socket_path, exchange->timeout);
  else if (local_error->domain == TESSERA_AGENT_ERROR ||
           g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, g_steal_pointer (&local_error));
  else
    g_set_error (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_PROTOCOL,
                 _("Talking to the SSH agent failed: %s"), local_error->message);
  return NULL;
}

static void
exchange_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GError *error = NULL;
  GBytes *reply = exchange_run (task_data, cancellable, &error);

  if (reply == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, reply, (GDestroyNotify) g_bytes_unref);
}

static void
start_exchange (TesseraAgent        *self,
                GByteArray          *request,
                guint                timeout,
                gpointer             source_tag,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  Exchange *exchange = g_new0 (Exchange, 1);

  exchange->socket_path = g_strdup (self->socket_path);
  exchange->timeout = timeout;
  exchange->request = request;

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, exchange, (GDestroyNotify) exchange_free);
  g_task_run_in_thread (task, exchange_thread);
}

/* Turns an agent's one-byte answer into success or a refusal. */
static gboolean
reply_is_success (GBytes  *reply,
                  GError **error)
{
  const guint8 *data = g_bytes_get_data (reply, NULL);

  if (data[0] == SSH_AGENT_SUCCESS)
    return TRUE;

  if (data[0] == SSH_AGENT_FAILURE)
    g_set_error_literal (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_REFUSED,
                         _("The SSH agent refused the request."));
  else
    g_set_error (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_PROTOCOL,
                 _("The SSH agent answered with message %u."), data[0]);
  return FALSE;
}

/* Identities ---------------------------------------------------------------- */

void
tessera_agent_list_identities_async (TesseraAgent        *self,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GByteArray *request = g_byte_array_new ();
  guint8 type = SSH2_AGENTC_REQUEST_IDENTITIES;

  g_return_if_fail (TESSERA_IS_AGENT (self));

  g_byte_array_append (request, &type, 1);
  start_exchange (self, request, self->timeout, tessera_agent_list_identities_async,
                  cancellable, callback, user_data);
}

/**
 * tessera_agent_list_identities_finish:
 *
 * Returns: (transfer full) (element-type TesseraAgentIdentity): the keys
 *   the agent holds
 */
GPtrArray *
tessera_agent_list_identities_finish (TesseraAgent  *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  g_autoptr(GBytes) reply = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  reply = g_task_propagate_pointer (G_TASK (result), error);
  if (reply == NULL)
    return NULL;
  return _tessera_agent_parse_identities (reply, error);
}

/*
 * _tessera_agent_parse_identities:
 * @reply: the agent's answer to REQUEST_IDENTITIES, without its length
 *
 * Returns: (transfer full) (element-type TesseraAgentIdentity): the keys
 *   the agent holds
 */
GPtrArray *
_tessera_agent_parse_identities (GBytes  *reply,
                                 GError **error)
{
  g_autoptr(GPtrArray) identities = NULL;
  const guint8 *data;
  gsize len;
  guint32 count;

  data = g_bytes_get_data (reply, &len);
  if (len < 5 || data[0] != SSH2_AGENT_IDENTITIES_ANSWER)
    {
      g_set_error_literal (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_PROTOCOL,
                           _("The SSH agent would not list its keys."));
      return NULL;
    }

  identities = g_ptr_array_new_with_free_func ((GDestroyNotify) tessera_agent_identity_free);
  count = read_uint32 (data + 1);
  data += 5;
  len -= 5;

  for (guint32 i = 0; i < count; i++)
    {
      TesseraAgentIdentity *identity;
      guint32 blob_len, comment_len;

      if (len < 4 || (blob_len = read_uint32 (data)) > len - 4)
        goto malformed;
      identity = g_new0 (TesseraAgentIdentity, 1);
      identity->blob = g_bytes_new (data + 4, blob_len);
      data += 4 + blob_len;
      len -= 4 + blob_len;

      if (len < 4 || (comment_len = read_uint32 (data)) > len - 4)
        {
          tessera_agent_identity_free (identity);
          goto malformed;
        }
      identity->comment = g_utf8_make_valid ((const char *) data + 4, comment_len);
      data += 4 + comment_len;
      len -= 4 + comment_len;

      g_ptr_array_add (identities, identity);
    }

  return g_steal_pointer (&identities);

malformed:
  g_set_error_literal (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_PROTOCOL,
                       _("The SSH agent sent a malformed list of keys."));
  return NULL;
}

/* Providers ----------------------------------------------------------------- */

/**
 * tessera_agent_add_provider_async:
 * @provider: the module file, as the agent's host sees it
 * @pin: (nullable): the user PIN; %NULL or empty for a PIN pad
 * @lifetime: seconds the keys stay, 0 for no limit
 * @confirm: whether the agent asks before each use
 *
 * Sends ADD_SMARTCARD_KEY, or ADD_SMARTCARD_KEY_CONSTRAINED with a
 * lifetime and/or confirm constraint.  The message, PIN included, is
 * wiped once sent.  The agent answers only yes or no: callers check what
 * they can before (tessera_agent_add_token_async() does).
 */
void
tessera_agent_add_provider_async (TesseraAgent        *self,
                                  const char          *provider,
                                  const char          *pin,
                                  guint                lifetime,
                                  gboolean             confirm,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  GByteArray *request = g_byte_array_new ();
  guint8 type = (lifetime > 0 || confirm) ? SSH_AGENTC_ADD_SMARTCARD_KEY_CONSTRAINED
                                          : SSH_AGENTC_ADD_SMARTCARD_KEY;

  g_return_if_fail (TESSERA_IS_AGENT (self));
  g_return_if_fail (provider != NULL);

  g_byte_array_append (request, &type, 1);
  put_string (request, provider);
  put_string (request, pin);
  if (lifetime > 0)
    {
      guint8 constraint = SSH_AGENT_CONSTRAIN_LIFETIME;

      g_byte_array_append (request, &constraint, 1);
      put_uint32 (request, lifetime);
    }
  if (confirm)
    {
      guint8 constraint = SSH_AGENT_CONSTRAIN_CONFIRM;

      g_byte_array_append (request, &constraint, 1);
    }

  start_exchange (self, request, MAX (self->timeout, ADD_TIMEOUT_SECONDS),
                  tessera_agent_add_provider_async, cancellable, callback, user_data);
}

gboolean
tessera_agent_add_provider_finish (TesseraAgent  *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_autoptr(GBytes) reply = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  reply = g_task_propagate_pointer (G_TASK (result), error);
  return reply != NULL && reply_is_success (reply, error);
}

void
tessera_agent_remove_provider_async (TesseraAgent        *self,
                                     const char          *provider,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GByteArray *request = g_byte_array_new ();
  guint8 type = SSH_AGENTC_REMOVE_SMARTCARD_KEY;

  g_return_if_fail (TESSERA_IS_AGENT (self));

  g_byte_array_append (request, &type, 1);
  put_string (request, provider);
  put_string (request, "");
  start_exchange (self, request, self->timeout, tessera_agent_remove_provider_async,
                  cancellable, callback, user_data);
}

gboolean
tessera_agent_remove_provider_finish (TesseraAgent  *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  g_autoptr(GBytes) reply = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  reply = g_task_propagate_pointer (G_TASK (result), error);
  return reply != NULL && reply_is_success (reply, error);
}

/* The token's keys in the agent ------------------------------------------------ */

/**
 * tessera_agent_state_for_token:
 * @identities: (element-type TesseraAgentIdentity): what the agent holds
 *
 * Compares the agent's keys with the token's, by public key: the agent
 * knows nothing else of where a key came from.
 *
 * Returns: whether all, some or none of the token's SSH keys are in the
 *   agent
 */
TesseraAgentState
tessera_agent_state_for_token (GPtrArray    *identities,
                               TesseraToken *token)
{
  GListModel *keys = tessera_token_get_keys (token);
  guint wanted = 0, found = 0;

  for (guint i = 0; i < g_list_model_get_n_items (keys); i++)
    {
      g_autoptr(TesseraKey) key = g_list_model_get_item (keys, i);
      GBytes *blob = tessera_key_get_ssh_blob (key);

      if (blob == NULL || !tessera_openssh_supports (tessera_key_get_key_type (key)))
        continue;

      wanted++;
      for (guint j = 0; j < identities->len; j++)
        {
          TesseraAgentIdentity *identity = g_ptr_array_index (identities, j);

          if (g_bytes_equal (identity->blob, blob))
            {
              found++;
              break;
            }
        }
    }

  if (found == 0)
    return TESSERA_AGENT_STATE_NONE;
  return found == wanted ? TESSERA_AGENT_STATE_ALL : TESSERA_AGENT_STATE_SOME;
}

/* One token, one provider ------------------------------------------------------ */

/* ssh-agent's helper logs in to every token of a provider with the one
 * PIN it is given, so adding one token of a module that holds others
 * costs each of them a failed try (and a TPM counts them all towards its
 * lockout).  Such a token goes to the agent through one of Tessera's
 * one-token providers instead (src/agent-provider): a module that loads
 * the real one and shows the agent only the token chosen in a small file.
 * Copy N of the provider reads choice file N; a token keeps its copy
 * while its keys are in the agent. */

typedef struct
{
  char         *module;
  CK_SLOT_ID    slot_id;
  CK_TOKEN_INFO info;    /* label, manufacturerID, model, serialNumber only */
  char         *name;
} AgentChoice;

static void
agent_choice_free (AgentChoice *choice)
{
  g_free (choice->module);
  g_free (choice->name);
  g_free (choice);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AgentChoice, agent_choice_free)

/* Where the one-token providers are, or NULL when the agent's computer has
 * none: they are installed beside Tessera, or run from its build tree.  In
 * a sandbox the agent runs on the host, which has none of Tessera's. */
static const char *
agent_provider_dir (void)
{
  const char *dir = g_getenv ("TESSERA_AGENT_PROVIDER_DIR");
  g_autofree char *first = g_strdup_printf (TESSERA_AGENT_PROVIDER_FORMAT, 1);

  if (dir != NULL && dir[0] != '\0')
    {
      g_autofree char *there = g_build_filename (dir, first, NULL);

      return g_file_test (there, G_FILE_TEST_IS_REGULAR) ? dir : NULL;
    }
  if (_tessera_sandbox_host_root () != NULL)
    return NULL;

  {
    g_autofree char *installed = g_build_filename (TESSERA_AGENT_PROVIDER_INSTALLED, first, NULL);
    g_autofree char *built = g_build_filename (TESSERA_AGENT_PROVIDER_BUILT, first, NULL);

    if (g_file_test (installed, G_FILE_TEST_IS_REGULAR))
      return TESSERA_AGENT_PROVIDER_INSTALLED;
    if (g_file_test (built, G_FILE_TEST_IS_REGULAR))
      return TESSERA_AGENT_PROVIDER_BUILT;
  }
  return NULL;
}

static char *
agent_provider_path (const char *dir,
                     int         n)
{
  g_autofree char *name = g_strdup_printf (TESSERA_AGENT_PROVIDER_FORMAT, n);

  return g_build_filename (dir, name, NULL);
}

static char *
agent_choice_path (int n)
{
  g_autofree char *name = g_strdup_printf (TESSERA_AGENT_CHOICE_NAME "%d", n);

  return g_build_filename (g_get_user_runtime_dir (), TESSERA_AGENT_CHOICE_DIR, name, NULL);
}

static gboolean
read_hex_field (const char *text,
                guchar     *out,
                gsize       length)
{
  if (strlen (text) != length * 2)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    {
      int high = g_ascii_xdigit_value (text[2 * i]);
      int low = g_ascii_xdigit_value (text[2 * i + 1]);

      if (high < 0 || low < 0)
        return FALSE;
      out[i] = (guchar) (high << 4 | low);
    }
  return TRUE;
}

/* Choice file N, or NULL when there is none or it cannot be read. */
static AgentChoice *
agent_choice_read (int n)
{
  g_autofree char *path = agent_choice_path (n);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(AgentChoice) choice = g_new0 (AgentChoice, 1);
  guint seen = 0;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *value = strchr (lines[i], ' ');

      if (lines[i][0] == '#' || value == NULL)
        continue;
      *value++ = '\0';

      if (g_str_equal (lines[i], "module"))
        {
          g_free (choice->module);
          choice->module = g_strdup (value);
          seen |= 1;
        }
      else if (g_str_equal (lines[i], "slot"))
        {
          guint64 id;

          if (g_ascii_string_to_unsigned (value, 10, 0, G_MAXULONG, &id, NULL))
            {
              choice->slot_id = id;
              seen |= 2;
            }
        }
      else if (g_str_equal (lines[i], "label") &&
               read_hex_field (value, choice->info.label, sizeof choice->info.label))
        seen |= 4;
      else if (g_str_equal (lines[i], "manufacturer") &&
               read_hex_field (value, choice->info.manufacturerID, sizeof choice->info.manufacturerID))
        seen |= 8;
      else if (g_str_equal (lines[i], "model") &&
               read_hex_field (value, choice->info.model, sizeof choice->info.model))
        seen |= 16;
      else if (g_str_equal (lines[i], "serial") &&
               read_hex_field (value, choice->info.serialNumber, sizeof choice->info.serialNumber))
        seen |= 32;
      else if (g_str_equal (lines[i], "name"))
        {
          g_free (choice->name);
          choice->name = g_strdup (value);
        }
    }

  if (seen != 63)
    return NULL;
  if (choice->name == NULL)
    choice->name = TESSERA_CK_STRING (choice->info.label);
  return g_steal_pointer (&choice);
}

static gboolean
same_raw_identity (const CK_TOKEN_INFO *a,
                   const CK_TOKEN_INFO *b)
{
  return memcmp (a->label, b->label, sizeof a->label) == 0 &&
         memcmp (a->manufacturerID, b->manufacturerID, sizeof a->manufacturerID) == 0 &&
         memcmp (a->model, b->model, sizeof a->model) == 0 &&
         memcmp (a->serialNumber, b->serialNumber, sizeof a->serialNumber) == 0;
}

static gboolean
agent_choice_names_token (AgentChoice  *choice,
                          TesseraToken *token)
{
  const char *module = tessera_module_get_host_path (tessera_token_get_module (token));

  return module != NULL && g_str_equal (choice->module, module) &&
         choice->slot_id == tessera_token_get_slot_id (token) &&
         same_raw_identity (&choice->info, _tessera_token_peek_info (token));
}

/* The copy of the provider that holds @token, or 0. */
static int
agent_choice_find (TesseraToken *token)
{
  for (int n = 1; n <= TESSERA_AGENT_PROVIDER_COUNT; n++)
    {
      g_autoptr(AgentChoice) choice = agent_choice_read (n);

      if (choice != NULL && agent_choice_names_token (choice, token))
        return n;
    }
  return 0;
}

static void
append_hex_line (GString      *out,
                 const char   *key,
                 const guchar *data,
                 gsize         length)
{
  g_string_append_printf (out, "%s ", key);
  for (gsize i = 0; i < length; i++)
    g_string_append_printf (out, "%02x", data[i]);
  g_string_append_c (out, '\n');
}

static gboolean
agent_choice_write (int            n,
                    TesseraToken  *token,
                    GError       **error)
{
  const CK_TOKEN_INFO *info = _tessera_token_peek_info (token);
  const char *module = tessera_module_get_host_path (tessera_token_get_module (token));
  g_autofree char *path = agent_choice_path (n);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *name = tessera_text_make_visible (tessera_token_get_display_name (token));
  g_autoptr(GString) out = g_string_new (NULL);

  g_string_append_printf (out, "# Written by Tessera: the one token that "
                          TESSERA_AGENT_PROVIDER_FORMAT " shows ssh-agent.\n", n);
  g_string_append_printf (out, "module %s\n", module);
  g_string_append_printf (out, "slot %lu\n", (gulong) tessera_token_get_slot_id (token));
  append_hex_line (out, "label", info->label, sizeof info->label);
  append_hex_line (out, "manufacturer", info->manufacturerID, sizeof info->manufacturerID);
  append_hex_line (out, "model", info->model, sizeof info->model);
  append_hex_line (out, "serial", info->serialNumber, sizeof info->serialNumber);
  g_strdelimit (name, "\n", ' ');
  g_string_append_printf (out, "name %s\n", name);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not create %s: %s"), dir, g_strerror (saved));
      return FALSE;
    }

  return g_file_set_contents_full (path, out->str, out->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

static void
agent_choice_forget (TesseraToken *token)
{
  int n = agent_choice_find (token);

  if (n != 0)
    {
      g_autofree char *path = agent_choice_path (n);

      g_unlink (path);
    }
}

/**
 * tessera_agent_get_token_provider:
 * @token: a token
 *
 * The provider the agent holds @token's keys under, or would: one of
 * Tessera's one-token providers when it was added through one, otherwise
 * its module as the agent's computer sees it.
 *
 * Returns: (transfer full) (nullable): a path, or %NULL when the agent's
 *   computer has no module for the token
 */
char *
tessera_agent_get_token_provider (TesseraToken *token)
{
  const char *dir;
  int n;

  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);

  n = agent_choice_find (token);
  dir = agent_provider_dir ();
  if (n != 0 && dir != NULL)
    return agent_provider_path (dir, n);

  return g_strdup (tessera_module_get_host_path (tessera_token_get_module (token)));
}

/* Worker thread: which provider to give the agent for a token.  The
 * module's own when the token is its only initialised one; a one-token
 * provider otherwise.  The other tokens' names come back in @at_risk. */
typedef struct
{
  char      *provider;
  gboolean   one_token;
  GPtrArray *at_risk;
} ProviderChoice;

static void
provider_choice_free (ProviderChoice *choice)
{
  g_free (choice->provider);
  g_clear_pointer (&choice->at_risk, g_ptr_array_unref);
  g_free (choice);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProviderChoice, provider_choice_free)

/* What the worker thread needs of the token, copied on the main context. */
typedef struct
{
  TesseraModule *module;
  CK_SLOT_ID     slot_id;
  CK_TOKEN_INFO  info;
} TokenSnapshot;

static void
token_snapshot_free (TokenSnapshot *snapshot)
{
  g_clear_object (&snapshot->module);
  g_free (snapshot);
}

/* Worker thread: the names of the module's other initialised tokens, on
 * which the agent's helper would try the PIN. */
static void
list_other_tokens_thread (GTask        *task,
                          gpointer      source,
                          gpointer      task_data,
                          GCancellable *cancellable)
{
  TokenSnapshot *mine = task_data;
  g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) slots = NULL;
  CK_FUNCTION_LIST *functions;
  gboolean call_failed = FALSE;
  GError *error = NULL;

  functions = _tessera_module_begin (mine->module);
  if (functions == NULL)
    {
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                               _("The module “%s” is not loaded."),
                               tessera_module_get_name (mine->module));
      return;
    }
  slots = _tessera_module_scan_slots (mine->module, functions, &call_failed, &error);
  _tessera_module_end (mine->module);
  if (slots == NULL)
    {
      _tessera_module_explain_failure (mine->module, &error);
      g_task_return_error (task, error);
      return;
    }

  for (guint i = 0; i < slots->len; i++)
    {
      TesseraSlotEntry *entry = &g_array_index (slots, TesseraSlotEntry, i);
      g_autofree char *label = NULL;

      if (entry->slot_id == mine->slot_id && same_raw_identity (&entry->token_info, &mine->info))
        continue;
      /* The agent's helper skips tokens that are not initialised. */
      if (!(entry->token_info.flags & CKF_TOKEN_INITIALIZED))
        continue;

      label = TESSERA_CK_STRING (entry->token_info.label);
      g_ptr_array_add (others, tessera_text_make_visible (label[0] ? label : _("Unnamed token")));
    }

  /* A token that could not be read may be one more the helper would try. */
  if (call_failed)
    g_ptr_array_add (others, g_strdup (_("a token that could not be read")));

  g_task_return_pointer (task, g_steal_pointer (&others), (GDestroyNotify) g_ptr_array_unref);
}

static char *
join_names (GPtrArray *names)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < names->len; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      g_string_append_printf (out, "“%s”", (const char *) g_ptr_array_index (names, i));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Which provider to give the agent for @token, given the module's other
 * tokens: the module's own when there are none, a one-token provider
 * otherwise (writing its choice file). */
static ProviderChoice *
choose_provider (TesseraToken  *token,
                 GPtrArray     *at_risk,
                 GError       **error)
{
  TesseraModule *module = tessera_token_get_module (token);
  g_autoptr(ProviderChoice) choice = g_new0 (ProviderChoice, 1);
  g_autofree char *names = NULL;
  const char *dir;
  int n;

  choice->at_risk = g_ptr_array_ref (at_risk);

  n = agent_choice_find (token);
  if (choice->at_risk->len == 0 && n == 0)
    {
      choice->provider = g_strdup (tessera_module_get_host_path (module));
      return g_steal_pointer (&choice);
    }

  names = join_names (choice->at_risk);
  dir = agent_provider_dir ();
  if (dir == NULL || tessera_module_get_host_path (module) == NULL)
    {
      g_set_error (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_OTHER_TOKENS,
                               _("The module “%s” also holds %s. ssh-agent would try this PIN on "
                                 "each of them, and every wrong try counts towards locking it (a TPM "
                                 "locks out all its tokens together). Tessera shows the agent only "
                                 "one token through its own provider, but the agent’s computer does "
                                 "not have it: install Tessera there (not only as a Flatpak)."),
                               tessera_module_get_name (module), names);
      return NULL;
    }

  /* A free copy of the provider, when the token has none yet. */
  for (int i = 1; n == 0 && i <= TESSERA_AGENT_PROVIDER_COUNT; i++)
    {
      g_autofree char *path = agent_choice_path (i);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        n = i;
    }
  if (n == 0)
    {
      g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *held_names = NULL;

      for (int i = 1; i <= TESSERA_AGENT_PROVIDER_COUNT; i++)
        {
          g_autoptr(AgentChoice) other = agent_choice_read (i);

          if (other != NULL)
            g_ptr_array_add (held, g_strdup (other->name));
        }
      held_names = join_names (held);
      g_set_error (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_OTHER_TOKENS,
                               _("The module “%s” also holds %s, so Tessera would show the agent only "
                                 "this token, through a provider of its own. All %d of those are in use, "
                                 "by %s. Remove one of those tokens from the agent first."),
                               tessera_module_get_name (module), names,
                               TESSERA_AGENT_PROVIDER_COUNT, held_names);
      return NULL;
    }

  if (!agent_choice_write (n, token, error))
    {
      g_prefix_error (error, _("Could not choose the token for the SSH agent: "));
      return NULL;
    }

  choice->provider = agent_provider_path (dir, n);
  choice->one_token = TRUE;
  return g_steal_pointer (&choice);
}

/* Adding a token, with every check Tessera can make ------------------------------ */

typedef struct
{
  TesseraToken *token;
  char         *provider;
  gboolean      one_token;  /* provider is one of Tessera's one-token ones */
  char         *pin;
  guint         lifetime;
  gboolean      confirm;
} AddToken;

static void
add_token_free (AddToken *add)
{
  g_clear_object (&add->token);
  g_clear_pointer (&add->provider, g_free);
  tessera_pin_wipe (&add->pin);
  g_free (add);
}

static void add_token_provider_chosen (GObject *source, GAsyncResult *result, gpointer user_data);
static void add_token_logged_in (GObject *source, GAsyncResult *result, gpointer user_data);
static void add_token_removed (GObject *source, GAsyncResult *result, gpointer user_data);
static void add_token_added (GObject *source, GAsyncResult *result, gpointer user_data);
static void add_token_verified (GObject *source, GAsyncResult *result, gpointer user_data);

/* Says why none of the token's keys can work, from the readiness verdicts. */
static gboolean
check_usable_keys (TesseraToken  *token,
                   GError       **error)
{
  GListModel *keys = tessera_token_get_keys (token);
  g_autoptr(GString) reasons = g_string_new (NULL);
  guint n = g_list_model_get_n_items (keys);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraKey) key = g_list_model_get_item (keys, i);
      g_autofree char *reason = NULL;

      if (tessera_key_get_ssh_verdict (key) == TESSERA_SSH_VERDICT_READY)
        return TRUE;

      reason = tessera_key_describe_ssh_verdict (key);
      g_string_append_printf (reasons, "\n• %s: %s",
                              tessera_key_get_label (key)[0] ? tessera_key_get_label (key) : tessera_key_get_id_hex (key),
                              reason);
    }

  if (n == 0)
    g_set_error_literal (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_NO_USABLE_KEY,
                         _("The token holds no key, so the SSH agent would have nothing to use."));
  else
    g_set_error (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_NO_USABLE_KEY,
                 _("The token holds no key that SSH can use:%s"), reasons->str);
  return FALSE;
}

static void
add_token_listed (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  TesseraAgent *self = TESSERA_AGENT (source);
  g_autoptr(GTask) task = user_data;
  GCancellable *cancellable = g_task_get_cancellable (task);
  AddToken *add = g_task_get_task_data (task);
  g_autoptr(GPtrArray) identities = NULL;
  g_autofree char *real_path = NULL;
  GError *error = NULL;

  /* 1. An agent answers. */
  identities = tessera_agent_list_identities_finish (self, result, &error);
  if (identities == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* 2. It is one that takes cards. */
  if (tessera_agent_is_gpg_agent (self))
    {
      g_task_return_new_error (task, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_NOT_SUPPORTED,
                               _("The SSH agent at %s is gpg-agent, which cannot use PKCS#11 tokens. "
                                 "Run OpenSSH’s ssh-agent, or gnome-keyring’s, and point SSH_AUTH_SOCK at it."),
                               self->socket_path);
      return;
    }

  /* 3. The agent will see this token and no other: a module holding
   * others goes to it through a one-token provider. */
  {
    GTask *list = g_task_new (self, cancellable, add_token_provider_chosen, g_steal_pointer (&task));
    TokenSnapshot *snapshot = g_new0 (TokenSnapshot, 1);

    snapshot->module = g_object_ref (tessera_token_get_module (add->token));
    snapshot->slot_id = tessera_token_get_slot_id (add->token);
    snapshot->info = *_tessera_token_peek_info (add->token);
    g_task_set_source_tag (list, list_other_tokens_thread);
    g_task_set_task_data (list, snapshot, (GDestroyNotify) token_snapshot_free);
    g_task_run_in_thread (list, list_other_tokens_thread);
    g_object_unref (list);
  }
}

static void
add_token_provider_chosen (GObject      *source,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GCancellable *cancellable = g_task_get_cancellable (task);
  AddToken *add = g_task_get_task_data (task);
  g_autoptr(ProviderChoice) choice = NULL;
  g_autoptr(GPtrArray) at_risk = NULL;
  g_autofree char *real_path = NULL;
  GError *error = NULL;

  at_risk = g_task_propagate_pointer (G_TASK (result), &error);
  if (at_risk != NULL)
    choice = choose_provider (add->token, at_risk, &error);
  if (choice == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  add->provider = g_steal_pointer (&choice->provider);
  add->one_token = choice->one_token;

  /* It will load the module: one the agent's computer has, in a place
   * its allowlist takes. */
  if (add->provider == NULL)
    {
      TesseraModule *module = tessera_token_get_module (add->token);
      const char *path = tessera_module_get_path (module);
      g_autofree char *base = NULL;

      /* p11-kit's "remote:" modules run in another process, with no file */
      if (path == NULL)
        {
          g_task_return_new_error (task, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_PROVIDER_NOT_ALLOWED,
                                   _("The module “%s” is one p11-kit reaches through its “remote:” "
                                     "setting, so there is no module file the SSH agent could load. "
                                     "Add the module file itself to p11-kit, or to the agent with ssh-add -s."),
                                   tessera_module_get_name (module));
          return;
        }

      base = g_path_get_basename (path);
      g_task_return_new_error (task, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_PROVIDER_NOT_ALLOWED,
                               _("The SSH agent runs outside Tessera’s sandbox, and your computer has no "
                                 "%s for it to load (Tessera uses %s). Install the module on your "
                                 "computer, for example the opensc-pkcs11 package for smart cards."),
                               base, path);
      return;
    }
  if (!tessera_agent_provider_allowed (add->provider, &real_path))
    {
      if (add->one_token)
        agent_choice_forget (add->token);
      g_task_return_new_error (task, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_PROVIDER_NOT_ALLOWED,
                               _("ssh-agent only loads modules under /usr/lib and /usr/local/lib, "
                                 "and %s is not there. Install the module there, or start the agent "
                                 "with “ssh-agent -P '%s'”."),
                               real_path, real_path);
      return;
    }

  /* 4. The PIN is right: one login of our own tells, where the agent
   * would only say "failure".  A login that is already open proves
   * nothing of this PIN, so it is closed first. */
  if (tessera_token_get_logged_in (add->token))
    {
      tessera_token_logout_async (add->token, cancellable,
                                  add_token_logged_in, g_steal_pointer (&task));
      return;
    }

  add_token_logged_in (NULL, NULL, g_steal_pointer (&task));
}

static void
add_token_login_done (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GCancellable *cancellable = g_task_get_cancellable (task);
  TesseraAgent *self = g_task_get_source_object (task);
  AddToken *add = g_task_get_task_data (task);
  GError *error = NULL;

  if (!tessera_token_login_finish (add->token, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* 5. Some key can work: no point in a refusal that says nothing. */
  if (!check_usable_keys (add->token, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* 6. A loaded provider cannot be added again: take it out first. */
  tessera_agent_remove_provider_async (self, add->provider, cancellable,
                                       add_token_removed, g_steal_pointer (&task));
}

static void
add_token_logged_in (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GCancellable *cancellable = g_task_get_cancellable (task);
  AddToken *add = g_task_get_task_data (task);

  if (result != NULL)
    tessera_token_logout_finish (add->token, result, NULL);

  if (tessera_token_has_state (add->token, TESSERA_TOKEN_STATE_USER_PIN_LOCKED))
    {
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED,
                               _("The PIN is locked. It must be unblocked with the SO PIN."));
      return;
    }

  tessera_token_login_async (add->token, add->pin, cancellable,
                             add_token_login_done, g_steal_pointer (&task));
}

static void
add_token_removed (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  TesseraAgent *self = TESSERA_AGENT (source);
  g_autoptr(GTask) task = user_data;
  GCancellable *cancellable = g_task_get_cancellable (task);
  AddToken *add = g_task_get_task_data (task);

  /* Failure here means "was not loaded", which is fine. */
  tessera_agent_remove_provider_finish (self, result, NULL);

  /* 7. Add. */
  tessera_agent_add_provider_async (self, add->provider, add->pin, add->lifetime, add->confirm,
                                    cancellable, add_token_added,
                                    g_steal_pointer (&task));
}

static void
add_token_added (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  TesseraAgent *self = TESSERA_AGENT (source);
  g_autoptr(GTask) task = user_data;
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;

  if (!tessera_agent_add_provider_finish (self, result, &error))
    {
      AddToken *add = g_task_get_task_data (task);

      if (add->one_token)
        agent_choice_forget (add->token);

      if (add->one_token && g_error_matches (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_REFUSED))
        {
          g_clear_error (&error);
          g_set_error (&error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_REFUSED,
                       _("The SSH agent refused Tessera’s one-token provider, though the PIN and keys "
                         "checked out. The agent must run as you, with the same runtime directory "
                         "as Tessera (%s), and its -P list must take %s; its log says more."),
                       g_get_user_runtime_dir (), add->provider);
        }
      else if (g_error_matches (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_REFUSED) &&
               g_str_has_suffix (add->provider, "/p11-kit-client.so"))
        {
          /* The agent's helper has the agent's environment, not ours. */
          g_clear_error (&error);
          g_set_error (&error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_REFUSED,
                       _("The SSH agent refused %s. That module only reaches tokens through the "
                         "p11-kit server named by P11_KIT_SERVER_ADDRESS (or the default socket in "
                         "the runtime directory), and the agent’s helper sees the agent’s "
                         "environment, not Tessera’s. Start the agent with P11_KIT_SERVER_ADDRESS "
                         "set, or add the token’s own module instead."),
                       add->provider);
        }
      else if (g_error_matches (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_REFUSED))
        {
          g_clear_error (&error);
          g_set_error_literal (&error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_REFUSED,
                               _("The SSH agent refused the token, though its PIN, module and keys "
                                 "all checked out. The agent may be an old one, or one started with "
                                 "a -P list that leaves this module out; its log says more."));
        }
      g_task_return_error (task, error);
      return;
    }

  /* 8. The keys are really there. */
  tessera_agent_list_identities_async (self, cancellable,
                                       add_token_verified, g_steal_pointer (&task));
}

static void
add_token_verified (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  TesseraAgent *self = TESSERA_AGENT (source);
  g_autoptr(GTask) task = user_data;
  AddToken *add = g_task_get_task_data (task);
  g_autoptr(GPtrArray) identities = NULL;
  GError *error = NULL;

  identities = tessera_agent_list_identities_finish (self, result, &error);
  if (identities == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  if (tessera_agent_state_for_token (identities, add->token) == TESSERA_AGENT_STATE_NONE)
    {
      g_task_return_new_error (task, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_KEYS_MISSING,
                               _("The SSH agent accepted the token, but none of its keys appeared."));
      return;
    }

  g_task_return_int (task, tessera_agent_state_for_token (identities, add->token));
}

/**
 * tessera_agent_add_token_async:
 * @token: the token whose module to add
 * @pin: (nullable): the user PIN; %NULL for a PIN pad
 * @lifetime: seconds the keys stay in the agent, 0 for no limit
 * @confirm: whether the agent asks before each use
 *
 * Adds a token's keys to the agent, checking first what the agent's
 * one-word "failure" would hide: that an agent answers and takes cards,
 * that it will load the module, that the PIN is right (one login of our
 * own, with the tries left when it is not), and that a key can work.
 * Then it removes the provider if loaded, adds it, and checks that the
 * keys appeared.  The caller asks before a login on a final try.
 *
 * The agent is shown this token and no other: when its module holds other
 * initialised tokens, on which the agent's helper would try the PIN, the
 * provider is one of Tessera's one-token providers instead of the module.
 */
void
tessera_agent_add_token_async (TesseraAgent        *self,
                               TesseraToken        *token,
                               const char          *pin,
                               guint                lifetime,
                               gboolean             confirm,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  AddToken *add;
  GError *error = NULL;

  g_return_if_fail (TESSERA_IS_AGENT (self));
  g_return_if_fail (TESSERA_IS_TOKEN (token));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tessera_agent_add_token_async);

  /* The agent's helper would try it on the token: refuse it first */
  if (!tessera_check_pin_text (pin, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  add = g_new0 (AddToken, 1);
  add->token = g_object_ref (token);
  add->pin = g_strdup (pin);
  add->lifetime = lifetime;
  add->confirm = confirm;
  g_task_set_task_data (task, add, (GDestroyNotify) add_token_free);

  tessera_agent_list_identities_async (self, cancellable, add_token_listed, task);
}

/**
 * tessera_agent_add_token_finish:
 *
 * Returns: the agent's state for the token afterwards, or -1 on error
 */
int
tessera_agent_add_token_finish (TesseraAgent  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), -1);
  return g_task_propagate_int (G_TASK (result), error);
}

/* Removing a token ------------------------------------------------------------------ */

static void
remove_token_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TesseraToken *token = g_task_get_task_data (task);
  GError *error = NULL;

  if (!tessera_agent_remove_provider_finish (TESSERA_AGENT (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* Its one-token provider is free for another token. */
  agent_choice_forget (token);
  g_task_return_boolean (task, TRUE);
}

/**
 * tessera_agent_remove_token_async:
 * @token: a token whose keys are in the agent
 *
 * Removes the provider that holds @token's keys from the agent: its
 * one-token provider, or its module (and with it every token the agent
 * loaded from that module).
 */
void
tessera_agent_remove_token_async (TesseraAgent        *self,
                                  TesseraToken        *token,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *provider = NULL;

  g_return_if_fail (TESSERA_IS_AGENT (self));
  g_return_if_fail (TESSERA_IS_TOKEN (token));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tessera_agent_remove_token_async);
  g_task_set_task_data (task, g_object_ref (token), g_object_unref);

  provider = tessera_agent_get_token_provider (token);
  if (provider == NULL)
    {
      g_task_return_new_error (task, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_PROVIDER_NOT_ALLOWED,
                               _("Your computer has no module for this token, so the SSH agent "
                                 "cannot hold its keys."));
      return;
    }

  tessera_agent_remove_provider_async (self, provider, cancellable,
                                       remove_token_done, g_steal_pointer (&task));
}

gboolean
tessera_agent_remove_token_finish (TesseraAgent  *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
