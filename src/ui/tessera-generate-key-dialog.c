/* tessera-generate-key-dialog.c: make a key pair on a token
 *
 * The dialog's TesseraKeyTypeChooser asks the token which kinds of key
 * it can make and offers them all, each with what keeps OpenSSH from
 * using it, if anything: a person may want a key for a newer OpenSSH
 * elsewhere.  The dialog logs in first with the PIN dialog when the
 * token needs it, then makes the key, reads the token again to find the
 * new key by its ID and, when asked, has the key sign a certificate for
 * itself.  Cancel stops waiting; the token may still finish the key, so
 * the token's objects are read again for the window.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-error-dialog.h"
#include "tessera-generate-key-dialog.h"
#include "tessera-key-type-chooser.h"
#include "tessera-pin-dialog.h"
#include "tessera-toast.h"

typedef enum {
  STEP_NONE,
  STEP_GENERATE,
  STEP_READ,
  STEP_CERTIFICATE,
  STEP_READ_AGAIN,
} Step;

struct _TesseraGenerateKeyDialog
{
  AdwWindow            parent_instance;

  /* template widgets */
  GtkWidget           *generate_button;
  GtkWidget           *status_group;
  AdwActionRow        *progress_row;
  GtkSpinner          *spinner;
  AdwActionRow        *error_row;
  TesseraKeyTypeChooser *type_chooser;
  GtkWidget           *label_group;
  AdwEntryRow         *label_row;
  GtkWidget           *certificate_group;
  GtkSwitch           *certificate_switch;
  AdwEntryRow         *common_name_row;
  GtkSpinButton       *days_spin;

  /* owned references */
  TesseraToken        *token;
  GCancellable        *cancellable;
  GCancellable        *parent_cancellable;
  GBytes              *key_id;
  char                *label;
  char                *common_name;

  Step                 step;
  guint                days;
  guint                certificate : 1;
  guint                dismissed : 1;
  guint                common_name_edited : 1;
  guint                setting_common_name : 1;
};

G_DEFINE_FINAL_TYPE (TesseraGenerateKeyDialog, tessera_generate_key_dialog, ADW_TYPE_WINDOW)

static void
dismiss (TesseraGenerateKeyDialog *self)
{
  g_cancellable_cancel (self->cancellable);
  if (self->dismissed)
    return;
  self->dismissed = TRUE;

  /* Work in progress keeps the dialog alive after this; GTK 4.8 would
   * leave it pointing at a parent that may be gone by then */
  gtk_window_set_focus (GTK_WINDOW (self), NULL);
  gtk_window_set_transient_for (GTK_WINDOW (self), NULL);
  gtk_window_destroy (GTK_WINDOW (self));
}

static char *
dup_stripped_text (AdwEntryRow *row)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
}

static void
update_controls (TesseraGenerateKeyDialog *self)
{
  gboolean busy = self->step != STEP_NONE;
  gboolean error_shown = gtk_widget_get_visible (GTK_WIDGET (self->error_row));
  g_autofree char *label = dup_stripped_text (self->label_row);
  g_autofree char *common_name = dup_stripped_text (self->common_name_row);
  gboolean complete;

  complete = tessera_key_type_chooser_get_selected (self->type_chooser) != NULL
    && label[0] != '\0'
    && (!gtk_switch_get_active (self->certificate_switch) || common_name[0] != '\0');

  gtk_widget_set_visible (GTK_WIDGET (self->progress_row), busy);
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (self->status_group, busy || error_shown);

  gtk_widget_set_sensitive (GTK_WIDGET (self->type_chooser), !busy);
  gtk_widget_set_sensitive (self->label_group, !busy);
  gtk_widget_set_sensitive (self->certificate_group, !busy);
  gtk_widget_set_sensitive (self->generate_button, !busy && complete);
}

static void
show_progress (TesseraGenerateKeyDialog *self,
               Step                      step,
               const char               *text)
{
  self->step = step;
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->progress_row), text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress_row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, text,
                                  -1);
  update_controls (self);
}

static void
show_error (TesseraGenerateKeyDialog *self,
            const char               *title,
            const char               *message)
{
  gboolean shown = message != NULL;

  if (shown)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->error_row), title);
      adw_action_row_set_subtitle (self->error_row, message);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->error_row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message,
                                      -1);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->error_row), shown);
  update_controls (self);
}

static gboolean
is_cancelled (TesseraGenerateKeyDialog *self,
              const GError             *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (self->cancellable);
}

/* The key and its certificate */

static void
finish (TesseraGenerateKeyDialog *self)
{
  /* Translators: a notification, %s is the new key's label */
  g_autofree char *text = g_strdup_printf (_("Key “%s” generated"), self->label);

  g_debug ("Generated a key on %s", tessera_token_get_uri (self->token));
  tessera_toast_show (GTK_WIDGET (self), text);
  dismiss (self);
}

/* The key exists; only its certificate is missing.  Nothing in this
 * dialog can help any more: say so over the window, and close. */
