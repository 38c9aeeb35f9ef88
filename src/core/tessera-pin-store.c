/* tessera-pin-store.c: PINs in the user's keyring, only when asked to
 *
 * The item's attributes are the token's whole identity — manufacturer,
 * model, serial and label — never the PIN.  The serial alone is not an
 * identity: every token of a TPM has serial 0000000000000000, and its
 * PIN must never be tried on another of them.  A remembered PIN is tried at most once:
 * when the token refuses it, it is forgotten, because trying it again is
 * how cards get locked.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gmodule.h>
#include <libsecret/secret.h>

#include "tessera-pin-store.h"
#include "tessera-private.h"

G_DEFINE_QUARK (tessera-pin-store-error-quark, tessera_pin_store_error)

/* libsecret is loaded the first time the keyring is used, not at start:
 * a command or a window that never remembers a PIN does not load it and
 * libgcrypt (a millisecond of each tessera-cli run; issue 13). */
typedef struct
{
  typeof (secret_password_storev)         *storev;
  typeof (secret_password_store_finish)   *store_finish;
  typeof (secret_password_lookupv)        *lookupv;
  typeof (secret_password_lookup_finish)  *lookup_finish;
  typeof (secret_password_clearv)         *clearv;
  typeof (secret_password_clear_finish)   *clear_finish;
  typeof (secret_password_free)           *free;
} Secret;

#define LIBSECRET "libsecret-1.so.0"

