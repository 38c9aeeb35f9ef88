/* tessera-initialize-dialog.c: erase a token and set its label and PINs
 *
 * The dialog asks for the new label, the SO PIN (a new one twice for a
 * blank token, the current one for a token that was initialized before:
 * the token checks it) and the new user PIN twice, and checks them all
 * before anything reaches the token.  Then a second dialog names what will
 * be destroyed; when the token holds objects, the person types the token's
 * label to enable the button that erases it.
 *
 * SoftHSM moves a token to a new slot when it is initialized, so the
 * registry is refreshed afterwards and the new token is found by label.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tessera-initialize-dialog.h"
#include "tessera-pin-rows.h"

/* CK_TOKEN_INFO's label is 32 bytes, padded with spaces */
#define MAX_LABEL_BYTES 32

struct _TesseraInitializeDialog
{
  AdwMessageDialog  parent_instance;

  /* widgets made in code */
  GtkWidget        *warning_label;
  GtkWidget        *hint_label;
  GtkWidget        *list;
  GtkWidget        *label_row;
  GtkWidget        *so_row;
  GtkWidget        *so_repeat_row;
  GtkWidget        *pin_row;
  GtkWidget        *pin_repeat_row;
  GtkWidget        *progress_box;
  GtkWidget        *spinner;
  GtkWidget        *error_label;
  GtkWidget        *confirm_entry;

  /* owned references */
  TesseraToken     *token;
  TesseraRegistry  *registry;
  GCancellable     *cancellable;
  GCancellable     *parent_cancellable;
  char             *new_label;
  char             *so_pin;
  char             *user_pin;
  char             *old_serial;

  guint             close_idle_id;
  guint             busy : 1;
  guint             pin_pad : 1;
  guint             blank : 1;
  guint             locked : 1;
  guint             close_requested : 1;
};

G_DEFINE_FINAL_TYPE (TesseraInitializeDialog, tessera_initialize_dialog, ADW_TYPE_MESSAGE_DIALOG)

enum {
  INITIALIZED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
forget_pins (TesseraInitializeDialog *self)
{
  if (self->so_pin != NULL)
    explicit_bzero (self->so_pin, strlen (self->so_pin));
  if (self->user_pin != NULL)
    explicit_bzero (self->user_pin, strlen (self->user_pin));
  g_clear_pointer (&self->so_pin, g_free);
  g_clear_pointer (&self->user_pin, g_free);
}

static void
wipe (TesseraInitializeDialog *self)
{
  tessera_pin_rows_wipe (self->so_row);
  tessera_pin_rows_wipe (self->so_repeat_row);
  tessera_pin_rows_wipe (self->pin_row);
  tessera_pin_rows_wipe (self->pin_repeat_row);
}

static void
dismiss (TesseraInitializeDialog *self)
{
  wipe (self);
  forget_pins (self);
  g_cancellable_cancel (self->cancellable);
  gtk_window_set_transient_for (GTK_WINDOW (self), NULL);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
show_error (TesseraInitializeDialog *self,
            const char              *message)
{
  gtk_label_set_text (GTK_LABEL (self->error_label), message);
  gtk_widget_set_visible (self->error_label, message != NULL);
}

static gboolean
all_filled (TesseraInitializeDialog *self)
{
  GtkWidget *rows[] = { self->label_row, self->so_row, self->so_repeat_row,
                        self->pin_row, self->pin_repeat_row };

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    if (rows[i] != NULL
        && gtk_editable_get_text (GTK_EDITABLE (rows[i]))[0] == '\0')
      return FALSE;

  return TRUE;
}

static void
update_controls (TesseraInitializeDialog *self)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);

  gtk_widget_set_visible (self->list, !self->locked);
  gtk_widget_set_sensitive (self->list, !self->busy);
  gtk_widget_set_visible (self->progress_box, self->busy);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), self->busy);

  if (adw_message_dialog_has_response (dialog, "initialize"))
    adw_message_dialog_set_response_enabled (dialog, "initialize",
                                             !self->locked && !self->busy && all_filled (self));
}