static void
report_certificate_error (TesseraGenerateKeyDialog *self,
                          const char               *message)
{
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  g_autofree char *body = NULL;

  /* Translators: %s is the new key's label, then why */
  body = g_strdup_printf (_("“%s” was generated, but its certificate could not be "
                            "created: %s\n\nTry again with Create Certificate… in "
                            "the key’s menu."),
                          self->label, message);
  tessera_error_dialog_show (parent, _("The Key Has No Certificate"), body, "certificates");
  dismiss (self);
}

static void
on_objects_read_again (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(TesseraGenerateKeyDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_token_read_objects_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;
      /* The certificate is on the token; the page offers to read again */
      g_debug ("Could not read the objects after the certificate: %s", error->message);
    }

  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  finish (self);
}

static void
on_certificate_created (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(TesseraGenerateKeyDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_token_create_certificate_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;

      g_debug ("Could not create the certificate: %s", error->message);
      report_certificate_error (self, error->message);
      return;
    }

  show_progress (self, STEP_READ_AGAIN, _("Reading the token…"));
  tessera_token_read_objects_async (self->token, self->cancellable,
                                    on_objects_read_again, g_object_ref (self));
}

static void
on_objects_read (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(TesseraGenerateKeyDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TesseraKey) key = NULL;

  if (!tessera_token_read_objects_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;

      g_debug ("Could not read the objects after generating: %s", error->message);
      if (self->certificate)
        report_certificate_error (self, error->message);
      else
        finish (self);
      return;
    }

  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  if (!self->certificate)
    {
      finish (self);
      return;
    }

  key = tessera_token_find_key (self->token, self->key_id);
  if (key == NULL)
    {
      report_certificate_error (self, _("the new key is not among the token’s keys."));
      return;
    }

  show_progress (self, STEP_CERTIFICATE, _("Creating the certificate…"));
  tessera_token_create_certificate_async (self->token, key, self->common_name, self->days,
                                          self->cancellable,
                                          on_certificate_created, g_object_ref (self));
}

static void
on_key_generated (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TesseraGenerateKeyDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) id = NULL;

  id = tessera_token_generate_key_finish (TESSERA_TOKEN (object), result, &error);
  if (id == NULL)
    {
      if (is_cancelled (self, error))
        {
          /* The token cannot be interrupted, and may have made the key
           * after all: show the window what is on the token now */
          if (self->parent_cancellable != NULL
              && !g_cancellable_is_cancelled (self->parent_cancellable))
            tessera_token_read_objects_async (self->token, self->parent_cancellable, NULL, NULL);
          return;
        }

      g_debug ("Could not generate a key: %s", error->message);
      self->step = STEP_NONE;
      show_error (self, _("Could not generate the key"), error->message);
      return;
    }

  g_clear_pointer (&self->key_id, g_bytes_unref);
  self->key_id = g_steal_pointer (&id);

  show_progress (self, STEP_READ, _("Reading the token…"));
  tessera_token_read_objects_async (self->token, self->cancellable,
                                    on_objects_read, g_object_ref (self));
}

static void
start_generate (TesseraGenerateKeyDialog *self)
{
  const TesseraKeySpec *spec = tessera_key_type_chooser_get_selected (self->type_chooser);

  if (self->step != STEP_NONE || spec == NULL)
    return;

  g_free (self->label);
  self->label = dup_stripped_text (self->label_row);
  g_free (self->common_name);
  self->common_name = dup_stripped_text (self->common_name_row);
  self->certificate = gtk_switch_get_active (self->certificate_switch);
  self->days = gtk_spin_button_get_value_as_int (self->days_spin);

  if (self->label[0] == '\0' || (self->certificate && self->common_name[0] == '\0'))
    return;

  show_error (self, NULL, NULL);
  show_progress (self, STEP_GENERATE, _("Generating the key…"));

  /* The core copies the spec */
  tessera_token_generate_key_async (self->token, spec, self->label, self->cancellable,
                                    on_key_generated, g_object_ref (self));
}

static void
on_pin_dialog_logged_in (TesseraGenerateKeyDialog *self)
{
  start_generate (self);
}

static void
on_generate_button_clicked (TesseraGenerateKeyDialog *self)
{
  if (self->step != STEP_NONE)
    return;

  /* Making a key needs a login; the PIN dialog keeps the guards on the
   * final try and on a locked PIN */
  if (!tessera_token_get_logged_in (self->token)
      && tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_LOGIN_REQUIRED))
    {
      GtkWidget *dialog = tessera_pin_dialog_new (self->token, GTK_WINDOW (self),
                                                  self->cancellable);

      g_signal_connect_object (dialog, "logged-in",
                               G_CALLBACK (on_pin_dialog_logged_in), self, G_CONNECT_SWAPPED);
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }

  start_generate (self);
}

static void
on_cancel_button_clicked (TesseraGenerateKeyDialog *self)
{
  dismiss (self);
}

/* The kinds of key */

static void
on_key_types_listed (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(TesseraGenerateKeyDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_key_type_chooser_list_specs_finish (TESSERA_KEY_TYPE_CHOOSER (object), result,
                                                   &error))
    {
      if (is_cancelled (self, error))
        return;
      show_error (self, _("Could not ask the token which keys it can make"), error->message);
      return;
    }

  update_controls (self);
}

