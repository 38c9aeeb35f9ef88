/* tessera-token-lifecycle.c: initialise a token, set, change and unblock PINs
 *
 * Everything here changes the token, so every PIN is checked against the
 * token's length limits before any call, and a token with a PIN pad gets
 * NULL PINs: the person types them on the reader.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tessera-private.h"
#include "tessera-token-lifecycle.h"

typedef enum {
  STEP_INITIALIZE,
  STEP_CHANGE_PIN,
  STEP_UNBLOCK,
} Step;

typedef struct
{
  Step           step;
  TesseraModule *module;
  CK_SLOT_ID     slot_id;
  gboolean       pin_pad;
  TesseraTokenKind token_kind;
  TesseraPinKind kind;
  char          *label;
  char          *so_pin;
  char          *old_pin;
  char          *new_pin;
} Lifecycle;

static void
lifecycle_free (Lifecycle *lifecycle)
{
  g_clear_object (&lifecycle->module);
  g_free (lifecycle->label);
  tessera_pin_wipe (&lifecycle->so_pin);
  tessera_pin_wipe (&lifecycle->old_pin);
  tessera_pin_wipe (&lifecycle->new_pin);
  g_free (lifecycle);
}

/**
 * tessera_token_get_factory_so_pin:
 *
 * Some tokens come with a published SO PIN that C_InitToken checks, even
 * before they are initialised: opencryptoki's software token has 87654321.
 * A blank SoftHSM slot takes the SO PIN it is given instead.  Their flags
 * are the same (SO PIN to be changed), so only the module tells them apart.
 *
 * Returns: (nullable): the factory SO PIN, while the token still asks for
 *   it to be changed; %NULL when none is known
 */
const char *
tessera_token_get_factory_so_pin (TesseraToken *token)
{
  TesseraModule *module = tessera_token_get_module (token);
  const char *path = module != NULL ? tessera_module_get_path (module) : NULL;

  if (path == NULL || strstr (path, "opencryptoki") == NULL ||
      !tessera_token_has_state (token, TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED))
    return NULL;
  return "87654321";
}

/**
 * tessera_token_check_pin_length:
 *
 * Returns: whether @pin fits the token's minimum and maximum PIN length;
 *   checked before any call, so that a bad PIN costs no try
 */
gboolean
tessera_token_check_pin_length (TesseraToken  *token,
                                const char    *pin,
                                GError       **error)
{
  guint min = tessera_token_get_min_pin_length (token);
  guint max = tessera_token_get_max_pin_length (token);
  gsize len = pin != NULL ? strlen (pin) : 0;

  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH))
    return TRUE;

  if (len < min || (max > 0 && len > max))
    {
      g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INVALID,
                   _("The PIN must be %u to %u characters long. Nothing was sent to the token."),
                   min, max);
      return FALSE;
    }
  return TRUE;
}

static CK_UTF8CHAR_PTR
pin_arg (Lifecycle  *lifecycle,
         const char *pin)
{
  return lifecycle->pin_pad ? NULL : (CK_UTF8CHAR_PTR) pin;
}

static CK_ULONG
pin_len (Lifecycle  *lifecycle,
         const char *pin)
{
  return lifecycle->pin_pad || pin == NULL ? 0 : strlen (pin);
}

/* A PIN's failure in words, with what the token says of its tries. */
static void
set_pin_error (GError           **error,
               CK_RV              rv,
               Lifecycle         *lifecycle,
               CK_FUNCTION_LIST  *functions,
               CK_SLOT_ID         slot_id,
               gboolean           so)
{
  CK_TOKEN_INFO info;

  if (rv != CKR_PIN_INCORRECT && rv != CKR_PIN_LOCKED)
    {
      _tessera_set_ck_error (error, rv, so ? _("Could not log in as Security Officer")
                                           : _("Could not change the PIN"));
      return;
    }

  _tessera_set_pin_error (error, rv,
                          functions->C_GetTokenInfo (slot_id, &info) == CKR_OK ? info.flags : 0, so,
                          lifecycle->token_kind);
}

