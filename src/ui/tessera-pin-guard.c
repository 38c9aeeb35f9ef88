/* tessera-pin-guard.c: what every PIN dialog guards, and how it closes
 *
 * A PIN dialog must never spend a token's last try on Enter, never try a
 * locked PIN, and explain a TPM's lockout, which time ends, not an SO PIN.
 * TesseraPinGuard follows the token's flags for one PIN (the user PIN or
 * the SO PIN) and says which of these modes the dialog is in; a PIN found
 * locked stays locked for the life of the dialog.
 *
 * It also owns how the dialog ends: the cancellable of the dialog's call,
 * cancelled when the dialog or the window behind it closes, and the
 * dialog's closing.  A GTK 4.8 GtkPasswordEntry that is destroyed while it
 * has the focus leaves its caps-lock handler on the keyboard, and the next
 * key then runs it on freed memory ("invalid unclassed pointer in cast to
 * 'GtkPasswordEntry'", then criticals): tessera_pin_guard_dismiss() takes
 * the focus away first, and every way out of a PIN dialog goes through it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-pin-guard.h"

struct _TesseraPinGuard
{
  GObject              parent_instance;

  /* weak: the window owns the guard */
  GtkWindow           *window;

  /* a message dialog's parts, from tessera_pin_guard_attach_dialog() */
  char                *try_response;
  GtkWidget           *entry;
  GtkWidget           *progress_box;
  GtkSpinner          *spinner;

  /* owned references */
  TesseraToken        *token;
  GCancellable        *cancellable;

  TesseraPinKind       kind;
  TesseraPinGuardMode  mode;
  guint                close_idle_id;
  guint                busy : 1;
  guint                pin_pad : 1;
  guint                locked : 1;
  guint                close_requested : 1;
};

G_DEFINE_FINAL_TYPE (TesseraPinGuard, tessera_pin_guard, G_TYPE_OBJECT)

enum {
  CHANGED,
  DISMISSED,
  TRY,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static TesseraPinGuardMode
compute_mode (TesseraPinGuard *self)
{
  gboolean so = self->kind == TESSERA_PIN_SO;

  /* A blank token has no PIN yet: its flags mean nothing */
  if (self->token == NULL
      || tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
    return TESSERA_PIN_GUARD_NORMAL;

  if (tessera_token_has_state (self->token, so ? TESSERA_TOKEN_STATE_SO_PIN_LOCKED
                                               : TESSERA_TOKEN_STATE_USER_PIN_LOCKED))
    self->locked = TRUE;

  if (self->locked)
    return TESSERA_PIN_GUARD_LOCKED;
  if (tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_LOCKED_OUT))
    return TESSERA_PIN_GUARD_LOCKED_OUT;
  if (tessera_token_has_state (self->token, so ? TESSERA_TOKEN_STATE_SO_PIN_FINAL_TRY
                                               : TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY))
    return TESSERA_PIN_GUARD_FINAL_TRY;

  return TESSERA_PIN_GUARD_NORMAL;
}

/**
 * tessera_pin_guard_refresh:
 *
 * Reads the token's flags again and emits ::changed.
 */
void
tessera_pin_guard_refresh (TesseraPinGuard *self)
{
  g_return_if_fail (TESSERA_IS_PIN_GUARD (self));

  self->mode = compute_mode (self);
  g_signal_emit (self, signals[CHANGED], 0);
}

static void
on_token_state_changed (TesseraPinGuard *self)
{
  /* A call under way decides the mode when it ends */
  if (!self->busy)
    tessera_pin_guard_refresh (self);
}

/**
 * tessera_pin_guard_dismiss:
 *
 * Cancels the dialog's call and closes the dialog.
 */
void
tessera_pin_guard_dismiss (TesseraPinGuard *self)
{
  g_autoptr(GtkWindow) window = NULL;

  g_return_if_fail (TESSERA_IS_PIN_GUARD (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->close_idle_id, g_source_remove);

  if (self->window == NULL)
    return;
  window = g_object_ref (self->window);
  g_signal_emit (self, signals[DISMISSED], 0);

  /* The password entry must lose the focus before it is destroyed (see
   * the top of this file).  A call under way keeps the dialog alive after
   * this, and GTK 4.8 would leave it pointing at its parent, which may be
   * gone by then: let go of the parent too. */
  gtk_window_set_focus (window, NULL);
  gtk_window_set_transient_for (window, NULL);
  gtk_window_destroy (window);
}

static void
on_parent_cancelled (TesseraPinGuard *self)
{
  tessera_pin_guard_dismiss (self);
}

static gboolean
on_close_requested_idle (gpointer user_data)
{
  TesseraPinGuard *self = user_data;

  self->close_idle_id = 0;

  /* No response followed the close request: Escape or the close button */
  if (self->close_requested)
    tessera_pin_guard_dismiss (self);

  return G_SOURCE_REMOVE;
}

static gboolean
on_close_request (GtkWindow       *window,
                  TesseraPinGuard *self)
{
  if (!ADW_IS_MESSAGE_DIALOG (window))
    {
      tessera_pin_guard_dismiss (self);
      return TRUE;
    }

  /* AdwMessageDialog closes itself before it emits ::response, and would
   * then be destroyed.  Keep it open: the dialog's response handler
   * decides.  Escape emits no response, which the idle notices. */
  self->close_requested = TRUE;
  if (self->close_idle_id == 0)
    self->close_idle_id = g_idle_add (on_close_requested_idle, self);

  return TRUE;
}

static void
on_response (TesseraPinGuard *self,
             const char      *response)
{
  self->close_requested = FALSE;

  if (self->try_response != NULL && g_strcmp0 (response, self->try_response) == 0)
    g_signal_emit (self, signals[TRY], 0);
  else
    tessera_pin_guard_dismiss (self);
}

static void update_dialog (TesseraPinGuard *self);

static void
tessera_pin_guard_dispose (GObject *object)
{
  TesseraPinGuard *self = TESSERA_PIN_GUARD (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->close_idle_id, g_source_remove);
  if (self->window != NULL)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->window), (gpointer *) &self->window);
      self->window = NULL;
    }

  G_OBJECT_CLASS (tessera_pin_guard_parent_class)->dispose (object);
}

