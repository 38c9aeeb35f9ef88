/* tessera-pin-form-dialog.c: a dialog around a TesseraPinForm
 *
 * The Initialize, Change PIN (and SO PIN, and Unblock) and Create
 * Software Token dialogs are one shape: a header bar with Cancel and the
 * action, a sentence that says what the action does, and a TesseraPinForm.
 * TesseraPinFormDialog is that shape; each dialog derives from it and
 * says what it asks and does.  The action stays disabled until the form
 * is valid, and its TesseraPinGuard closes the dialog (Cancel, Escape, the
 * window behind it going away) and keeps Enter off the last try.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-pin-form-dialog.h"

typedef struct
{
  /* template widgets */
  AdwWindowTitle   *window_title;
  GtkWidget        *cancel_button;
  GtkWidget        *action_button;
  GtkLabel         *body_label;
  TesseraPinForm   *form;

  /* owned references */
  TesseraPinGuard  *guard;
} TesseraPinFormDialogPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (TesseraPinFormDialog, tessera_pin_form_dialog, ADW_TYPE_WINDOW)

#define PRIV(self) ((TesseraPinFormDialogPrivate *) tessera_pin_form_dialog_get_instance_private (self))

static gboolean
tessera_pin_form_dialog_real_can_start (TesseraPinFormDialog *self)
{
  TesseraPinFormDialogPrivate *priv = PRIV (self);

  return !tessera_pin_guard_get_busy (priv->guard)
      && tessera_pin_guard_get_mode (priv->guard) != TESSERA_PIN_GUARD_LOCKED
      && tessera_pin_form_get_valid (priv->form);
}

/**
 * tessera_pin_form_dialog_update:
 *
 * Enables the action when it can be taken, and shows the form busy while
 * a call works.
 */
void
tessera_pin_form_dialog_update (TesseraPinFormDialog *self)
{
  TesseraPinFormDialogPrivate *priv;
  gboolean locked;

  g_return_if_fail (TESSERA_IS_PIN_FORM_DIALOG (self));

  priv = PRIV (self);
  locked = tessera_pin_guard_get_mode (priv->guard) == TESSERA_PIN_GUARD_LOCKED;

  tessera_pin_form_set_busy (priv->form, tessera_pin_guard_get_busy (priv->guard), NULL);
  tessera_pin_form_set_fields_visible (priv->form, !locked);
  gtk_button_set_label (GTK_BUTTON (priv->cancel_button), locked ? _("_Close") : _("_Cancel"));
  gtk_widget_set_sensitive (priv->action_button,
                            TESSERA_PIN_FORM_DIALOG_GET_CLASS (self)->can_start (self));
}

static void
on_guard_changed (TesseraPinFormDialog *self)
{
  TESSERA_PIN_FORM_DIALOG_GET_CLASS (self)->configure (self);
  tessera_pin_form_dialog_update (self);
}

static void
on_action_clicked (TesseraPinFormDialog *self)
{
  if (TESSERA_PIN_FORM_DIALOG_GET_CLASS (self)->can_start (self))
    TESSERA_PIN_FORM_DIALOG_GET_CLASS (self)->start (self);
}

static void
on_form_activate (TesseraPinFormDialog *self)
{
  /* Enter must not spend the last try */
  if (tessera_pin_guard_get_mode (PRIV (self)->guard) != TESSERA_PIN_GUARD_FINAL_TRY)
    on_action_clicked (self);
}

static void
on_form_changed (TesseraPinFormDialog *self)
{
  tessera_pin_form_dialog_update (self);
}

static void
tessera_pin_form_dialog_dispose (GObject *object)
{
  TesseraPinFormDialog *self = TESSERA_PIN_FORM_DIALOG (object);
  TesseraPinFormDialogPrivate *priv = PRIV (self);

  /* The form wipes its fields as it goes: not to us */
  if (priv->form != NULL)
    g_signal_handlers_disconnect_by_data (priv->form, self);
  g_clear_object (&priv->guard);

  /* GTK 4.8's gtk_widget_dispose_template() looks for the template on the
   * instance's class, a subclass that has none: the window destroys its
   * content itself */
  priv->form = NULL;

  G_OBJECT_CLASS (tessera_pin_form_dialog_parent_class)->dispose (object);
}

