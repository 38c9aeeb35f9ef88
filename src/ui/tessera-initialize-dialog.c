/* tessera-initialize-dialog.c: erase a token and set its label and PINs
 *
 * The dialog asks for the new label, the SO PIN (a new one twice for a
 * blank token, the current one for a token that was initialized before:
 * the token checks it) and the new user PIN twice, in the TesseraPinForm
 * of its TesseraPinFormDialog, which checks them as they are typed:
 * Initialize… stays disabled until the token would take everything.  Then
 * a second dialog names what will be destroyed; when the token holds
 * objects, the person types the token's label to enable the button that
 * erases it.  The current SO PIN has the guard every PIN has: its last try
 * is spent only on a click, and a locked SO PIN is not tried.
 *
 * SoftHSM moves a token to a new slot when it is initialized, so the
 * registry is refreshed afterwards and the new token is found by label.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-initialize-dialog.h"

#define FORM(self)  (tessera_pin_form_dialog_get_form (TESSERA_PIN_FORM_DIALOG (self)))
#define GUARD(self) (tessera_pin_form_dialog_get_guard (TESSERA_PIN_FORM_DIALOG (self)))

struct _TesseraInitializeDialog
{
  TesseraPinFormDialog  parent_instance;

  /* fields of the form */
  GtkWidget            *label_row;
  GtkWidget            *so_row;
  GtkWidget            *pin_row;

  /* owned references */
  TesseraToken         *token;
  TesseraRegistry      *registry;
  char                 *new_label;
  char                 *so_pin;
  char                 *user_pin;
  char                 *old_serial;

  guint                 blank : 1;
};

G_DEFINE_FINAL_TYPE (TesseraInitializeDialog, tessera_initialize_dialog, TESSERA_TYPE_PIN_FORM_DIALOG)

enum {
  INITIALIZED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
forget_pins (TesseraInitializeDialog *self)
{
  tessera_pin_wipe (&self->so_pin);
  tessera_pin_wipe (&self->user_pin);
}

static void
configure (TesseraPinFormDialog *dialog)
{
  TesseraInitializeDialog *self = TESSERA_INITIALIZE_DIALOG (dialog);
  const char *name = tessera_token_get_display_name (self->token);
  TesseraPinGuardMode mode = tessera_pin_guard_get_mode (GUARD (self));
  gboolean locked = mode == TESSERA_PIN_GUARD_LOCKED;
  gboolean final_try = mode == TESSERA_PIN_GUARD_FINAL_TRY;
  g_autofree char *length = tessera_pin_form_describe_lengths (FORM (self));
  g_autofree char *tries = tessera_pin_guard_describe_tries (GUARD (self));
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;
  g_autofree char *hint = NULL;

  if (locked)
    {
      title = g_strdup (_("SO PIN Locked"));
      body = g_strdup_printf (_("Initializing “%s” needs its SO PIN, which is locked "
                                "because a wrong SO PIN was entered too many times. "
                                "Tessera cannot unlock it; only the maker of the "
                                "token may be able to reset it."), name);
    }
  else
    {
      title = g_strdup_printf (_("Initialize “%s”"), name);
      body = g_strdup (self->blank
                       ? _("Give the token a label and choose its two PINs. "
                           "The SO PIN, the Security Officer PIN, protects the "
                           "token itself: keep it safe, it unblocks the user PIN. "
                           "The user PIN unlocks the keys.")
                       : _("Initializing erases every key and certificate on the "
                           "token and sets a new label and user PIN. The SO PIN "
                           "of the token stays as it is: enter it to prove that "
                           "you may erase the token."));
      if (tessera_pin_guard_get_pin_pad (GUARD (self)))
        hint = g_strdup (_("Enter the PINs on the reader when it asks for them."));
      else
        hint = g_strstrip (g_strjoin (" ", length ? length : "", tries ? tries : "", NULL));
    }

  tessera_pin_form_dialog_set_heading (dialog, title);
  tessera_pin_form_dialog_set_body (dialog, body);
  tessera_pin_form_set_hint (FORM (self), hint);
  tessera_pin_form_set_warning (FORM (self),
                                final_try
                                ? _("This is the last try before the SO PIN is locked. A locked "
                                    "SO PIN cannot be unblocked.")
                                : NULL);
  tessera_pin_form_dialog_set_action (dialog, final_try ? _("_Use Last Try") : _("_Initialize…"),
                                      TRUE, !locked);
}

/* Finding the token again */

static void
on_registry_refreshed (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(TesseraInitializeDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;
  gboolean ok;

  ok = tessera_registry_refresh_finish (TESSERA_REGISTRY (object), result, &error);
  if (!tessera_pin_guard_end_call (GUARD (self), error))
    return;
  if (!ok)
    g_debug ("Could not refresh the tokens: %s", error->message);

  token = tessera_registry_find_initialized_token (self->registry, tessera_token_get_module (self->token),
                               self->new_label, self->old_serial);
  g_signal_emit (self, signals[INITIALIZED], 0, token, self->new_label);
  tessera_pin_guard_dismiss (GUARD (self));
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
      g_autofree char *message = NULL;

      if (!tessera_pin_guard_end_call (GUARD (self), error))
        return;

      g_debug ("Could not initialize the token: %s", error->message);
      /* A locked-out TPM: no SO PIN is locked, time ends the lockout */
      message = tessera_pin_guard_describe_error (GUARD (self), error);
      tessera_pin_form_show_error (FORM (self), message);
      tessera_pin_form_focus_first (FORM (self));
      return;
    }

  g_debug ("Initialized a token; looking for it again");
  tessera_registry_refresh_async (self->registry, tessera_pin_guard_begin_call (GUARD (self)),
                                  on_registry_refreshed, g_object_ref (self));
}

static void
erase (TesseraInitializeDialog *self)
{
  GCancellable *cancellable = tessera_pin_guard_begin_call (GUARD (self));

  tessera_pin_form_show_error (FORM (self), NULL);
  tessera_pin_form_dialog_update (TESSERA_PIN_FORM_DIALOG (self));

  tessera_token_initialize_async (self->token, self->so_pin, self->new_label, self->user_pin,
                                  cancellable, on_initialized, g_object_ref (self));
  /* The core copied the PINs */
  forget_pins (self);
  tessera_pin_form_wipe (FORM (self));
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
      tessera_pin_form_focus_first (FORM (self));
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
      GtkWidget *note = gtk_label_new (_("Private objects are shown only after you log in: "
                                         "they will be destroyed too."));

      gtk_label_set_wrap (GTK_LABEL (note), TRUE);
      gtk_label_set_justify (GTK_LABEL (note), GTK_JUSTIFY_CENTER);
      gtk_widget_add_css_class (note, "dim-label");
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

static void
start (TesseraPinFormDialog *dialog)
{
  TesseraInitializeDialog *self = TESSERA_INITIALIZE_DIALOG (dialog);

  g_free (self->new_label);
  self->new_label = tessera_pin_form_dup_text (self->label_row);
  forget_pins (self);
  if (self->so_row != NULL)
    self->so_pin = tessera_pin_form_dup_text (self->so_row);
  if (self->pin_row != NULL)
    self->user_pin = tessera_pin_form_dup_text (self->pin_row);

  tessera_pin_form_show_error (FORM (self), NULL);
  /* The copies are kept only until the confirmation is answered */
  confirm (self);
}

static void
build_form (TesseraInitializeDialog *self)
{
  TesseraPinForm *form = FORM (self);
  const char *label = tessera_token_get_label (self->token);
  gboolean pin_pad = tessera_pin_guard_get_pin_pad (GUARD (self));

  tessera_pin_form_set_busy (form, FALSE, pin_pad ? _("Enter the PINs on the reader")
                                                  : _("Initializing the token…"));
  self->label_row = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_LABEL, _("Label"));
  if (label != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->label_row), label);

