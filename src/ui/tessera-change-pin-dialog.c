/* tessera-change-pin-dialog.c: change the user PIN or the SO PIN, or unblock the PIN
 *
 * One dialog for the three PIN operations: it asks for the PIN that
 * proves the right (the current PIN, or the SO PIN to unblock) and the new
 * PIN twice, checks them before anything reaches the token, and stays open
 * while the core works so that a wrong PIN is shown in place.  Like the
 * login dialog, it spends a final try only on a deliberate click, and
 * never offers to try a locked PIN.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tessera-change-pin-dialog.h"
#include "tessera-pin-rows.h"

struct _TesseraChangePinDialog
{
  AdwMessageDialog      parent_instance;

  /* widgets made in code */
  GtkWidget            *warning_label;
  GtkWidget            *hint_label;
  GtkWidget            *list;
  GtkWidget            *old_row;
  GtkWidget            *new_row;
  GtkWidget            *repeat_row;
  GtkWidget            *progress_box;
  GtkWidget            *spinner;
  GtkWidget            *error_label;

  /* owned references */
  TesseraToken         *token;
  GCancellable         *cancellable;
  GCancellable         *parent_cancellable;

  TesseraChangePinMode  mode;
  guint                 close_idle_id;
  guint                 busy : 1;
  guint                 pin_pad : 1;
  guint                 locked : 1;
  guint                 user_locked : 1;
  guint                 close_requested : 1;
};

G_DEFINE_FINAL_TYPE (TesseraChangePinDialog, tessera_change_pin_dialog, ADW_TYPE_MESSAGE_DIALOG)

enum {
  DONE,
  UNBLOCK_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Whether the PIN this dialog spends a try of is the SO PIN */
static gboolean
spends_so_pin (TesseraChangePinDialog *self)
{
  return self->mode != TESSERA_CHANGE_PIN_USER;
}

static void
wipe (TesseraChangePinDialog *self)
{
  tessera_pin_rows_wipe (self->old_row);
  tessera_pin_rows_wipe (self->new_row);
  tessera_pin_rows_wipe (self->repeat_row);
}

static void
dismiss (TesseraChangePinDialog *self)
{
  wipe (self);
  g_cancellable_cancel (self->cancellable);
  gtk_window_set_transient_for (GTK_WINDOW (self), NULL);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
show_error (TesseraChangePinDialog *self,
            const char             *message)
{
  gtk_label_set_text (GTK_LABEL (self->error_label), message);
  gtk_widget_set_visible (self->error_label, message != NULL);
}

static gboolean
all_filled (TesseraChangePinDialog *self)
{
  GtkWidget *rows[] = { self->old_row, self->new_row, self->repeat_row };

  if (self->pin_pad)
    return TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    if (gtk_editable_get_text (GTK_EDITABLE (rows[i]))[0] == '\0')
      return FALSE;

  return TRUE;
}

static void
update_controls (TesseraChangePinDialog *self)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);

  gtk_widget_set_visible (self->list, !self->pin_pad && !self->locked);
  gtk_widget_set_sensitive (self->list, !self->busy);
  gtk_widget_set_visible (self->progress_box, self->busy);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), self->busy);

  if (adw_message_dialog_has_response (dialog, "change"))
    adw_message_dialog_set_response_enabled (dialog, "change",
                                             !self->locked && !self->busy && all_filled (self));
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

