/* tessera-agent-dialog.c: add a token to the SSH agent, asking for the PIN
 *
 * tessera_agent_dialog_add_token_async() is the whole "Add to SSH Agent"
 * flow: it first tries a PIN remembered in the keyring (when the user
 * allows that), and otherwise asks for the PIN and the agent's
 * constraints in a dialog.  The dialog stays open while the agent works,
 * shows a wrong PIN inline with the tries left, and wipes the entry after
 * every try.  It shares the PIN dialog's guard: on the final try only a
 * click on "Use Last Try" adds, never Enter, and a locked PIN is never
 * tried.  Other failures end the flow with the core's error, which
 * tessera_agent_dialog_show_error() explains with its fix.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-agent-dialog.h"
#include "tessera-error-dialog.h"
#include "tessera-pin-guard.h"
#include "tessera-pin-store.h"

enum {
  LIFETIME_NONE,
  LIFETIME_HOUR,
  LIFETIME_8_HOURS,
  LIFETIME_CUSTOM,
};

struct _TesseraAgentDialog
{
  AdwMessageDialog  parent_instance;

  /* template widgets */
  GtkLabel         *warning_label;
  GtkWidget        *pin_entry;
  GtkLabel         *error_label;
  AdwComboRow      *lifetime_row;
  GtkWidget        *minutes_row;
  GtkSpinButton    *minutes_spin;
  GtkSwitch        *confirm_switch;
  GtkWidget        *remember_row;
  GtkSwitch        *remember_switch;
  GtkWidget        *progress_box;
  GtkSpinner       *spinner;
  GtkLabel         *progress_label;

  /* owned references */
  TesseraAgentSync *sync;
  TesseraToken     *token;
  GTask            *task;
  TesseraPinGuard  *guard;
  char             *pin_to_remember;
};

G_DEFINE_FINAL_TYPE (TesseraAgentDialog, tessera_agent_dialog, ADW_TYPE_MESSAGE_DIALOG)

/* The end of the flow: remember the token, and the PIN if asked to */

static void
on_pin_saved (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!tessera_pin_store_save_finish (result, &error))
    g_warning ("The keyring did not keep the secret: %s", error->message);
}

static void
finish_added (GTask            *task,
              TesseraAgentSync *sync,
              TesseraToken     *token,
              int               state,
              guint             lifetime,
              gboolean          confirm)
{
  tessera_agent_sync_track (sync, token, lifetime, confirm);
  g_task_return_int (task, state);
}

/* The dialog */

static void
return_cancelled (TesseraAgentDialog *self)
{
  if (self->task != NULL)
    {
      g_task_return_new_error (self->task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "%s", _("The keys were not added"));
      g_clear_object (&self->task);
    }
}

static guint
get_lifetime (TesseraAgentDialog *self)
{
  switch (adw_combo_row_get_selected (self->lifetime_row))
    {
    case LIFETIME_HOUR:
      return 60 * 60;
    case LIFETIME_8_HOURS:
      return 8 * 60 * 60;
    case LIFETIME_CUSTOM:
      return (guint) gtk_spin_button_get_value_as_int (self->minutes_spin) * 60;
    case LIFETIME_NONE:
    default:
      return 0;
    }
}

static void
set_lifetime (TesseraAgentDialog *self,
              guint               seconds)
{
  if (seconds == 0)
    adw_combo_row_set_selected (self->lifetime_row, LIFETIME_NONE);
  else if (seconds == 60 * 60)
    adw_combo_row_set_selected (self->lifetime_row, LIFETIME_HOUR);
  else if (seconds == 8 * 60 * 60)
    adw_combo_row_set_selected (self->lifetime_row, LIFETIME_8_HOURS);
  else
    {
      gtk_spin_button_set_value (self->minutes_spin, MAX (1, seconds / 60));
      adw_combo_row_set_selected (self->lifetime_row, LIFETIME_CUSTOM);
    }
}

static void
on_lifetime_selected (TesseraAgentDialog *self)
{
  gtk_widget_set_visible (self->minutes_row,
                          adw_combo_row_get_selected (self->lifetime_row) == LIFETIME_CUSTOM);
}

