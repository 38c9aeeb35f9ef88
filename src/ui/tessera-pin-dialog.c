/* tessera-pin-dialog.c: ask for the user PIN and log in
 *
 * The dialog stays open while the core logs in, shows a failure inline
 * ("Wrong PIN. 2 tries left") and clears the entry after every try.  When
 * the token reports that the next wrong PIN locks it, the dialog says so
 * and only a click on "Use Last Try" logs in, never Enter; when the PIN is
 * already locked it never tries to log in, and explains that the SO PIN
 * unblocks it.  A TPM that is locked out is another thing: no SO PIN ends
 * that, time does, and a PIN tried meanwhile is not counted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-pin-dialog.h"

typedef enum {
  PIN_MODE_NORMAL,
  PIN_MODE_FINAL_TRY,
  PIN_MODE_LOCKED,
  PIN_MODE_LOCKED_OUT,
} PinMode;

struct _TesseraPinDialog
{
  AdwMessageDialog  parent_instance;

  /* template widgets */
  GtkLabel         *warning_label;
  GtkWidget        *pin_entry;
  GtkWidget        *progress_box;
  GtkSpinner       *spinner;
  GtkLabel         *progress_label;
  GtkLabel         *error_label;

  /* owned references */
  TesseraToken     *token;
  GCancellable     *cancellable;
  GCancellable     *parent_cancellable;

  PinMode           mode;
  guint             close_idle_id;
  guint             busy : 1;
  guint             pin_pad : 1;
  guint             close_requested : 1;
};

G_DEFINE_FINAL_TYPE (TesseraPinDialog, tessera_pin_dialog, ADW_TYPE_MESSAGE_DIALOG)

enum {
  PROP_0,
  PROP_TOKEN,
  PROP_CANCELLABLE,
  N_PROPS
};

enum {
  LOGGED_IN,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void start_login (TesseraPinDialog *self);

static void
dismiss (TesseraPinDialog *self)
{
  g_cancellable_cancel (self->cancellable);

  /* A login in progress keeps the dialog alive after this.  GTK 4.8 would
   * then leave it pointing at its parent, which may be gone by the time
   * the dialog is disposed: let go of the parent now.  Its password
   * entry, destroyed with the focus, would leave a caps-lock handler on
   * the keyboard that crashes on the next key: take the focus first. */
  gtk_window_set_focus (GTK_WINDOW (self), NULL);
  gtk_window_set_transient_for (GTK_WINDOW (self), NULL);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
update_controls (TesseraPinDialog *self)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);
  gboolean has_pin = self->pin_pad
    || gtk_editable_get_text (GTK_EDITABLE (self->pin_entry))[0] != '\0';

  gtk_widget_set_visible (self->pin_entry, !self->pin_pad && self->mode != PIN_MODE_LOCKED);
  gtk_widget_set_sensitive (self->pin_entry, !self->busy);
  gtk_widget_set_visible (self->progress_box, self->busy);
  gtk_spinner_set_spinning (self->spinner, self->busy);

  if (adw_message_dialog_has_response (dialog, "login"))
    adw_message_dialog_set_response_enabled (dialog, "login",
                                             self->mode != PIN_MODE_LOCKED
                                             && !self->busy && has_pin);
}

