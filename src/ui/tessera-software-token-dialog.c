/* tessera-software-token-dialog.c: create a SoftHSM token
 *
 * Asks for a label and the two PINs of a new SoftHSM token, in the
 * TesseraPinForm of its TesseraPinFormDialog, which checks them against SoftHSM's own PIN lengths as
 * they are typed, and says which SoftHSM configuration will be used: the
 * core writes the user's config only when it is missing, and uses an
 * existing one as it is.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-software-token-dialog.h"

#define FORM(self)  (tessera_pin_form_dialog_get_form (TESSERA_PIN_FORM_DIALOG (self)))
#define GUARD(self) (tessera_pin_form_dialog_get_guard (TESSERA_PIN_FORM_DIALOG (self)))

/* SoftHSM's own limits */
#define SOFTHSM_MIN_PIN   4
#define SOFTHSM_MAX_PIN   255

struct _TesseraSoftwareTokenDialog
{
  TesseraPinFormDialog  parent_instance;

  /* fields of the form */
  GtkWidget            *label_row;
  GtkWidget            *so_row;
  GtkWidget            *pin_row;

  /* owned references */
  TesseraRegistry      *registry;
};

G_DEFINE_FINAL_TYPE (TesseraSoftwareTokenDialog, tessera_software_token_dialog, TESSERA_TYPE_PIN_FORM_DIALOG)

enum {
  CREATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
on_created (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(TesseraSoftwareTokenDialog) self = user_data;
  g_autoptr(TesseraToken) token = NULL;
  g_autoptr(GError) error = NULL;

  token = tessera_software_token_create_finish (TESSERA_REGISTRY (object), result, &error);

  if (!tessera_pin_guard_end_call (GUARD (self), error))
    return;

  if (token == NULL)
    {
      g_debug ("Could not create a software token: %s", error->message);
      tessera_pin_form_show_error (FORM (self), error->message);
      tessera_pin_form_dialog_update (TESSERA_PIN_FORM_DIALOG (self));
      return;
    }

  g_signal_emit (self, signals[CREATED], 0, token);
  tessera_pin_guard_dismiss (GUARD (self));
}

static void
start (TesseraPinFormDialog *dialog)
{
  TesseraSoftwareTokenDialog *self = TESSERA_SOFTWARE_TOKEN_DIALOG (dialog);
  g_autofree char *label = NULL;
  g_autofree char *so_pin = NULL;
  g_autofree char *user_pin = NULL;

  label = tessera_pin_form_dup_text (self->label_row);
  so_pin = tessera_pin_form_dup_text (self->so_row);
  user_pin = tessera_pin_form_dup_text (self->pin_row);

  tessera_pin_form_show_error (FORM (self), NULL);
  tessera_software_token_create_async (self->registry, label, so_pin, user_pin,
                                       tessera_pin_guard_begin_call (GUARD (self)),
                                       on_created, g_object_ref (self));

  /* The core copied the PINs */
  tessera_pin_wipe (&so_pin);
  tessera_pin_wipe (&user_pin);
  tessera_pin_form_wipe (FORM (self));
  tessera_pin_form_dialog_update (dialog);
}

/* Nothing changes what the dialog says */
static void
configure (TesseraPinFormDialog *dialog)
{
}

static void
build (TesseraSoftwareTokenDialog *self)
{
  g_autofree char *config = tessera_software_token_config_path ();
  g_autofree char *hint = NULL;
  g_autofree char *lengths = NULL;

  tessera_pin_form_dialog_set_heading (TESSERA_PIN_FORM_DIALOG (self), _("Create Software Token"));
  tessera_pin_form_dialog_set_action (TESSERA_PIN_FORM_DIALOG (self), _("C_reate"), FALSE, TRUE);
  tessera_pin_form_dialog_set_body (TESSERA_PIN_FORM_DIALOG (self),
                                    _("A software token keeps its keys in files on this computer, "
                                      "protected by its PINs. It is good for trying things out; "
                                      "a smart card or a security key keeps keys safer. The SO "
                                      "PIN unblocks the user PIN, which unlocks the keys."));

  tessera_pin_form_set_pin_lengths (FORM (self), SOFTHSM_MIN_PIN, SOFTHSM_MAX_PIN);
  tessera_pin_form_set_busy (FORM (self), FALSE, _("Creating the token…"));
  lengths = tessera_pin_form_describe_lengths (FORM (self));
  if (g_file_test (config, G_FILE_TEST_EXISTS))
    hint = g_strdup_printf (_("SoftHSM’s configuration %s exists and is used as it is. %s"),
                            config, lengths);
  else
    hint = g_strdup_printf (_("Tessera writes SoftHSM’s configuration to %s; an existing "
                              "configuration is always used as it is. %s"), config, lengths);
  tessera_pin_form_set_hint (FORM (self), hint);

  self->label_row = tessera_pin_form_add_field (FORM (self), TESSERA_PIN_FIELD_LABEL, _("Label"));
  self->so_row = tessera_pin_form_add_field (FORM (self), TESSERA_PIN_FIELD_NEW, _("New SO PIN"));
  tessera_pin_form_add_field (FORM (self), TESSERA_PIN_FIELD_REPEAT, _("Repeat New SO PIN"));
  self->pin_row = tessera_pin_form_add_field (FORM (self), TESSERA_PIN_FIELD_NEW, _("New PIN"));
  tessera_pin_form_add_field (FORM (self), TESSERA_PIN_FIELD_REPEAT, _("Repeat New PIN"));
}

static void
tessera_software_token_dialog_finalize (GObject *object)
{
  TesseraSoftwareTokenDialog *self = TESSERA_SOFTWARE_TOKEN_DIALOG (object);

  g_clear_object (&self->registry);

  G_OBJECT_CLASS (tessera_software_token_dialog_parent_class)->finalize (object);
}

static void
tessera_software_token_dialog_class_init (TesseraSoftwareTokenDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  TesseraPinFormDialogClass *dialog_class = TESSERA_PIN_FORM_DIALOG_CLASS (klass);

  object_class->finalize = tessera_software_token_dialog_finalize;
  dialog_class->configure = configure;
  dialog_class->start = start;

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
                       "transient-for", parent,
                       NULL);
  self->registry = g_object_ref (registry);
  /* No token yet, so no PIN to guard: the guard only closes the dialog */
  tessera_pin_form_dialog_set_up (TESSERA_PIN_FORM_DIALOG (self), NULL, TESSERA_PIN_USER,
                                  cancellable);

  build (self);
  tessera_pin_form_dialog_update (TESSERA_PIN_FORM_DIALOG (self));
  tessera_pin_form_focus_first (FORM (self));

  return GTK_WIDGET (self);
}