/* The guard of TesseraPinDialog, in words of the agent */
static void
configure (TesseraAgentDialog *self)
{
  static const TesseraPinGuardTexts texts = {
    .heading = N_("Add “%s” to the SSH Agent"),
    .body = N_("The agent signs with the token’s keys for you. "
               "Enter the user PIN of the token."),
    .body_pin_pad = N_("The agent signs with the token’s keys for you. "
                       "Enter the PIN on the reader when it asks for it."),
    .final_try_body = N_("Enter the user PIN of “%s” to add its keys to the "
                         "SSH agent."),
    .final_try_body_pin_pad = N_("Add the keys of “%s” to the SSH agent with the PIN "
                                 "pad of the reader."),
    .locked_body = N_("The user PIN of “%s” is locked because a wrong PIN "
                      "was entered too many times. Its keys cannot be added "
                      "to the SSH agent until the PIN is unblocked with the "
                      "SO PIN, the Security Officer PIN of the token."),
    .action = N_("_Add"),
  };
  tessera_pin_guard_configure_dialog (self->guard, &texts, GTK_WIDGET (self->warning_label));
  /* No options while the PIN is locked: nothing will be added */
  gtk_widget_set_visible (gtk_widget_get_parent (self->remember_row),
                          tessera_pin_guard_get_mode (self->guard) != TESSERA_PIN_GUARD_LOCKED);
}

static void
show_error (TesseraAgentDialog *self,
            const char         *message)
{
  gtk_label_set_text (self->error_label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static gboolean
is_pin_error (const GError *error)
{
  return g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT)
      || g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INVALID)
      || g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED);
}

static void
on_add_finished (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(TesseraAgentDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  int state;

  state = tessera_agent_add_token_finish (TESSERA_AGENT (object), result, &error);

  if (!tessera_pin_guard_end_call (self->guard, error) || self->task == NULL)
    {
      tessera_pin_wipe (&self->pin_to_remember);
      return;
    }

  if (state >= 0)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->task);

      if (self->pin_to_remember != NULL)
        tessera_pin_store_save_async (self->token, self->pin_to_remember, NULL,
                                      on_pin_saved, NULL);
      tessera_pin_wipe (&self->pin_to_remember);

      finish_added (task, self->sync, self->token, state, get_lifetime (self),
                    gtk_switch_get_active (self->confirm_switch));
      tessera_pin_guard_dismiss (self->guard);
      return;
    }

  tessera_pin_wipe (&self->pin_to_remember);
  g_debug ("Adding to the agent failed: %s", error->message);

  if (is_pin_error (error))
    {
      g_autofree char *message = tessera_pin_guard_describe_error (self->guard, error);

      show_error (self, message);
      if (gtk_widget_get_visible (self->pin_entry))
        gtk_widget_grab_focus (self->pin_entry);
      return;
    }

  /* Anything else is for the caller to explain, with its fix */
  g_task_return_error (self->task, g_steal_pointer (&error));
  g_clear_object (&self->task);
  tessera_pin_guard_dismiss (self->guard);
}

static void
start_add (TesseraAgentDialog *self)
{
  TesseraAgent *agent = tessera_agent_sync_get_agent (self->sync);
  g_autofree char *pin = NULL;
  GCancellable *cancellable = tessera_pin_guard_take_pin (self->guard, self->pin_entry, &pin);

  if (cancellable == NULL)
    return;

  show_error (self, NULL);
  gtk_label_set_text (self->progress_label,
                      pin == NULL ? _("Enter the PIN on the reader") : _("Adding the keys…"));

  tessera_pin_wipe (&self->pin_to_remember);
  if (pin != NULL && gtk_switch_get_active (self->remember_switch))
    self->pin_to_remember = g_strdup (pin);

  /* The core copies the PIN */
  tessera_agent_add_token_async (agent, self->token, pin, get_lifetime (self),
                                 gtk_switch_get_active (self->confirm_switch),
                                 cancellable, on_add_finished, g_object_ref (self));
  tessera_pin_wipe (&pin);
}

static void
tessera_agent_dialog_dispose (GObject *object)
{
  TesseraAgentDialog *self = TESSERA_AGENT_DIALOG (object);

  g_clear_object (&self->guard);
  return_cancelled (self);

  /* The children emit ::changed and ::notify as they go: not to us */
  if (self->pin_entry != NULL)
    g_signal_handlers_disconnect_by_data (self->pin_entry, self);
  if (self->lifetime_row != NULL)
    g_signal_handlers_disconnect_by_data (self->lifetime_row, self);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_AGENT_DIALOG);

  G_OBJECT_CLASS (tessera_agent_dialog_parent_class)->dispose (object);
}