static void
configure (TesseraInitializeDialog *self)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);
  const char *name = tessera_token_get_display_name (self->token);
  g_autofree char *length = tessera_pin_rows_describe_length (self->token);
  g_autofree char *tries = NULL;
  g_autofree char *hint = NULL;
  gboolean final_try = FALSE;

  if (!self->blank)
    {
      if (tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_SO_PIN_LOCKED))
        self->locked = TRUE;
      final_try = !self->locked
        && tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_SO_PIN_FINAL_TRY);
      tries = tessera_pin_rows_describe_tries (self->token, TRUE);
    }

  if (self->locked)
    {
      adw_message_dialog_set_heading (dialog, _("SO PIN Locked"));
      adw_message_dialog_format_body (dialog,
                                      _("Initializing “%s” needs its SO PIN, which is locked "
                                        "because a wrong SO PIN was entered too many times. "
                                        "Tessera cannot unlock it; only the maker of the "
                                        "token may be able to reset it."), name);
    }
  else
    {
      adw_message_dialog_format_heading (dialog, _("Initialize “%s”"), name);
      if (self->blank)
        adw_message_dialog_set_body (dialog,
                                     _("Give the token a label and choose its two PINs. "
                                       "The SO PIN, the Security Officer PIN, protects the "
                                       "token itself: keep it safe, it unblocks the user PIN. "
                                       "The user PIN unlocks the keys."));
      else
        adw_message_dialog_set_body (dialog,
                                     _("Initializing erases every key and certificate on the "
                                       "token and sets a new label and user PIN. The SO PIN "
                                       "of the token stays as it is: enter it to prove that "
                                       "you may erase the token."));
    }

  gtk_widget_set_visible (self->warning_label, final_try);

  if (!self->locked && !self->pin_pad)
    hint = g_strjoin (" ", length ? length : "", tries ? tries : "", NULL);
  else if (!self->locked)
    hint = g_strdup (_("Enter the PINs on the reader when it asks for them."));
  gtk_label_set_text (GTK_LABEL (self->hint_label), hint ? g_strstrip (hint) : NULL);
  gtk_widget_set_visible (self->hint_label, hint != NULL && hint[0] != '\0');

  if (adw_message_dialog_has_response (dialog, "initialize"))
    {
      if (final_try)
        adw_message_dialog_set_default_response (dialog, NULL);
      else
        adw_message_dialog_set_default_response (dialog, "initialize");
    }

  update_controls (self);
}

/* Finding the token again */

/* The initialized token of @module with this label, preferring the one with
 * the serial it had before.  (transfer none) */
static TesseraToken *
find_token_by_label (TesseraRegistry *registry,
                     TesseraModule   *module,
                     const char      *label,
                     const char      *serial)
{
  GListModel *tokens = tessera_registry_get_tokens (registry);
  guint n = g_list_model_get_n_items (tokens);
  TesseraToken *found = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i);

      if (module != NULL && tessera_token_get_module (token) != module)
        continue;
      if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
        continue;
      if (g_strcmp0 (tessera_token_get_label (token), label) != 0)
        continue;

      if (serial != NULL && serial[0] != '\0'
          && g_strcmp0 (tessera_token_get_serial (token), serial) == 0)
        return token;
      found = token;
    }

  return found;
}

static void
on_registry_refreshed (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(TesseraInitializeDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  if (!tessera_registry_refresh_finish (TESSERA_REGISTRY (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          || g_cancellable_is_cancelled (self->cancellable))
        return;
      g_debug ("Could not refresh the tokens: %s", error->message);
    }

  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  token = find_token_by_label (self->registry, tessera_token_get_module (self->token),
                               self->new_label, self->old_serial);
  g_signal_emit (self, signals[INITIALIZED], 0, token, self->new_label);
  dismiss (self);
}

static void
on_initialized (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(TesseraInitializeDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_token_initialize_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          || g_cancellable_is_cancelled (self->cancellable))
        return;

      g_debug ("Could not initialize the token: %s", error->message);
      self->busy = FALSE;
      show_error (self, error->message);
      /* A locked-out TPM: no SO PIN is locked, time ends the lockout */
      if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED)
          && !tessera_token_is_tpm (self->token))
        self->locked = TRUE;
      configure (self);
      return;
    }

  g_debug ("Initialized a token; looking for it again");
  tessera_registry_refresh_async (self->registry, self->cancellable,
                                  on_registry_refreshed, g_object_ref (self));
}

static void
erase (TesseraInitializeDialog *self)
{
  self->busy = TRUE;
  show_error (self, NULL);
  update_controls (self);

  tessera_token_initialize_async (self->token, self->so_pin, self->new_label, self->user_pin,
                                  self->cancellable, on_initialized, g_object_ref (self));
  /* The core copied the PINs */
  forget_pins (self);
  wipe (self);
}

/* The confirmation */

