/* tessera-toast.c: a toast in the window a widget belongs to
 *
 * A row, a group or a dialog says what it did with a toast, without
 * knowing the window that shows it: the nearest AdwToastOverlay above the
 * widget takes the toast.  A dialog is a window of its own, with no
 * overlay around it: it hands the text to the window it is transient for
 * through that window's win.toast action.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "tessera-toast.h"

/**
 * tessera_toast_show:
 * @near: a widget of the window that should show the toast, or that
 *   window, or a dialog transient for it
 * @text: the toast's text, translated
 *
 * Shows @text as a toast; nothing when there is no window to show it.
 */
void
tessera_toast_show (GtkWidget  *near,
                    const char *text)
{
  GtkWidget *overlay;
  GtkRoot *root;

  g_return_if_fail (GTK_IS_WIDGET (near));
  g_return_if_fail (text != NULL);

  overlay = gtk_widget_get_ancestor (near, ADW_TYPE_TOAST_OVERLAY);
  if (overlay != NULL)
    {
      adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (text));
      return;
    }

  root = gtk_widget_get_root (near);
  if (!GTK_IS_WINDOW (root))
    return;

  for (GtkWindow *window = GTK_WINDOW (root);
       window != NULL;
       window = gtk_window_get_transient_for (window))
    {
      if (gtk_widget_activate_action (GTK_WIDGET (window), "win.toast", "s", text))
        return;
    }
}
