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
#include "tessera-software-token-dialog.h"
#include "tessera-token-page.h"
#include "tessera-token-page-lifecycle.h"
#include "tessera-window.h"

static TesseraWindow *
page_window (GtkWidget *page)
{
  GtkRoot *root = gtk_widget_get_root (page);

  return TESSERA_IS_WINDOW (root) ? TESSERA_WINDOW (root) : NULL;
}

static TesseraRegistry *
window_registry (GtkWindow *window)
{
  GtkApplication *app = gtk_window_get_application (window);

  if (!TESSERA_IS_APPLICATION (app))
    return NULL;

  return tessera_application_get_registry (TESSERA_APPLICATION (app));
}

static void
toast (TesseraWindow *window,
       const char    *text)
{
  tessera_window_add_toast (window, adw_toast_new (text));
}

static void
on_initialized (GtkWidget     *dialog,
                TesseraToken  *token,
                const char    *label,
                TesseraWindow *window)
{
  g_autofree char *text = g_strdup_printf (_("“%s” initialized"), label);

  toast (window, text);
  if (token != NULL)
    tessera_window_select_token (window, token);
}

static void
initialize_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  TesseraWindow *window = page_window (widget);
  TesseraRegistry *registry;
  GtkWidget *dialog;

  if (window == NULL || (registry = window_registry (GTK_WINDOW (window))) == NULL)
    return;

  dialog = tessera_initialize_dialog_new (tessera_token_page_get_token (TESSERA_TOKEN_PAGE (widget)),
                                          registry, GTK_WINDOW (window),
                                          tessera_window_get_cancellable (window));
  g_signal_connect_object (dialog, "initialized", G_CALLBACK (on_initialized), window, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_pin_changed (GtkWidget     *dialog,
                const char    *message,
                TesseraWindow *window)
{
  toast (window, message);
}

static void present_change_pin (TesseraWindow        *window,
                                TesseraToken         *token,
                                TesseraChangePinMode  mode);

static void
on_unblock_requested (GtkWidget     *dialog,
                      TesseraToken  *token,
                      TesseraWindow *window)
{
  present_change_pin (window, token, TESSERA_CHANGE_PIN_UNBLOCK);
}

static void
present_change_pin (TesseraWindow        *window,
                    TesseraToken         *token,
                    TesseraChangePinMode  mode)
{
  GtkWidget *dialog;

  dialog = tessera_change_pin_dialog_new (token, mode, GTK_WINDOW (window),
                                          tessera_window_get_cancellable (window));
  g_signal_connect_object (dialog, "done", G_CALLBACK (on_pin_changed), window, 0);
  g_signal_connect_object (dialog, "unblock-requested",
                           G_CALLBACK (on_unblock_requested), window, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
show_change_pin (GtkWidget            *page,
                 TesseraChangePinMode  mode)
{
  TesseraWindow *window = page_window (page);

  if (window != NULL)
    present_change_pin (window, tessera_token_page_get_token (TESSERA_TOKEN_PAGE (page)), mode);
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

static void
on_software_token_created (GtkWidget     *dialog,
                           TesseraToken  *token,
                           TesseraWindow *window)
{
  g_autofree char *text =
    g_strdup_printf (_("“%s” created"), tessera_token_get_display_name (token));

  toast (window, text);
  tessera_window_select_token (window, token);
}

/**
 * tessera_show_create_software_token:
 * @window: the main window
 *
 * Asks for a new SoftHSM token's label and PINs, creates it, and selects
 * it in the window.
 */
void
tessera_show_create_software_token (GtkWindow *window)
{
  TesseraRegistry *registry;
  GtkWidget *dialog;

  g_return_if_fail (TESSERA_IS_WINDOW (window));

  if ((registry = window_registry (window)) == NULL)
    return;

  dialog = tessera_software_token_dialog_new (registry, window,
                                              tessera_window_get_cancellable (TESSERA_WINDOW (window)));
  g_signal_connect_object (dialog, "created", G_CALLBACK (on_software_token_created), window, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}