static void
on_confirm_entry_changed (GtkEditable *entry,
                          AdwMessageDialog *confirmation)
{
  TesseraToken *token = g_object_get_data (G_OBJECT (confirmation), "tessera-token");
  const char *typed = gtk_editable_get_text (entry);
  g_autofree char *stripped = g_strstrip (g_strdup (typed));

  adw_message_dialog_set_response_enabled (confirmation, "erase",
                                           g_strcmp0 (stripped,
                                                      tessera_token_get_label (token)) == 0);
}

static void
on_confirmation_response (AdwMessageDialog        *confirmation,
                          const char              *response,
                          TesseraInitializeDialog *self)
{
  if (g_strcmp0 (response, "erase") == 0)
    erase (self);
  else
    {
      forget_pins (self);
      gtk_widget_grab_focus (self->label_row);
    }
}

static GtkWidget *
create_object_list (GListModel *objects)
{
  GtkWidget *list = gtk_list_box_new ();
  guint n = g_list_model_get_n_items (objects);

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");

  gtk_accessible_update_property (GTK_ACCESSIBLE (list),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Objects to be destroyed"),
                                  -1);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraObject) object = g_list_model_get_item (objects, i);
      const char *label = tessera_object_get_display_label (object);
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     label && label[0] ? label : C_("object", "Unnamed"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), tessera_object_get_kind_name (object));
      gtk_list_box_append (GTK_LIST_BOX (list), row);
    }

  return list;
}

static void
confirm (TesseraInitializeDialog *self)
{
  GtkWidget *confirmation;
  GtkWidget *box;
  GListModel *objects = tessera_token_get_objects (self->token);
  guint n = g_list_model_get_n_items (objects);
  const char *name = tessera_token_get_display_name (self->token);
  const char *label = tessera_token_get_label (self->token);
  gboolean must_type = n > 0 && label != NULL && label[0] != '\0';

  confirmation = adw_message_dialog_new (GTK_WINDOW (self), NULL, NULL);
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (confirmation),
                                     _("Erase “%s”?"), name);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  if (n > 0)
    {
      GtkWidget *scrolled = gtk_scrolled_window_new ();

      adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (confirmation),
                                      g_dngettext (GETTEXT_PACKAGE,
                                                   "Every key and certificate on “%s” will be "
                                                   "destroyed, including this object. This "
                                                   "cannot be undone.",
                                                   "Every key and certificate on “%s” will be "
                                                   "destroyed, including these %u objects. This "
                                                   "cannot be undone.", n),
                                      name, n);
      gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                      GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
      gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
      gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 240);
      gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), create_object_list (objects));
      gtk_box_append (GTK_BOX (box), scrolled);
    }
  else
    adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (confirmation),
                                    _("Every key and certificate on “%s” will be destroyed. "
                                      "This cannot be undone."), name);

  if (!tessera_token_get_logged_in (self->token)
      && !tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
    {
      GtkWidget *note = tessera_pin_rows_new_label ("dim-label");

      gtk_label_set_text (GTK_LABEL (note),
                          _("Private objects are shown only after you log in: "
                            "they will be destroyed too."));
      gtk_widget_set_visible (note, TRUE);
      gtk_box_append (GTK_BOX (box), note);
    }

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (confirmation),
                                    "cancel", _("_Cancel"),
                                    "erase", _("_Erase and Initialize"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (confirmation), "erase",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (confirmation), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (confirmation), "cancel");

  if (must_type)
    {
      GtkWidget *prompt = gtk_label_new (NULL);
      GtkWidget *entry = gtk_entry_new ();
      g_autofree char *text =
        g_strdup_printf (_("To confirm, type the label of the token, “%s”."), label);

      gtk_label_set_text (GTK_LABEL (prompt), text);
      gtk_label_set_wrap (GTK_LABEL (prompt), TRUE);
      gtk_label_set_justify (GTK_LABEL (prompt), GTK_JUSTIFY_CENTER);
      gtk_box_append (GTK_BOX (box), prompt);

      gtk_accessible_update_property (GTK_ACCESSIBLE (entry),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Token label"),
                                      -1);
      gtk_accessible_update_relation (GTK_ACCESSIBLE (entry),
                                      GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, prompt, NULL,
                                      -1);
      g_object_set_data_full (G_OBJECT (confirmation), "tessera-token",
                              g_object_ref (self->token), g_object_unref);
      g_signal_connect (entry, "changed", G_CALLBACK (on_confirm_entry_changed), confirmation);
      gtk_box_append (GTK_BOX (box), entry);
      adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (confirmation), "erase", FALSE);
    }

  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (confirmation), box);
  g_signal_connect_object (confirmation, "response",
                           G_CALLBACK (on_confirmation_response), self, 0);
  gtk_window_present (GTK_WINDOW (confirmation));
}