/* Sets the dialog up for the token's current PIN state */
static void
configure (TesseraPinDialog *self)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);
  const char *name = tessera_token_get_display_name (self->token);
  PinMode mode = PIN_MODE_NORMAL;

  /* Once locked, the PIN stays locked for the life of the dialog */
  if (self->mode == PIN_MODE_LOCKED
      || tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_USER_PIN_LOCKED))
    mode = PIN_MODE_LOCKED;
  else if (tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_LOCKED_OUT))
    mode = PIN_MODE_LOCKED_OUT;
  else if (tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY))
    mode = PIN_MODE_FINAL_TRY;

  self->mode = mode;

  switch (mode)
    {
    case PIN_MODE_LOCKED_OUT:
      adw_message_dialog_set_heading (dialog, _("TPM Locked Out"));
      adw_message_dialog_format_body (dialog,
                                      _("The TPM that keeps “%s” refuses every PIN because "
                                        "too many wrong PINs were entered on its tokens. The "
                                        "lockout clears by itself after the TPM’s recovery "
                                        "time, or at once with the TPM’s lockout "
                                        "authorization. A PIN tried while it lasts is not "
                                        "counted."),
                                      name);
      if (adw_message_dialog_has_response (dialog, "login"))
        {
          adw_message_dialog_set_response_label (dialog, "login", _("_Try Again"));
          adw_message_dialog_set_response_appearance (dialog, "login", ADW_RESPONSE_SUGGESTED);
          adw_message_dialog_set_default_response (dialog, "login");
        }
      gtk_widget_set_visible (GTK_WIDGET (self->warning_label), FALSE);
      break;

    case PIN_MODE_LOCKED:
      adw_message_dialog_set_heading (dialog, _("PIN Locked"));
      adw_message_dialog_format_body (dialog,
                                      _("The user PIN of “%s” is locked because a wrong PIN "
                                        "was entered too many times. No login is possible "
                                        "until it is unblocked with the SO PIN, the "
                                        "Security Officer PIN of the token."),
                                      name);
      adw_message_dialog_set_response_label (dialog, "cancel", _("_Close"));
      adw_message_dialog_set_default_response (dialog, "cancel");
      gtk_widget_set_visible (GTK_WIDGET (self->warning_label), FALSE);
      break;

    case PIN_MODE_FINAL_TRY:
      adw_message_dialog_set_heading (dialog, _("Last PIN Try"));
      if (self->pin_pad)
        adw_message_dialog_format_body (dialog,
                                        _("Log in to “%s” with the PIN pad of the reader."),
                                        name);
      else
        adw_message_dialog_format_body (dialog, _("Enter the user PIN of “%s”."), name);
      /* Enter must not spend the last try: only a deliberate click on a
       * button that says what it does */
      if (adw_message_dialog_has_response (dialog, "login"))
        {
          adw_message_dialog_set_response_label (dialog, "login", _("_Use Last Try"));
          adw_message_dialog_set_response_appearance (dialog, "login", ADW_RESPONSE_DESTRUCTIVE);
        }
      adw_message_dialog_set_default_response (dialog, NULL);
      gtk_widget_set_visible (GTK_WIDGET (self->warning_label), TRUE);
      break;

    case PIN_MODE_NORMAL:
    default:
      adw_message_dialog_format_heading (dialog, _("Log In to “%s”"), name);
      if (self->pin_pad)
        adw_message_dialog_set_body (dialog,
                                     _("Private keys are shown after you log in. "
                                       "Enter the PIN on the reader when it asks for it."));
      else
        adw_message_dialog_set_body (dialog,
                                     _("Enter the user PIN of the token to show its "
                                       "private keys."));
      if (adw_message_dialog_has_response (dialog, "login"))
        {
          adw_message_dialog_set_response_label (dialog, "login", _("_Log In"));
          adw_message_dialog_set_response_appearance (dialog, "login", ADW_RESPONSE_SUGGESTED);
          adw_message_dialog_set_default_response (dialog, "login");
        }
      gtk_widget_set_visible (GTK_WIDGET (self->warning_label), FALSE);
      break;
    }

  update_controls (self);
}