static void
tessera_pin_guard_finalize (GObject *object)
{
  TesseraPinGuard *self = TESSERA_PIN_GUARD (object);

  g_clear_object (&self->token);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->try_response, g_free);

  G_OBJECT_CLASS (tessera_pin_guard_parent_class)->finalize (object);
}

static void
tessera_pin_guard_class_init (TesseraPinGuardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tessera_pin_guard_dispose;
  object_class->finalize = tessera_pin_guard_finalize;

  /**
   * TesseraPinGuard::changed:
   *
   * Emitted when the mode may have changed: the token's flags changed
   * while no call was under way, or a call ended with an error.
   */
  signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  /**
   * TesseraPinGuard::try:
   *
   * Emitted when the person asks a message dialog to try the PIN.
   */
  signals[TRY] =
    g_signal_new ("try",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  /**
   * TesseraPinGuard::dismissed:
   *
   * Emitted when the dialog closes, before it is destroyed: a call under
   * way may keep it alive a little longer, but nobody waits for it.
   */
  signals[DISMISSED] =
    g_signal_new ("dismissed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
tessera_pin_guard_init (TesseraPinGuard *self)
{
  self->cancellable = g_cancellable_new ();
}

/**
 * tessera_pin_guard_new:
 * @window: the dialog, which keeps the guard (unref it in its dispose)
 * @token: (nullable): the token whose PIN the dialog spends a try of
 * @kind: which of its PINs
 * @parent_cancellable: (nullable): cancelling it closes the dialog
 *
 * Escape, the close button and @parent_cancellable close @window through
 * tessera_pin_guard_dismiss().
 *
 * Returns: (transfer full): a new guard
 */
TesseraPinGuard *
tessera_pin_guard_new (GtkWindow      *window,
                       TesseraToken   *token,
                       TesseraPinKind  kind,
                       GCancellable   *parent_cancellable)
{
  TesseraPinGuard *self;

  g_return_val_if_fail (GTK_IS_WINDOW (window), NULL);
  g_return_val_if_fail (!token || TESSERA_IS_TOKEN (token), NULL);
  g_return_val_if_fail (!parent_cancellable || G_IS_CANCELLABLE (parent_cancellable), NULL);

  self = g_object_new (TESSERA_TYPE_PIN_GUARD, NULL);
  self->window = window;
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &self->window);
  self->token = token ? g_object_ref (token) : NULL;
  self->kind = kind;
  self->pin_pad = token != NULL
    && tessera_token_has_state (token, TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH);

  g_signal_connect_object (window, "close-request",
                           G_CALLBACK (on_close_request), self, 0);
  if (ADW_IS_MESSAGE_DIALOG (window))
    g_signal_connect_object (window, "response",
                             G_CALLBACK (on_response), self, G_CONNECT_SWAPPED);
  else
    {
      GtkEventController *shortcuts = gtk_shortcut_controller_new ();

      gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                            gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                              gtk_named_action_new ("window.close")));
      gtk_widget_add_controller (GTK_WIDGET (window), shortcuts);
    }

  if (parent_cancellable != NULL)
    g_signal_connect_object (parent_cancellable, "cancelled",
                             G_CALLBACK (on_parent_cancelled), self, G_CONNECT_SWAPPED);
  if (token != NULL)
    g_signal_connect_object (token, "notify::state",
                             G_CALLBACK (on_token_state_changed), self, G_CONNECT_SWAPPED);

  self->mode = compute_mode (self);

  return self;
}