static void
tessera_pin_form_dialog_class_init (TesseraPinFormDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tessera_pin_form_dialog_dispose;
  klass->can_start = tessera_pin_form_dialog_real_can_start;

  g_type_ensure (TESSERA_TYPE_PIN_FORM);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-pin-form-dialog.ui");
  gtk_widget_class_bind_template_child_private (widget_class, TesseraPinFormDialog, window_title);
  gtk_widget_class_bind_template_child_private (widget_class, TesseraPinFormDialog, cancel_button);
  gtk_widget_class_bind_template_child_private (widget_class, TesseraPinFormDialog, action_button);
  gtk_widget_class_bind_template_child_private (widget_class, TesseraPinFormDialog, body_label);
  gtk_widget_class_bind_template_child_private (widget_class, TesseraPinFormDialog, form);
  gtk_widget_class_bind_template_callback (widget_class, on_action_clicked);
  gtk_widget_class_bind_template_callback (widget_class, on_form_activate);
  gtk_widget_class_bind_template_callback (widget_class, on_form_changed);
}

static void
tessera_pin_form_dialog_init (TesseraPinFormDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  tessera_pin_form_set_action (PRIV (self)->form, PRIV (self)->action_button);
}

/**
 * tessera_pin_form_dialog_set_up:
 * @token: (nullable): the token whose PIN the dialog spends a try of
 * @kind: which of its PINs
 * @cancellable: (nullable): cancelling it closes the dialog
 *
 * Gives the dialog its guard; the subclass's constructor calls it first.
 */
void
tessera_pin_form_dialog_set_up (TesseraPinFormDialog *self,
                                TesseraToken         *token,
                                TesseraPinKind        kind,
                                GCancellable         *cancellable)
{
  TesseraPinFormDialogPrivate *priv;

  g_return_if_fail (TESSERA_IS_PIN_FORM_DIALOG (self));
  g_return_if_fail (PRIV (self)->guard == NULL);

  priv = PRIV (self);
  priv->guard = tessera_pin_guard_new (GTK_WINDOW (self), token, kind, cancellable);
  g_signal_connect_object (priv->guard, "changed", G_CALLBACK (on_guard_changed), self,
                           G_CONNECT_SWAPPED);
  if (token != NULL)
    tessera_pin_form_set_token (priv->form, token);
}

/* (transfer none) */
TesseraPinForm *
tessera_pin_form_dialog_get_form (TesseraPinFormDialog *self)
{
  g_return_val_if_fail (TESSERA_IS_PIN_FORM_DIALOG (self), NULL);

  return PRIV (self)->form;
}

/* (transfer none) */
TesseraPinGuard *
tessera_pin_form_dialog_get_guard (TesseraPinFormDialog *self)
{
  g_return_val_if_fail (TESSERA_IS_PIN_FORM_DIALOG (self), NULL);

  return PRIV (self)->guard;
}

/* The window's title, which also names it for assistive technologies */
void
tessera_pin_form_dialog_set_heading (TesseraPinFormDialog *self,
                                     const char           *heading)
{
  g_return_if_fail (TESSERA_IS_PIN_FORM_DIALOG (self));

  gtk_window_set_title (GTK_WINDOW (self), heading);
  adw_window_title_set_title (PRIV (self)->window_title, heading);
}

void
tessera_pin_form_dialog_set_body (TesseraPinFormDialog *self,
                                  const char           *body)
{
  g_return_if_fail (TESSERA_IS_PIN_FORM_DIALOG (self));

  gtk_label_set_text (PRIV (self)->body_label, body);
}

/**
 * tessera_pin_form_dialog_set_action:
 * @label: the action's label, with a mnemonic
 * @destructive: whether it destroys something, or spends a last try
 * @visible: whether there is anything to do
 */
void
tessera_pin_form_dialog_set_action (TesseraPinFormDialog *self,
                                    const char           *label,
                                    gboolean              destructive,
                                    gboolean              visible)
{
  GtkWidget *button;

  g_return_if_fail (TESSERA_IS_PIN_FORM_DIALOG (self));

  button = PRIV (self)->action_button;
  gtk_button_set_label (GTK_BUTTON (button), label);
  gtk_widget_set_visible (button, visible);
  if (destructive)
    {
      gtk_widget_remove_css_class (button, "suggested-action");
      gtk_widget_add_css_class (button, "destructive-action");
    }
  else
    {
      gtk_widget_remove_css_class (button, "destructive-action");
      gtk_widget_add_css_class (button, "suggested-action");
    }
}