static void
show_error (TesseraPinDialog *self,
            const char       *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static void
on_login_finished (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(TesseraPinDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = tessera_token_login_finish (TESSERA_TOKEN (object), result, &error);

  /* The dialog was closed, or its window: touch nothing */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (self->cancellable))
    return;

  self->busy = FALSE;

  if (ok)
    {
      g_debug ("Logged in to %s", tessera_token_get_uri (self->token));
      g_signal_emit (self, signals[LOGGED_IN], 0);
      dismiss (self);
      return;
    }

  g_debug ("Login failed: %s", error->message);

  /* A TPM's lockout is its own mode, which the token's state now shows
   * and the dialog's body explains */
  if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED)
      && tessera_token_is_tpm (self->token))
    show_error (self, _("The TPM refused this PIN without checking it."));
  else
    show_error (self, error->message);

  if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED)
      && !tessera_token_is_tpm (self->token))
    self->mode = PIN_MODE_LOCKED;

  /* The core refreshes the token's state after a failure: a wrong PIN may
   * have made the next try the last one */
  configure (self);

  if (gtk_widget_get_visible (self->pin_entry))
    gtk_widget_grab_focus (self->pin_entry);
}

static void
start_login (TesseraPinDialog *self)
{
  const char *pin = NULL;

  if (self->busy || self->mode == PIN_MODE_LOCKED)
    return;

  if (!self->pin_pad)
    {
      pin = gtk_editable_get_text (GTK_EDITABLE (self->pin_entry));
      if (pin[0] == '\0')
        return;
    }

  self->busy = TRUE;
  show_error (self, NULL);
  gtk_label_set_text (self->progress_label,
                      self->pin_pad ? _("Enter the PIN on the reader") : _("Logging in…"));

  /* The core copies the PIN; then the entry forgets it */
  tessera_token_login_async (self->token, pin, self->cancellable,
                             on_login_finished, g_object_ref (self));
  if (!self->pin_pad)
    gtk_editable_set_text (GTK_EDITABLE (self->pin_entry), "");

  update_controls (self);
}

static void
on_response (TesseraPinDialog *self,
             const char       *response)
{
  self->close_requested = FALSE;

  if (g_strcmp0 (response, "login") == 0)
    start_login (self);
  else
    dismiss (self);
}

static gboolean
on_close_requested_idle (gpointer user_data)
{
  TesseraPinDialog *self = user_data;

  self->close_idle_id = 0;

  /* No response followed the close request: Escape or the close button */
  if (self->close_requested)
    dismiss (self);

  return G_SOURCE_REMOVE;
}

static gboolean
tessera_pin_dialog_close_request (GtkWindow *window)
{
  TesseraPinDialog *self = TESSERA_PIN_DIALOG (window);

  /* AdwMessageDialog closes itself before it emits ::response, and would
   * then be destroyed.  Keep it open: on_response() decides.  Escape emits
   * no response, which the idle notices. */
  self->close_requested = TRUE;
  if (self->close_idle_id == 0)
    self->close_idle_id = g_idle_add (on_close_requested_idle, self);

  return TRUE;
}

static void
on_pin_entry_changed (TesseraPinDialog *self)
{
  update_controls (self);
}

static void
on_token_state_changed (TesseraToken     *token,
                        GParamSpec       *pspec,
                        TesseraPinDialog *self)
{
  if (!self->busy)
    configure (self);
}

static void
on_parent_cancelled (TesseraPinDialog *self)
{
  dismiss (self);
}

static void
tessera_pin_dialog_constructed (GObject *object)
{
  TesseraPinDialog *self = TESSERA_PIN_DIALOG (object);
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);

  G_OBJECT_CLASS (tessera_pin_dialog_parent_class)->constructed (object);

  g_assert (TESSERA_IS_TOKEN (self->token));

  self->pin_pad = tessera_token_has_state (self->token,
                                           TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH);

  if (tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_USER_PIN_LOCKED))
    {
      adw_message_dialog_add_response (dialog, "cancel", _("_Close"));
    }
  else
    {
      adw_message_dialog_add_responses (dialog,
                                        "cancel", _("_Cancel"),
                                        "login", _("_Log In"),
                                        NULL);
    }

  if (self->parent_cancellable != NULL)
    g_signal_connect_object (self->parent_cancellable, "cancelled",
                             G_CALLBACK (on_parent_cancelled), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->token, "notify::state",
                           G_CALLBACK (on_token_state_changed), self, 0);

  configure (self);

  /* With a PIN pad there is nothing to type: start at once, unless the
   * user must first choose to use the last try */
  if (self->pin_pad && self->mode == PIN_MODE_NORMAL)
    start_login (self);
}