static gboolean
check (TesseraInitializeDialog *self,
       GError                 **error)
{
  const char *label = gtk_editable_get_text (GTK_EDITABLE (self->label_row));
  g_autofree char *stripped = g_strstrip (g_strdup (label));

  if (stripped[0] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The token needs a label."));
      return FALSE;
    }

  if (strlen (stripped) > MAX_LABEL_BYTES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The label is too long: a token label holds at most 32 bytes, "
                     "and letters with accents or other scripts take 2 or more."));
      return FALSE;
    }

  if (self->pin_pad)
    {
      g_free (self->new_label);
      self->new_label = g_steal_pointer (&stripped);
      return TRUE;
    }

  if (self->blank)
    {
      if (!tessera_pin_rows_check_new (self->token, self->so_row, self->so_repeat_row, error))
        return FALSE;
    }
  else if (!tessera_token_check_pin_length (self->token,
                                            gtk_editable_get_text (GTK_EDITABLE (self->so_row)),
                                            error))
    return FALSE;

  if (!tessera_pin_rows_check_new (self->token, self->pin_row, self->pin_repeat_row, error))
    return FALSE;

  g_free (self->new_label);
  self->new_label = g_steal_pointer (&stripped);
  forget_pins (self);
  self->so_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->so_row)));
  self->user_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->pin_row)));

  return TRUE;
}

static void
on_response (TesseraInitializeDialog *self,
             const char              *response)
{
  g_autoptr(GError) error = NULL;

  self->close_requested = FALSE;

  if (g_strcmp0 (response, "initialize") != 0)
    {
      dismiss (self);
      return;
    }

  if (self->busy || self->locked)
    return;

  if (!check (self, &error))
    {
      show_error (self, error->message);
      return;
    }

  show_error (self, NULL);
  /* The copies are kept only until the confirmation is answered */
  confirm (self);
}

static gboolean
on_close_requested_idle (gpointer user_data)
{
  TesseraInitializeDialog *self = user_data;

  self->close_idle_id = 0;
  if (self->close_requested)
    dismiss (self);

  return G_SOURCE_REMOVE;
}

static gboolean
tessera_initialize_dialog_close_request (GtkWindow *window)
{
  TesseraInitializeDialog *self = TESSERA_INITIALIZE_DIALOG (window);

  self->close_requested = TRUE;
  if (self->close_idle_id == 0)
    self->close_idle_id = g_idle_add (on_close_requested_idle, self);

  return TRUE;
}

static void
on_row_changed (TesseraInitializeDialog *self)
{
  update_controls (self);
}

static void
on_parent_cancelled (TesseraInitializeDialog *self)
{
  dismiss (self);
}

static void
build (TesseraInitializeDialog *self)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *progress_label;
  GtkWidget *list;
  GtkWidget *rows[5];

  self->warning_label = tessera_pin_rows_new_label ("pin-warning");
  gtk_label_set_text (GTK_LABEL (self->warning_label),
                      _("This is the last try before the SO PIN is locked. A locked SO PIN "
                        "cannot be unblocked."));
  gtk_box_append (GTK_BOX (box), self->warning_label);

  self->hint_label = tessera_pin_rows_new_label ("dim-label");
  gtk_box_append (GTK_BOX (box), self->hint_label);

  self->list = tessera_pin_rows_new_list ();
  list = self->list;
  rows[0] = self->label_row = tessera_pin_rows_add_entry (list, _("Label"));
  if (tessera_token_get_label (self->token) != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->label_row), tessera_token_get_label (self->token));
  if (self->pin_pad)
    {
      /* The reader asks for the PINs */
      rows[1] = rows[2] = rows[3] = rows[4] = NULL;
    }
  else if (self->blank)
    {
      rows[1] = self->so_row = tessera_pin_rows_add_password (list, _("New SO PIN"));
      rows[2] = self->so_repeat_row = tessera_pin_rows_add_password (list, _("Repeat New SO PIN"));
    }
  else
    {
      rows[1] = self->so_row = tessera_pin_rows_add_password (list, _("Current SO PIN"));
      rows[2] = NULL;
    }
  if (!self->pin_pad)
    {
      rows[3] = self->pin_row = tessera_pin_rows_add_password (list, _("New PIN"));
      rows[4] = self->pin_repeat_row = tessera_pin_rows_add_password (list, _("Repeat New PIN"));
    }

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      if (rows[i] == NULL)
        continue;
      g_signal_connect_object (rows[i], "changed", G_CALLBACK (on_row_changed), self,
                               G_CONNECT_SWAPPED);
    }
  gtk_box_append (GTK_BOX (box), self->list);

  self->progress_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_halign (self->progress_box, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (self->progress_box, FALSE);
  self->spinner = gtk_spinner_new ();
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->spinner),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Working"), -1);
  gtk_box_append (GTK_BOX (self->progress_box), self->spinner);
  progress_label = gtk_label_new (self->pin_pad ? _("Enter the PINs on the reader")
                                                : _("Initializing the token…"));
  gtk_label_set_wrap (GTK_LABEL (progress_label), TRUE);
  gtk_box_append (GTK_BOX (self->progress_box), progress_label);
  gtk_box_append (GTK_BOX (box), self->progress_box);

  self->error_label = tessera_pin_rows_new_label ("pin-error");
  gtk_box_append (GTK_BOX (box), self->error_label);

  adw_message_dialog_set_extra_child (dialog, box);

  if (self->locked)
    adw_message_dialog_add_response (dialog, "cancel", _("_Close"));
  else
    {
      adw_message_dialog_add_responses (dialog,
                                        "cancel", _("_Cancel"),
                                        "initialize", _("_Initialize…"),
                                        NULL);
      adw_message_dialog_set_response_appearance (dialog, "initialize", ADW_RESPONSE_DESTRUCTIVE);
    }
  adw_message_dialog_set_close_response (dialog, "cancel");
}

