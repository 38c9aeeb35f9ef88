/* tessera-certificate-dialog.h: a self-signed certificate for a key
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_CERTIFICATE_DIALOG (tessera_certificate_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TesseraCertificateDialog, tessera_certificate_dialog,
                      TESSERA, CERTIFICATE_DIALOG, AdwWindow)

GtkWidget *tessera_certificate_dialog_new (GtkWindow    *parent,
                                           TesseraToken *token,
                                           TesseraKey   *key,
                                           GCancellable *cancellable);

G_END_DECLS