static void
tessera_pin_dialog_dispose (GObject *object)
{
  TesseraPinDialog *self = TESSERA_PIN_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->close_idle_id, g_source_remove);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_PIN_DIALOG);

  G_OBJECT_CLASS (tessera_pin_dialog_parent_class)->dispose (object);
}

static void
tessera_pin_dialog_finalize (GObject *object)
{
  TesseraPinDialog *self = TESSERA_PIN_DIALOG (object);

  g_clear_object (&self->token);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->parent_cancellable);

  G_OBJECT_CLASS (tessera_pin_dialog_parent_class)->finalize (object);
}

static void
tessera_pin_dialog_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  TesseraPinDialog *self = TESSERA_PIN_DIALOG (object);

  switch (prop_id)
    {
    case PROP_TOKEN:
      g_value_set_object (value, self->token);
      break;

    case PROP_CANCELLABLE:
      g_value_set_object (value, self->parent_cancellable);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_pin_dialog_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  TesseraPinDialog *self = TESSERA_PIN_DIALOG (object);

  switch (prop_id)
    {
    case PROP_TOKEN:
      self->token = g_value_dup_object (value);
      break;

    case PROP_CANCELLABLE:
      self->parent_cancellable = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_pin_dialog_class_init (TesseraPinDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = tessera_pin_dialog_constructed;
  object_class->dispose = tessera_pin_dialog_dispose;
  object_class->finalize = tessera_pin_dialog_finalize;
  object_class->get_property = tessera_pin_dialog_get_property;
  object_class->set_property = tessera_pin_dialog_set_property;

  window_class->close_request = tessera_pin_dialog_close_request;

  properties[PROP_TOKEN] =
    g_param_spec_object ("token", NULL, NULL,
                         TESSERA_TYPE_TOKEN,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * TesseraPinDialog:cancellable:
   *
   * Cancelling it (the window closes, the page goes away) closes the dialog.
   */
  properties[PROP_CANCELLABLE] =
    g_param_spec_object ("cancellable", NULL, NULL,
                         G_TYPE_CANCELLABLE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TesseraPinDialog::logged-in:
   *
   * Emitted when the login succeeded, just before the dialog closes.
   */
  signals[LOGGED_IN] =
    g_signal_new ("logged-in",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-pin-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraPinDialog, warning_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraPinDialog, pin_entry);
  gtk_widget_class_bind_template_child (widget_class, TesseraPinDialog, progress_box);
  gtk_widget_class_bind_template_child (widget_class, TesseraPinDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, TesseraPinDialog, progress_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraPinDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_response);
  gtk_widget_class_bind_template_callback (widget_class, on_pin_entry_changed);
}

static void
tessera_pin_dialog_init (TesseraPinDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
}

/**
 * tessera_pin_dialog_new:
 * @token: the token to log in to
 * @parent: (nullable): the window the dialog belongs to
 * @cancellable: (nullable): cancelling it closes the dialog
 *
 * Returns: (transfer none): a new dialog; present it
 */
GtkWidget *
tessera_pin_dialog_new (TesseraToken *token,
                        GtkWindow    *parent,
                        GCancellable *cancellable)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);
  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);

  return g_object_new (TESSERA_TYPE_PIN_DIALOG,
                       "token", token,
                       "cancellable", cancellable,
                       "transient-for", parent,
                       NULL);
}

TesseraToken *
tessera_pin_dialog_get_token (TesseraPinDialog *self)
{
  g_return_val_if_fail (TESSERA_IS_PIN_DIALOG (self), NULL);

  return self->token;
}