static void
on_type_chooser_changed (TesseraGenerateKeyDialog *self)
{
  update_controls (self);
}

/* The label and the certificate */

static void
on_label_row_changed (TesseraGenerateKeyDialog *self)
{
  /* The certificate is named after the key until the person names it */
  if (!self->common_name_edited)
    {
      g_autofree char *label = dup_stripped_text (self->label_row);

      self->setting_common_name = TRUE;
      gtk_editable_set_text (GTK_EDITABLE (self->common_name_row), label);
      self->setting_common_name = FALSE;
    }

  update_controls (self);
}

static void
on_common_name_row_changed (TesseraGenerateKeyDialog *self)
{
  if (!self->setting_common_name)
    self->common_name_edited = TRUE;

  update_controls (self);
}

static void
on_certificate_switch_active (TesseraGenerateKeyDialog *self)
{
  update_controls (self);
}

static void
on_parent_cancelled (TesseraGenerateKeyDialog *self)
{
  dismiss (self);
}

/* GObject */

static gboolean
tessera_generate_key_dialog_close_request (GtkWindow *window)
{
  TesseraGenerateKeyDialog *self = TESSERA_GENERATE_KEY_DIALOG (window);

  /* Escape or the close button: the same as Cancel */
  dismiss (self);

  return TRUE;
}

static void
tessera_generate_key_dialog_dispose (GObject *object)
{
  TesseraGenerateKeyDialog *self = TESSERA_GENERATE_KEY_DIALOG (object);

  g_cancellable_cancel (self->cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_GENERATE_KEY_DIALOG);

  G_OBJECT_CLASS (tessera_generate_key_dialog_parent_class)->dispose (object);
}

static void
tessera_generate_key_dialog_finalize (GObject *object)
{
  TesseraGenerateKeyDialog *self = TESSERA_GENERATE_KEY_DIALOG (object);

  g_clear_object (&self->token);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->parent_cancellable);
  g_clear_pointer (&self->key_id, g_bytes_unref);
  g_clear_pointer (&self->label, g_free);
  g_clear_pointer (&self->common_name, g_free);

  G_OBJECT_CLASS (tessera_generate_key_dialog_parent_class)->finalize (object);
}

static void
tessera_generate_key_dialog_class_init (TesseraGenerateKeyDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = tessera_generate_key_dialog_dispose;
  object_class->finalize = tessera_generate_key_dialog_finalize;
  window_class->close_request = tessera_generate_key_dialog_close_request;

  g_type_ensure (TESSERA_TYPE_KEY_TYPE_CHOOSER);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-generate-key-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraGenerateKeyDialog, generate_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraGenerateKeyDialog, status_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraGenerateKeyDialog, progress_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraGenerateKeyDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, TesseraGenerateKeyDialog, error_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraGenerateKeyDialog, type_chooser);
  gtk_widget_class_bind_template_child (widget_class, TesseraGenerateKeyDialog, label_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraGenerateKeyDialog, label_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraGenerateKeyDialog, certificate_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraGenerateKeyDialog, certificate_switch);
  gtk_widget_class_bind_template_child (widget_class, TesseraGenerateKeyDialog, common_name_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraGenerateKeyDialog, days_spin);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_button_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_generate_button_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_label_row_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_common_name_row_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_type_chooser_changed);
}

static void
tessera_generate_key_dialog_init (TesseraGenerateKeyDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();

  g_signal_connect_object (self->certificate_switch, "notify::active",
                           G_CALLBACK (on_certificate_switch_active), self, G_CONNECT_SWAPPED);
  gtk_spin_button_set_value (self->days_spin, TESSERA_CERTIFICATE_DEFAULT_DAYS);
  on_label_row_changed (self);
}

/**
 * tessera_generate_key_dialog_new:
 * @parent: (nullable): the window the dialog belongs to, which shows the toast
 * @token: the token to make the key on
 * @cancellable: (nullable): the window's; cancelling it closes the dialog
 *
 * Returns: (transfer none): a new dialog; present it
 */
GtkWidget *
tessera_generate_key_dialog_new (GtkWindow    *parent,
                                 TesseraToken *token,
                                 GCancellable *cancellable)
{
  TesseraGenerateKeyDialog *self;

  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);

  self = g_object_new (TESSERA_TYPE_GENERATE_KEY_DIALOG,
                       "transient-for", parent,
                       NULL);
  self->token = g_object_ref (token);
  self->parent_cancellable = cancellable ? g_object_ref (cancellable) : NULL;

  if (cancellable != NULL)
    g_signal_connect_object (cancellable, "cancelled",
                             G_CALLBACK (on_parent_cancelled), self, G_CONNECT_SWAPPED);

  update_controls (self);
  tessera_key_type_chooser_list_specs_async (self->type_chooser, token, self->cancellable,
                                             on_key_types_listed, g_object_ref (self));

  return GTK_WIDGET (self);
}