static void
tessera_agent_dialog_finalize (GObject *object)
{
  TesseraAgentDialog *self = TESSERA_AGENT_DIALOG (object);

  tessera_pin_wipe (&self->pin_to_remember);
  g_clear_object (&self->sync);
  g_clear_object (&self->token);

  G_OBJECT_CLASS (tessera_agent_dialog_parent_class)->finalize (object);
}

static void
tessera_agent_dialog_class_init (TesseraAgentDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tessera_agent_dialog_dispose;
  object_class->finalize = tessera_agent_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-agent-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentDialog, warning_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentDialog, pin_entry);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentDialog, lifetime_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentDialog, minutes_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentDialog, minutes_spin);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentDialog, confirm_switch);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentDialog, remember_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentDialog, remember_switch);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentDialog, progress_box);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentDialog, progress_label);
  gtk_widget_class_bind_template_callback (widget_class, on_lifetime_selected);
}

static void
tessera_agent_dialog_init (TesseraAgentDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/* Opens the dialog; it completes @task */
static void
open_dialog (GtkWindow        *parent,
             TesseraAgentSync *sync,
             GSettings        *settings,
             TesseraToken     *token,
             GTask            *task,
             const char       *message)
{
  GCancellable *cancellable = g_task_get_cancellable (task);
  TesseraAgentDialog *self;

  self = g_object_new (TESSERA_TYPE_AGENT_DIALOG, "transient-for", parent, NULL);
  self->sync = g_object_ref (sync);
  self->token = g_object_ref (token);
  self->task = g_object_ref (task);
  self->guard = tessera_pin_guard_new (GTK_WINDOW (self), token, TESSERA_PIN_USER, cancellable);
  tessera_pin_guard_attach_dialog (self->guard, "add", self->pin_entry, self->progress_box,
                                   self->spinner);
  g_signal_connect_object (self->guard, "changed", G_CALLBACK (configure), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->guard, "try", G_CALLBACK (start_add), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->guard, "dismissed", G_CALLBACK (return_cancelled), self,
                           G_CONNECT_SWAPPED);

  set_lifetime (self, g_settings_get_uint (settings, "agent-lifetime"));
  on_lifetime_selected (self);
  gtk_switch_set_active (self->confirm_switch, g_settings_get_boolean (settings, "agent-confirm"));
  gtk_switch_set_active (self->remember_switch,
                               g_settings_get_boolean (settings, "remember-pins"));
  /* There is nothing to remember when the reader takes the PIN */
  gtk_widget_set_visible (self->remember_row, !tessera_pin_guard_get_pin_pad (self->guard));

  /* A locked PIN is never tried: there is nothing to add then */
  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_LOCKED))
    adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (self), "cancel", _("_Close"));
  else
    adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (self),
                                      "cancel", _("_Cancel"),
                                      "add", _("_Add"),
                                      NULL);

  configure (self);
  show_error (self, message);

  gtk_window_present (GTK_WINDOW (self));
}

/* The flow */

typedef struct
{
  GtkWindow        *parent;
  TesseraAgentSync *sync;
  GSettings        *settings;
  TesseraToken     *token;
  guint             lifetime;
  gboolean          confirm;
} AddData;

static void
add_data_free (AddData *data)
{
  g_clear_object (&data->parent);
  g_clear_object (&data->sync);
  g_clear_object (&data->settings);
  g_clear_object (&data->token);
  g_free (data);
}