static void
configure (TesseraChangePinDialog *self)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);
  const char *name = tessera_token_get_display_name (self->token);
  gboolean so = spends_so_pin (self);
  TesseraTokenState final = so ? TESSERA_TOKEN_STATE_SO_PIN_FINAL_TRY
                               : TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY;
  TesseraTokenState locked = so ? TESSERA_TOKEN_STATE_SO_PIN_LOCKED
                                : TESSERA_TOKEN_STATE_USER_PIN_LOCKED;
  g_autofree char *length = tessera_pin_rows_describe_length (self->token);
  g_autofree char *tries = tessera_pin_rows_describe_tries (self->token, so);
  g_autofree char *hint = NULL;
  gboolean final_try;

  if (tessera_token_has_state (self->token, locked))
    self->locked = TRUE;
  final_try = !self->locked && tessera_token_has_state (self->token, final);

  if (self->locked && !so)
    {
      self->user_locked = TRUE;
      adw_message_dialog_set_heading (dialog, _("PIN Locked"));
      adw_message_dialog_format_body (dialog,
                                      _("The user PIN of “%s” is locked because a wrong PIN "
                                        "was entered too many times. It cannot be changed, "
                                        "but the SO PIN can unblock it and set a new one."),
                                      name);
    }
  else if (self->locked)
    {
      adw_message_dialog_set_heading (dialog, _("SO PIN Locked"));
      adw_message_dialog_format_body (dialog,
                                      _("The SO PIN of “%s” is locked because a wrong SO PIN "
                                        "was entered too many times. Tessera cannot unlock it; "
                                        "only the maker of the token may be able to reset it."),
                                      name);
    }
  else
    {
      adw_message_dialog_set_heading (dialog, final_try ? _("Last Try") : heading_for_mode (self->mode));
      if (self->pin_pad)
        adw_message_dialog_format_body (dialog,
                                        _("Enter the PINs on the reader of “%s” when it asks "
                                          "for them."), name);
      else if (self->mode == TESSERA_CHANGE_PIN_UNBLOCK)
        adw_message_dialog_format_body (dialog,
                                        _("The SO PIN of “%s” unblocks the user PIN and sets "
                                          "a new one."), name);
      else if (self->mode == TESSERA_CHANGE_PIN_SO)
        adw_message_dialog_format_body (dialog,
                                        _("The SO PIN, the Security Officer PIN, protects "
                                          "“%s” itself: it unblocks the user PIN and "
                                          "initializes the token."), name);
      else
        adw_message_dialog_format_body (dialog,
                                        _("The user PIN of “%s” unlocks its private keys."),
                                        name);
    }

  gtk_widget_set_visible (self->warning_label, final_try);

  if (!self->locked)
    hint = g_strjoin (" ", length ? length : "", tries ? tries : "", NULL);
  gtk_label_set_text (GTK_LABEL (self->hint_label), hint ? g_strstrip (hint) : NULL);
  gtk_widget_set_visible (self->hint_label, hint != NULL && hint[0] != '\0');

  if (adw_message_dialog_has_response (dialog, "change"))
    {
      if (final_try)
        {
          /* Enter must not spend the last try */
          adw_message_dialog_set_response_label (dialog, "change", _("_Use Last Try"));
          adw_message_dialog_set_response_appearance (dialog, "change", ADW_RESPONSE_DESTRUCTIVE);
          adw_message_dialog_set_default_response (dialog, NULL);
        }
      else
        {
          adw_message_dialog_set_response_label (dialog, "change",
                                                 self->mode == TESSERA_CHANGE_PIN_UNBLOCK
                                                 ? _("_Unblock") : _("C_hange"));
          adw_message_dialog_set_response_appearance (dialog, "change", ADW_RESPONSE_SUGGESTED);
          adw_message_dialog_set_default_response (dialog, "change");
        }
    }

  update_controls (self);
}

static void
on_finished (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TesseraChangePinDialog) self = user_data;
  TesseraToken *token = TESSERA_TOKEN (object);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (self->mode == TESSERA_CHANGE_PIN_UNBLOCK)
    ok = tessera_token_unblock_pin_finish (token, result, &error);
  else
    ok = tessera_token_change_pin_finish (token, result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (self->cancellable))
    return;

  self->busy = FALSE;

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
      dismiss (self);
      return;
    }

  g_debug ("The token refused the change: %s", error->message);
  show_error (self, error->message);
  /* A locked-out TPM refuses every PIN for a while, but no PIN of its is
   * locked: the message and the hint say how the lockout clears */
  if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED)
      && !tessera_token_is_tpm (self->token))
    self->locked = TRUE;
  configure (self);
  if (!self->pin_pad && !self->locked)
    gtk_widget_grab_focus (self->old_row);
}

