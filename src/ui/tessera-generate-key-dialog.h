/* tessera-generate-key-dialog.h: make a key pair on a token
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_GENERATE_KEY_DIALOG (tessera_generate_key_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TesseraGenerateKeyDialog, tessera_generate_key_dialog,
                      TESSERA, GENERATE_KEY_DIALOG, AdwWindow)

GtkWidget *tessera_generate_key_dialog_new (GtkWindow    *parent,
                                            TesseraToken *token,
                                            GCancellable *cancellable);

G_END_DECLS