static void
tessera_initialize_dialog_dispose (GObject *object)
{
  TesseraInitializeDialog *self = TESSERA_INITIALIZE_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->close_idle_id, g_source_remove);
  forget_pins (self);

  G_OBJECT_CLASS (tessera_initialize_dialog_parent_class)->dispose (object);
}

static void
tessera_initialize_dialog_finalize (GObject *object)
{
  TesseraInitializeDialog *self = TESSERA_INITIALIZE_DIALOG (object);

  g_clear_object (&self->token);
  g_clear_object (&self->registry);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->parent_cancellable);
  g_clear_pointer (&self->new_label, g_free);
  g_clear_pointer (&self->old_serial, g_free);

  G_OBJECT_CLASS (tessera_initialize_dialog_parent_class)->finalize (object);
}

static void
tessera_initialize_dialog_class_init (TesseraInitializeDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = tessera_initialize_dialog_dispose;
  object_class->finalize = tessera_initialize_dialog_finalize;
  window_class->close_request = tessera_initialize_dialog_close_request;

  /**
   * TesseraInitializeDialog::initialized:
   * @self: the dialog
   * @token: (nullable): the token as the registry now knows it
   * @label: its new label
   *
   * Emitted when the token was initialized and the registry refreshed,
   * just before the dialog closes.
   */
  signals[INITIALIZED] =
    g_signal_new ("initialized",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, TESSERA_TYPE_TOKEN, G_TYPE_STRING);
}

static void
tessera_initialize_dialog_init (TesseraInitializeDialog *self)
{
  self->cancellable = g_cancellable_new ();
}

/**
 * tessera_initialize_dialog_new:
 * @token: the token to initialize
 * @registry: the registry to refresh afterwards
 * @parent: (nullable): the window the dialog belongs to
 * @cancellable: (nullable): cancelling it closes the dialog
 *
 * Returns: (transfer none): a new dialog; present it
 */
GtkWidget *
tessera_initialize_dialog_new (TesseraToken    *token,
                               TesseraRegistry *registry,
                               GtkWindow       *parent,
                               GCancellable    *cancellable)
{
  TesseraInitializeDialog *self;

  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);
  g_return_val_if_fail (TESSERA_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);

  self = g_object_new (TESSERA_TYPE_INITIALIZE_DIALOG,
                       "modal", TRUE,
                       "transient-for", parent,
                       NULL);
  self->token = g_object_ref (token);
  self->registry = g_object_ref (registry);
  self->old_serial = g_strdup (tessera_token_get_serial (token));
  self->pin_pad = tessera_token_has_state (token, TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH);
  self->blank = tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED);
  self->locked = !self->blank && tessera_token_has_state (token, TESSERA_TOKEN_STATE_SO_PIN_LOCKED);
  self->parent_cancellable = cancellable ? g_object_ref (cancellable) : NULL;

  build (self);
  g_signal_connect (self, "response", G_CALLBACK (on_response), NULL);
  if (cancellable != NULL)
    g_signal_connect_object (cancellable, "cancelled",
                             G_CALLBACK (on_parent_cancelled), self, G_CONNECT_SWAPPED);

  configure (self);

  return GTK_WIDGET (self);
}