TesseraPinGuardMode
tessera_pin_guard_get_mode (TesseraPinGuard *self)
{
  g_return_val_if_fail (TESSERA_IS_PIN_GUARD (self), TESSERA_PIN_GUARD_NORMAL);

  return self->mode;
}

/* Whether the reader's PIN pad asks for the PINs, not the dialog */
gboolean
tessera_pin_guard_get_pin_pad (TesseraPinGuard *self)
{
  g_return_val_if_fail (TESSERA_IS_PIN_GUARD (self), FALSE);

  return self->pin_pad;
}

gboolean
tessera_pin_guard_get_busy (TesseraPinGuard *self)
{
  g_return_val_if_fail (TESSERA_IS_PIN_GUARD (self), FALSE);

  return self->busy;
}

/**
 * tessera_pin_guard_begin_call:
 *
 * Marks the dialog busy while the core works.
 *
 * Returns: (transfer none): the cancellable to give the core's call
 */
GCancellable *
tessera_pin_guard_begin_call (TesseraPinGuard *self)
{
  g_return_val_if_fail (TESSERA_IS_PIN_GUARD (self), NULL);

  self->busy = TRUE;

  return self->cancellable;
}

/**
 * tessera_pin_guard_take_pin:
 * @entry: where the PIN is typed
 * @pin: (out) (transfer full) (nullable): a copy of the PIN, %NULL when
 *   the reader's PIN pad asks for it; give it to tessera_pin_wipe()
 *
 * Takes the PIN to try out of @entry, which forgets it, and marks the
 * dialog busy.
 *
 * Returns: (transfer none) (nullable): the cancellable to give the core's
 *   call, or %NULL when nothing can be tried now: a call under way, a
 *   locked PIN, or nothing typed
 */
GCancellable *
tessera_pin_guard_take_pin (TesseraPinGuard  *self,
                            GtkWidget        *entry,
                            char            **pin)
{
  g_return_val_if_fail (TESSERA_IS_PIN_GUARD (self), NULL);
  g_return_val_if_fail (GTK_IS_EDITABLE (entry), NULL);
  g_return_val_if_fail (pin != NULL && *pin == NULL, NULL);

  if (self->busy || self->mode == TESSERA_PIN_GUARD_LOCKED)
    return NULL;

  if (!self->pin_pad)
    {
      if (gtk_editable_get_text (GTK_EDITABLE (entry))[0] == '\0')
        return NULL;
      *pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry)));
      self->busy = TRUE;
      gtk_editable_set_text (GTK_EDITABLE (entry), "");
    }

  tessera_pin_guard_begin_call (self);
  update_dialog (self);

  return self->cancellable;
}

/**
 * tessera_pin_guard_end_call:
 * @error: (nullable): how the call failed
 *
 * Returns: %FALSE when the dialog was closed meanwhile, or the call was
 *   cancelled: then touch nothing of the dialog; otherwise it is no
 *   longer busy
 */
gboolean
tessera_pin_guard_end_call (TesseraPinGuard *self,
                            const GError    *error)
{
  g_return_val_if_fail (TESSERA_IS_PIN_GUARD (self), FALSE);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (self->cancellable))
    return FALSE;

  self->busy = FALSE;

  return TRUE;
}

/**
 * tessera_pin_guard_describe_error:
 * @error: how the token refused a PIN
 *
 * A locked PIN stays locked for the life of the dialog; a TPM's lockout is
 * its own mode, which the token's flags now show.  Emits ::changed.
 *
 * Returns: (transfer full): the message to show in the dialog
 */
