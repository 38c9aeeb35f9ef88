/* tessera-software-token-dialog.c: create a SoftHSM token
 *
 * Asks for a label and the two PINs of a new SoftHSM token, and says which
 * SoftHSM configuration will be used: the core writes the user's config
 * only when it is missing, and uses an existing one as it is.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tessera-pin-rows.h"
#include "tessera-software-token-dialog.h"

/* SoftHSM's own limits, and CK_TOKEN_INFO's label size */
#define SOFTHSM_MIN_PIN   4
#define SOFTHSM_MAX_PIN   255
#define MAX_LABEL_BYTES   32

struct _TesseraSoftwareTokenDialog
{
  AdwMessageDialog  parent_instance;

  /* widgets made in code */
  GtkWidget        *list;
  GtkWidget        *label_row;
  GtkWidget        *so_row;
  GtkWidget        *so_repeat_row;
  GtkWidget        *pin_row;
  GtkWidget        *pin_repeat_row;
  GtkWidget        *progress_box;
  GtkWidget        *spinner;
  GtkWidget        *error_label;

  /* owned references */
  TesseraRegistry  *registry;
  GCancellable     *cancellable;

  guint             close_idle_id;
  guint             busy : 1;
  guint             close_requested : 1;
};

G_DEFINE_FINAL_TYPE (TesseraSoftwareTokenDialog, tessera_software_token_dialog, ADW_TYPE_MESSAGE_DIALOG)

enum {
  CREATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
wipe (TesseraSoftwareTokenDialog *self)
{
  tessera_pin_rows_wipe (self->so_row);
  tessera_pin_rows_wipe (self->so_repeat_row);
  tessera_pin_rows_wipe (self->pin_row);
  tessera_pin_rows_wipe (self->pin_repeat_row);
}

static void
dismiss (TesseraSoftwareTokenDialog *self)
{
  wipe (self);
  g_cancellable_cancel (self->cancellable);
  gtk_window_set_transient_for (GTK_WINDOW (self), NULL);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
show_error (TesseraSoftwareTokenDialog *self,
            const char                 *message)
{
  gtk_label_set_text (GTK_LABEL (self->error_label), message);
  gtk_widget_set_visible (self->error_label, message != NULL);
}

static gboolean
all_filled (TesseraSoftwareTokenDialog *self)
{
  GtkWidget *rows[] = { self->label_row, self->so_row, self->so_repeat_row,
                        self->pin_row, self->pin_repeat_row };

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    if (gtk_editable_get_text (GTK_EDITABLE (rows[i]))[0] == '\0')
      return FALSE;

  return TRUE;
}

static void
update_controls (TesseraSoftwareTokenDialog *self)
{
  gtk_widget_set_sensitive (self->list, !self->busy);
  gtk_widget_set_visible (self->progress_box, self->busy);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), self->busy);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "create",
                                           !self->busy && all_filled (self));
}

static gboolean
check_pair (GtkWidget  *row,
            GtkWidget  *repeat_row,
            GError    **error)
{
  const char *pin = gtk_editable_get_text (GTK_EDITABLE (row));
  glong length = g_utf8_strlen (pin, -1);

  if (length < SOFTHSM_MIN_PIN || strlen (pin) > SOFTHSM_MAX_PIN)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The PIN must be %u to %u characters long. Nothing was created."),
                   SOFTHSM_MIN_PIN, SOFTHSM_MAX_PIN);
      return FALSE;
    }

  if (g_strcmp0 (pin, gtk_editable_get_text (GTK_EDITABLE (repeat_row))) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The two “%s” entries differ. Nothing was created."),
                   tessera_pin_rows_get_title (row));
      return FALSE;
    }

  return TRUE;
}

