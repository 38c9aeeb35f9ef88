/* tessera-key-row-actions.c: what a person does with a key
 *
 * The key actions of TesseraKeyRow: copy the OpenSSH public key, save it
 * as a .pub file, copy a Host block for ~/.ssh/config, create or export
 * its certificate, rename, delete, fix what the doctor found, and show
 * the details.  A row is recycled by the key list: every action acts on
 * the key bound at the moment it runs, and work that outlives the moment
 * holds the window, the token and the key, never the row.  What belongs
 * to the page (a fix, the details) the row asks for with a signal.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tessera-certificate-dialog.h"
#include "tessera-error-dialog.h"
#include "tessera-key-row-private.h"
#include "tessera-pin-dialog.h"
#include "tessera-ssh-export.h"
#include "tessera-toast.h"

enum {
  FIX_PROBLEM,
  SHOW_DETAILS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
is_blank (const char *s)
{
  return s == NULL || s[0] == '\0';
}

/* The window's, for work that outlives the row */
static GCancellable *
dup_cancellable (TesseraKeyRow *self)
{
  return self->cancellable != NULL ? g_object_ref (self->cancellable) : g_cancellable_new ();
}

static const char *
get_module_path (TesseraKeyRow *self)
{
  TesseraModule *module = tessera_token_get_module (self->token);

  return module != NULL ? tessera_module_get_host_path (module) : NULL;
}

/* Copy SSH Key */

static void
copy_ssh_key_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  g_autofree char *line = NULL;
  g_autofree char *text = NULL;

  if (self->key == NULL || (line = tessera_key_get_ssh_line (self->key)) == NULL)
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), line);

  /* Translators: a notification, %s is a key's name */
  text = g_strdup_printf (_("SSH key “%s” copied"), self->title);
  tessera_toast_show (widget, text);
}

/* Save Public Key… */

static void
on_public_key_saved (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GtkWindow) window = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *basename = NULL;
  g_autofree char *text = NULL;

  /* A write error is shown already; nothing chosen is nothing to say */
  file = tessera_ssh_export_save_public_key_finish (result, &error);
  if (file == NULL)
    return;

  /* Short: a toast is one line, and cut short on a phone */
  basename = g_file_get_basename (file);
  /* Translators: a notification, %s is a file name, e.g. “ssh-key.pub” */
  text = g_strdup_printf (_("Saved “%s”"), basename);
  tessera_toast_show (GTK_WIDGET (window), text);
}

static void
save_public_key_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);

  if (self->key == NULL || !GTK_IS_WINDOW (root))
    return;

  tessera_ssh_export_save_public_key_async (GTK_WINDOW (root), self->key, self->token,
                                            self->cancellable,
                                            on_public_key_saved, g_object_ref (root));
}

/* Copy SSH Config */

static void
copy_ssh_config_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  g_autofree char *config = NULL;

  if (self->key == NULL)
    return;
  config = tessera_ssh_export_dup_config (self->key, self->token);
  if (config == NULL)
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), config);

  /* Translators: a notification after Copy SSH Config.  The copied Host
   * block names server.example.com, which the user replaces with their
   * server's name.  Keep it short: a toast is one line, cut short on a phone. */
  tessera_toast_show (widget, _("Copied — replace the host name"));
}

/* Export Certificate… */

typedef struct
{
  GtkFileChooserNative *chooser;
  GtkFileFilter        *der_filter;
  GtkWindow            *window;
  GCancellable         *cancellable;
  TesseraObject        *certificate;
  GFile                *file;
} ExportCertificate;

static void
export_certificate_free (ExportCertificate *export)
{
  if (export->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (export->chooser));
  g_clear_object (&export->chooser);
  g_clear_object (&export->der_filter);
  g_clear_object (&export->window);
  g_clear_object (&export->cancellable);
  g_clear_object (&export->certificate);
  g_clear_object (&export->file);
  g_free (export);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExportCertificate, export_certificate_free)

static void
show_message (GtkWindow  *window,
              const char *heading,
              const char *body)
{
  tessera_error_dialog_show (window, heading, body, "certificates");
}

