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
#include "tessera-pin-guard.h"

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
  GCancellable     *parent_cancellable;
  TesseraPinGuard  *guard;
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

/* Sets the dialog up for the token's current PIN state */
static void
configure (TesseraPinDialog *self)
{
  static const TesseraPinGuardTexts texts = {
    .heading = N_("Log In to “%s”"),
    .body = N_("Enter the user PIN of the token to show its private keys."),
    .body_pin_pad = N_("Private keys are shown after you log in. "
                       "Enter the PIN on the reader when it asks for it."),
    .final_try_body = N_("Enter the user PIN of “%s”."),
    .final_try_body_pin_pad = N_("Log in to “%s” with the PIN pad of the reader."),
    .locked_body = N_("The user PIN of “%s” is locked because a wrong PIN "
                      "was entered too many times. No login is possible "
                      "until it is unblocked with the SO PIN, the "
                      "Security Officer PIN of the token."),
    .action = N_("_Log In"),
  };
  tessera_pin_guard_configure_dialog (self->guard, &texts, GTK_WIDGET (self->warning_label));
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
  g_autofree char *message = NULL;
  gboolean ok;

  ok = tessera_token_login_finish (TESSERA_TOKEN (object), result, &error);

  /* The dialog was closed, or its window: touch nothing */
  if (!tessera_pin_guard_end_call (self->guard, error))
    return;

  if (ok)
    {
      g_debug ("Logged in to %s", tessera_token_get_uri (self->token));
      g_signal_emit (self, signals[LOGGED_IN], 0);
      tessera_pin_guard_dismiss (self->guard);
      return;
    }

  g_debug ("Login failed: %s", error->message);
  message = tessera_pin_guard_describe_error (self->guard, error);
  show_error (self, message);

  if (gtk_widget_get_visible (self->pin_entry))
    gtk_widget_grab_focus (self->pin_entry);
}

static void
start_login (TesseraPinDialog *self)
{
  g_autofree char *pin = NULL;
  GCancellable *cancellable = tessera_pin_guard_take_pin (self->guard, self->pin_entry, &pin);

  if (cancellable == NULL)
    return;

  show_error (self, NULL);
  gtk_label_set_text (self->progress_label,
                      pin == NULL ? _("Enter the PIN on the reader") : _("Logging in…"));

  /* The core copies the PIN */
  tessera_token_login_async (self->token, pin, cancellable, on_login_finished,
                             g_object_ref (self));
  tessera_pin_wipe (&pin);
}

static void
tessera_pin_dialog_constructed (GObject *object)
{
  TesseraPinDialog *self = TESSERA_PIN_DIALOG (object);
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);

  G_OBJECT_CLASS (tessera_pin_dialog_parent_class)->constructed (object);

  g_assert (TESSERA_IS_TOKEN (self->token));

  self->guard = tessera_pin_guard_new (GTK_WINDOW (self), self->token, TESSERA_PIN_USER,
                                       self->parent_cancellable);
  tessera_pin_guard_attach_dialog (self->guard, "login", self->pin_entry, self->progress_box,
                                   self->spinner);
  g_signal_connect_object (self->guard, "changed", G_CALLBACK (configure), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->guard, "try", G_CALLBACK (start_login), self,
                           G_CONNECT_SWAPPED);

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

  configure (self);

  /* With a PIN pad there is nothing to type: start at once, unless the
   * user must first choose to use the last try */
  if (tessera_pin_guard_get_pin_pad (self->guard)
      && tessera_pin_guard_get_mode (self->guard) == TESSERA_PIN_GUARD_NORMAL)
    start_login (self);
}

static void
tessera_pin_dialog_dispose (GObject *object)
{
  TesseraPinDialog *self = TESSERA_PIN_DIALOG (object);

  g_clear_object (&self->guard);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_PIN_DIALOG);

  G_OBJECT_CLASS (tessera_pin_dialog_parent_class)->dispose (object);
}

static void
tessera_pin_dialog_finalize (GObject *object)
{
  TesseraPinDialog *self = TESSERA_PIN_DIALOG (object);

  g_clear_object (&self->token);
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
  object_class->constructed = tessera_pin_dialog_constructed;
  object_class->dispose = tessera_pin_dialog_dispose;
  object_class->finalize = tessera_pin_dialog_finalize;
  object_class->get_property = tessera_pin_dialog_get_property;
  object_class->set_property = tessera_pin_dialog_set_property;

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
}

static void
tessera_pin_dialog_init (TesseraPinDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
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

typedef struct
{
  TesseraLoggedInFunc  func;
  gpointer             user_data;
  GDestroyNotify       destroy;
} WhenLoggedIn;

static void
when_logged_in_free (gpointer  data,
                     GClosure *closure)
{
  WhenLoggedIn *when = data;

  if (when->destroy != NULL)
    when->destroy (when->user_data);
  g_free (when);
}

static void
on_logged_in_then (TesseraPinDialog *dialog,
                   WhenLoggedIn     *when)
{
  when->func (when->user_data);
}

/**
 * tessera_pin_dialog_when_logged_in:
 * @token: the token to log in to
 * @parent: (nullable): the window the PIN dialog belongs to
 * @cancellable: (nullable): cancelling it closes the PIN dialog
 * @func: what to do once logged in
 * @user_data: passed to @func
 * @destroy: (nullable): frees @user_data, whether @func ran or not
 *
 * Runs @func now when the token is logged in or needs no login; otherwise
 * asks for the PIN first, and runs @func after the login, or never when
 * the user closes the dialog.  Writing to most tokens needs a login.
 */
void
tessera_pin_dialog_when_logged_in (TesseraToken        *token,
                                   GtkWindow           *parent,
                                   GCancellable        *cancellable,
                                   TesseraLoggedInFunc  func,
                                   gpointer             user_data,
                                   GDestroyNotify       destroy)
{
  WhenLoggedIn *when;
  GtkWidget *dialog;

  g_return_if_fail (TESSERA_IS_TOKEN (token));
  g_return_if_fail (!parent || GTK_IS_WINDOW (parent));
  g_return_if_fail (func != NULL);

  if (tessera_token_get_logged_in (token)
      || !tessera_token_has_state (token, TESSERA_TOKEN_STATE_LOGIN_REQUIRED))
    {
      func (user_data);
      if (destroy != NULL)
        destroy (user_data);
      return;
    }

  when = g_new0 (WhenLoggedIn, 1);
  when->func = func;
  when->user_data = user_data;
  when->destroy = destroy;

  dialog = tessera_pin_dialog_new (token, parent, cancellable);
  /* Freed with the dialog, whether the user logged in or not */
  g_signal_connect_data (dialog, "logged-in", G_CALLBACK (on_logged_in_then), when,
                         when_logged_in_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}
