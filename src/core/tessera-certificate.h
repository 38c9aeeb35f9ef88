/* tessera-certificate.h: self-signed certificates, import and export
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-key.h"
#include "tessera-token.h"

G_BEGIN_DECLS

typedef enum {
  TESSERA_CERTIFICATE_FORMAT_PEM,
  TESSERA_CERTIFICATE_FORMAT_DER,
} TesseraCertificateFormat;

#define TESSERA_CERTIFICATE_DEFAULT_COMMON_NAME "SSH key"
#define TESSERA_CERTIFICATE_DEFAULT_DAYS        365

void      tessera_token_create_certificate_async  (TesseraToken         *token,
                                                   TesseraKey           *key,
                                                   const char           *common_name,
                                                   guint                 days,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean  tessera_token_create_certificate_finish (TesseraToken         *token,
                                                   GAsyncResult         *result,
                                                   GError              **error);

void      tessera_token_import_certificate_async  (TesseraToken         *token,
                                                   GBytes               *data,
                                                   const char           *label,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
GBytes   *tessera_token_import_certificate_finish (TesseraToken         *token,
                                                   GAsyncResult         *result,
                                                   GError              **error);

GBytes   *tessera_certificate_export              (TesseraObject        *certificate,
                                                   TesseraCertificateFormat format,
                                                   GError              **error);

G_END_DECLS
