/* tessera-change-pin-dialog.h: change the user PIN or the SO PIN, or unblock the PIN
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"
#include "tessera-pin-form-dialog.h"

G_BEGIN_DECLS

typedef enum {
  TESSERA_CHANGE_PIN_USER,
  TESSERA_CHANGE_PIN_SO,
  TESSERA_CHANGE_PIN_UNBLOCK,
} TesseraChangePinMode;

#define TESSERA_TYPE_CHANGE_PIN_DIALOG (tessera_change_pin_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TesseraChangePinDialog, tessera_change_pin_dialog, TESSERA, CHANGE_PIN_DIALOG, TesseraPinFormDialog)

GtkWidget *tessera_change_pin_dialog_new (TesseraToken         *token,
                                          TesseraChangePinMode  mode,
                                          GtkWindow            *parent,
                                          GCancellable         *cancellable);

G_END_DECLS
