/* tessera-token-page-lifecycle.c: the token page's PIN and initialization actions
 *
 * token.initialize, token.change-pin, token.change-so-pin and
 * token.unblock-pin open their dialogs over the main window.  The dialogs
 * belong to the window, not to the page: initializing a SoftHSM token
 * moves it to a new slot, so the page of the old token goes away while
 * the work finishes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-change-pin-dialog.h"
#include "tessera-initialize-dialog.h"
#include "tessera-toast.h"
#include "tessera-token-page.h"
#include "tessera-token-page-lifecycle.h"

static GtkWindow *
page_window (GtkWidget *page)
{
  GtkRoot *root = gtk_widget_get_root (page);

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

/* The page may be gone by now: the window shows the token again, found
 * by its URI */
static void
on_initialized (GtkWidget    *dialog,
                TesseraToken *token,
                const char   *label,
                GtkWindow    *window)
{
  g_autofree char *text = g_strdup_printf (_("“%s” initialized"), label);

  tessera_toast_show (GTK_WIDGET (window), text);
  if (token != NULL)
    gtk_widget_activate_action (GTK_WIDGET (window), "win.select-token", "s",
                                tessera_token_get_uri (token));
}

static void
initialize_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  TesseraTokenPage *page = TESSERA_TOKEN_PAGE (widget);
  GtkWindow *window = page_window (widget);
  GtkWidget *dialog;

  if (window == NULL)
    return;

  dialog = tessera_initialize_dialog_new (tessera_token_page_get_token (page),
                                          tessera_token_page_get_registry (page), window,
                                          tessera_token_page_get_cancellable (page));
  g_signal_connect_object (dialog, "initialized", G_CALLBACK (on_initialized), window, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_pin_changed (GtkWidget  *dialog,
                const char *message,
                GtkWindow  *window)
{
  tessera_toast_show (GTK_WIDGET (window), message);
}

static void present_change_pin (GtkWindow            *window,
                                TesseraToken         *token,
                                TesseraChangePinMode  mode,
                                GCancellable         *cancellable);

static void
on_unblock_requested (GtkWidget    *dialog,
                      TesseraToken *token,
                      GtkWindow    *window)
{
  present_change_pin (window, token, TESSERA_CHANGE_PIN_UNBLOCK,
                      g_object_get_data (G_OBJECT (dialog), "tessera-cancellable"));
}

static void
present_change_pin (GtkWindow            *window,
                    TesseraToken         *token,
                    TesseraChangePinMode  mode,
                    GCancellable         *cancellable)
{
  GtkWidget *dialog;

  dialog = tessera_change_pin_dialog_new (token, mode, window, cancellable);
  /* For the Unblock dialog that this one may open */
  if (cancellable != NULL)
    g_object_set_data_full (G_OBJECT (dialog), "tessera-cancellable",
                            g_object_ref (cancellable), g_object_unref);
  g_signal_connect_object (dialog, "done", G_CALLBACK (on_pin_changed), window, 0);
  g_signal_connect_object (dialog, "unblock-requested",
                           G_CALLBACK (on_unblock_requested), window, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
show_change_pin (GtkWidget            *page,
                 TesseraChangePinMode  mode)
{
  GtkWindow *window = page_window (page);

  if (window != NULL)
    present_change_pin (window, tessera_token_page_get_token (TESSERA_TOKEN_PAGE (page)), mode,
                        tessera_token_page_get_cancellable (TESSERA_TOKEN_PAGE (page)));
}

static void
change_pin_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  show_change_pin (widget, TESSERA_CHANGE_PIN_USER);
}

static void
change_so_pin_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  show_change_pin (widget, TESSERA_CHANGE_PIN_SO);
}

static void
unblock_pin_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  show_change_pin (widget, TESSERA_CHANGE_PIN_UNBLOCK);
}

void
tessera_token_page_install_lifecycle_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "token.initialize", NULL, initialize_action);
  gtk_widget_class_install_action (widget_class, "token.change-pin", NULL, change_pin_action);
  gtk_widget_class_install_action (widget_class, "token.change-so-pin", NULL, change_so_pin_action);
  gtk_widget_class_install_action (widget_class, "token.unblock-pin", NULL, unblock_pin_action);
}