/* Logs in as SO on a fresh read-write session and sets the user PIN. */
static gboolean
set_user_pin_as_so (Lifecycle         *lifecycle,
                    CK_FUNCTION_LIST  *functions,
                    CK_SLOT_ID         slot_id,
                    const char        *so_pin,
                    const char        *user_pin,
                    GError           **error)
{
  CK_SESSION_HANDLE session;
  CK_RV rv;

  rv = functions->C_OpenSession (slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session);
  if (rv != CKR_OK)
    {
      _tessera_set_ck_error (error, rv, _("Could not open a session on the token"));
      return FALSE;
    }

  rv = functions->C_Login (session, CKU_SO, pin_arg (lifecycle, so_pin), pin_len (lifecycle, so_pin));
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
    {
      set_pin_error (error, rv, lifecycle, functions, slot_id, TRUE);
      functions->C_CloseSession (session);
      return FALSE;
    }

  rv = functions->C_InitPIN (session, pin_arg (lifecycle, user_pin), pin_len (lifecycle, user_pin));
  functions->C_Logout (session);
  functions->C_CloseSession (session);

  if (rv != CKR_OK)
    {
      _tessera_set_ck_error (error, rv, _("Could not set the user PIN"));
      return FALSE;
    }
  return TRUE;
}

/* Where the token is after C_InitToken: SoftHSM moves a new token to a
 * slot of its own, other modules keep the slot.  Finds the token with the
 * new label that was not initialised before. */
static CK_SLOT_ID
find_initialized_slot (CK_FUNCTION_LIST *functions,
                       CK_SLOT_ID        old_slot,
                       const CK_UTF8CHAR label[TESSERA_TOKEN_LABEL_MAX_BYTES],
                       GArray           *initialized_before)
{
  CK_SLOT_ID slots[64];
  CK_ULONG n = G_N_ELEMENTS (slots);

  /* More than the room given is a module's lie: nothing there to read */
  if (functions->C_GetSlotList (CK_TRUE, slots, &n) != CKR_OK || n > G_N_ELEMENTS (slots))
    return old_slot;

  for (CK_ULONG i = 0; i < n; i++)
    {
      CK_TOKEN_INFO info;
      gboolean was_initialized = FALSE;

      if (functions->C_GetTokenInfo (slots[i], &info) != CKR_OK ||
          !(info.flags & CKF_TOKEN_INITIALIZED) ||
          memcmp (info.label, label, TESSERA_TOKEN_LABEL_MAX_BYTES) != 0)
        continue;

      for (guint b = 0; b < initialized_before->len; b++)
        was_initialized |= g_array_index (initialized_before, CK_SLOT_ID, b) == slots[i];

      if (slots[i] == old_slot || !was_initialized)
        return slots[i];
    }

  return old_slot;
}

static GArray *
list_initialized_slots (CK_FUNCTION_LIST *functions)
{
  GArray *initialized = g_array_new (FALSE, FALSE, sizeof (CK_SLOT_ID));
  CK_SLOT_ID slots[64];
  CK_ULONG n = G_N_ELEMENTS (slots);

  if (functions->C_GetSlotList (CK_TRUE, slots, &n) == CKR_OK && n <= G_N_ELEMENTS (slots))
    for (CK_ULONG i = 0; i < n; i++)
      {
        CK_TOKEN_INFO info;

        if (functions->C_GetTokenInfo (slots[i], &info) == CKR_OK && (info.flags & CKF_TOKEN_INITIALIZED))
          g_array_append_val (initialized, slots[i]);
      }

  return initialized;
}

static gboolean
run_initialize (Lifecycle         *lifecycle,
                CK_FUNCTION_LIST  *functions,
                GError           **error)
{
  g_autoptr(GArray) before = list_initialized_slots (functions);
  /* A label is 32 bytes, padded with spaces, not terminated; the NUL
   * after them is for p11-kit 0.24's RPC, which takes the label for a
   * C string (p11-kit issue #497, fixed in 0.25). */
  CK_UTF8CHAR label[TESSERA_TOKEN_LABEL_MAX_BYTES + 1] = { 0 };
  gsize label_len = strlen (lifecycle->label);
  CK_RV rv;

  memset (label, ' ', TESSERA_TOKEN_LABEL_MAX_BYTES);
  memcpy (label, lifecycle->label, MIN (label_len, TESSERA_TOKEN_LABEL_MAX_BYTES));

  rv = functions->C_InitToken (lifecycle->slot_id, pin_arg (lifecycle, lifecycle->so_pin),
                               pin_len (lifecycle, lifecycle->so_pin), label);
  if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED)
    {
      set_pin_error (error, rv, lifecycle, functions, lifecycle->slot_id, TRUE);
      return FALSE;
    }
  if (rv != CKR_OK)
    {
      _tessera_set_ck_error (error, rv, _("Could not initialize the token"));
      return FALSE;
    }

  if (lifecycle->new_pin == NULL)
    return TRUE;

  return set_user_pin_as_so (lifecycle, functions,
                             find_initialized_slot (functions, lifecycle->slot_id, label, before),
                             lifecycle->so_pin, lifecycle->new_pin, error);
}

