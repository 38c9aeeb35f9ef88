/* tessera-token-page-certificates.c: the token page's Import Certificate…
 *
 * token.import-certificate logs in when the token asks for it, opens a
 * PEM or DER file and writes each certificate in it to the token under
 * the ID of the private key it belongs to; the core finds those keys and
 * skips, saying why, a certificate already there or one that matches no
 * key.  All imported is a toast; some skipped is a dialog that names
 * them; none imported is an error.  The work belongs to the window, not
 * to the page: it reads the objects again, and the page follows the
 * token's lists.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-error-dialog.h"
#include "tessera-toast.h"
#include "tessera-token-page.h"
#include "tessera-token-page-certificates.h"

typedef struct
{
  GtkWindow            *window;
  TesseraToken         *token;
  GCancellable         *cancellable;
  GtkFileChooserNative *chooser;
  GFile                *file;
  GPtrArray            *outcomes;
} ImportCertificate;

static void
import_certificate_clear (ImportCertificate *import)
{
  if (import->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (import->chooser));
  g_clear_object (&import->chooser);
  g_clear_object (&import->window);
  g_clear_object (&import->token);
  g_clear_object (&import->cancellable);
  g_clear_object (&import->file);
  g_clear_pointer (&import->outcomes, g_ptr_array_unref);
}

static ImportCertificate *
import_certificate_ref (ImportCertificate *import)
{
  return g_rc_box_acquire (import);
}

static void
import_certificate_unref (ImportCertificate *import)
{
  g_rc_box_release_full (import, (GDestroyNotify) import_certificate_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImportCertificate, import_certificate_unref)

static gboolean
import_is_cancelled (ImportCertificate *import,
                     const GError      *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (import->cancellable);
}

static void
show_error (ImportCertificate *import,
            const char        *message)
{
  tessera_error_dialog_show (import->window, _("Could Not Import the Certificate"), message, "certificates");
}

/* Some were imported and some not: the dialog names each one skipped */
static void
show_skipped (ImportCertificate *import,
              guint              imported,
              guint              skipped)
{
  g_autoptr(GString) body = g_string_new (NULL);
  g_autofree char *heading = NULL;

  heading = g_strdup_printf (ngettext ("Imported %u Certificate", "Imported %u Certificates", imported), imported);
  g_string_append (body, ngettext ("This certificate in the file was not imported:",
                                   "These certificates in the file were not imported:", skipped));
  for (guint i = 0; i < import->outcomes->len; i++)
    {
      TesseraCertificateOutcome *outcome = g_ptr_array_index (import->outcomes, i);
      g_autofree char *line = NULL;

      if (tessera_certificate_outcome_get_imported (outcome))
        continue;
      /* The core shows control characters in a subject as symbols */
      line = tessera_certificate_outcome_describe (outcome);
      g_string_append_printf (body, "\n• %s", line);
    }
  tessera_error_dialog_show (import->window, heading, body->str, "certificates");
}

static void
on_objects_read (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(ImportCertificate) import = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *basename = NULL;
  g_autofree char *text = NULL;
  guint imported = 0;

  if (!tessera_token_read_objects_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (import_is_cancelled (import, error))
        return;

      g_debug ("Could not read the objects after an import: %s", error->message);
    }

  if (g_cancellable_is_cancelled (import->cancellable))
    return;

  for (guint i = 0; i < import->outcomes->len; i++)
    imported += tessera_certificate_outcome_get_imported (g_ptr_array_index (import->outcomes, i));
  if (imported < import->outcomes->len)
    {
      show_skipped (import, imported, import->outcomes->len - imported);
      return;
    }

  basename = g_file_get_basename (import->file);
  if (imported == 1)
    /* Translators: a notification, %s is a file name, e.g. “cert.pem” */
    text = g_strdup_printf (_("Imported “%s”"), basename);
  else
    /* Translators: a notification, %u is a number of certificates and
     * %s a file name, e.g. “certs.pem” */
    text = g_strdup_printf (ngettext ("Imported %u certificate from “%s”",
                                      "Imported %u certificates from “%s”", imported),
                            imported, basename);
  tessera_toast_show (GTK_WIDGET (import->window), text);
}