static void
on_certificate_exported (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(ExportCertificate) export = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *basename = NULL;
  g_autofree char *text = NULL;

  if (!g_file_replace_contents_finish (G_FILE (object), result, NULL, &error))
    {
      g_autofree char *name = NULL;
      g_autofree char *body = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          || g_cancellable_is_cancelled (export->cancellable))
        return;

      name = g_file_get_parse_name (export->file);
      if (strstr (error->message, name) != NULL)
        body = g_strdup (error->message);
      else
        /* Translators: the first %s is a file, the second why it could not be written */
        body = g_strdup_printf (_("“%s” could not be written: %s"), name, error->message);
      show_message (export->window, _("Could Not Export the Certificate"), body);
      return;
    }

  if (g_cancellable_is_cancelled (export->cancellable))
    return;

  basename = g_file_get_basename (export->file);
  /* Translators: a notification, %s is a file name, e.g. “ssh-key.pem” */
  text = g_strdup_printf (_("Exported “%s”"), basename);
  tessera_toast_show (GTK_WIDGET (export->window), text);
}

static gboolean
has_suffix (const char *name,
            const char *suffix)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);

  return g_str_has_suffix (lower, suffix);
}

static void
on_export_chooser_response (GtkNativeDialog *chooser,
                            int              response,
                            gpointer         user_data)
{
  g_autoptr(ExportCertificate) export = user_data;
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *basename = NULL;
  TesseraCertificateFormat format = TESSERA_CERTIFICATE_FORMAT_PEM;
  GtkFileFilter *filter;

  if (response == GTK_RESPONSE_ACCEPT)
    export->file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  filter = gtk_file_chooser_get_filter (GTK_FILE_CHOOSER (chooser));

  /* The name the user gave decides; else the filter they chose */
  if (export->file != NULL)
    {
      basename = g_file_get_basename (export->file);
      if (has_suffix (basename, ".der") || has_suffix (basename, ".cer"))
        format = TESSERA_CERTIFICATE_FORMAT_DER;
      else if (!has_suffix (basename, ".pem") && !has_suffix (basename, ".crt")
               && filter != NULL && filter == export->der_filter)
        format = TESSERA_CERTIFICATE_FORMAT_DER;
    }

  gtk_native_dialog_destroy (chooser);
  g_clear_object (&export->chooser);

  if (export->file == NULL)
    return;

  contents = tessera_certificate_export (export->certificate, format, &error);
  if (contents == NULL)
    {
      show_message (export->window, _("Could Not Export the Certificate"), error->message);
      return;
    }

  g_debug ("Exporting a certificate as %s to %s",
           format == TESSERA_CERTIFICATE_FORMAT_DER ? "DER" : "PEM",
           g_file_peek_path (export->file));

  g_file_replace_contents_bytes_async (export->file, contents, NULL, FALSE,
                                       G_FILE_CREATE_NONE, export->cancellable,
                                       on_certificate_exported, export);
  export = NULL;
}

static void
export_certificate_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  TesseraObject *certificate = self->key != NULL ? tessera_key_get_certificate (self->key) : NULL;
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autofree char *file_name = NULL;
  GtkFileFilter *pem_filter;
  ExportCertificate *export;

  if (certificate == NULL || !GTK_IS_WINDOW (root))
    return;

  export = g_new0 (ExportCertificate, 1);
  export->window = g_object_ref (GTK_WINDOW (root));
  export->cancellable = dup_cancellable (self);
  export->certificate = g_object_ref (certificate);

  export->chooser = gtk_file_chooser_native_new (_("Export Certificate"),
                                                 GTK_WINDOW (root),
                                                 GTK_FILE_CHOOSER_ACTION_SAVE,
                                                 _("_Export"),
                                                 _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (export->chooser), TRUE);

  pem_filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (pem_filter, _("PEM Certificate"));
  gtk_file_filter_add_pattern (pem_filter, "*.pem");
  gtk_file_filter_add_pattern (pem_filter, "*.crt");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (export->chooser), pem_filter);

  export->der_filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (export->der_filter, _("DER Certificate"));
  gtk_file_filter_add_pattern (export->der_filter, "*.der");
  gtk_file_filter_add_pattern (export->der_filter, "*.cer");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (export->chooser), export->der_filter);

  gtk_file_chooser_set_filter (GTK_FILE_CHOOSER (export->chooser), pem_filter);
  g_object_unref (pem_filter);

  file_name = tessera_ssh_export_suggest_file_name (tessera_key_get_display_label (self->key), ".pem");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (export->chooser), file_name);

  g_signal_connect (export->chooser, "response", G_CALLBACK (on_export_chooser_response), export);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (export->chooser));
}

