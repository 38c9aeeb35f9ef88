/* tessera-change-pin-dialog.c: change the user PIN or the SO PIN, or unblock the PIN
 *
 * One dialog for the three PIN operations: it asks for the PIN that
 * proves the right (the current PIN, or the SO PIN to unblock) and the new
 * PIN twice, in the TesseraPinForm of its TesseraPinFormDialog, which
 * checks them as they are typed, and stays open while the core works so that a wrong PIN is shown in place.
 * Its TesseraPinGuard spends a final try only on a deliberate click, and
 * never offers to try a locked PIN: a locked user PIN offers Unblock
 * instead.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-change-pin-dialog.h"

#define FORM(self)  (tessera_pin_form_dialog_get_form (TESSERA_PIN_FORM_DIALOG (self)))
#define GUARD(self) (tessera_pin_form_dialog_get_guard (TESSERA_PIN_FORM_DIALOG (self)))

struct _TesseraChangePinDialog
{
  TesseraPinFormDialog  parent_instance;

  /* fields of the form */
  GtkWidget            *old_row;
  GtkWidget            *new_row;

  /* owned references */
  TesseraToken         *token;

  TesseraChangePinMode  mode;
};

G_DEFINE_FINAL_TYPE (TesseraChangePinDialog, tessera_change_pin_dialog, TESSERA_TYPE_PIN_FORM_DIALOG)

