/* tessera-software-token.h: a SoftHSM token for the user
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-registry.h"

G_BEGIN_DECLS

gboolean      tessera_software_token_available      (void);
char         *tessera_software_token_config_path    (void);

void          tessera_software_token_create_async   (TesseraRegistry     *registry,
                                                     const char          *label,
                                                     const char          *so_pin,
                                                     const char          *user_pin,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
TesseraToken *tessera_software_token_create_finish  (TesseraRegistry     *registry,
                                                     GAsyncResult        *result,
                                                     GError             **error);

G_END_DECLS
