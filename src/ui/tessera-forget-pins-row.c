/* tessera-forget-pins-row.c: forget every PIN remembered in the keyring
 *
 * A row for Preferences: its button asks first, naming what is lost, then
 * removes every PIN Tessera keeps in the keyring and says so in a toast.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-core.h"
#include "tessera-forget-pins-row.h"
#include "tessera-pin-store.h"
#include "tessera-toast.h"

struct _TesseraForgetPinsRow
{
  AdwActionRow  parent_instance;

  /* widgets made in code */
  GtkWidget    *button;

  /* owned references */
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (TesseraForgetPinsRow, tessera_forget_pins_row, ADW_TYPE_ACTION_ROW)

static void
on_forgotten (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TesseraForgetPinsRow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_pin_store_forget_all_finish (result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      gtk_widget_set_sensitive (self->button, TRUE);
      tessera_toast_show (GTK_WIDGET (self), error->message);
      return;
    }

  gtk_widget_set_sensitive (self->button, TRUE);
  tessera_toast_show (GTK_WIDGET (self), _("Remembered PINs forgotten"));
}

static void
on_confirm_response (AdwMessageDialog     *dialog,
                     const char           *response,
                     TesseraForgetPinsRow *self)
{
  if (g_strcmp0 (response, "forget") != 0)
    return;

  gtk_widget_set_sensitive (self->button, FALSE);
  tessera_pin_store_forget_all_async (self->cancellable, on_forgotten, g_object_ref (self));
}

static void
on_button_clicked (TesseraForgetPinsRow *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   _("Forget All Remembered PINs?"),
                                   _("Tessera will no longer know the PIN of any token. "
                                     "The next time a token is added to the SSH agent, or "
                                     "comes back after it was removed, you will be asked "
                                     "for its PIN again."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "forget", _("_Forget PINs"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "forget",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_confirm_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
tessera_forget_pins_row_dispose (GObject *object)
{
  TesseraForgetPinsRow *self = TESSERA_FORGET_PINS_ROW (object);

  g_cancellable_cancel (self->cancellable);

  G_OBJECT_CLASS (tessera_forget_pins_row_parent_class)->dispose (object);
}

static void
tessera_forget_pins_row_finalize (GObject *object)
{
  TesseraForgetPinsRow *self = TESSERA_FORGET_PINS_ROW (object);

  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (tessera_forget_pins_row_parent_class)->finalize (object);
}

static void
tessera_forget_pins_row_class_init (TesseraForgetPinsRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tessera_forget_pins_row_dispose;
  object_class->finalize = tessera_forget_pins_row_finalize;
}

static void
tessera_forget_pins_row_init (TesseraForgetPinsRow *self)
{
  self->cancellable = g_cancellable_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), _("Remembered PINs"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self),
                               _("Remove every PIN Tessera keeps in your keyring"));

  self->button = gtk_button_new_with_mnemonic (_("_Forget All…"));
  gtk_widget_set_valign (self->button, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Forget All Remembered PINs"),
                                  -1);
  g_signal_connect_swapped (self->button, "clicked", G_CALLBACK (on_button_clicked), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self), self->button);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (self), self->button);
  /* Keep the button's own name rather than the row's title */
  gtk_accessible_reset_relation (GTK_ACCESSIBLE (self->button),
                                 GTK_ACCESSIBLE_RELATION_LABELLED_BY);
}