static const Secret *
secret (GError **error)
{
  static gsize loaded;
  static Secret functions;
  static char *failure;

  if (g_once_init_enter (&loaded))
    {
      GModule *module = g_module_open (LIBSECRET, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
      struct { const char *name; gpointer *function; } symbols[] = {
        { "secret_password_storev", (gpointer *) &functions.storev },
        { "secret_password_store_finish", (gpointer *) &functions.store_finish },
        { "secret_password_lookupv", (gpointer *) &functions.lookupv },
        { "secret_password_lookup_finish", (gpointer *) &functions.lookup_finish },
        { "secret_password_clearv", (gpointer *) &functions.clearv },
        { "secret_password_clear_finish", (gpointer *) &functions.clear_finish },
        { "secret_password_free", (gpointer *) &functions.free },
      };

      for (guint i = 0; module != NULL && i < G_N_ELEMENTS (symbols); i++)
        if (!g_module_symbol (module, symbols[i].name, symbols[i].function))
          break;
      if (module == NULL || functions.free == NULL)
        failure = g_strdup (g_module_error ());
      else
        g_module_make_resident (module);
      g_once_init_leave (&loaded, 1);
    }

  if (failure != NULL)
    {
      g_set_error (error, TESSERA_PIN_STORE_ERROR, TESSERA_PIN_STORE_ERROR_NO_KEYRING,
                   _("The keyring cannot be used: %s could not be loaded (%s)."), LIBSECRET, failure);
      return NULL;
    }
  return &functions;
}

static const SecretSchema *
pin_schema (void)
{
  static const SecretSchema schema = {
    "app.tessera.Tessera.Pin", SECRET_SCHEMA_NONE,
    {
      { "manufacturer", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "model", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "serial", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "label", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };

  return &schema;
}

/* The keyring's functions; or NULL, when @task has returned why not and
 * been released. */
static const Secret *
secret_for_task (GTask *task)
{
  GError *error = NULL;
  const Secret *keyring = secret (&error);

  if (keyring == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
    }
  return keyring;
}

static GHashTable *
token_attributes (TesseraToken *token)
{
  GHashTable *attributes = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (attributes, "manufacturer", (char *) tessera_token_get_manufacturer (token));
  g_hash_table_insert (attributes, "model", (char *) tessera_token_get_model (token));
  g_hash_table_insert (attributes, "serial", (char *) tessera_token_get_serial (token));
  g_hash_table_insert (attributes, "label",
                       (char *) (tessera_token_get_label (token) ? tessera_token_get_label (token) : ""));
  return attributes;
}

/**
 * tessera_pin_free:
 *
 * Wipes and frees a PIN from the keyring.
 */
void
tessera_pin_free (char *pin)
{
  const Secret *keyring;

  if (pin == NULL)
    return;
  /* A PIN comes from the keyring, so libsecret is loaded; wipe it anyway */
  keyring = secret (NULL);
  if (keyring != NULL)
    keyring->free (pin);
  else
    {
      memset (pin, 0, strlen (pin));
      g_free (pin);
    }
}

static void
on_stored (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (secret (NULL)->store_finish (result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * tessera_pin_store_save_async:
 *
 * Remembers the token's user PIN in the default keyring.
 */
void
tessera_pin_store_save_async (TesseraToken        *token,
                              const char          *pin,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task = g_task_new (token, cancellable, callback, user_data);
  g_autoptr(GHashTable) attributes = token_attributes (token);
  /* Translators: the keyring item's name; %s is the token's label */
  g_autofree char *label = g_strdup_printf (_("PIN of the token “%s”"), tessera_token_get_display_name (token));

  const Secret *keyring;

  g_task_set_source_tag (task, tessera_pin_store_save_async);
  keyring = secret_for_task (task);
  if (keyring == NULL)
    return;
  keyring->storev (pin_schema (), attributes, SECRET_COLLECTION_DEFAULT, label, pin,
                   cancellable, on_stored, task);
}

gboolean
tessera_pin_store_save_finish (GAsyncResult  *result,
                               GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_looked_up (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  const Secret *keyring = secret (NULL);
  char *pin = keyring->lookup_finish (result, &error);

  if (error != NULL)
    g_task_return_error (task, error);
  else if (pin == NULL)
    g_task_return_new_error (task, TESSERA_PIN_STORE_ERROR, TESSERA_PIN_STORE_ERROR_NOT_STORED,
                             _("No PIN is remembered for this token."));
  else
    g_task_return_pointer (task, pin, (GDestroyNotify) keyring->free);
}

void
tessera_pin_store_lookup_async (TesseraToken        *token,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task = g_task_new (token, cancellable, callback, user_data);
  g_autoptr(GHashTable) attributes = token_attributes (token);

  const Secret *keyring;

  g_task_set_source_tag (task, tessera_pin_store_lookup_async);
  keyring = secret_for_task (task);
  if (keyring == NULL)
    return;
  keyring->lookupv (pin_schema (), attributes, cancellable, on_looked_up, task);
}

/**
 * tessera_pin_store_lookup_finish:
 *
 * Returns: (transfer full): the PIN, to free with tessera_pin_free(); or
 *   %NULL with %TESSERA_PIN_STORE_ERROR_NOT_STORED
 */
char *
tessera_pin_store_lookup_finish (GAsyncResult  *result,
                                 GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
on_cleared (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  secret (NULL)->clear_finish (result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
tessera_pin_store_forget_async (TesseraToken        *token,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task = g_task_new (token, cancellable, callback, user_data);
  g_autoptr(GHashTable) attributes = token_attributes (token);

  const Secret *keyring;

  g_task_set_source_tag (task, tessera_pin_store_forget_async);
  keyring = secret_for_task (task);
  if (keyring == NULL)
    return;
  keyring->clearv (pin_schema (), attributes, cancellable, on_cleared, task);
}

gboolean
tessera_pin_store_forget_finish (GAsyncResult  *result,
                                 GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * tessera_pin_store_forget_all_async:
 *
 * Forgets every PIN Tessera remembered.
 */
void
tessera_pin_store_forget_all_async (GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);

  const Secret *keyring;

  g_task_set_source_tag (task, tessera_pin_store_forget_all_async);
  keyring = secret_for_task (task);
  if (keyring == NULL)
    return;
  keyring->clearv (pin_schema (), attributes, cancellable, on_cleared, task);
}

gboolean
tessera_pin_store_forget_all_finish (GAsyncResult  *result,
                                     GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Adding a token with its remembered PIN -------------------------------------- */

typedef struct
{
  TesseraAgent *agent;
  TesseraToken *token;
  guint         lifetime;
  gboolean      confirm;
  GError       *error;
} Remembered;

static void
remembered_free (Remembered *remembered)
{
  g_clear_object (&remembered->agent);
  g_clear_object (&remembered->token);
  g_clear_error (&remembered->error);
  g_free (remembered);
}

static void
remembered_forgotten (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Remembered *remembered = g_task_get_task_data (task);

  tessera_pin_store_forget_finish (result, NULL);
  g_task_return_new_error (task, TESSERA_PIN_STORE_ERROR, TESSERA_PIN_STORE_ERROR_WRONG_AND_FORGOTTEN,
                           _("The remembered PIN was refused, so Tessera forgot it: %s"),
                           remembered->error->message);
}

static void
remembered_added (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Remembered *remembered = g_task_get_task_data (task);
  GError *error = NULL;
  int state;

  state = tessera_agent_add_token_finish (remembered->agent, result, &error);
  if (state >= 0)
    {
      g_task_return_int (task, state);
      return;
    }

  /* Wrong: forget it, never try it twice. */
  if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT) ||
      g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED) ||
      g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INVALID))
    {
      GCancellable *cancellable = g_task_get_cancellable (task);

      remembered->error = error;
      tessera_pin_store_forget_async (remembered->token, cancellable,
                                      remembered_forgotten, g_steal_pointer (&task));
      return;
    }

  g_task_return_error (task, error);
}

static void
remembered_looked_up (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Remembered *remembered = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;
  char *pin;

  pin = tessera_pin_store_lookup_finish (result, &error);
  if (pin == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  tessera_agent_add_token_async (remembered->agent, remembered->token, pin,
                                 remembered->lifetime, remembered->confirm,
                                 cancellable, remembered_added, g_steal_pointer (&task));
  tessera_pin_free (pin);
}

/**
 * tessera_agent_add_token_remembered_async:
 *
 * Adds a token to the agent with its remembered PIN, if there is one and
 * the token is not on its final try or locked.  A PIN the token refuses is
 * forgotten at once (%TESSERA_PIN_STORE_ERROR_WRONG_AND_FORGOTTEN): ask
 * the user then, as for %TESSERA_PIN_STORE_ERROR_NOT_STORED.
 */
void
tessera_agent_add_token_remembered_async (TesseraAgent        *agent,
                                          TesseraToken        *token,
                                          guint                lifetime,
                                          gboolean             confirm,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  GTask *task = g_task_new (agent, cancellable, callback, user_data);
  Remembered *remembered = g_new0 (Remembered, 1);

  g_task_set_source_tag (task, tessera_agent_add_token_remembered_async);
  remembered->agent = g_object_ref (agent);
  remembered->token = g_object_ref (token);
  remembered->lifetime = lifetime;
  remembered->confirm = confirm;
  g_task_set_task_data (task, remembered, (GDestroyNotify) remembered_free);

  /* On the last try or locked, a person decides; no stored PIN is used. */
  if (tessera_token_get_state (token) &
      (TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY | TESSERA_TOKEN_STATE_USER_PIN_LOCKED))
    {
      g_task_return_new_error (task, TESSERA_PIN_STORE_ERROR, TESSERA_PIN_STORE_ERROR_NOT_STORED,
                               _("The token has no PIN tries to spare, so the remembered PIN is not used."));
      g_object_unref (task);
      return;
    }

  tessera_pin_store_lookup_async (token, cancellable, remembered_looked_up, task);
}

int
tessera_agent_add_token_remembered_finish (TesseraAgent  *agent,
                                           GAsyncResult  *result,
                                           GError       **error)
{
  return g_task_propagate_int (G_TASK (result), error);
}