char *
tessera_pin_guard_describe_error (TesseraPinGuard *self,
                                  const GError    *error)
{
  gboolean locked;
  char *message;

  g_return_val_if_fail (TESSERA_IS_PIN_GUARD (self), NULL);
  g_return_val_if_fail (error != NULL, NULL);

  locked = g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED);

  if (locked && self->token != NULL && tessera_token_is_tpm (self->token))
    message = g_strdup (_("The TPM refused this PIN without checking it."));
  else
    {
      if (locked)
        self->locked = TRUE;
      message = g_strdup (error->message);
    }

  /* The core reads the token's flags again after a failure: a wrong PIN
   * may have made the next try the last one */
  tessera_pin_guard_refresh (self);

  return message;
}

/**
 * tessera_pin_guard_describe_tries:
 *
 * Says what the token's flags tell of the PIN's tries: PKCS#11 does not
 * tell how many are left, so neither does this.
 *
 * Returns: (transfer full) (nullable): a sentence, or %NULL
 */
char *
tessera_pin_guard_describe_tries (TesseraPinGuard *self)
{
  gboolean so;

  g_return_val_if_fail (TESSERA_IS_PIN_GUARD (self), NULL);

  if (self->token == NULL
      || tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
    return NULL;

  so = self->kind == TESSERA_PIN_SO;

  if (tessera_token_has_state (self->token, so ? TESSERA_TOKEN_STATE_SO_PIN_LOCKED
                                               : TESSERA_TOKEN_STATE_USER_PIN_LOCKED))
    return g_strdup (so ? _("The SO PIN is locked.") : _("The PIN is locked."));
  if (tessera_token_has_state (self->token, so ? TESSERA_TOKEN_STATE_SO_PIN_FINAL_TRY
                                               : TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY))
    return g_strdup (so ? _("The SO PIN has 1 try left.") : _("The PIN has 1 try left."));
  if (tessera_token_has_state (self->token, so ? TESSERA_TOKEN_STATE_SO_PIN_COUNT_LOW
                                               : TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW))
    return g_strdup (so ? _("A wrong SO PIN was entered: a few tries are left.")
                        : _("A wrong PIN was entered: a few tries are left."));

  /* A TPM tells no tries left, but its lockout is known */
  if (tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_LOCKED_OUT))
    return g_strdup (_("The TPM is locked out and refuses every PIN until its recovery time has passed."));
  if (tessera_token_is_tpm (self->token))
    return g_strdup (_("The TPM locks out after a few wrong PINs, counted for all its tokens together."));

  return NULL;
}

/**
 * tessera_pin_guard_configure_dialog:
 * @texts: what the dialog says in each mode, marked with N_(): the guard
 *   translates them
 * @warning: (nullable): the last-try warning, shown only then
 *
 * Sets a message dialog up for the mode: on the final try the button says
 * "Use Last Try" and Enter does nothing; with a locked PIN only Close is
 * left to do.
 */
/* Shows the entry unless the reader's PIN pad or a locked PIN leaves
 * nothing to type, and enables the try when there is a PIN to try */
static void
update_dialog (TesseraPinGuard *self)
{
  AdwMessageDialog *dialog;
  gboolean locked;
  gboolean has_pin;

  if (self->entry == NULL || self->window == NULL)
    return;

  dialog = ADW_MESSAGE_DIALOG (self->window);
  locked = self->mode == TESSERA_PIN_GUARD_LOCKED;
  has_pin = self->pin_pad || gtk_editable_get_text (GTK_EDITABLE (self->entry))[0] != '\0';

  gtk_widget_set_visible (self->entry, !self->pin_pad && !locked);
  gtk_widget_set_sensitive (self->entry, !self->busy);
  gtk_widget_set_visible (self->progress_box, self->busy);
  gtk_spinner_set_spinning (self->spinner, self->busy);

  if (adw_message_dialog_has_response (dialog, self->try_response))
    adw_message_dialog_set_response_enabled (dialog, self->try_response,
                                             !locked && !self->busy && has_pin);
}

/**
 * tessera_pin_guard_attach_dialog:
 * @response: the response of the message dialog that tries the PIN
 * @entry: where the PIN is typed
 * @progress_box: what shows that a call works, with @spinner
 *
 * For a message dialog that asks for one PIN: the guard emits ::try for
 * @response and closes the dialog for any other, and keeps the entry and
 * the response in step with the mode and what is typed.
 */