  /* With a PIN pad, the reader asks for the PINs */
  if (pin_pad)
    return;

  if (self->blank)
    {
      self->so_row = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_NEW, _("New SO PIN"));
      tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_REPEAT, _("Repeat New SO PIN"));
    }
  else
    self->so_row = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_CURRENT,
                                               _("Current SO PIN"));

  self->pin_row = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_NEW, _("New PIN"));
  tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_REPEAT, _("Repeat New PIN"));
}

static void
tessera_initialize_dialog_dispose (GObject *object)
{
  forget_pins (TESSERA_INITIALIZE_DIALOG (object));

  G_OBJECT_CLASS (tessera_initialize_dialog_parent_class)->dispose (object);
}

static void
tessera_initialize_dialog_finalize (GObject *object)
{
  TesseraInitializeDialog *self = TESSERA_INITIALIZE_DIALOG (object);

  g_clear_object (&self->token);
  g_clear_object (&self->registry);
  g_clear_pointer (&self->new_label, g_free);
  g_clear_pointer (&self->old_serial, g_free);

  G_OBJECT_CLASS (tessera_initialize_dialog_parent_class)->finalize (object);
}

static void
tessera_initialize_dialog_class_init (TesseraInitializeDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  TesseraPinFormDialogClass *dialog_class = TESSERA_PIN_FORM_DIALOG_CLASS (klass);

  object_class->dispose = tessera_initialize_dialog_dispose;
  object_class->finalize = tessera_initialize_dialog_finalize;
  dialog_class->configure = configure;
  dialog_class->start = start;

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
                       "transient-for", parent,
                       NULL);
  self->token = g_object_ref (token);
  self->registry = g_object_ref (registry);
  self->old_serial = g_strdup (tessera_token_get_serial (token));
  self->blank = tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED);
  tessera_pin_form_dialog_set_up (TESSERA_PIN_FORM_DIALOG (self), token, TESSERA_PIN_SO,
                                  cancellable);

  build_form (self);
  configure (TESSERA_PIN_FORM_DIALOG (self));
  tessera_pin_form_dialog_update (TESSERA_PIN_FORM_DIALOG (self));
  tessera_pin_form_focus_first (FORM (self));

  return GTK_WIDGET (self);
}
