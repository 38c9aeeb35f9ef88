/* tessera-pin-form-dialog.h: a dialog around a TesseraPinForm
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"
#include "tessera-pin-form.h"
#include "tessera-pin-guard.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_PIN_FORM_DIALOG (tessera_pin_form_dialog_get_type ())

G_DECLARE_DERIVABLE_TYPE (TesseraPinFormDialog, tessera_pin_form_dialog, TESSERA, PIN_FORM_DIALOG, AdwWindow)

/**
 * TesseraPinFormDialogClass:
 * @configure: set the dialog up for the guard's mode, which may have changed
 * @can_start: whether the action can be taken now; by default when no call
 *   is under way, the PIN is not locked and the form is valid
 * @start: take the action: a click on it, or Enter in a valid form, but
 *   never Enter on the final try
 */
struct _TesseraPinFormDialogClass
{
  AdwWindowClass parent_class;

  void     (*configure) (TesseraPinFormDialog *self);
  gboolean (*can_start) (TesseraPinFormDialog *self);
  void     (*start)     (TesseraPinFormDialog *self);
};

void             tessera_pin_form_dialog_set_up       (TesseraPinFormDialog *self,
                                                       TesseraToken         *token,
                                                       TesseraPinKind        kind,
                                                       GCancellable         *cancellable);
TesseraPinForm  *tessera_pin_form_dialog_get_form     (TesseraPinFormDialog *self);
TesseraPinGuard *tessera_pin_form_dialog_get_guard    (TesseraPinFormDialog *self);
void             tessera_pin_form_dialog_set_heading  (TesseraPinFormDialog *self,
                                                       const char           *heading);
void             tessera_pin_form_dialog_set_body     (TesseraPinFormDialog *self,
                                                       const char           *body);
void             tessera_pin_form_dialog_set_action   (TesseraPinFormDialog *self,
                                                       const char           *label,
                                                       gboolean              destructive,
                                                       gboolean              visible);
void             tessera_pin_form_dialog_update       (TesseraPinFormDialog *self);

G_END_DECLS
