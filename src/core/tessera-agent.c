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

#include <stdlib.h>
#include <string.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gi18n-lib.h>

#include "tessera-agent.h"
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
 * where a star also matches slashes.
 *
 * Returns: whether ssh-agent, started without -P, accepts it
 */
gboolean
tessera_agent_provider_allowed (const char  *provider,
                                char       **real_path)
{
  static const char *patterns[] = { "/usr/lib*/*", "/usr/local/lib*/*" };
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

  if (resolved != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (patterns); i++)
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

/* Adding a token, with every check Tessera can make ------------------------------ */

typedef struct
{
  TesseraToken *token;
  char         *provider;
  char         *pin;
  guint         lifetime;
  gboolean      confirm;
} AddToken;

static void
add_token_free (AddToken *add)
{
  g_clear_object (&add->token);
  g_clear_pointer (&add->provider, g_free);
  _tessera_pin_wipe (&add->pin);
  g_free (add);
}

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

  /* 3. It will load the module: one the agent's computer has, in a
   * place its allowlist takes. */
  if (add->provider == NULL)
    {
      const char *path = tessera_module_get_path (tessera_token_get_module (add->token));
      g_autofree char *base = g_path_get_basename (path);

      g_task_return_new_error (task, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_PROVIDER_NOT_ALLOWED,
                               _("The SSH agent runs outside Tessera’s sandbox, and your computer has no "
                                 "%s for it to load (Tessera uses %s). Install the module on your "
                                 "computer, for example the opensc-pkcs11 package for smart cards."),
                               base, path);
      return;
    }
  if (!tessera_agent_provider_allowed (add->provider, &real_path))
    {
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
      if (g_error_matches (error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_REFUSED))
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
  add->provider = g_strdup (tessera_module_get_host_path (tessera_token_get_module (token)));
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