/* Create Certificate… */

static void
create_certificate_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);

  if (self->key == NULL || tessera_key_get_private_key (self->key) == NULL)
    return;

  gtk_window_present (GTK_WINDOW (tessera_certificate_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                                  self->token, self->key,
                                                                  self->cancellable)));
}

/* Rename… and Delete…
 *
 * Both log in first where the token asks for it: writing needs it, and a
 * login shows the private key the dialog must name too.  The login reads
 * the objects again, which may give the row another key, so the work
 * holds the window, the token and the key, never the row.
 */

typedef struct
{
  GtkWindow    *window;
  TesseraToken *token;
  TesseraKey   *key;
  GCancellable *cancellable;
  GPtrArray    *objects;
  GtkWidget    *entry;
  char         *name;
  char         *label;
  gboolean      certificate_only;
} KeyEdit;

static void
key_edit_clear (KeyEdit *edit)
{
  g_clear_object (&edit->window);
  g_clear_object (&edit->token);
  g_clear_object (&edit->key);
  g_clear_object (&edit->cancellable);
  g_clear_pointer (&edit->objects, g_ptr_array_unref);
  g_clear_pointer (&edit->name, g_free);
  g_clear_pointer (&edit->label, g_free);
}

static KeyEdit *
key_edit_ref (KeyEdit *edit)
{
  return g_rc_box_acquire (edit);
}

static void
key_edit_unref (KeyEdit *edit)
{
  g_rc_box_release_full (edit, (GDestroyNotify) key_edit_clear);
}

static void
key_edit_closure_unref (gpointer  data,
                        GClosure *closure)
{
  key_edit_unref (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KeyEdit, key_edit_unref)

static KeyEdit *
key_edit_new (TesseraKeyRow *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  KeyEdit *edit;

  if (self->key == NULL || !GTK_IS_WINDOW (root))
    return NULL;

  edit = g_rc_box_new0 (KeyEdit);
  edit->window = g_object_ref (GTK_WINDOW (root));
  edit->token = g_object_ref (self->token);
  edit->key = g_object_ref (self->key);
  edit->cancellable = dup_cancellable (self);
  edit->name = g_strdup (self->title);

  return edit;
}

static gboolean
key_edit_is_cancelled (KeyEdit      *edit,
                       const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (edit->cancellable);
}

/* Runs @func once logged in, through a PIN dialog of the page when needed */
static void
key_edit_when_logged_in (TesseraKeyRow       *self,
                         KeyEdit             *edit,
                         TesseraLoggedInFunc  func)
{
  tessera_pin_dialog_when_logged_in (edit->token, edit->window, self->page_cancellable,
                                     func, edit, (GDestroyNotify) key_edit_unref);
}

/* After a login the token's keys are new objects: find this one again */
static void
key_edit_refresh (KeyEdit *edit)
{
  g_autoptr(TesseraKey) key = tessera_token_find_key (edit->token, tessera_key_get_id (edit->key));

  if (key != NULL)
    g_set_object (&edit->key, key);
}

static void
on_edit_objects_read (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(KeyEdit) edit = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_token_read_objects_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (key_edit_is_cancelled (edit, error))
        return;

      tessera_toast_show (GTK_WIDGET (edit->window), error->message);
    }
}

/* Reads the objects again, then says what was done */
static void
key_edit_read_objects (KeyEdit    *edit,
                       const char *toast)
{
  if (toast != NULL)
    tessera_toast_show (GTK_WIDGET (edit->window), toast);

  tessera_token_read_objects_async (edit->token, edit->cancellable,
                                    on_edit_objects_read, key_edit_ref (edit));
}

static void
on_key_renamed (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(KeyEdit) edit = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (!tessera_token_set_label_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (key_edit_is_cancelled (edit, error))
        return;

      show_message (edit->window, _("Could Not Rename the Key"), error->message);
      /* Some objects may have their new name already */
      key_edit_read_objects (edit, NULL);
      return;
    }

  if (g_cancellable_is_cancelled (edit->cancellable))
    return;

  /* Translators: a notification, %s is a key's new name */
  text = g_strdup_printf (_("Renamed to “%s”"), edit->label);
  key_edit_read_objects (edit, text);
}

