/* tessera-certificate-dialog.c: a self-signed certificate for a key
 *
 * Asks for the certificate's subject and how long it is valid, logs in
 * with the PIN dialog when the token needs it, has the key sign the
 * certificate on the token, and reads the token again so that the key
 * shows its certificate.  Errors stay in the dialog, which can try again.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-certificate-dialog.h"
#include "tessera-pin-dialog.h"
#include "tessera-toast.h"

struct _TesseraCertificateDialog
{
  AdwWindow            parent_instance;

  /* template widgets */
  GtkWidget           *create_button;
  GtkWidget           *status_group;
  AdwActionRow        *progress_row;
  GtkSpinner          *spinner;
  AdwActionRow        *error_row;
  AdwPreferencesGroup *fields_group;
  AdwEntryRow         *common_name_row;
  GtkSpinButton       *days_spin;

  /* owned references */
  TesseraToken        *token;
  TesseraKey          *key;
  GCancellable        *cancellable;
  char                *title;

  guint                busy : 1;
  guint                dismissed : 1;
};

G_DEFINE_FINAL_TYPE (TesseraCertificateDialog, tessera_certificate_dialog, ADW_TYPE_WINDOW)

static void
dismiss (TesseraCertificateDialog *self)
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
dup_common_name (TesseraCertificateDialog *self)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->common_name_row))));
}

static void
update_controls (TesseraCertificateDialog *self)
{
  g_autofree char *common_name = dup_common_name (self);
  gboolean error_shown = gtk_widget_get_visible (GTK_WIDGET (self->error_row));

  gtk_widget_set_visible (GTK_WIDGET (self->progress_row), self->busy);
  gtk_spinner_set_spinning (self->spinner, self->busy);
  gtk_widget_set_visible (self->status_group, self->busy || error_shown);
  gtk_widget_set_sensitive (GTK_WIDGET (self->fields_group), !self->busy);
  gtk_widget_set_sensitive (self->create_button, !self->busy && common_name[0] != '\0');
}

static void
show_progress (TesseraCertificateDialog *self,
               const char               *text)
{
  self->busy = text != NULL;
  if (text != NULL)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->progress_row), text);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress_row),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, text,
                                      -1);
    }
  update_controls (self);
}

static void
show_error (TesseraCertificateDialog *self,
            const char               *message)
{
  if (message != NULL)
    {
      adw_action_row_set_subtitle (self->error_row, message);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->error_row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message,
                                      -1);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->error_row), message != NULL);
  update_controls (self);
}

static gboolean
is_cancelled (TesseraCertificateDialog *self,
              const GError             *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (self->cancellable);
}

static void
finish (TesseraCertificateDialog *self)
{
  /* Translators: a notification, %s is a key's name */
  g_autofree char *text = g_strdup_printf (_("Certificate for “%s” created"), self->title);

  /* In the window it belongs to, before it lets go of it */
  tessera_toast_show (GTK_WIDGET (self), text);
  dismiss (self);
}

/* The key as the token shows it now: after a login the token's keys are
 * read again, and only those know their private key.  (transfer full) */
static TesseraKey *
find_current_key (TesseraCertificateDialog *self)
{
  TesseraKey *key = tessera_token_find_key (self->token, tessera_key_get_id (self->key));

  return key != NULL ? key : g_object_ref (self->key);
}

static void
on_objects_read (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(TesseraCertificateDialog) self = user_data;
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
  g_autoptr(TesseraCertificateDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_token_create_certificate_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;

      g_debug ("Could not create a certificate: %s", error->message);
      show_progress (self, NULL);
      show_error (self, error->message);
      return;
    }

  show_progress (self, _("Reading the token…"));
  tessera_token_read_objects_async (self->token, self->cancellable,
                                    on_objects_read, g_object_ref (self));
}

static void
start_create (TesseraCertificateDialog *self)
{
  g_autofree char *common_name = dup_common_name (self);
  g_autoptr(TesseraKey) key = NULL;

  if (self->busy || common_name[0] == '\0')
    return;

  key = find_current_key (self);
  show_error (self, NULL);
  show_progress (self, _("Creating the certificate…"));

  tessera_token_create_certificate_async (self->token, key, common_name,
                                          gtk_spin_button_get_value_as_int (self->days_spin),
                                          self->cancellable,
                                          on_certificate_created, g_object_ref (self));
}