void
tessera_pin_guard_attach_dialog (TesseraPinGuard *self,
                                 const char      *response,
                                 GtkWidget       *entry,
                                 GtkWidget       *progress_box,
                                 GtkSpinner      *spinner)
{
  g_return_if_fail (TESSERA_IS_PIN_GUARD (self));
  g_return_if_fail (ADW_IS_MESSAGE_DIALOG (self->window));
  g_return_if_fail (GTK_IS_EDITABLE (entry));

  g_free (self->try_response);
  self->try_response = g_strdup (response);
  self->entry = entry;
  self->progress_box = progress_box;
  self->spinner = spinner;
  g_signal_connect_object (entry, "changed", G_CALLBACK (update_dialog), self,
                           G_CONNECT_SWAPPED);
}

/* The texts are the callers' translatable literals, each with one %s */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
void
tessera_pin_guard_configure_dialog (TesseraPinGuard            *self,
                                    const TesseraPinGuardTexts *texts,
                                    GtkWidget                  *warning)
{
  AdwMessageDialog *dialog;
  const char *response;
  const char *name;
  gboolean can_try;

  g_return_if_fail (TESSERA_IS_PIN_GUARD (self));
  g_return_if_fail (self->try_response != NULL);
  g_return_if_fail (self->token != NULL);

  if (self->window == NULL)
    return;

  dialog = ADW_MESSAGE_DIALOG (self->window);
  response = self->try_response;
  name = tessera_token_get_display_name (self->token);
  can_try = adw_message_dialog_has_response (dialog, response);

  switch (self->mode)
    {
    case TESSERA_PIN_GUARD_LOCKED_OUT:
      adw_message_dialog_set_heading (dialog, _("TPM Locked Out"));
      adw_message_dialog_format_body (dialog,
                                      _("The TPM that keeps “%s” refuses every PIN because "
                                        "too many wrong PINs were entered on its tokens. The "
                                        "lockout clears by itself after the TPM’s recovery "
                                        "time, or at once with the TPM’s lockout "
                                        "authorization. A PIN tried while it lasts is not "
                                        "counted."),
                                      name);
      /* No SO PIN ends the lockout, time does: trying again is allowed */
      if (can_try)
        {
          adw_message_dialog_set_response_label (dialog, response, _("_Try Again"));
          adw_message_dialog_set_response_appearance (dialog, response, ADW_RESPONSE_SUGGESTED);
          adw_message_dialog_set_default_response (dialog, response);
        }
      break;

    case TESSERA_PIN_GUARD_LOCKED:
      adw_message_dialog_set_heading (dialog, _("PIN Locked"));
      adw_message_dialog_format_body (dialog, _(texts->locked_body), name);
      adw_message_dialog_set_response_label (dialog, "cancel", _("_Close"));
      adw_message_dialog_set_default_response (dialog, "cancel");
      if (can_try)
        adw_message_dialog_set_response_enabled (dialog, response, FALSE);
      break;

    case TESSERA_PIN_GUARD_FINAL_TRY:
      adw_message_dialog_set_heading (dialog, _("Last PIN Try"));
      adw_message_dialog_format_body (dialog,
                                      self->pin_pad ? _(texts->final_try_body_pin_pad)
                                                    : _(texts->final_try_body),
                                      name);
      /* Enter must not spend the last try: only a deliberate click on a
       * button that says what it does */
      if (can_try)
        {
          adw_message_dialog_set_response_label (dialog, response, _("_Use Last Try"));
          adw_message_dialog_set_response_appearance (dialog, response, ADW_RESPONSE_DESTRUCTIVE);
        }
      adw_message_dialog_set_default_response (dialog, NULL);
      break;

    case TESSERA_PIN_GUARD_NORMAL:
    default:
      adw_message_dialog_format_heading (dialog, _(texts->heading), name);
      adw_message_dialog_set_body (dialog, self->pin_pad ? _(texts->body_pin_pad) : _(texts->body));
      if (can_try)
        {
          adw_message_dialog_set_response_label (dialog, response, _(texts->action));
          adw_message_dialog_set_response_appearance (dialog, response, ADW_RESPONSE_SUGGESTED);
          adw_message_dialog_set_default_response (dialog, response);
        }
      break;
    }

  if (warning != NULL)
    gtk_widget_set_visible (warning, self->mode == TESSERA_PIN_GUARD_FINAL_TRY);

  update_dialog (self);
}
#pragma GCC diagnostic pop