static char *
dup_entry_label (GtkWidget *entry)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
}

static void
on_rename_entry_changed (GtkEditable      *entry,
                         AdwMessageDialog *dialog)
{
  g_autofree char *label = dup_entry_label (GTK_WIDGET (entry));

  adw_message_dialog_set_response_enabled (dialog, "rename", label[0] != '\0');
}

static void
on_rename_response (AdwMessageDialog *dialog,
                    const char       *response,
                    KeyEdit          *edit)
{
  if (g_strcmp0 (response, "rename") != 0)
    return;

  edit->label = dup_entry_label (edit->entry);
  if (edit->label[0] == '\0' || g_cancellable_is_cancelled (edit->cancellable))
    return;

  g_debug ("Renaming %u objects", edit->objects->len);
  tessera_token_set_label_async (edit->token, edit->objects, edit->label, edit->cancellable,
                                 on_key_renamed, key_edit_ref (edit));
}

static void
show_rename_dialog (gpointer user_data)
{
  KeyEdit *edit = user_data;
  const char *label;
  GtkWidget *dialog;
  GtkWidget *entry;

  if (g_cancellable_is_cancelled (edit->cancellable))
    return;

  key_edit_refresh (edit);
  g_clear_pointer (&edit->objects, g_ptr_array_unref);
  edit->objects = tessera_key_list_objects (edit->key);
  label = tessera_key_get_display_label (edit->key);

  dialog = adw_message_dialog_new (edit->window, NULL, NULL);
  /* Translators: a dialog's heading, %s is a key's name */
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog), _("Rename “%s”"), edit->name);
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog),
                               _("The key’s private key, public key and certificate all get "
                                 "the new name, so that other programs show it too."));

  entry = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (entry), label != NULL ? label : "");
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("New name"),
                                  -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  edit->entry = entry;

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "rename", _("_Rename"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "rename",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "rename");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "rename",
                                           label != NULL && label[0] != '\0');

  g_signal_connect (entry, "changed", G_CALLBACK (on_rename_entry_changed), dialog);
  g_signal_connect_data (dialog, "response", G_CALLBACK (on_rename_response),
                         key_edit_ref (edit), key_edit_closure_unref, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  gtk_widget_grab_focus (entry);
}

static void
rename_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  KeyEdit *edit = key_edit_new (self);

  if (edit != NULL)
    key_edit_when_logged_in (self, edit, show_rename_dialog);
}

static void
on_key_deleted (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(KeyEdit) edit = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (!tessera_token_delete_objects_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (key_edit_is_cancelled (edit, error))
        return;

      show_message (edit->window, _("Could Not Delete the Key"), error->message);
      /* Some objects may be gone already */
      key_edit_read_objects (edit, NULL);
      return;
    }

  if (g_cancellable_is_cancelled (edit->cancellable))
    return;

  if (edit->certificate_only)
    /* Translators: a notification, %s is a key's name */
    text = g_strdup_printf (_("The certificate of “%s” was deleted"), edit->name);
  else
    /* Translators: a notification, %s is a key's name */
    text = g_strdup_printf (_("“%s” deleted"), edit->name);
  key_edit_read_objects (edit, text);
}

static void
on_delete_response (AdwMessageDialog *dialog,
                    const char       *response,
                    KeyEdit          *edit)
{
  if (g_strcmp0 (response, "delete") != 0 || g_cancellable_is_cancelled (edit->cancellable))
    return;

  g_debug ("Deleting %u objects", edit->objects->len);
  tessera_token_delete_objects_async (edit->token, edit->objects, edit->cancellable,
                                      on_key_deleted, key_edit_ref (edit));
}

