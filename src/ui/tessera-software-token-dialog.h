/* tessera-software-token-dialog.h: create a SoftHSM token
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"
#include "tessera-pin-form-dialog.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_SOFTWARE_TOKEN_DIALOG (tessera_software_token_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TesseraSoftwareTokenDialog, tessera_software_token_dialog, TESSERA, SOFTWARE_TOKEN_DIALOG, TesseraPinFormDialog)

GtkWidget *tessera_software_token_dialog_new (TesseraRegistry *registry,
                                              GtkWindow       *parent,
                                              GCancellable    *cancellable);

G_END_DECLS