static void
start (TesseraChangePinDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *old_pin = NULL;
  g_autofree char *new_pin = NULL;

  if (self->busy || self->locked || !all_filled (self))
    return;

  if (!self->pin_pad)
    {
      if (!tessera_pin_rows_check_new (self->token, self->new_row, self->repeat_row, &error))
        {
          show_error (self, error->message);
          tessera_pin_rows_wipe (self->new_row);
          tessera_pin_rows_wipe (self->repeat_row);
          gtk_widget_grab_focus (self->new_row);
          return;
        }
      old_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->old_row)));
      new_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->new_row)));
    }

  self->busy = TRUE;
  show_error (self, NULL);

  if (self->mode == TESSERA_CHANGE_PIN_UNBLOCK)
    tessera_token_unblock_pin_async (self->token, old_pin, new_pin, self->cancellable,
                                     on_finished, g_object_ref (self));
  else
    tessera_token_change_pin_async (self->token,
                                    self->mode == TESSERA_CHANGE_PIN_SO ? TESSERA_PIN_SO
                                                                        : TESSERA_PIN_USER,
                                    old_pin, new_pin, self->cancellable,
                                    on_finished, g_object_ref (self));

  /* The core copied the PINs: forget them here */
  if (old_pin != NULL)
    explicit_bzero (old_pin, strlen (old_pin));
  if (new_pin != NULL)
    explicit_bzero (new_pin, strlen (new_pin));
  wipe (self);

  update_controls (self);
}

static void
on_response (TesseraChangePinDialog *self,
             const char             *response)
{
  self->close_requested = FALSE;

  if (g_strcmp0 (response, "change") == 0)
    start (self);
  else if (g_strcmp0 (response, "unblock") == 0)
    {
      g_signal_emit (self, signals[UNBLOCK_REQUESTED], 0, self->token);
      dismiss (self);
    }
  else
    dismiss (self);
}

static gboolean
on_close_requested_idle (gpointer user_data)
{
  TesseraChangePinDialog *self = user_data;

  self->close_idle_id = 0;
  if (self->close_requested)
    dismiss (self);

  return G_SOURCE_REMOVE;
}

static gboolean
tessera_change_pin_dialog_close_request (GtkWindow *window)
{
  TesseraChangePinDialog *self = TESSERA_CHANGE_PIN_DIALOG (window);

  /* As in the login dialog: stay open, on_response() decides */
  self->close_requested = TRUE;
  if (self->close_idle_id == 0)
    self->close_idle_id = g_idle_add (on_close_requested_idle, self);

  return TRUE;
}

static void
on_row_changed (TesseraChangePinDialog *self)
{
  update_controls (self);
}

static void
on_parent_cancelled (TesseraChangePinDialog *self)
{
  dismiss (self);
}

