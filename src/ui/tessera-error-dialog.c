/* tessera-error-dialog.c: an error, its fix, and the help page about it
 *
 * Every error Tessera shows in a dialog names its cause and fix in the
 * body, and has a Help button that opens the help page about it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tessera-error-dialog.h"

/**
 * tessera_show_help:
 * @page: (nullable): a page of Tessera's help, such as "pairing"; the
 *   index when %NULL
 *
 * Opens the help.  With TESSERA_TEST_HELP_LOG set (a test hook), the URI
 * is appended to that file instead, since the test session has no help
 * browser.
 */
void
tessera_show_help (GtkWindow  *parent,
                   const char *page)
{
  g_autofree char *uri = page != NULL ? g_strdup_printf ("help:tessera/%s", page) : g_strdup ("help:tessera");
  const char *log = g_getenv ("TESSERA_TEST_HELP_LOG");

  g_debug ("Opening %s", uri);
  if (log != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (log);
      g_autoptr(GFileOutputStream) stream = g_file_append_to (file, G_FILE_CREATE_NONE, NULL, NULL);
      g_autofree char *line = g_strconcat (uri, "\n", NULL);

      if (stream != NULL)
        g_output_stream_write_all (G_OUTPUT_STREAM (stream), line, strlen (line), NULL, NULL, NULL);
      return;
    }
  gtk_show_uri (parent, uri, GDK_CURRENT_TIME);
}

static void
on_response (AdwMessageDialog *dialog,
             const char       *response,
             gpointer          user_data)
{
  const char *page = g_object_get_data (G_OBJECT (dialog), "tessera-help-page");

  if (g_strcmp0 (response, "help") == 0)
    tessera_show_help (gtk_window_get_transient_for (GTK_WINDOW (dialog)), page);
}

/**
 * tessera_error_dialog_show:
 * @heading: what failed, as a title ("Could Not Delete the Key")
 * @body: why, and what to do: the core's messages say both
 * @help_page: (nullable): the help page about it
 *
 * Presents the error in a message dialog with Close and, given a page,
 * Help.
 */
void
tessera_error_dialog_show (GtkWindow  *parent,
                           const char *heading,
                           const char *body,
                           const char *help_page)
{
  GtkWidget *dialog = adw_message_dialog_new (parent, heading, body);

  if (help_page != NULL)
    {
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "help", _("_Help"));
      g_object_set_data_full (G_OBJECT (dialog), "tessera-help-page", g_strdup (help_page), g_free);
      g_signal_connect (dialog, "response", G_CALLBACK (on_response), NULL);
    }
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "close");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "close");
  gtk_window_present (GTK_WINDOW (dialog));
}