enum {
  DONE,
  UNBLOCK_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
is_locked (TesseraChangePinDialog *self)
{
  return tessera_pin_guard_get_mode (GUARD (self)) == TESSERA_PIN_GUARD_LOCKED;
}

/* A locked user PIN cannot be changed, but the SO PIN unblocks it */
static gboolean
offers_unblock (TesseraChangePinDialog *self)
{
  return is_locked (self) && self->mode == TESSERA_CHANGE_PIN_USER;
}

static gboolean
can_start (TesseraPinFormDialog *dialog)
{
  TesseraChangePinDialog *self = TESSERA_CHANGE_PIN_DIALOG (dialog);

  return offers_unblock (self)
      || TESSERA_PIN_FORM_DIALOG_CLASS (tessera_change_pin_dialog_parent_class)->can_start (dialog);
}

static const char *
heading_for_mode (TesseraChangePinMode mode)
{
  switch (mode)
    {
    case TESSERA_CHANGE_PIN_SO:
      return _("Change SO PIN");
    case TESSERA_CHANGE_PIN_UNBLOCK:
      return _("Unblock PIN");
    case TESSERA_CHANGE_PIN_USER:
    default:
      return _("Change PIN");
    }
}

static char *
describe (TesseraChangePinDialog *self)
{
  const char *name = tessera_token_get_display_name (self->token);

  if (offers_unblock (self))
    return g_strdup_printf (_("The user PIN of “%s” is locked because a wrong PIN "
                              "was entered too many times. It cannot be changed, "
                              "but the SO PIN can unblock it and set a new one."), name);
  if (is_locked (self))
    return g_strdup_printf (_("The SO PIN of “%s” is locked because a wrong SO PIN "
                              "was entered too many times. Tessera cannot unlock it; "
                              "only the maker of the token may be able to reset it."), name);
  if (tessera_pin_guard_get_pin_pad (GUARD (self)))
    return g_strdup_printf (_("Enter the PINs on the reader of “%s” when it asks "
                              "for them."), name);

  switch (self->mode)
    {
    case TESSERA_CHANGE_PIN_UNBLOCK:
      return g_strdup_printf (_("The SO PIN of “%s” unblocks the user PIN and sets "
                                "a new one."), name);
    case TESSERA_CHANGE_PIN_SO:
      return g_strdup_printf (_("The SO PIN, the Security Officer PIN, protects "
                                "“%s” itself: it unblocks the user PIN and "
                                "initializes the token."), name);
    case TESSERA_CHANGE_PIN_USER:
    default:
      return g_strdup_printf (_("The user PIN of “%s” unlocks its private keys."), name);
    }
}

static void
configure (TesseraPinFormDialog *dialog)
{
  TesseraChangePinDialog *self = TESSERA_CHANGE_PIN_DIALOG (dialog);
  gboolean locked = is_locked (self);
  gboolean final_try = tessera_pin_guard_get_mode (GUARD (self)) == TESSERA_PIN_GUARD_FINAL_TRY;
  gboolean so = self->mode != TESSERA_CHANGE_PIN_USER;
  g_autofree char *body = describe (self);
  g_autofree char *length = tessera_pin_form_describe_lengths (FORM (self));
  g_autofree char *tries = tessera_pin_guard_describe_tries (GUARD (self));
  g_autofree char *hint = NULL;
  const char *title;
  const char *action;

  if (offers_unblock (self))
    title = _("PIN Locked");
  else if (locked)
    title = _("SO PIN Locked");
  else if (final_try)
    title = _("Last Try");
  else
    title = heading_for_mode (self->mode);

  if (offers_unblock (self))
    action = _("_Unblock PIN…");
  else if (final_try)
    action = _("_Use Last Try");
  else if (self->mode == TESSERA_CHANGE_PIN_UNBLOCK)
    action = _("_Unblock");
  else
    action = _("C_hange");

  if (!locked)
    hint = g_strstrip (g_strjoin (" ", length ? length : "", tries ? tries : "", NULL));

  tessera_pin_form_dialog_set_heading (dialog, title);
  tessera_pin_form_dialog_set_body (dialog, body);
  tessera_pin_form_set_hint (FORM (self), hint);
  tessera_pin_form_set_warning (FORM (self),
                                !final_try ? NULL
                                : so ? _("This is the last try before the SO PIN is locked. "
                                         "A locked SO PIN cannot be unblocked.")
                                     : _("This is the last try before the PIN is locked. If "
                                         "this PIN is wrong, only the SO PIN can unblock it."));
  tessera_pin_form_dialog_set_action (dialog, action, final_try, !locked || offers_unblock (self));
}

static void
on_finished (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TesseraChangePinDialog) self = user_data;
  TesseraToken *token = TESSERA_TOKEN (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  gboolean ok;

  if (self->mode == TESSERA_CHANGE_PIN_UNBLOCK)
    ok = tessera_token_unblock_pin_finish (token, result, &error);
  else
    ok = tessera_token_change_pin_finish (token, result, &error);

  if (!tessera_pin_guard_end_call (GUARD (self), error))
    return;

  if (ok)
    {
      g_autofree char *text = NULL;

      switch (self->mode)
        {
        case TESSERA_CHANGE_PIN_SO:
          text = g_strdup_printf (_("SO PIN of “%s” changed"),
                                  tessera_token_get_display_name (token));
          break;
        case TESSERA_CHANGE_PIN_UNBLOCK:
          text = g_strdup_printf (_("PIN of “%s” unblocked"),
                                  tessera_token_get_display_name (token));
          break;
        case TESSERA_CHANGE_PIN_USER:
        default:
          text = g_strdup_printf (_("PIN of “%s” changed"),
                                  tessera_token_get_display_name (token));
          break;
        }

      g_signal_emit (self, signals[DONE], 0, text);
      tessera_pin_guard_dismiss (GUARD (self));
      return;
    }

  g_debug ("The token refused the change: %s", error->message);
  /* A locked-out TPM refuses every PIN for a while, but no PIN of its is
   * locked: the message and the hint say how the lockout clears */
  message = tessera_pin_guard_describe_error (GUARD (self), error);
  tessera_pin_form_show_error (FORM (self), message);
  tessera_pin_form_focus_first (FORM (self));
}

static void
start (TesseraPinFormDialog *dialog)
{
  TesseraChangePinDialog *self = TESSERA_CHANGE_PIN_DIALOG (dialog);
  g_autofree char *old_pin = NULL;
  g_autofree char *new_pin = NULL;
  GCancellable *cancellable;

  /* A locked user PIN: the SO PIN unblocks it, in a dialog of its own */
  if (offers_unblock (self))
    {
      g_signal_emit (self, signals[UNBLOCK_REQUESTED], 0, self->token);
      tessera_pin_guard_dismiss (GUARD (self));
      return;
    }

  if (self->old_row != NULL)
    {
      old_pin = tessera_pin_form_dup_text (self->old_row);
      new_pin = tessera_pin_form_dup_text (self->new_row);
    }

  cancellable = tessera_pin_guard_begin_call (GUARD (self));
  tessera_pin_form_show_error (FORM (self), NULL);

  if (self->mode == TESSERA_CHANGE_PIN_UNBLOCK)
    tessera_token_unblock_pin_async (self->token, old_pin, new_pin, cancellable,
                                     on_finished, g_object_ref (self));
  else
    tessera_token_change_pin_async (self->token,
                                    self->mode == TESSERA_CHANGE_PIN_SO ? TESSERA_PIN_SO
                                                                        : TESSERA_PIN_USER,
                                    old_pin, new_pin, cancellable,
                                    on_finished, g_object_ref (self));

  /* The core copied the PINs: forget them here */
  tessera_pin_wipe (&old_pin);
  tessera_pin_wipe (&new_pin);
  tessera_pin_form_wipe (FORM (self));

  tessera_pin_form_dialog_update (dialog);
}

static void
build_form (TesseraChangePinDialog *self)
{
  const char *old_title, *new_title, *repeat_title;

  switch (self->mode)
    {
    case TESSERA_CHANGE_PIN_SO:
      old_title = _("Current SO PIN");
      new_title = _("New SO PIN");
      repeat_title = _("Repeat New SO PIN");
      break;
    case TESSERA_CHANGE_PIN_UNBLOCK:
      old_title = _("SO PIN");
      new_title = _("New PIN");
      repeat_title = _("Repeat New PIN");
      break;
    case TESSERA_CHANGE_PIN_USER:
    default:
      old_title = _("Current PIN");
      new_title = _("New PIN");
      repeat_title = _("Repeat New PIN");
      break;
    }

  tessera_pin_form_set_busy (FORM (self), FALSE,
                             tessera_pin_guard_get_pin_pad (GUARD (self))
                             ? _("Enter the PINs on the reader") : _("Talking to the token…"));

  /* With a PIN pad, the reader asks for the PINs */
  if (tessera_pin_guard_get_pin_pad (GUARD (self)))
    return;

  self->old_row = tessera_pin_form_add_field (FORM (self), TESSERA_PIN_FIELD_CURRENT, old_title);
  self->new_row = tessera_pin_form_add_field (FORM (self), TESSERA_PIN_FIELD_NEW, new_title);
  tessera_pin_form_add_field (FORM (self), TESSERA_PIN_FIELD_REPEAT, repeat_title);
}

static void
tessera_change_pin_dialog_finalize (GObject *object)
{
  TesseraChangePinDialog *self = TESSERA_CHANGE_PIN_DIALOG (object);

  g_clear_object (&self->token);

  G_OBJECT_CLASS (tessera_change_pin_dialog_parent_class)->finalize (object);
}

static void
tessera_change_pin_dialog_class_init (TesseraChangePinDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  TesseraPinFormDialogClass *dialog_class = TESSERA_PIN_FORM_DIALOG_CLASS (klass);

  object_class->finalize = tessera_change_pin_dialog_finalize;
  dialog_class->configure = configure;
  dialog_class->can_start = can_start;
  dialog_class->start = start;

  /**
   * TesseraChangePinDialog::done:
   * @self: the dialog
   * @message: what was done, for a toast
   *
   * Emitted when the PIN was changed or unblocked, just before the dialog
   * closes.
   */
  signals[DONE] =
    g_signal_new ("done",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * TesseraChangePinDialog::unblock-requested:
   * @self: the dialog
   * @token: the token whose PIN is locked
   *
   * Emitted when the person chose to unblock a locked PIN instead, as the
   * dialog closes.
   */
  signals[UNBLOCK_REQUESTED] =
    g_signal_new ("unblock-requested",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, TESSERA_TYPE_TOKEN);
}

static void
tessera_change_pin_dialog_init (TesseraChangePinDialog *self)
{
}

/**
 * tessera_change_pin_dialog_new:
 * @token: the token whose PIN changes
 * @mode: change the user PIN, the SO PIN, or unblock the user PIN
 * @parent: (nullable): the window the dialog belongs to
 * @cancellable: (nullable): cancelling it closes the dialog
 *
 * Returns: (transfer none): a new dialog; present it
 */
GtkWidget *
tessera_change_pin_dialog_new (TesseraToken         *token,
                               TesseraChangePinMode  mode,
                               GtkWindow            *parent,
                               GCancellable         *cancellable)
{
  TesseraChangePinDialog *self;

  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);
  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);

  self = g_object_new (TESSERA_TYPE_CHANGE_PIN_DIALOG,
                       "transient-for", parent,
                       NULL);
  self->token = g_object_ref (token);
  self->mode = mode;
  /* Unblocking spends a try of the SO PIN */
  tessera_pin_form_dialog_set_up (TESSERA_PIN_FORM_DIALOG (self), token,
                                  mode == TESSERA_CHANGE_PIN_USER ? TESSERA_PIN_USER
                                                                  : TESSERA_PIN_SO,
                                  cancellable);

  build_form (self);
  configure (TESSERA_PIN_FORM_DIALOG (self));
  tessera_pin_form_dialog_update (TESSERA_PIN_FORM_DIALOG (self));
  tessera_pin_form_focus_first (FORM (self));

  return GTK_WIDGET (self);
}
