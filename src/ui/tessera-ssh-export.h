/* tessera-ssh-export.h: a key's public key file and ssh_config Host block
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

/* The host name in a copied Host block, for the user to replace */
#define TESSERA_SSH_EXPORT_PLACEHOLDER_HOST "server.example.com"

char  *tessera_ssh_export_key_identity          (TesseraKey          *key,
                                                 TesseraToken        *token);
char  *tessera_ssh_export_suggest_file_name     (const char          *label,
                                                 const char          *extension);
char  *tessera_ssh_export_format_config         (const char          *host,
                                                 const char          *module_path,
                                                 GFile               *identity_file);
char  *tessera_ssh_export_dup_config            (TesseraKey          *key,
                                                 TesseraToken        *token);
GFile *tessera_ssh_export_lookup_public_key_file (TesseraKey          *key,
                                                 TesseraToken        *token);

void   tessera_ssh_export_save_public_key_async  (GtkWindow           *parent,
                                                  TesseraKey          *key,
                                                  TesseraToken        *token,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
GFile *tessera_ssh_export_save_public_key_finish (GAsyncResult        *result,
                                                  GError             **error);

G_END_DECLS