static void
build (TesseraChangePinDialog *self)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *progress_label;
  const char *old_title, *new_title, *repeat_title;
  GtkWidget *rows[3];

  self->warning_label = tessera_pin_rows_new_label ("pin-warning");
  gtk_label_set_text (GTK_LABEL (self->warning_label),
                      spends_so_pin (self)
                      ? _("This is the last try before the SO PIN is locked. A locked SO PIN "
                          "cannot be unblocked.")
                      : _("This is the last try before the PIN is locked. If this PIN is "
                          "wrong, only the SO PIN can unblock it."));
  gtk_box_append (GTK_BOX (box), self->warning_label);

  self->hint_label = tessera_pin_rows_new_label ("dim-label");
  gtk_box_append (GTK_BOX (box), self->hint_label);

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

  self->list = tessera_pin_rows_new_list ();
  rows[0] = self->old_row = tessera_pin_rows_add_password (self->list, old_title);
  rows[1] = self->new_row = tessera_pin_rows_add_password (self->list, new_title);
  rows[2] = self->repeat_row = tessera_pin_rows_add_password (self->list, repeat_title);
  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    g_signal_connect_object (rows[i], "changed", G_CALLBACK (on_row_changed), self,
                             G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (box), self->list);

  self->progress_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_halign (self->progress_box, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (self->progress_box, FALSE);
  self->spinner = gtk_spinner_new ();
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->spinner),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Working"), -1);
  gtk_box_append (GTK_BOX (self->progress_box), self->spinner);
  progress_label = gtk_label_new (self->pin_pad ? _("Enter the PINs on the reader")
                                                : _("Talking to the token…"));
  gtk_label_set_wrap (GTK_LABEL (progress_label), TRUE);
  gtk_box_append (GTK_BOX (self->progress_box), progress_label);
  gtk_box_append (GTK_BOX (box), self->progress_box);

  self->error_label = tessera_pin_rows_new_label ("pin-error");
  gtk_box_append (GTK_BOX (box), self->error_label);

  adw_message_dialog_set_extra_child (dialog, box);

  if (self->locked)
    {
      adw_message_dialog_add_response (dialog, "cancel", _("_Close"));
      if (self->user_locked)
        {
          adw_message_dialog_add_response (dialog, "unblock", _("_Unblock PIN…"));
          adw_message_dialog_set_response_appearance (dialog, "unblock", ADW_RESPONSE_SUGGESTED);
        }
    }
  else
    adw_message_dialog_add_responses (dialog,
                                      "cancel", _("_Cancel"),
                                      "change", _("C_hange"),
                                      NULL);
  adw_message_dialog_set_close_response (dialog, "cancel");
}

static void
tessera_change_pin_dialog_dispose (GObject *object)
{
  TesseraChangePinDialog *self = TESSERA_CHANGE_PIN_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->close_idle_id, g_source_remove);

  G_OBJECT_CLASS (tessera_change_pin_dialog_parent_class)->dispose (object);
}

static void
tessera_change_pin_dialog_finalize (GObject *object)
{
  TesseraChangePinDialog *self = TESSERA_CHANGE_PIN_DIALOG (object);

  g_clear_object (&self->token);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->parent_cancellable);

  G_OBJECT_CLASS (tessera_change_pin_dialog_parent_class)->finalize (object);
}

static void
tessera_change_pin_dialog_class_init (TesseraChangePinDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = tessera_change_pin_dialog_dispose;
  object_class->finalize = tessera_change_pin_dialog_finalize;
  window_class->close_request = tessera_change_pin_dialog_close_request;

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
  self->cancellable = g_cancellable_new ();
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
  TesseraTokenState locked;

  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);
  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);

  self = g_object_new (TESSERA_TYPE_CHANGE_PIN_DIALOG,
                       "modal", TRUE,
                       "transient-for", parent,
                       NULL);
  self->token = g_object_ref (token);
  self->mode = mode;
  self->pin_pad = tessera_token_has_state (token, TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH);
  self->parent_cancellable = cancellable ? g_object_ref (cancellable) : NULL;

  locked = spends_so_pin (self) ? TESSERA_TOKEN_STATE_SO_PIN_LOCKED
                                : TESSERA_TOKEN_STATE_USER_PIN_LOCKED;
  self->locked = tessera_token_has_state (token, locked);
  self->user_locked = self->locked && !spends_so_pin (self);

  build (self);
  g_signal_connect (self, "response", G_CALLBACK (on_response), NULL);
  if (cancellable != NULL)
    g_signal_connect_object (cancellable, "cancelled",
                             G_CALLBACK (on_parent_cancelled), self, G_CONNECT_SWAPPED);

  configure (self);

  return GTK_WIDGET (self);
}