static void
on_certificate_imported (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(ImportCertificate) import = user_data;
  g_autoptr(GError) error = NULL;
  TesseraToken *token = TESSERA_TOKEN (object);

  import->outcomes = tessera_token_import_certificates_finish (token, result, &error);
  if (import->outcomes == NULL)
    {
      if (import_is_cancelled (import, error))
        return;

      /* Nothing was imported.  The core's message says why, for each
       * certificate: already there, no private key matches, not a
       * certificate, the token refused it */
      show_error (import, error->message);
      return;
    }

  g_debug ("Imported from a file of %u certificates", import->outcomes->len);

  tessera_token_read_objects_async (token, import->cancellable, on_objects_read, import);
  /* The operation owns it now */
  import = NULL;
}

static void
on_file_loaded (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(ImportCertificate) import = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) contents = NULL;
  char *data = NULL;
  gsize length = 0;

  if (!g_file_load_contents_finish (G_FILE (object), result, &data, &length, NULL, &error))
    {
      if (import_is_cancelled (import, error))
        return;

      show_error (import, error->message);
      return;
    }

  contents = g_bytes_new_take (data, length);
  tessera_token_import_certificates_async (import->token, contents, NULL, import->cancellable,
                                           on_certificate_imported, import);
  import = NULL;
}

static void
on_chooser_response (GtkNativeDialog *chooser,
                     int              response,
                     gpointer         user_data)
{
  g_autoptr(ImportCertificate) import = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    import->file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

  gtk_native_dialog_destroy (chooser);
  g_clear_object (&import->chooser);

  if (import->file == NULL || g_cancellable_is_cancelled (import->cancellable))
    return;

  g_debug ("Importing a certificate from %s", g_file_peek_path (import->file));

  g_file_load_contents_async (import->file, import->cancellable, on_file_loaded, import);
  import = NULL;
}

/* Once logged in: choose the file */
static void
choose_file (gpointer user_data)
{
  ImportCertificate *import = user_data;
  GtkFileFilter *filter;

  if (g_cancellable_is_cancelled (import->cancellable))
    return;

  import->chooser = gtk_file_chooser_native_new (_("Import Certificate"),
                                                 import->window,
                                                 GTK_FILE_CHOOSER_ACTION_OPEN,
                                                 _("_Import"),
                                                 _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (import->chooser), TRUE);

  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("Certificates (PEM or DER)"));
  gtk_file_filter_add_pattern (filter, "*.pem");
  gtk_file_filter_add_pattern (filter, "*.crt");
  gtk_file_filter_add_pattern (filter, "*.cer");
  gtk_file_filter_add_pattern (filter, "*.der");
  gtk_file_filter_add_mime_type (filter, "application/x-x509-ca-cert");
  gtk_file_filter_add_mime_type (filter, "application/pkix-cert");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (import->chooser), filter);
  g_object_unref (filter);

  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("All Files"));
  gtk_file_filter_add_pattern (filter, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (import->chooser), filter);
  g_object_unref (filter);

  /* The response owns a reference: the login flow drops its own when
   * this returns */
  g_signal_connect (import->chooser, "response", G_CALLBACK (on_chooser_response),
                    import_certificate_ref (import));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (import->chooser));
}

static void
import_certificate_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  TesseraTokenPage *page = TESSERA_TOKEN_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GCancellable *cancellable = tessera_token_page_get_cancellable (page);
  ImportCertificate *import;

  if (!GTK_IS_WINDOW (root))
    return;

  import = g_rc_box_new0 (ImportCertificate);
  import->window = g_object_ref (GTK_WINDOW (root));
  import->token = g_object_ref (tessera_token_page_get_token (page));
  import->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();

  /* Writing a certificate needs a login on most tokens */
  tessera_token_page_when_logged_in (page, choose_file, import,
                                     (GDestroyNotify) import_certificate_unref);
}

void
tessera_token_page_install_certificate_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "token.import-certificate", NULL,
                                   import_certificate_action);
}