static void
on_remembered_add_finished (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AddData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  int state;

  state = tessera_agent_add_token_remembered_finish (TESSERA_AGENT (object), result, &error);

  if (state >= 0)
    {
      finish_added (task, data->sync, data->token, state, data->lifetime, data->confirm);
      return;
    }

  if (g_error_matches (error, TESSERA_PIN_STORE_ERROR, TESSERA_PIN_STORE_ERROR_NOT_STORED))
    open_dialog (data->parent, data->sync, data->settings, data->token, task, NULL);
  else if (g_error_matches (error, TESSERA_PIN_STORE_ERROR,
                            TESSERA_PIN_STORE_ERROR_WRONG_AND_FORGOTTEN))
    open_dialog (data->parent, data->sync, data->settings, data->token, task, error->message);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

/**
 * tessera_agent_dialog_add_token_async:
 * @parent: (nullable): the window the dialog belongs to
 * @sync: the app's #TesseraAgentSync, with the agent to add to
 * @settings: the app's settings: the agent's constraints, remembering PINs
 * @token: the token to add
 * @cancellable: (nullable): cancelling it (the window closes) closes the dialog
 *
 * Adds @token's keys to the SSH agent: with the remembered PIN when the
 * user allows remembering and one is there, otherwise with a PIN the user
 * types.  On success @sync tracks the token.  The user closing the dialog
 * ends it with %G_IO_ERROR_CANCELLED.
 */
void
tessera_agent_dialog_add_token_async (GtkWindow           *parent,
                                      TesseraAgentSync    *sync,
                                      GSettings           *settings,
                                      TesseraToken        *token,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  AddData *data;

  g_return_if_fail (!parent || GTK_IS_WINDOW (parent));
  g_return_if_fail (TESSERA_IS_AGENT_SYNC (sync));
  g_return_if_fail (G_IS_SETTINGS (settings));
  g_return_if_fail (TESSERA_IS_TOKEN (token));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, tessera_agent_dialog_add_token_async);

  data = g_new0 (AddData, 1);
  data->parent = parent ? g_object_ref (parent) : NULL;
  data->sync = g_object_ref (sync);
  data->settings = g_object_ref (settings);
  data->token = g_object_ref (token);
  data->lifetime = g_settings_get_uint (settings, "agent-lifetime");
  data->confirm = g_settings_get_boolean (settings, "agent-confirm");
  g_task_set_task_data (task, data, (GDestroyNotify) add_data_free);

  if (g_settings_get_boolean (settings, "remember-pins")
      && !tessera_token_has_state (token, TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH))
    tessera_agent_add_token_remembered_async (tessera_agent_sync_get_agent (sync), token,
                                              data->lifetime, data->confirm, cancellable,
                                              on_remembered_add_finished, g_object_ref (task));
  else
    open_dialog (parent, sync, settings, token, task, NULL);
}

/**
 * tessera_agent_dialog_add_token_finish:
 *
 * Returns: the #TesseraAgentState of the token's keys, or -1 with @error set
 */
int
tessera_agent_dialog_add_token_finish (GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), -1);

  return (int) g_task_propagate_int (G_TASK (result), error);
}

static const char *
error_heading (TesseraToken *token,
               const GError *error)
{
  if (error->domain == TESSERA_AGENT_ERROR)
    {
      switch (error->code)
        {
        case TESSERA_AGENT_ERROR_NO_AGENT:
          return _("No SSH Agent");
        case TESSERA_AGENT_ERROR_TIMEOUT:
          return _("The SSH Agent Did Not Answer");
        case TESSERA_AGENT_ERROR_NOT_SUPPORTED:
          return _("This SSH Agent Cannot Use Smart Cards");
        case TESSERA_AGENT_ERROR_PROVIDER_NOT_ALLOWED:
          return _("Module Not Allowed by ssh-agent");
        case TESSERA_AGENT_ERROR_NO_USABLE_KEY:
          return _("No Key SSH Can Use");
        case TESSERA_AGENT_ERROR_REFUSED:
          return _("The SSH Agent Refused");
        case TESSERA_AGENT_ERROR_KEYS_MISSING:
          return _("The Keys Did Not Reach the Agent");
        default:
          break;
        }
    }
  else if (error->domain == TESSERA_PKCS11_ERROR)
    {
      switch (error->code)
        {
        case TESSERA_PKCS11_ERROR_PIN_INCORRECT:
          return _("Wrong PIN");
        case TESSERA_PKCS11_ERROR_PIN_LOCKED:
          return token != NULL && tessera_token_is_tpm (token) ? _("TPM Locked Out") : _("PIN Locked");
        case TESSERA_PKCS11_ERROR_PIN_INVALID:
          return _("PIN Not Accepted");
        case TESSERA_PKCS11_ERROR_TOKEN_REMOVED:
          return _("The Token Was Removed");
        default:
          break;
        }
    }

  return _("Could Not Add to the SSH Agent");
}

/**
 * tessera_agent_dialog_show_error:
 * @parent: (nullable): the window
 * @token: (nullable): the token that was being added
 * @error: why adding failed
 *
 * Explains a failure to add a token to the agent, with its fix.
 */
void
tessera_agent_dialog_show_error (GtkWindow    *parent,
                                 TesseraToken *token,
                                 const GError *error)
{
  g_return_if_fail (error != NULL);

  /* The core's messages say the cause and the fix. */
  tessera_error_dialog_show (parent, error_heading (token, error), error->message, "agent-refused");
}
