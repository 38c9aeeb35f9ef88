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

/**
 * TesseraCertificateOutcomeKind:
 * @TESSERA_CERTIFICATE_OUTCOME_IMPORTED: written to the token, with its
 *   private key's ID
 * @TESSERA_CERTIFICATE_OUTCOME_ALREADY_ON_TOKEN: the token holds this
 *   certificate under its key's ID already; not written again
 * @TESSERA_CERTIFICATE_OUTCOME_NO_MATCHING_KEY: no private key on the
 *   token holds its public key
 * @TESSERA_CERTIFICATE_OUTCOME_UNSUPPORTED_KEY: its public key is of a
 *   type Tessera cannot pair with a token key
 * @TESSERA_CERTIFICATE_OUTCOME_MALFORMED: not a certificate, or one that
 *   cannot be read
 * @TESSERA_CERTIFICATE_OUTCOME_NOT_STORED: the token refused to store
 *   it, or to make the test signature that pairs it
 *
 * What became of one certificate of an imported file.
 */
typedef enum {
  TESSERA_CERTIFICATE_OUTCOME_IMPORTED,
  TESSERA_CERTIFICATE_OUTCOME_ALREADY_ON_TOKEN,
  TESSERA_CERTIFICATE_OUTCOME_NO_MATCHING_KEY,
  TESSERA_CERTIFICATE_OUTCOME_UNSUPPORTED_KEY,
  TESSERA_CERTIFICATE_OUTCOME_MALFORMED,
  TESSERA_CERTIFICATE_OUTCOME_NOT_STORED,
} TesseraCertificateOutcomeKind;

#define TESSERA_TYPE_CERTIFICATE_OUTCOME (tessera_certificate_outcome_get_type ())

G_DECLARE_FINAL_TYPE (TesseraCertificateOutcome, tessera_certificate_outcome, TESSERA, CERTIFICATE_OUTCOME, GObject)

TesseraCertificateOutcomeKind  tessera_certificate_outcome_get_kind     (TesseraCertificateOutcome *self);
gboolean                       tessera_certificate_outcome_get_imported (TesseraCertificateOutcome *self);
guint                          tessera_certificate_outcome_get_position (TesseraCertificateOutcome *self);
const char                    *tessera_certificate_outcome_get_subject  (TesseraCertificateOutcome *self);
GBytes                        *tessera_certificate_outcome_get_id       (TesseraCertificateOutcome *self);
const char                    *tessera_certificate_outcome_get_reason   (TesseraCertificateOutcome *self);
char                          *tessera_certificate_outcome_describe     (TesseraCertificateOutcome *self);

void       tessera_token_import_certificates_async  (TesseraToken         *token,
                                                     GBytes               *data,
                                                     const char           *label,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
GPtrArray *tessera_token_import_certificates_finish (TesseraToken         *token,
                                                     GAsyncResult         *result,
                                                     GError              **error);

GBytes   *tessera_certificate_export              (TesseraObject        *certificate,
                                                   TesseraCertificateFormat format,
                                                   GError              **error);

G_END_DECLS