static void
on_created (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(TesseraSoftwareTokenDialog) self = user_data;
  g_autoptr(TesseraToken) token = NULL;
  g_autoptr(GError) error = NULL;

  token = tessera_software_token_create_finish (TESSERA_REGISTRY (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (self->cancellable))
    return;

  self->busy = FALSE;

  if (token == NULL)
    {
      g_debug ("Could not create a software token: %s", error->message);
      show_error (self, error->message);
      update_controls (self);
      return;
    }

  g_signal_emit (self, signals[CREATED], 0, token);
  dismiss (self);
}

static void
start (TesseraSoftwareTokenDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *label = NULL;
  g_autofree char *so_pin = NULL;
  g_autofree char *user_pin = NULL;

  if (self->busy || !all_filled (self))
    return;

  label = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->label_row))));
  if (label[0] == '\0' || strlen (label) > MAX_LABEL_BYTES)
    {
      show_error (self, label[0] == '\0'
                  ? _("The token needs a label.")
                  : _("The label is too long: a token label holds at most 32 bytes, "
                      "and letters with accents or other scripts take 2 or more."));
      return;
    }

  if (!check_pair (self->so_row, self->so_repeat_row, &error)
      || !check_pair (self->pin_row, self->pin_repeat_row, &error))
    {
      show_error (self, error->message);
      return;
    }

  so_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->so_row)));
  user_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->pin_row)));

  self->busy = TRUE;
  show_error (self, NULL);
  tessera_software_token_create_async (self->registry, label, so_pin, user_pin,
                                       self->cancellable, on_created, g_object_ref (self));

  /* The core copied the PINs */
  explicit_bzero (so_pin, strlen (so_pin));
  explicit_bzero (user_pin, strlen (user_pin));
  wipe (self);
  update_controls (self);
}

static void
on_response (TesseraSoftwareTokenDialog *self,
             const char                 *response)
{
  self->close_requested = FALSE;

  if (g_strcmp0 (response, "create") == 0)
    start (self);
  else
    dismiss (self);
}

static gboolean
on_close_requested_idle (gpointer user_data)
{
  TesseraSoftwareTokenDialog *self = user_data;

  self->close_idle_id = 0;
  if (self->close_requested)
    dismiss (self);

  return G_SOURCE_REMOVE;
}

static gboolean
tessera_software_token_dialog_close_request (GtkWindow *window)
{
  TesseraSoftwareTokenDialog *self = TESSERA_SOFTWARE_TOKEN_DIALOG (window);

  self->close_requested = TRUE;
  if (self->close_idle_id == 0)
    self->close_idle_id = g_idle_add (on_close_requested_idle, self);

  return TRUE;
}

static void
on_row_changed (TesseraSoftwareTokenDialog *self)
{
  update_controls (self);
}

static void
on_parent_cancelled (TesseraSoftwareTokenDialog *self)
{
  dismiss (self);
}