/* What will be lost, one row per object: its label, kind and ID */
static GtkWidget *
create_doomed_object_list (GPtrArray *objects)
{
  GtkWidget *list = gtk_list_box_new ();

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (list),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Objects to be deleted"),
                                  -1);

  for (guint i = 0; i < objects->len; i++)
    {
      TesseraObject *object = g_ptr_array_index (objects, i);
      const char *label = tessera_object_get_display_label (object);
      const char *id = tessera_object_get_id_hex (object);
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *subtitle = NULL;

      if (!is_blank (id))
        /* Translators: an object's kind and ID, e.g. "Private key · ID 01" */
        subtitle = g_strdup_printf (_("%s · ID %s"), tessera_object_get_kind_name (object), id);
      else
        subtitle = g_strdup (tessera_object_get_kind_name (object));

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     !is_blank (label) ? label : C_("object", "Unnamed"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle,
                                      -1);
      gtk_list_box_append (GTK_LIST_BOX (list), row);
    }

  return list;
}

static void
show_delete_dialog (gpointer user_data)
{
  KeyEdit *edit = user_data;
  const char *token_name;
  GtkWidget *dialog;
  guint n;

  if (g_cancellable_is_cancelled (edit->cancellable))
    return;

  key_edit_refresh (edit);
  g_clear_pointer (&edit->objects, g_ptr_array_unref);
  if (edit->certificate_only)
    {
      edit->objects = g_ptr_array_new_with_free_func (g_object_unref);
      if (tessera_key_get_certificate (edit->key) != NULL)
        g_ptr_array_add (edit->objects, g_object_ref (tessera_key_get_certificate (edit->key)));
    }
  else
    edit->objects = tessera_key_list_objects (edit->key);
  n = edit->objects->len;
  token_name = tessera_token_get_display_name (edit->token);

  if (n == 0)
    return;

  dialog = adw_message_dialog_new (edit->window, NULL, NULL);
  if (edit->certificate_only)
    /* Translators: a dialog's heading, %s is a key's name */
    adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog), _("Delete the Certificate of “%s”?"),
                                       edit->name);
  else
    /* Translators: a dialog's heading, %s is a key's name */
    adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog), _("Delete “%s”?"), edit->name);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  g_dngettext (GETTEXT_PACKAGE,
                                               "%u object will be deleted from “%s”. "
                                               "This cannot be undone.",
                                               "%u objects will be deleted from “%s”. "
                                               "This cannot be undone.", n),
                                  n, token_name);

  /* A key has three objects at most: no need to scroll */
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog),
                                      create_doomed_object_list (edit->objects));

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  g_signal_connect_data (dialog, "response", G_CALLBACK (on_delete_response),
                         key_edit_ref (edit), key_edit_closure_unref, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  KeyEdit *edit = key_edit_new (self);

  if (edit != NULL)
    key_edit_when_logged_in (self, edit, show_delete_dialog);
}

static void
delete_certificate_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  KeyEdit *edit = key_edit_new (self);

  if (edit == NULL)
    return;
  edit->certificate_only = TRUE;
  key_edit_when_logged_in (self, edit, show_delete_dialog);
}

/* Fix */

static void
fix_problem_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);

  if (self->key != NULL && self->problem != NULL)
    g_signal_emit (self, signals[FIX_PROBLEM], 0, self->problem);
}

/* Details and the menu */

typedef struct
{
  TesseraKeyRow *row;
  TesseraKey    *key;
} ShowDetails;

/* The key it was asked for, though the row may show another by now */
static gboolean
show_details_idle (gpointer user_data)
{
  ShowDetails *show = user_data;

  if (gtk_widget_get_root (GTK_WIDGET (show->row)) != NULL)
    g_signal_emit (show->row, signals[SHOW_DETAILS], 0, show->key);

  g_object_unref (show->row);
  g_object_unref (show->key);
  g_free (show);

  return G_SOURCE_REMOVE;
}

static void
show_details_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  ShowDetails *show;

  if (self->key == NULL)
    return;

  /* Once the key menu has closed: a popover that closes after the page
   * of its button went out of sight keeps the keyboard on X11 */
  show = g_new0 (ShowDetails, 1);
  show->row = g_object_ref (self);
  show->key = g_object_ref (self->key);
  g_idle_add (show_details_idle, show);
}

static gboolean
popup_menu (GtkWidget *widget,
            GVariant  *args,
            gpointer   user_data)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);

  if (self->key == NULL)
    return FALSE;

  gtk_menu_button_popup (GTK_MENU_BUTTON (self->menu_button));

  return TRUE;
}