static gboolean
run_change_pin (Lifecycle         *lifecycle,
                CK_FUNCTION_LIST  *functions,
                GError           **error)
{
  CK_SESSION_HANDLE session;
  CK_RV rv;

  rv = functions->C_OpenSession (lifecycle->slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                 NULL, NULL, &session);
  if (rv != CKR_OK)
    {
      _tessera_set_ck_error (error, rv, _("Could not open a session on the token"));
      return FALSE;
    }

  /* C_SetPIN changes the PIN of whoever is logged in: the SO logs in
   * first; for the user PIN, nobody does. */
  if (lifecycle->kind == TESSERA_PIN_SO)
    {
      rv = functions->C_Login (session, CKU_SO, pin_arg (lifecycle, lifecycle->old_pin),
                               pin_len (lifecycle, lifecycle->old_pin));
      if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
        {
          set_pin_error (error, rv, lifecycle, functions, lifecycle->slot_id, TRUE);
          functions->C_CloseSession (session);
          return FALSE;
        }
    }

  rv = functions->C_SetPIN (session,
                            pin_arg (lifecycle, lifecycle->old_pin), pin_len (lifecycle, lifecycle->old_pin),
                            pin_arg (lifecycle, lifecycle->new_pin), pin_len (lifecycle, lifecycle->new_pin));
  if (lifecycle->kind == TESSERA_PIN_SO)
    functions->C_Logout (session);
  functions->C_CloseSession (session);

  if (rv == CKR_OK)
    return TRUE;

  set_pin_error (error, rv, lifecycle, functions, lifecycle->slot_id, lifecycle->kind == TESSERA_PIN_SO);
  return FALSE;
}

static gboolean
lifecycle_needs_so (Lifecycle *lifecycle)
{
  return lifecycle->step != STEP_CHANGE_PIN || lifecycle->kind == TESSERA_PIN_SO;
}

static void
lifecycle_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  TesseraToken *token = source_object;
  Lifecycle *lifecycle = task_data;
  CK_FUNCTION_LIST *functions;
  GError *error = NULL;
  gboolean ok = FALSE;

  functions = _tessera_module_begin (lifecycle->module);
  if (functions == NULL)
    {
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                               _("The token’s module is not loaded."));
      return;
    }

  /* An SO login wants no read-only session open, and C_InitToken no
   * session at all: the token's own session goes, and its login. */
  if (lifecycle_needs_so (lifecycle))
    _tessera_token_close_session (token, functions);

  switch (lifecycle->step)
    {
    case STEP_INITIALIZE:
      functions->C_CloseAllSessions (lifecycle->slot_id);
      ok = run_initialize (lifecycle, functions, &error);
      break;
    case STEP_CHANGE_PIN:
      ok = run_change_pin (lifecycle, functions, &error);
      break;
    case STEP_UNBLOCK:
      ok = set_user_pin_as_so (lifecycle, functions, lifecycle->slot_id,
                               lifecycle->so_pin, lifecycle->new_pin, &error);
      break;
    default:
      g_assert_not_reached ();
    }

  _tessera_module_end (lifecycle->module);

  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
lifecycle_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) outer = user_data;
  Lifecycle *lifecycle = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  if (lifecycle_needs_so (lifecycle))
    _tessera_token_set_logged_out (TESSERA_TOKEN (source));

  if (g_task_propagate_boolean (G_TASK (result), &error))
    {
      /* A TPM that checked a PIN is not locked out (any more) */
      _tessera_token_note_lockout (TESSERA_TOKEN (source), FALSE);
      g_task_return_boolean (outer, TRUE);
    }
  else
    {
      if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED))
        _tessera_token_note_lockout (TESSERA_TOKEN (source), TRUE);
      else if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT))
        _tessera_token_note_lockout (TESSERA_TOKEN (source), FALSE);
      g_task_return_error (outer, error);
    }
}