static void
on_pin_dialog_logged_in (TesseraCertificateDialog *self)
{
  start_create (self);
}

static void
on_create_button_clicked (TesseraCertificateDialog *self)
{
  if (self->busy)
    return;

  /* The key signs the certificate, which needs a login; the PIN dialog
   * keeps the guards on the final try and on a locked PIN */
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

  start_create (self);
}

static void
on_cancel_button_clicked (TesseraCertificateDialog *self)
{
  dismiss (self);
}

static void
on_common_name_row_changed (TesseraCertificateDialog *self)
{
  update_controls (self);
}

static void
on_parent_cancelled (TesseraCertificateDialog *self)
{
  dismiss (self);
}

/* GObject */

static gboolean
tessera_certificate_dialog_close_request (GtkWindow *window)
{
  /* Escape or the close button: the same as Cancel */
  dismiss (TESSERA_CERTIFICATE_DIALOG (window));

  return TRUE;
}

static void
tessera_certificate_dialog_dispose (GObject *object)
{
  TesseraCertificateDialog *self = TESSERA_CERTIFICATE_DIALOG (object);

  g_cancellable_cancel (self->cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_CERTIFICATE_DIALOG);

  G_OBJECT_CLASS (tessera_certificate_dialog_parent_class)->dispose (object);
}

static void
tessera_certificate_dialog_finalize (GObject *object)
{
  TesseraCertificateDialog *self = TESSERA_CERTIFICATE_DIALOG (object);

  g_clear_object (&self->token);
  g_clear_object (&self->key);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->title, g_free);

  G_OBJECT_CLASS (tessera_certificate_dialog_parent_class)->finalize (object);
}

static void
tessera_certificate_dialog_class_init (TesseraCertificateDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = tessera_certificate_dialog_dispose;
  object_class->finalize = tessera_certificate_dialog_finalize;
  window_class->close_request = tessera_certificate_dialog_close_request;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-certificate-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraCertificateDialog, create_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraCertificateDialog, status_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraCertificateDialog, progress_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraCertificateDialog, spinner);
  gtk_widget_class_bind_template_child (widget_class, TesseraCertificateDialog, error_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraCertificateDialog, fields_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraCertificateDialog, common_name_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraCertificateDialog, days_spin);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_button_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_create_button_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_common_name_row_changed);
}

static void
tessera_certificate_dialog_init (TesseraCertificateDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
}

/**
 * tessera_certificate_dialog_new:
 * @parent: (nullable): the window the dialog belongs to, which shows the
 *   toast
 * @token: the key's token
 * @key: the key that signs its own certificate
 * @cancellable: (nullable): the window's: cancelling it closes the dialog
 *
 * Returns: (transfer none): a new dialog; present it
 */
GtkWidget *
tessera_certificate_dialog_new (GtkWindow    *parent,
                                TesseraToken *token,
                                TesseraKey   *key,
                                GCancellable *cancellable)
{
  TesseraCertificateDialog *self;
  const char *label;
  g_autofree char *description = NULL;

  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);
  g_return_val_if_fail (TESSERA_IS_KEY (key), NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);

  self = g_object_new (TESSERA_TYPE_CERTIFICATE_DIALOG,
                       "transient-for", parent,
                       NULL);
  self->token = g_object_ref (token);
  self->key = g_object_ref (key);

  label = tessera_key_get_display_label (key);
  self->title = g_strdup (label != NULL && label[0] != '\0' ? label : C_("key", "Unnamed key"));

  /* Translators: %s is a key's name */
  description = g_strdup_printf (_("The key “%s” signs the certificate on the token; it never "
                                   "leaves the token. Some cards and programs show a key only "
                                   "through its certificate."), self->title);
  adw_preferences_group_set_description (self->fields_group, description);
  gtk_editable_set_text (GTK_EDITABLE (self->common_name_row),
                         label != NULL && label[0] != '\0'
                         ? label : TESSERA_CERTIFICATE_DEFAULT_COMMON_NAME);
  gtk_spin_button_set_value (self->days_spin, TESSERA_CERTIFICATE_DEFAULT_DAYS);

  if (cancellable != NULL)
    g_signal_connect_object (cancellable, "cancelled", G_CALLBACK (on_parent_cancelled), self,
                             G_CONNECT_SWAPPED);

  update_controls (self);

  return GTK_WIDGET (self);
}