/* The actions of the class, and which of them the bound key allows.
 * The signals, too: how the row asks its page for what is the page's */

void
tessera_key_row_install_actions (GtkWidgetClass *widget_class)
{
  /**
   * TesseraKeyRow::fix-problem:
   * @self: the row
   * @problem: the #TesseraProblem of the row's key
   *
   * Asks the page to fix what its doctor found.
   */
  signals[FIX_PROBLEM] =
    g_signal_new ("fix-problem",
                  G_TYPE_FROM_CLASS (widget_class),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, TESSERA_TYPE_PROBLEM);

  /**
   * TesseraKeyRow::show-details:
   * @self: the row
   * @key: the #TesseraKey whose details to show
   *
   * Asks the page to show the key's details.
   */
  signals[SHOW_DETAILS] =
    g_signal_new ("show-details",
                  G_TYPE_FROM_CLASS (widget_class),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, TESSERA_TYPE_KEY);

  /* The shortcuts act on the key row that has the focus */
  gtk_widget_class_install_action (widget_class, "key.copy-ssh-key", NULL, copy_ssh_key_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK,
                                       "key.copy-ssh-key", NULL);

  gtk_widget_class_install_action (widget_class, "key.save-public-key", NULL, save_public_key_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK,
                                       "key.save-public-key", NULL);

  gtk_widget_class_install_action (widget_class, "key.copy-ssh-config", NULL, copy_ssh_config_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "key.copy-ssh-config", NULL);

  gtk_widget_class_install_action (widget_class, "key.show-details", NULL, show_details_action);
  gtk_widget_class_install_action (widget_class, "key.create-certificate", NULL,
                                   create_certificate_action);
  gtk_widget_class_install_action (widget_class, "key.export-certificate", NULL,
                                   export_certificate_action);
  gtk_widget_class_install_action (widget_class, "key.rename", NULL, rename_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F2, 0, "key.rename", NULL);

  gtk_widget_class_install_action (widget_class, "key.delete", NULL, delete_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "key.delete", NULL);
  gtk_widget_class_install_action (widget_class, "key.delete-certificate", NULL, delete_certificate_action);

  gtk_widget_class_install_action (widget_class, "key.fix-problem", NULL, fix_problem_action);

  gtk_widget_class_add_binding (widget_class, GDK_KEY_F10, GDK_SHIFT_MASK, popup_menu, NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Menu, 0, popup_menu, NULL);
}

/* Enables what the bound key allows; everything while no key is bound is
 * disabled, so a shortcut on a row between two keys does nothing */
void
tessera_key_row_update_actions (TesseraKeyRow *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  TesseraKey *key = self->key;
  g_autofree char *line = NULL;
  gboolean writable = FALSE;
  gboolean fixable = FALSE;

  if (key != NULL)
    {
      line = tessera_key_get_ssh_line (key);
      writable = !tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_WRITE_PROTECTED);
      fixable = self->problem != NULL && tessera_problem_get_fixable (self->problem);
    }

  gtk_widget_action_set_enabled (widget, "key.copy-ssh-key", line != NULL);
  gtk_widget_action_set_enabled (widget, "key.save-public-key", line != NULL);
  gtk_widget_action_set_enabled (widget, "key.copy-ssh-config",
                                 key != NULL && !is_blank (get_module_path (self)));
  gtk_widget_action_set_enabled (widget, "key.show-details", key != NULL);
  gtk_widget_action_set_enabled (widget, "key.create-certificate",
                                 writable && tessera_key_get_private_key (key) != NULL
                                 && tessera_key_get_certificate (key) == NULL);
  gtk_widget_action_set_enabled (widget, "key.export-certificate",
                                 key != NULL && tessera_key_get_certificate (key) != NULL);
  gtk_widget_action_set_enabled (widget, "key.rename", writable);
  gtk_widget_action_set_enabled (widget, "key.delete", writable);
  /* Only the certificate: for a key that is more than its certificate */
  gtk_widget_action_set_enabled (widget, "key.delete-certificate",
                                 writable && tessera_key_get_certificate (key) != NULL
                                 && (tessera_key_get_private_key (key) != NULL
                                     || tessera_key_get_public_key (key) != NULL));
  gtk_widget_action_set_enabled (widget, "key.fix-problem", fixable);
}