static void
start (TesseraToken        *token,
       Lifecycle           *lifecycle,
       const char * const  *pins_to_check,
       gpointer             source_tag,
       GCancellable        *cancellable,
       GAsyncReadyCallback  callback,
       gpointer             user_data)
{
  GTask *outer = g_task_new (token, cancellable, callback, user_data);
  g_autoptr(GTask) inner = NULL;
  GError *error = NULL;

  g_task_set_source_tag (outer, source_tag);

  lifecycle->module = g_object_ref (tessera_token_get_module (token));
  lifecycle->slot_id = tessera_token_get_slot_id (token);
  lifecycle->pin_pad = tessera_token_has_state (token, TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH);
  lifecycle->token_kind = tessera_token_get_kind (token);

  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_REMOVED))
    {
      lifecycle_free (lifecycle);
      g_task_return_new_error (outer, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_TOKEN_REMOVED,
                               _("The token was removed."));
      g_object_unref (outer);
      return;
    }

  if (!tessera_check_pin_text (lifecycle->so_pin, &error) ||
      !tessera_check_pin_text (lifecycle->old_pin, &error) ||
      !tessera_check_pin_text (lifecycle->new_pin, &error) ||
      !tessera_check_label_text (lifecycle->label, &error))
    {
      lifecycle_free (lifecycle);
      g_task_return_error (outer, error);
      g_object_unref (outer);
      return;
    }

  for (guint i = 0; pins_to_check[i] != NULL; i++)
    {
      if (!tessera_token_check_pin_length (token, pins_to_check[i], &error))
        {
          lifecycle_free (lifecycle);
          g_task_return_error (outer, error);
          g_object_unref (outer);
          return;
        }
    }

  inner = g_task_new (token, cancellable, lifecycle_done, outer);
  g_task_set_source_tag (inner, source_tag);
  g_task_set_task_data (inner, lifecycle, (GDestroyNotify) lifecycle_free);
  g_task_run_in_thread (inner, lifecycle_thread);
}

/**
 * tessera_token_initialize_async:
 * @so_pin: the SO PIN: the current one, or the new one for a blank token
 * @label: the new label, at most 32 bytes
 * @user_pin: (nullable): a user PIN to set right away
 *
 * Erases the token and gives it a label; every object on it is destroyed.
 * With @user_pin, then logs in as SO and sets the user PIN.  The token may
 * move to another slot (SoftHSM): refresh the registry afterwards.
 */
void
tessera_token_initialize_async (TesseraToken        *token,
                                const char          *so_pin,
                                const char          *label,
                                const char          *user_pin,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  Lifecycle *lifecycle = g_new0 (Lifecycle, 1);
  const char *pins[] = { so_pin, user_pin, NULL };

  g_return_if_fail (TESSERA_IS_TOKEN (token));
  g_return_if_fail (label != NULL);

  lifecycle->step = STEP_INITIALIZE;
  lifecycle->label = g_strdup (label);
  lifecycle->so_pin = g_strdup (so_pin);
  lifecycle->new_pin = g_strdup (user_pin);

  if (strlen (label) > TESSERA_TOKEN_LABEL_MAX_BYTES)
    {
      g_task_report_new_error (token, callback, user_data, tessera_token_initialize_async,
                               TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                               _("A token label is at most 32 bytes long."));
      lifecycle_free (lifecycle);
      return;
    }

  start (token, lifecycle, pins, tessera_token_initialize_async, cancellable, callback, user_data);
}

gboolean
tessera_token_initialize_finish (TesseraToken  *token,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * tessera_token_change_pin_async:
 * @kind: the user PIN or the SO PIN
 *
 * Changes a PIN with C_SetPIN.
 */
void
tessera_token_change_pin_async (TesseraToken        *token,
                                TesseraPinKind       kind,
                                const char          *old_pin,
                                const char          *new_pin,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  Lifecycle *lifecycle = g_new0 (Lifecycle, 1);
  const char *pins[] = { new_pin, NULL };

  g_return_if_fail (TESSERA_IS_TOKEN (token));

  lifecycle->step = STEP_CHANGE_PIN;
  lifecycle->kind = kind;
  lifecycle->old_pin = g_strdup (old_pin);
  lifecycle->new_pin = g_strdup (new_pin);

  start (token, lifecycle, pins, tessera_token_change_pin_async, cancellable, callback, user_data);
}

gboolean
tessera_token_change_pin_finish (TesseraToken  *token,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * tessera_token_unblock_pin_async:
 *
 * Unblocks a locked user PIN, or sets a first one: logs in as SO and
 * calls C_InitPIN.
 */
void
tessera_token_unblock_pin_async (TesseraToken        *token,
                                 const char          *so_pin,
                                 const char          *new_user_pin,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  Lifecycle *lifecycle = g_new0 (Lifecycle, 1);
  const char *pins[] = { new_user_pin, NULL };

  g_return_if_fail (TESSERA_IS_TOKEN (token));

  lifecycle->step = STEP_UNBLOCK;
  lifecycle->so_pin = g_strdup (so_pin);
  lifecycle->new_pin = g_strdup (new_user_pin);

  start (token, lifecycle, pins, tessera_token_unblock_pin_async, cancellable, callback, user_data);
}

gboolean
tessera_token_unblock_pin_finish (TesseraToken  *token,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
