/* tessera-pin-dialog.h: ask for the user PIN and log in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_PIN_DIALOG (tessera_pin_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TesseraPinDialog, tessera_pin_dialog, TESSERA, PIN_DIALOG, AdwMessageDialog)

typedef void (*TesseraLoggedInFunc) (gpointer user_data);

GtkWidget    *tessera_pin_dialog_new       (TesseraToken     *token,
                                            GtkWindow        *parent,
                                            GCancellable     *cancellable);
TesseraToken *tessera_pin_dialog_get_token (TesseraPinDialog *self);
void          tessera_pin_dialog_when_logged_in (TesseraToken        *token,
                                                 GtkWindow           *parent,
                                                 GCancellable        *cancellable,
                                                 TesseraLoggedInFunc  func,
                                                 gpointer             user_data,
                                                 GDestroyNotify       destroy);

G_END_DECLS
