/* tessera-object.h: one object on a token, with the attributes Tessera reads
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-types.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_OBJECT (tessera_object_get_type ())

G_DECLARE_FINAL_TYPE (TesseraObject, tessera_object, TESSERA, OBJECT, GObject)

typedef enum {
  TESSERA_OBJECT_KIND_PRIVATE_KEY,
  TESSERA_OBJECT_KIND_PUBLIC_KEY,
  TESSERA_OBJECT_KIND_CERTIFICATE,
  TESSERA_OBJECT_KIND_DATA,
  TESSERA_OBJECT_KIND_SECRET_KEY,
  TESSERA_OBJECT_KIND_OTHER,
} TesseraObjectKind;

typedef enum {
  TESSERA_KEY_TYPE_NONE,
  TESSERA_KEY_TYPE_RSA,
  TESSERA_KEY_TYPE_EC,
  TESSERA_KEY_TYPE_ED25519,
  TESSERA_KEY_TYPE_OTHER,
} TesseraKeyType;

typedef enum /*< flags >*/ {
  TESSERA_KEY_USAGE_NONE    = 0,
  TESSERA_KEY_USAGE_SIGN    = 1 << 0,
  TESSERA_KEY_USAGE_VERIFY  = 1 << 1,
  TESSERA_KEY_USAGE_ENCRYPT = 1 << 2,
  TESSERA_KEY_USAGE_DECRYPT = 1 << 3,
  TESSERA_KEY_USAGE_WRAP    = 1 << 4,
  TESSERA_KEY_USAGE_UNWRAP  = 1 << 5,
  TESSERA_KEY_USAGE_DERIVE  = 1 << 6,
} TesseraKeyUsage;

TesseraObjectKind  tessera_object_get_kind          (TesseraObject *self);
const char        *tessera_object_get_kind_name     (TesseraObject *self);
gulong             tessera_object_get_handle        (TesseraObject *self);
const char        *tessera_object_get_label         (TesseraObject *self);
const char        *tessera_object_get_display_label (TesseraObject *self);
GBytes            *tessera_object_get_id            (TesseraObject *self);
const char        *tessera_object_get_id_hex        (TesseraObject *self);
const char        *tessera_object_get_uri           (TesseraObject *self);
gboolean           tessera_object_get_private       (TesseraObject *self);
gboolean           tessera_object_get_modifiable    (TesseraObject *self);

/* keys */
TesseraKeyType     tessera_object_get_key_type      (TesseraObject *self);
guint              tessera_object_get_key_bits      (TesseraObject *self);
const char        *tessera_object_get_curve         (TesseraObject *self);
char              *tessera_object_describe_key_type (TesseraObject *self);
TesseraKeyUsage    tessera_object_get_usage         (TesseraObject *self);
char              *tessera_object_describe_usage    (TesseraObject *self);
gboolean           tessera_object_get_sensitive     (TesseraObject *self);
gboolean           tessera_object_get_extractable   (TesseraObject *self);
gboolean           tessera_object_get_always_authenticate (TesseraObject *self);
gboolean           tessera_object_get_local         (TesseraObject *self);
GBytes            *tessera_object_get_modulus       (TesseraObject *self);
GBytes            *tessera_object_get_public_exponent (TesseraObject *self);
GBytes            *tessera_object_get_ec_params     (TesseraObject *self);
GBytes            *tessera_object_get_ec_point      (TesseraObject *self);

/* certificates */
GBytes            *tessera_object_get_value         (TesseraObject *self);
const char        *tessera_object_get_subject       (TesseraObject *self);
const char        *tessera_object_get_issuer        (TesseraObject *self);
const char        *tessera_object_get_serial        (TesseraObject *self);
GDateTime         *tessera_object_get_not_before    (TesseraObject *self);
GDateTime         *tessera_object_get_not_after     (TesseraObject *self);
const char        *tessera_object_get_fingerprint_sha256 (TesseraObject *self);
const char        *tessera_object_get_fingerprint_sha1 (TesseraObject *self);
const char        *tessera_object_get_certificate_usage (TesseraObject *self);
const GError      *tessera_object_get_parse_error   (TesseraObject *self);

/* data objects */
const char        *tessera_object_get_application   (TesseraObject *self);

char              *tessera_bytes_to_hex             (GBytes        *bytes,
                                                     char           separator);

G_END_DECLS
