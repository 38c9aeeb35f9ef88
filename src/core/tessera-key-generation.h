/* tessera-key-generation.h: key pairs made on the token
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-object.h"
#include "tessera-token.h"

G_BEGIN_DECLS

/**
 * TesseraKeySpec:
 * @type: RSA, EC or Ed25519
 * @bits: the RSA modulus size, or the EC curve's (256, 384, 521)
 *
 * One kind of key a token can make.
 */
typedef struct
{
  TesseraKeyType type;
  guint          bits;
} TesseraKeySpec;

char     *tessera_key_spec_describe             (const TesseraKeySpec *spec);
gboolean  tessera_key_spec_check_ssh            (const TesseraKeySpec *spec,
                                                 GError              **error);
guint     tessera_key_spec_recommend            (GArray               *specs);

void      tessera_token_list_key_specs_async    (TesseraToken         *token,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
GArray   *tessera_token_list_key_specs_finish   (TesseraToken         *token,
                                                 GAsyncResult         *result,
                                                 GError              **error);

void      tessera_token_generate_key_async      (TesseraToken         *token,
                                                 const TesseraKeySpec *spec,
                                                 const char           *label,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
GBytes   *tessera_token_generate_key_finish     (TesseraToken         *token,
                                                 GAsyncResult         *result,
                                                 GError              **error);

GBytes   *tessera_key_id_for_ssh_blob           (GBytes               *blob);

G_END_DECLS
