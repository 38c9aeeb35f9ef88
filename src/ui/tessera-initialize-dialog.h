/* tessera-initialize-dialog.h: erase a token and set its label and PINs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"
#include "tessera-pin-form-dialog.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_INITIALIZE_DIALOG (tessera_initialize_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TesseraInitializeDialog, tessera_initialize_dialog, TESSERA, INITIALIZE_DIALOG, TesseraPinFormDialog)

GtkWidget *tessera_initialize_dialog_new (TesseraToken    *token,
                                          TesseraRegistry *registry,
                                          GtkWindow       *parent,
                                          GCancellable    *cancellable);

G_END_DECLS