static void
build (TesseraSoftwareTokenDialog *self)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (self);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  g_autofree char *config = tessera_software_token_config_path ();
  g_autofree char *hint_text = NULL;
  GtkWidget *hint, *progress_label;
  GtkWidget *list;
  GtkWidget *rows[5];

  adw_message_dialog_set_heading (dialog, _("Create Software Token"));
  adw_message_dialog_set_body (dialog,
                               _("A software token keeps its keys in files on this computer, "
                                 "protected by its PINs. It is good for trying things out; a "
                                 "smart card or a security key keeps keys safer. The SO PIN "
                                 "unblocks the user PIN, which unlocks the keys."));

  if (g_file_test (config, G_FILE_TEST_EXISTS))
    hint_text = g_strdup_printf (_("SoftHSM’s configuration %s exists and is used as it is."),
                                 config);
  else
    hint_text = g_strdup_printf (_("Tessera writes SoftHSM’s configuration to %s; an existing "
                                   "configuration is always used as it is."), config);
  hint = tessera_pin_rows_new_label ("dim-label");
  gtk_label_set_text (GTK_LABEL (hint), hint_text);
  gtk_label_set_wrap_mode (GTK_LABEL (hint), PANGO_WRAP_WORD_CHAR);
  gtk_widget_set_visible (hint, TRUE);
  gtk_box_append (GTK_BOX (box), hint);

  hint = tessera_pin_rows_new_label ("dim-label");
  gtk_label_set_text (GTK_LABEL (hint), _("PINs are at least 4 characters long."));
  gtk_widget_set_visible (hint, TRUE);
  gtk_box_append (GTK_BOX (box), hint);

  self->list = tessera_pin_rows_new_list ();
  list = self->list;
  rows[0] = self->label_row = tessera_pin_rows_add_entry (list, _("Label"));
  rows[1] = self->so_row = tessera_pin_rows_add_password (list, _("New SO PIN"));
  rows[2] = self->so_repeat_row = tessera_pin_rows_add_password (list, _("Repeat New SO PIN"));
  rows[3] = self->pin_row = tessera_pin_rows_add_password (list, _("New PIN"));
  rows[4] = self->pin_repeat_row = tessera_pin_rows_add_password (list, _("Repeat New PIN"));
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
  progress_label = gtk_label_new (_("Creating the token…"));
  gtk_box_append (GTK_BOX (self->progress_box), progress_label);
  gtk_box_append (GTK_BOX (box), self->progress_box);

  self->error_label = tessera_pin_rows_new_label ("pin-error");
  gtk_box_append (GTK_BOX (box), self->error_label);

  adw_message_dialog_set_extra_child (dialog, box);
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "create", _("C_reate"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "create", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "create");
  adw_message_dialog_set_close_response (dialog, "cancel");
}

static void
tessera_software_token_dialog_dispose (GObject *object)
{
  TesseraSoftwareTokenDialog *self = TESSERA_SOFTWARE_TOKEN_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->close_idle_id, g_source_remove);

  G_OBJECT_CLASS (tessera_software_token_dialog_parent_class)->dispose (object);
}

static void
tessera_software_token_dialog_finalize (GObject *object)
{
  TesseraSoftwareTokenDialog *self = TESSERA_SOFTWARE_TOKEN_DIALOG (object);

  g_clear_object (&self->registry);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (tessera_software_token_dialog_parent_class)->finalize (object);
}

static void
tessera_software_token_dialog_class_init (TesseraSoftwareTokenDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = tessera_software_token_dialog_dispose;
  object_class->finalize = tessera_software_token_dialog_finalize;
  window_class->close_request = tessera_software_token_dialog_close_request;

  /**
   * TesseraSoftwareTokenDialog::created:
   * @self: the dialog
   * @token: the new token
   *
   * Emitted when the token was created, just before the dialog closes.
   */
  signals[CREATED] =
    g_signal_new ("created",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, TESSERA_TYPE_TOKEN);
}

static void
tessera_software_token_dialog_init (TesseraSoftwareTokenDialog *self)
{
  self->cancellable = g_cancellable_new ();
}

/**
 * tessera_software_token_dialog_new:
 * @registry: the registry the new token joins
 * @parent: (nullable): the window the dialog belongs to
 * @cancellable: (nullable): cancelling it closes the dialog
 *
 * Returns: (transfer none): a new dialog; present it
 */
GtkWidget *
tessera_software_token_dialog_new (TesseraRegistry *registry,
                                   GtkWindow       *parent,
                                   GCancellable    *cancellable)
{
  TesseraSoftwareTokenDialog *self;

  g_return_val_if_fail (TESSERA_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);

  self = g_object_new (TESSERA_TYPE_SOFTWARE_TOKEN_DIALOG,
                       "modal", TRUE,
                       "transient-for", parent,
                       NULL);
  self->registry = g_object_ref (registry);

  build (self);
  g_signal_connect (self, "response", G_CALLBACK (on_response), NULL);
  if (cancellable != NULL)
    g_signal_connect_object (cancellable, "cancelled",
                             G_CALLBACK (on_parent_cancelled), self, G_CONNECT_SWAPPED);

  update_controls (self);

  return GTK_WIDGET (self);
}
