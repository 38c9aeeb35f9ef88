/* tessera-object.c: one object on a token, with the attributes Tessera reads
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tessera-module-host.h"
#include "tessera-private.h"

#ifndef CKK_EC_EDWARDS
# define CKK_EC_EDWARDS 0x40UL
#endif

struct _TesseraObject
{
  GObject            parent_instance;

  TesseraObjectKind  kind;
  CK_OBJECT_HANDLE   handle;
  char              *label;
  char              *display_label;  /* made on the main context, when asked */
  GBytes            *id;
  char              *id_hex;
  char              *uri;
  gboolean           is_private;
  gboolean           modifiable;

  TesseraKeyType     key_type;
  guint              key_bits;
  const char        *curve;
  TesseraKeyUsage    usage;
  gboolean           sensitive;
  gboolean           extractable;
  gboolean           always_authenticate;
  gboolean           local;
  GBytes            *modulus;
  GBytes            *public_exponent;
  GBytes            *ec_params;
  GBytes            *ec_point;

  GBytes            *value;
  char              *subject;
  char              *issuer;
  char              *serial;
  GDateTime         *not_before;
  GDateTime         *not_after;
  char              *fingerprint_sha256;
  char              *fingerprint_sha1;
  char              *certificate_usage;
  GError            *parse_error;

  char              *application;
};

G_DEFINE_FINAL_TYPE (TesseraObject, tessera_object, G_TYPE_OBJECT)

static void
tessera_object_finalize (GObject *object)
{
  TesseraObject *self = (TesseraObject *) object;

  g_clear_pointer (&self->label, g_free);
  g_clear_pointer (&self->display_label, g_free);
  g_clear_pointer (&self->id, g_bytes_unref);
  g_clear_pointer (&self->id_hex, g_free);
  g_clear_pointer (&self->uri, g_free);
  g_clear_pointer (&self->modulus, g_bytes_unref);
  g_clear_pointer (&self->public_exponent, g_bytes_unref);
  g_clear_pointer (&self->ec_params, g_bytes_unref);
  g_clear_pointer (&self->ec_point, g_bytes_unref);
  g_clear_pointer (&self->value, g_bytes_unref);
  g_clear_pointer (&self->subject, g_free);
  g_clear_pointer (&self->issuer, g_free);
  g_clear_pointer (&self->serial, g_free);
  g_clear_pointer (&self->not_before, g_date_time_unref);
  g_clear_pointer (&self->not_after, g_date_time_unref);
  g_clear_pointer (&self->fingerprint_sha256, g_free);
  g_clear_pointer (&self->fingerprint_sha1, g_free);
  g_clear_pointer (&self->certificate_usage, g_free);
  g_clear_error (&self->parse_error);
  g_clear_pointer (&self->application, g_free);

  G_OBJECT_CLASS (tessera_object_parent_class)->finalize (object);
}

static void
tessera_object_class_init (TesseraObjectClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tessera_object_finalize;
}

static void
tessera_object_init (TesseraObject *self)
{
}

/**
 * tessera_bytes_to_hex:
 * @bytes: (nullable): bytes
 * @separator: a character between bytes, or 0 for none
 *
 * Returns: (transfer full): lower-case hexadecimal, the way pkcs11-tool
 *   and p11tool print IDs
 */
char *
tessera_bytes_to_hex (GBytes *bytes,
                      char    separator)
{
  const guint8 *data;
  gsize size;
  GString *str;

  if (bytes == NULL)
    return g_strdup ("");

  data = g_bytes_get_data (bytes, &size);
  str = g_string_sized_new (size * 3);
  for (gsize i = 0; i < size; i++)
    {
      if (i > 0 && separator != 0)
        g_string_append_c (str, separator);
      g_string_append_printf (str, "%02x", data[i]);
    }

  return g_string_free (str, FALSE);
}

/* Reading ------------------------------------------------------------------
 *
 * Every attribute Tessera shows is fetched in one C_GetAttributeValue call
 * per object, into buffers sized for what real tokens hold.  PKCS#11
 * requires modules to fill in every attribute they can even when some are
 * invalid for the object or sensitive, so one call serves all object
 * classes.  Only a value that does not fit costs more calls.
 *
 * Nothing secret is asked for: no CKA_VALUE except on certificates, no
 * private exponent, no private EC value.
 *
 * Nothing a module answers is trusted.  A length is read only after it
 * was checked against the room the value was given, and a length asked
 * for against the most Tessera accepts for that attribute:
 *
 *   CKA_LABEL, CKA_ID, CKA_APPLICATION        64 KiB
 *   CKA_MODULUS, CKA_PUBLIC_EXPONENT,
 *   CKA_EC_PARAMS, CKA_EC_POINT               16 KiB (RSA 16384 is 2 KiB)
 *   CKA_VALUE, of certificates only           1 MiB
 *   CK_ULONG and CK_BBOOL values              their own size
 *
 * An object whose answer cannot be right (a length beyond its room, or
 * beyond these, or no CKA_CLASS) is kept as an unreadable object of kind
 * TESSERA_OBJECT_KIND_OTHER, with no label or ID, not modifiable, and
 * the reason in tessera_object_get_parse_error(); the token's other
 * objects are read as usual.
 */

#define MAX_TEXT          (64 * 1024)
#define MAX_KEY_MATERIAL  (16 * 1024)
#define MAX_CERTIFICATE   (1024 * 1024)

/* More objects than any token holds: a module that keeps listing more
 * is lying, and would otherwise never end the listing. */
#define MAX_OBJECTS       100000

enum {
  A_CLASS,
  A_KEY_TYPE,
  A_CERTIFICATE_TYPE,
  A_LABEL,
  A_ID,
  A_PRIVATE,
  A_MODIFIABLE,
  A_SIGN,
  A_VERIFY,
  A_ENCRYPT,
  A_DECRYPT,
  A_WRAP,
  A_UNWRAP,
  A_DERIVE,
  A_SENSITIVE,
  A_EXTRACTABLE,
  A_ALWAYS_AUTHENTICATE,
  A_LOCAL,
  A_MODULUS,
  A_MODULUS_BITS,
  A_PUBLIC_EXPONENT,
  A_EC_PARAMS,
  A_EC_POINT,
  A_APPLICATION,
  A_VALUE,          /* certificates only: keep last */
  N_ATTRIBUTES
};

#define ATTRIBUTE(type, size, max) { type, #type, size, max }
#define FIXED(type, size) { type, #type, size, size }

/* @size: the room preallocated; @max: the most accepted */
static const struct {
  CK_ATTRIBUTE_TYPE type;
  const char       *name;
  CK_ULONG          size;
  CK_ULONG          max;
} attribute_layout[N_ATTRIBUTES] = {
  [A_CLASS]               = FIXED (CKA_CLASS, sizeof (CK_OBJECT_CLASS)),
  [A_KEY_TYPE]            = FIXED (CKA_KEY_TYPE, sizeof (CK_KEY_TYPE)),
  [A_CERTIFICATE_TYPE]    = FIXED (CKA_CERTIFICATE_TYPE, sizeof (CK_CERTIFICATE_TYPE)),
  [A_LABEL]               = ATTRIBUTE (CKA_LABEL, 256, MAX_TEXT),
  [A_ID]                  = ATTRIBUTE (CKA_ID, 128, MAX_TEXT),
  [A_PRIVATE]             = FIXED (CKA_PRIVATE, sizeof (CK_BBOOL)),
  [A_MODIFIABLE]          = FIXED (CKA_MODIFIABLE, sizeof (CK_BBOOL)),
  [A_SIGN]                = FIXED (CKA_SIGN, sizeof (CK_BBOOL)),
  [A_VERIFY]              = FIXED (CKA_VERIFY, sizeof (CK_BBOOL)),
  [A_ENCRYPT]             = FIXED (CKA_ENCRYPT, sizeof (CK_BBOOL)),
  [A_DECRYPT]             = FIXED (CKA_DECRYPT, sizeof (CK_BBOOL)),
  [A_WRAP]                = FIXED (CKA_WRAP, sizeof (CK_BBOOL)),
  [A_UNWRAP]              = FIXED (CKA_UNWRAP, sizeof (CK_BBOOL)),
  [A_DERIVE]              = FIXED (CKA_DERIVE, sizeof (CK_BBOOL)),
  [A_SENSITIVE]           = FIXED (CKA_SENSITIVE, sizeof (CK_BBOOL)),
  [A_EXTRACTABLE]         = FIXED (CKA_EXTRACTABLE, sizeof (CK_BBOOL)),
  [A_ALWAYS_AUTHENTICATE] = FIXED (CKA_ALWAYS_AUTHENTICATE, sizeof (CK_BBOOL)),
  [A_LOCAL]               = FIXED (CKA_LOCAL, sizeof (CK_BBOOL)),
  [A_MODULUS]             = ATTRIBUTE (CKA_MODULUS, 1024, MAX_KEY_MATERIAL),   /* RSA 8192 */
  [A_MODULUS_BITS]        = FIXED (CKA_MODULUS_BITS, sizeof (CK_ULONG)),
  [A_PUBLIC_EXPONENT]     = ATTRIBUTE (CKA_PUBLIC_EXPONENT, 64, MAX_KEY_MATERIAL),
  [A_EC_PARAMS]           = ATTRIBUTE (CKA_EC_PARAMS, 128, MAX_KEY_MATERIAL),
  [A_EC_POINT]            = ATTRIBUTE (CKA_EC_POINT, 160, MAX_KEY_MATERIAL),
  [A_APPLICATION]         = ATTRIBUTE (CKA_APPLICATION, 256, MAX_TEXT),
  [A_VALUE]               = ATTRIBUTE (CKA_VALUE, 4096, MAX_CERTIFICATE),
};

#undef FIXED
#undef ATTRIBUTE

typedef struct
{
  CK_ATTRIBUTE template[N_ATTRIBUTES];
  guint8      *storage;
  gsize        offsets[N_ATTRIBUTES];
  guint8      *grown[N_ATTRIBUTES];
} AttributeReader;

static void
attribute_reader_init (AttributeReader *reader)
{
  gsize total = 0;

  memset (reader, 0, sizeof *reader);
  for (guint i = 0; i < N_ATTRIBUTES; i++)
    {
      reader->offsets[i] = total;
      total += attribute_layout[i].size;
      total = (total + 7) & ~(gsize) 7;
    }
  reader->storage = g_malloc0 (total);
}

static void
attribute_reader_clear (AttributeReader *reader)
{
  for (guint i = 0; i < N_ATTRIBUTES; i++)
    g_clear_pointer (&reader->grown[i], g_free);
  g_clear_pointer (&reader->storage, g_free);
}

static void
attribute_reader_reset (AttributeReader *reader)
{
  for (guint i = 0; i < N_ATTRIBUTES; i++)
    {
      g_clear_pointer (&reader->grown[i], g_free);
      reader->template[i].type = attribute_layout[i].type;
      reader->template[i].pValue = reader->storage + reader->offsets[i];
      reader->template[i].ulValueLen = attribute_layout[i].size;
    }
}

static void
set_impossible_length (GError   **error,
                       guint      index,
                       CK_ULONG   length,
                       CK_ULONG   room)
{
  g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID,
               /* Translators: %s is a PKCS#11 attribute name, such as CKA_LABEL */
               _("The token’s module gave an impossible length for this object’s %s: "
                 "%lu bytes, in room for %lu. The object was not read."),
               attribute_layout[index].name, (unsigned long) length, (unsigned long) room);
}

/* Fetches one attribute that did not fit into its preallocated buffer.
 * Returns %FALSE, with @error set, when the module's answer cannot be
 * right; a value the module does not give is left unavailable. */
static gboolean
attribute_reader_grow (AttributeReader   *reader,
                       CK_FUNCTION_LIST  *functions,
                       CK_SESSION_HANDLE  session,
                       CK_OBJECT_HANDLE   handle,
                       guint              index,
                       GError           **error)
{
  CK_ATTRIBUTE attribute = { attribute_layout[index].type, NULL, 0 };
  CK_ULONG room;
  CK_RV rv;

  reader->template[index].ulValueLen = CK_UNAVAILABLE_INFORMATION;

  rv = functions->C_GetAttributeValue (session, handle, &attribute, 1);
  if (rv != CKR_OK || attribute.ulValueLen == CK_UNAVAILABLE_INFORMATION)
    return TRUE;

  if (attribute.ulValueLen > attribute_layout[index].max)
    {
      g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID,
                   /* Translators: %s is a PKCS#11 attribute name, such as CKA_LABEL */
                   _("The token’s module says this object’s %s is %lu bytes long, more than "
                     "the %lu bytes Tessera accepts. The object was not read."),
                   attribute_layout[index].name, (unsigned long) attribute.ulValueLen,
                   (unsigned long) attribute_layout[index].max);
      return FALSE;
    }

  room = attribute.ulValueLen;
  reader->grown[index] = g_malloc0 (MAX (room, 1));
  attribute.pValue = reader->grown[index];
  rv = functions->C_GetAttributeValue (session, handle, &attribute, 1);
  if (rv == TESSERA_CKR_MODULE_INVALID_ANSWER)
    {
      _tessera_set_ck_error (error, rv, _("The object could not be read"));
      return FALSE;
    }
  if (rv != CKR_OK || attribute.ulValueLen == CK_UNAVAILABLE_INFORMATION)
    return TRUE;
  if (attribute.ulValueLen > room)
    {
      set_impossible_length (error, index, attribute.ulValueLen, room);
      return FALSE;
    }

  reader->template[index] = attribute;
  return TRUE;
}

static gboolean
attribute_present (const AttributeReader *reader,
                   guint                  index)
{
  return reader->template[index].ulValueLen != CK_UNAVAILABLE_INFORMATION;
}

static CK_ULONG
attribute_ulong (const AttributeReader *reader,
                 guint                  index,
                 CK_ULONG               fallback)
{
  if (!attribute_present (reader, index) ||
      reader->template[index].ulValueLen != sizeof (CK_ULONG))
    return fallback;
  return *(CK_ULONG *) reader->template[index].pValue;
}

static gboolean
attribute_bool (const AttributeReader *reader,
                guint                  index,
                gboolean               fallback)
{
  if (!attribute_present (reader, index) ||
      reader->template[index].ulValueLen != sizeof (CK_BBOOL))
    return fallback;
  return *(CK_BBOOL *) reader->template[index].pValue != CK_FALSE;
}

static GBytes *
attribute_bytes (const AttributeReader *reader,
                 guint                  index)
{
  if (!attribute_present (reader, index))
    return NULL;
  return g_bytes_new (reader->template[index].pValue, reader->template[index].ulValueLen);
}

static char *
attribute_string (const AttributeReader *reader,
                  guint                  index)
{
  const char *data;
  gsize len;

  if (!attribute_present (reader, index))
    return g_strdup ("");

  data = reader->template[index].pValue;
  len = reader->template[index].ulValueLen;
  if (!g_utf8_validate (data, len, NULL))
    return g_utf8_make_valid (data, len);
  return g_strndup (data, len);
}

/* Curves ------------------------------------------------------------------ */

static const struct {
  const char   *name;
  guint         bits;
  const guint8 *der;
  gsize         der_len;
} curves[] = {
  { "P-256", 256, (const guint8 *) "\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 10 },
  { "P-384", 384, (const guint8 *) "\x06\x05\x2b\x81\x04\x00\x22", 7 },
  { "P-521", 521, (const guint8 *) "\x06\x05\x2b\x81\x04\x00\x23", 7 },
  { "secp256k1", 256, (const guint8 *) "\x06\x05\x2b\x81\x04\x00\x0a", 7 },
  { "Ed25519", 255, (const guint8 *) "\x06\x03\x2b\x65\x70", 5 },
  { "Ed25519", 255, (const guint8 *) "\x13\x0c" "edwards25519", 14 },
  { "Ed448", 448, (const guint8 *) "\x06\x03\x2b\x65\x71", 5 },
  { "Ed448", 448, (const guint8 *) "\x13\x0a" "edwards448", 12 },
};

static void
object_set_curve (TesseraObject *self)
{
  const guint8 *data;
  gsize len;

  if (self->ec_params == NULL)
    return;

  data = g_bytes_get_data (self->ec_params, &len);
  for (guint i = 0; i < G_N_ELEMENTS (curves); i++)
    {
      if (len == curves[i].der_len && memcmp (data, curves[i].der, len) == 0)
        {
          self->curve = curves[i].name;
          self->key_bits = curves[i].bits;
          if (g_str_equal (curves[i].name, "Ed25519"))
            self->key_type = TESSERA_KEY_TYPE_ED25519;
          else if (g_str_has_prefix (curves[i].name, "Ed"))
            self->key_type = TESSERA_KEY_TYPE_OTHER;
          return;
        }
    }
}

static guint
modulus_bits (GBytes *modulus)
{
  const guint8 *data;
  gsize len, i = 0;
  guint bits;

  if (modulus == NULL)
    return 0;

  data = g_bytes_get_data (modulus, &len);
  while (i < len && data[i] == 0)
    i++;
  if (i == len)
    return 0;

  bits = (len - i) * 8;
  for (guint8 top = data[i]; (top & 0x80) == 0; top <<= 1)
    bits--;
  return bits;
}

/* Certificates ------------------------------------------------------------ */

static char *
format_fingerprint (const guint8 *digest,
                    gsize         len)
{
  g_autoptr(GBytes) bytes = g_bytes_new (digest, len);
  g_autofree char *hex = tessera_bytes_to_hex (bytes, ':');

  return g_ascii_strup (hex, -1);
}

static char *
describe_certificate_usage (unsigned int usage)
{
  static const struct { unsigned int bit; const char *name; } names[] = {
    { GNUTLS_KEY_DIGITAL_SIGNATURE, N_("Digital signature") },
    { GNUTLS_KEY_NON_REPUDIATION, N_("Non-repudiation") },
    { GNUTLS_KEY_KEY_ENCIPHERMENT, N_("Key encipherment") },
    { GNUTLS_KEY_DATA_ENCIPHERMENT, N_("Data encipherment") },
    { GNUTLS_KEY_KEY_AGREEMENT, N_("Key agreement") },
    { GNUTLS_KEY_KEY_CERT_SIGN, N_("Certificate signing") },
    { GNUTLS_KEY_CRL_SIGN, N_("CRL signing") },
    { GNUTLS_KEY_ENCIPHER_ONLY, N_("Encipher only") },
    { GNUTLS_KEY_DECIPHER_ONLY, N_("Decipher only") },
  };
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (usage & names[i].bit)
      {
        if (text->len > 0)
          g_string_append (text, ", ");
        g_string_append (text, _(names[i].name));
      }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
object_parse_certificate (TesseraObject *self)
{
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t der, dn = { NULL, 0 };
  guint8 buffer[64];
  size_t size;
  unsigned int bits = 0;
  unsigned int usage = 0;
  time_t when;
  int ret;

  if (self->value == NULL || g_bytes_get_size (self->value) == 0)
    {
      g_set_error (&self->parse_error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                   _("The certificate object holds no certificate data."));
      return;
    }

  der.data = (unsigned char *) g_bytes_get_data (self->value, NULL);
  der.size = g_bytes_get_size (self->value);

  gnutls_x509_crt_init (&crt);
  ret = gnutls_x509_crt_import (crt, &der, GNUTLS_X509_FMT_DER);
  if (ret < 0)
    {
      g_set_error (&self->parse_error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                   _("The certificate could not be read: %s"), gnutls_strerror (ret));
      gnutls_x509_crt_deinit (crt);
      return;
    }

  if (gnutls_x509_crt_get_dn3 (crt, &dn, 0) >= 0)
    {
      self->subject = g_strndup ((const char *) dn.data, dn.size);
      gnutls_free (dn.data);
    }
  if (gnutls_x509_crt_get_issuer_dn3 (crt, &dn, 0) >= 0)
    {
      self->issuer = g_strndup ((const char *) dn.data, dn.size);
      gnutls_free (dn.data);
    }

  size = sizeof buffer;
  if (gnutls_x509_crt_get_serial (crt, buffer, &size) >= 0)
    {
      g_autoptr(GBytes) serial = g_bytes_new (buffer, size);
      self->serial = tessera_bytes_to_hex (serial, ':');
    }

  when = gnutls_x509_crt_get_activation_time (crt);
  if (when != (time_t) -1)
    self->not_before = g_date_time_new_from_unix_utc (when);
  when = gnutls_x509_crt_get_expiration_time (crt);
  if (when != (time_t) -1)
    self->not_after = g_date_time_new_from_unix_utc (when);

  size = sizeof buffer;
  if (gnutls_x509_crt_get_fingerprint (crt, GNUTLS_DIG_SHA256, buffer, &size) >= 0)
    self->fingerprint_sha256 = format_fingerprint (buffer, size);
  size = sizeof buffer;
  if (gnutls_x509_crt_get_fingerprint (crt, GNUTLS_DIG_SHA1, buffer, &size) >= 0)
    self->fingerprint_sha1 = format_fingerprint (buffer, size);

  if (gnutls_x509_crt_get_key_usage (crt, &usage, NULL) >= 0)
    self->certificate_usage = describe_certificate_usage (usage);

  switch (gnutls_x509_crt_get_pk_algorithm (crt, &bits))
    {
    case GNUTLS_PK_RSA:
      self->key_type = TESSERA_KEY_TYPE_RSA;
      self->key_bits = bits;
      break;
    case GNUTLS_PK_ECDSA:
      {
        gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;

        self->key_type = TESSERA_KEY_TYPE_EC;
        self->key_bits = bits;
        if (gnutls_x509_crt_get_pk_ecc_raw (crt, &curve, NULL, NULL) >= 0)
          {
            if (curve == GNUTLS_ECC_CURVE_SECP256R1)
              self->curve = "P-256";
            else if (curve == GNUTLS_ECC_CURVE_SECP384R1)
              self->curve = "P-384";
            else if (curve == GNUTLS_ECC_CURVE_SECP521R1)
              self->curve = "P-521";
          }
      }
      break;
    case GNUTLS_PK_EDDSA_ED25519:
      self->key_type = TESSERA_KEY_TYPE_ED25519;
      self->key_bits = 255;
      self->curve = "Ed25519";
      break;
    default:
      self->key_type = TESSERA_KEY_TYPE_OTHER;
      self->key_bits = bits;
      break;
    }

  gnutls_x509_crt_deinit (crt);
}

/* Building an object from its attributes ----------------------------------- */

static char *
object_build_uri (TesseraObject       *self,
                  const CK_TOKEN_INFO *token_info,
                  CK_OBJECT_CLASS      klass)
{
  P11KitUri *uri = p11_kit_uri_new ();
  CK_ATTRIBUTE attribute;
  char *string = NULL;

  memcpy (p11_kit_uri_get_token_info (uri), token_info, sizeof *token_info);
  _tessera_token_info_pad (p11_kit_uri_get_token_info (uri));

  /* Unknown for an object that could not be read */
  if (klass != (CK_OBJECT_CLASS) -1)
    {
      attribute.type = CKA_CLASS;
      attribute.pValue = &klass;
      attribute.ulValueLen = sizeof klass;
      p11_kit_uri_set_attribute (uri, &attribute);
    }

  if (self->label[0] != '\0')
    {
      attribute.type = CKA_LABEL;
      attribute.pValue = self->label;
      attribute.ulValueLen = strlen (self->label);
      p11_kit_uri_set_attribute (uri, &attribute);
    }

  if (self->id != NULL && g_bytes_get_size (self->id) > 0)
    {
      attribute.type = CKA_ID;
      attribute.pValue = (void *) g_bytes_get_data (self->id, NULL);
      attribute.ulValueLen = g_bytes_get_size (self->id);
      p11_kit_uri_set_attribute (uri, &attribute);
    }

  if (p11_kit_uri_format (uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &string) != P11_KIT_URI_OK)
    string = NULL;
  p11_kit_uri_free (uri);

  return string;
}

static TesseraObject *
object_new_from_attributes (const AttributeReader *reader,
                            CK_OBJECT_HANDLE       handle,
                            const CK_TOKEN_INFO   *token_info)
{
  TesseraObject *self = g_object_new (TESSERA_TYPE_OBJECT, NULL);
  CK_OBJECT_CLASS klass = attribute_ulong (reader, A_CLASS, (CK_ULONG) -1);
  char *uri;

  self->handle = handle;
  self->label = attribute_string (reader, A_LABEL);
  self->id = attribute_bytes (reader, A_ID);
  if (self->id == NULL)
    self->id = g_bytes_new (NULL, 0);
  self->id_hex = tessera_bytes_to_hex (self->id, 0);
  self->is_private = attribute_bool (reader, A_PRIVATE, FALSE);
  self->modifiable = attribute_bool (reader, A_MODIFIABLE, TRUE);

  switch (klass)
    {
    case CKO_PRIVATE_KEY:
      self->kind = TESSERA_OBJECT_KIND_PRIVATE_KEY;
      break;
    case CKO_PUBLIC_KEY:
      self->kind = TESSERA_OBJECT_KIND_PUBLIC_KEY;
      break;
    case CKO_CERTIFICATE:
      self->kind = TESSERA_OBJECT_KIND_CERTIFICATE;
      break;
    case CKO_DATA:
      self->kind = TESSERA_OBJECT_KIND_DATA;
      break;
    case CKO_SECRET_KEY:
      self->kind = TESSERA_OBJECT_KIND_SECRET_KEY;
      break;
    default:
      self->kind = TESSERA_OBJECT_KIND_OTHER;
      break;
    }

  if (self->kind == TESSERA_OBJECT_KIND_PRIVATE_KEY ||
      self->kind == TESSERA_OBJECT_KIND_PUBLIC_KEY ||
      self->kind == TESSERA_OBJECT_KIND_SECRET_KEY)
    {
      static const struct { guint index; TesseraKeyUsage usage; } usages[] = {
        { A_SIGN, TESSERA_KEY_USAGE_SIGN },
        { A_VERIFY, TESSERA_KEY_USAGE_VERIFY },
        { A_ENCRYPT, TESSERA_KEY_USAGE_ENCRYPT },
        { A_DECRYPT, TESSERA_KEY_USAGE_DECRYPT },
        { A_WRAP, TESSERA_KEY_USAGE_WRAP },
        { A_UNWRAP, TESSERA_KEY_USAGE_UNWRAP },
        { A_DERIVE, TESSERA_KEY_USAGE_DERIVE },
      };
      CK_KEY_TYPE key_type = attribute_ulong (reader, A_KEY_TYPE, (CK_ULONG) -1);

      for (guint i = 0; i < G_N_ELEMENTS (usages); i++)
        if (attribute_bool (reader, usages[i].index, FALSE))
          self->usage |= usages[i].usage;

      self->sensitive = attribute_bool (reader, A_SENSITIVE, FALSE);
      self->extractable = attribute_bool (reader, A_EXTRACTABLE, FALSE);
      self->always_authenticate = attribute_bool (reader, A_ALWAYS_AUTHENTICATE, FALSE);
      self->local = attribute_bool (reader, A_LOCAL, FALSE);

      if (key_type == CKK_RSA)
        {
          self->key_type = TESSERA_KEY_TYPE_RSA;
          self->modulus = attribute_bytes (reader, A_MODULUS);
          self->public_exponent = attribute_bytes (reader, A_PUBLIC_EXPONENT);
          self->key_bits = attribute_ulong (reader, A_MODULUS_BITS, 0);
          if (self->key_bits == 0)
            self->key_bits = modulus_bits (self->modulus);
        }
      else if (key_type == CKK_EC || key_type == CKK_EC_EDWARDS)
        {
          self->key_type = key_type == CKK_EC ? TESSERA_KEY_TYPE_EC : TESSERA_KEY_TYPE_ED25519;
          self->ec_params = attribute_bytes (reader, A_EC_PARAMS);
          self->ec_point = attribute_bytes (reader, A_EC_POINT);
          object_set_curve (self);
        }
      else if (key_type != (CK_KEY_TYPE) -1)
        {
          self->key_type = TESSERA_KEY_TYPE_OTHER;
        }
    }
  else if (self->kind == TESSERA_OBJECT_KIND_CERTIFICATE)
    {
      if (attribute_ulong (reader, A_CERTIFICATE_TYPE, CKC_X_509) == CKC_X_509)
        {
          self->value = attribute_bytes (reader, A_VALUE);
          object_parse_certificate (self);
        }
      else
        {
          g_set_error (&self->parse_error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_NOT_SUPPORTED,
                       _("This is not an X.509 certificate."));
        }
    }
  else if (self->kind == TESSERA_OBJECT_KIND_DATA)
    {
      self->application = attribute_string (reader, A_APPLICATION);
    }

  uri = object_build_uri (self, token_info, klass);
  self->uri = uri;

  return self;
}

/* An object the module gave an answer about that cannot be right: nothing
 * of it is shown but its handle, and @error, which it takes. */
static TesseraObject *
object_new_unreadable (CK_OBJECT_HANDLE     handle,
                       const CK_TOKEN_INFO *token_info,
                       GError              *error)
{
  TesseraObject *self = g_object_new (TESSERA_TYPE_OBJECT, NULL);

  g_debug ("Object %lu could not be read: %s", (unsigned long) handle, error->message);

  self->handle = handle;
  self->kind = TESSERA_OBJECT_KIND_OTHER;
  self->label = g_strdup ("");
  self->id = g_bytes_new (NULL, 0);
  self->id_hex = g_strdup ("");
  self->modifiable = FALSE;
  self->parse_error = error;
  self->uri = object_build_uri (self, token_info, (CK_OBJECT_CLASS) -1);

  return self;
}

/* Finds every object matching @match, in batches. */
static GArray *
find_objects (CK_FUNCTION_LIST  *functions,
              CK_SESSION_HANDLE  session,
              CK_ATTRIBUTE      *match,
              CK_ULONG           n_match,
              CK_RV             *rv_out,
              GError           **error)
{
  g_autoptr(GArray) handles = g_array_new (FALSE, FALSE, sizeof (CK_OBJECT_HANDLE));
  CK_OBJECT_HANDLE batch[512];
  CK_ULONG count = 0;
  CK_RV rv;

  rv = *rv_out = functions->C_FindObjectsInit (session, match, n_match);
  if (rv != CKR_OK)
    {
      _tessera_set_ck_error (error, rv, _("Could not list the token’s objects"));
      return NULL;
    }

  do
    {
      rv = functions->C_FindObjects (session, batch, G_N_ELEMENTS (batch), &count);
      if (rv != CKR_OK)
        break;
      if (count > G_N_ELEMENTS (batch))
        {
          rv = TESSERA_CKR_MODULE_INVALID_ANSWER;
          break;
        }
      if (handles->len + count > MAX_OBJECTS)
        {
          functions->C_FindObjectsFinal (session);
          *rv_out = TESSERA_CKR_MODULE_INVALID_ANSWER;
          g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID,
                       _("Could not list the token’s objects: its module listed more than %u."),
                       (guint) MAX_OBJECTS);
          return NULL;
        }
      g_array_append_vals (handles, batch, count);
    }
  while (count == G_N_ELEMENTS (batch));

  functions->C_FindObjectsFinal (session);

  *rv_out = rv;
  if (rv != CKR_OK)
    {
      _tessera_set_ck_error (error, rv, _("Could not list the token’s objects"));
      return NULL;
    }

  return g_steal_pointer (&handles);
}

/* A set of handles, for a lookup per object that does not grow with the
 * token.  Handles are CK_ULONG, which fit a pointer on every platform
 * p11-kit supports. */
static GHashTable *
handle_set_new (GArray *handles)
{
  GHashTable *set = g_hash_table_new (g_direct_hash, g_direct_equal);

  for (guint i = 0; i < handles->len; i++)
    g_hash_table_add (set, GSIZE_TO_POINTER ((gsize) g_array_index (handles, CK_OBJECT_HANDLE, i)));
  return set;
}

static gboolean
handle_in (GHashTable       *set,
           CK_OBJECT_HANDLE  handle)
{
  return g_hash_table_contains (set, GSIZE_TO_POINTER ((gsize) handle));
}

/* Whether an object of this class and key type has the attribute, so
 * that its absence from a partial answer means it did not fit. */
static gboolean
attribute_expected (const AttributeReader *reader,
                    guint                  index,
                    gboolean               is_certificate)
{
  CK_OBJECT_CLASS klass = attribute_ulong (reader, A_CLASS, (CK_ULONG) -1);
  CK_KEY_TYPE key_type = attribute_ulong (reader, A_KEY_TYPE, (CK_ULONG) -1);
  gboolean key_pair = klass == CKO_PUBLIC_KEY || klass == CKO_PRIVATE_KEY;
  gboolean ec = key_type == CKK_EC || key_type == CKK_EC_EDWARDS;

  switch (index)
    {
    case A_LABEL:
      return TRUE;
    case A_ID:
      return klass != CKO_DATA;
    case A_VALUE:
      return is_certificate;
    case A_MODULUS:
    case A_PUBLIC_EXPONENT:
      return key_pair && key_type == CKK_RSA;
    case A_EC_PARAMS:
      return key_pair && ec;
    case A_EC_POINT:
      return klass == CKO_PUBLIC_KEY && ec;
    case A_APPLICATION:
      return klass == CKO_DATA;
    default:
      return FALSE;
    }
}

/* Reads @handle's attributes into @reader in one C_GetAttributeValue,
 * more only for values that did not fit.  Every length left in @reader
 * fits its buffer.  Returns TESSERA_CKR_MODULE_INVALID_ANSWER, with
 * @error set, when the module's answer cannot be right; other failures
 * come back as the module's CK_RV, with @error unset. */
static CK_RV
read_handle (CK_FUNCTION_LIST  *functions,
             CK_SESSION_HANDLE  session,
             AttributeReader   *reader,
             CK_OBJECT_HANDLE   handle,
             gboolean           is_certificate,
             GError           **error)
{
  CK_ULONG n_attributes = is_certificate ? N_ATTRIBUTES : N_ATTRIBUTES - 1;
  CK_RV rv;

  attribute_reader_reset (reader);
  rv = functions->C_GetAttributeValue (session, handle, reader->template, n_attributes);

  if (rv == TESSERA_CKR_MODULE_INVALID_ANSWER)
    {
      _tessera_set_ck_error (error, rv, _("The object could not be read"));
      return rv;
    }
  if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL && rv != CKR_ATTRIBUTE_SENSITIVE &&
      rv != CKR_ATTRIBUTE_TYPE_INVALID)
    return rv;

  for (guint a = 0; a < n_attributes; a++)
    {
      CK_ULONG length = reader->template[a].ulValueLen;

      if (length == CK_UNAVAILABLE_INFORMATION || length <= attribute_layout[a].size)
        continue;

      /* CKR_OK says that every value fit.  With the other three a module
       * may give the length a value needs, as PKCS#11 2.20 had it. */
      if (rv == CKR_OK)
        {
          set_impossible_length (error, a, length, attribute_layout[a].size);
          return TESSERA_CKR_MODULE_INVALID_ANSWER;
        }
      reader->template[a].ulValueLen = CK_UNAVAILABLE_INFORMATION;
    }

  if (rv != CKR_OK)
    {
      /* A module reports one of the three even when a value also did
       * not fit: look again at what this kind of object must have. */
      for (guint a = 0; a < n_attributes; a++)
        if (reader->template[a].ulValueLen == CK_UNAVAILABLE_INFORMATION &&
            attribute_expected (reader, a, is_certificate) &&
            !attribute_reader_grow (reader, functions, session, handle, a, error))
          return TESSERA_CKR_MODULE_INVALID_ANSWER;
      rv = CKR_OK;
    }

  /* Every object has a class: without it, nothing else can be read right */
  if (reader->template[A_CLASS].ulValueLen != sizeof (CK_OBJECT_CLASS))
    {
      g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID,
                   /* Translators: %s is CKA_CLASS, the PKCS#11 attribute */
                   _("The token’s module did not say what kind of object this is (%s). "
                     "The object was not read."),
                   attribute_layout[A_CLASS].name);
      return TESSERA_CKR_MODULE_INVALID_ANSWER;
    }

  if (!is_certificate)
    reader->template[A_VALUE].ulValueLen = CK_UNAVAILABLE_INFORMATION;
  return rv;
}

/*
 * _tessera_object_read_one:
 * @is_certificate: whether @handle is a certificate, whose CKA_VALUE is read
 *
 * Returns: (transfer full) (nullable): the object @handle names
 */
TesseraObject *
_tessera_object_read_one (CK_FUNCTION_LIST    *functions,
                          CK_SESSION_HANDLE    session,
                          CK_OBJECT_HANDLE     handle,
                          gboolean             is_certificate,
                          const CK_TOKEN_INFO *token_info)
{
  g_autoptr(GError) error = NULL;
  AttributeReader reader;
  TesseraObject *object = NULL;

  attribute_reader_init (&reader);
  if (read_handle (functions, session, &reader, handle, is_certificate, &error) == CKR_OK)
    object = object_new_from_attributes (&reader, handle, token_info);
  else if (error != NULL)
    g_debug ("Object %lu could not be read: %s", (unsigned long) handle, error->message);
  attribute_reader_clear (&reader);
  return object;
}

/* Reads every object matching @match (all of them for none).  Certificates
 * are found first, so that CKA_VALUE, which on other objects may be
 * secret, is only ever asked of certificates.  Costs 6 calls plus one per
 * object. */
static GPtrArray *
read_matching (CK_FUNCTION_LIST    *functions,
               CK_SESSION_HANDLE    session,
               const CK_ATTRIBUTE  *match,
               CK_ULONG             n_match,
               const CK_TOKEN_INFO *token_info,
               GCancellable        *cancellable,
               CK_RV               *rv_out,
               GError             **error)
{
  g_autoptr(GPtrArray) objects = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) certificates = NULL;
  g_autoptr(GHashTable) is_certificate_set = NULL;
  g_autoptr(GArray) all = NULL;
  CK_OBJECT_CLASS certificate_class = CKO_CERTIFICATE;
  CK_ATTRIBUTE match_certificates[2];
  AttributeReader reader;

  g_assert (n_match < G_N_ELEMENTS (match_certificates));

  *rv_out = CKR_OK;

  for (CK_ULONG i = 0; i < n_match; i++)
    match_certificates[i] = match[i];
  match_certificates[n_match] = (CK_ATTRIBUTE) { CKA_CLASS, &certificate_class, sizeof certificate_class };

  certificates = find_objects (functions, session, match_certificates, n_match + 1, rv_out, error);
  if (certificates == NULL)
    return NULL;
  is_certificate_set = handle_set_new (certificates);

  all = find_objects (functions, session, (CK_ATTRIBUTE *) match, n_match, rv_out, error);
  if (all == NULL)
    return NULL;

  attribute_reader_init (&reader);

  for (guint i = 0; i < all->len; i++)
    {
      CK_OBJECT_HANDLE handle = g_array_index (all, CK_OBJECT_HANDLE, i);
      gboolean is_certificate = handle_in (is_certificate_set, handle);
      GError *unreadable = NULL;
      CK_RV rv;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          attribute_reader_clear (&reader);
          return NULL;
        }

      rv = read_handle (functions, session, &reader, handle, is_certificate, &unreadable);
      if (rv == CKR_OBJECT_HANDLE_INVALID)
        continue;   /* deleted by someone else between find and read */
      if (unreadable != NULL)
        {
          /* Shown, with why, rather than dropped: the others still list */
          g_ptr_array_add (objects, object_new_unreadable (handle, token_info, unreadable));
          continue;
        }
      if (rv != CKR_OK)
        {
          *rv_out = rv;
          _tessera_set_ck_error (error, rv, _("Could not read an object on the token"));
          attribute_reader_clear (&reader);
          return NULL;
        }

      g_ptr_array_add (objects, object_new_from_attributes (&reader, handle, token_info));
    }

  attribute_reader_clear (&reader);

  return g_steal_pointer (&objects);
}

/*
 * _tessera_object_read_all:
 * @rv_out: the return value of the call that failed
 *
 * Reads every object the session can see.  Costs 6 calls plus one per
 * object.
 */
GPtrArray *
_tessera_object_read_all (CK_FUNCTION_LIST    *functions,
                          CK_SESSION_HANDLE    session,
                          const CK_TOKEN_INFO *token_info,
                          GCancellable        *cancellable,
                          CK_RV               *rv_out,
                          GError             **error)
{
  return read_matching (functions, session, NULL, 0, token_info, cancellable, rv_out, error);
}

/*
 * _tessera_object_read_private:
 * @rv_out: the return value of the call that failed
 *
 * Reads the private objects (CKA_PRIVATE true) only: what a login can
 * reveal that was not seen before it.  Costs 6 calls plus one per
 * private object.
 */
GPtrArray *
_tessera_object_read_private (CK_FUNCTION_LIST    *functions,
                              CK_SESSION_HANDLE    session,
                              const CK_TOKEN_INFO *token_info,
                              GCancellable        *cancellable,
                              CK_RV               *rv_out,
                              GError             **error)
{
  CK_BBOOL yes = CK_TRUE;
  CK_ATTRIBUTE match = { CKA_PRIVATE, &yes, sizeof yes };

  return read_matching (functions, session, &match, 1, token_info, cancellable, rv_out, error);
}

static gboolean
bytes_equal0 (GBytes *a,
              GBytes *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_bytes_equal (a, b);
}

/*
 * _tessera_object_same:
 *
 * Whether @a and @b are the same object read the same: the same handle,
 * and every attribute Tessera read equal.  What is parsed from a
 * certificate follows from its CKA_VALUE.
 */
gboolean
_tessera_object_same (TesseraObject *a,
                      TesseraObject *b)
{
  if (a == b)
    return TRUE;

  return a->handle == b->handle &&
         a->kind == b->kind &&
         a->is_private == b->is_private &&
         a->modifiable == b->modifiable &&
         a->key_type == b->key_type &&
         a->key_bits == b->key_bits &&
         a->usage == b->usage &&
         a->sensitive == b->sensitive &&
         a->extractable == b->extractable &&
         a->always_authenticate == b->always_authenticate &&
         a->local == b->local &&
         g_strcmp0 (a->curve, b->curve) == 0 &&
         g_strcmp0 (a->label, b->label) == 0 &&
         g_strcmp0 (a->uri, b->uri) == 0 &&
         g_strcmp0 (a->application, b->application) == 0 &&
         bytes_equal0 (a->id, b->id) &&
         bytes_equal0 (a->modulus, b->modulus) &&
         bytes_equal0 (a->public_exponent, b->public_exponent) &&
         bytes_equal0 (a->ec_params, b->ec_params) &&
         bytes_equal0 (a->ec_point, b->ec_point) &&
         bytes_equal0 (a->value, b->value) &&
         (a->parse_error == NULL) == (b->parse_error == NULL) &&
         (a->parse_error == NULL || g_strcmp0 (a->parse_error->message, b->parse_error->message) == 0);
}

/* Getters ------------------------------------------------------------------ */

TesseraObjectKind
tessera_object_get_kind (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), TESSERA_OBJECT_KIND_OTHER);
  return self->kind;
}

/**
 * tessera_object_get_kind_name:
 *
 * Returns: the object's class in words, translated
 */
const char *
tessera_object_get_kind_name (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);

  switch (self->kind)
    {
    case TESSERA_OBJECT_KIND_PRIVATE_KEY:
      return _("Private key");
    case TESSERA_OBJECT_KIND_PUBLIC_KEY:
      return _("Public key");
    case TESSERA_OBJECT_KIND_CERTIFICATE:
      return _("Certificate");
    case TESSERA_OBJECT_KIND_DATA:
      return _("Data object");
    case TESSERA_OBJECT_KIND_SECRET_KEY:
      return _("Secret key");
    case TESSERA_OBJECT_KIND_OTHER:
    default:
      return _("Other object");
    }
}

gulong
tessera_object_get_handle (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), 0);
  return self->handle;
}

const char *
tessera_object_get_label (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->label;
}

/**
 * tessera_object_get_display_label:
 *
 * Returns: the label to show a person: on one line, with control
 *   characters as visible symbols (tessera_text_make_visible())
 */
const char *
tessera_object_get_display_label (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  if (self->display_label == NULL)
    self->display_label = tessera_text_make_visible (self->label);
  return self->display_label;
}

/**
 * tessera_object_get_id:
 *
 * Returns: (transfer none): the CKA_ID, possibly empty
 */
GBytes *
tessera_object_get_id (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->id;
}

const char *
tessera_object_get_id_hex (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->id_hex;
}

/**
 * tessera_object_get_uri:
 *
 * Returns: the object's PKCS#11 URI, as p11-kit formats it
 */
const char *
tessera_object_get_uri (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->uri;
}

gboolean
tessera_object_get_private (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), FALSE);
  return self->is_private;
}

gboolean
tessera_object_get_modifiable (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), FALSE);
  return self->modifiable;
}

TesseraKeyType
tessera_object_get_key_type (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), TESSERA_KEY_TYPE_NONE);
  return self->key_type;
}

guint
tessera_object_get_key_bits (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), 0);
  return self->key_bits;
}

/**
 * tessera_object_get_curve:
 *
 * Returns: (nullable): "P-256", "P-384", "P-521", "Ed25519", … for
 *   elliptic-curve keys
 */
const char *
tessera_object_get_curve (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->curve;
}

/**
 * tessera_object_describe_key_type:
 *
 * Returns: (transfer full) (nullable): "RSA 2048", "ECDSA P-256",
 *   "Ed25519", or %NULL when the object holds no key
 */
char *
tessera_object_describe_key_type (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);

  switch (self->key_type)
    {
    case TESSERA_KEY_TYPE_RSA:
      if (self->key_bits == 0)
        return g_strdup ("RSA");
      return g_strdup_printf ("RSA %u", self->key_bits);
    case TESSERA_KEY_TYPE_EC:
      if (self->curve != NULL)
        return g_strdup_printf ("ECDSA %s", self->curve);
      /* Translators: an elliptic-curve key on a curve Tessera does not know */
      return g_strdup (_("ECDSA, unknown curve"));
    case TESSERA_KEY_TYPE_ED25519:
      return g_strdup (self->curve != NULL ? self->curve : "EdDSA");
    case TESSERA_KEY_TYPE_OTHER:
      return g_strdup (_("Other key type"));
    case TESSERA_KEY_TYPE_NONE:
    default:
      return NULL;
    }
}

TesseraKeyUsage
tessera_object_get_usage (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), TESSERA_KEY_USAGE_NONE);
  return self->usage;
}

/**
 * tessera_object_describe_usage:
 *
 * Returns: (transfer full): the usages in words, "Sign, decrypt"
 */
char *
tessera_object_describe_usage (TesseraObject *self)
{
  const struct { TesseraKeyUsage usage; const char *name; } names[] = {
    { TESSERA_KEY_USAGE_SIGN, N_("sign") },
    { TESSERA_KEY_USAGE_VERIFY, N_("verify") },
    { TESSERA_KEY_USAGE_ENCRYPT, N_("encrypt") },
    { TESSERA_KEY_USAGE_DECRYPT, N_("decrypt") },
    { TESSERA_KEY_USAGE_WRAP, N_("wrap") },
    { TESSERA_KEY_USAGE_UNWRAP, N_("unwrap") },
    { TESSERA_KEY_USAGE_DERIVE, N_("derive") },
  };
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();
  g_autofree char *joined = NULL;

  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (self->usage & names[i].usage)
      g_ptr_array_add (parts, (gpointer) _(names[i].name));

  if (parts->len == 0)
    return g_strdup (_("None"));

  g_ptr_array_add (parts, NULL);
  /* Translators: the separator between key usages, "sign, decrypt" */
  joined = g_strjoinv (_(", "), (char **) parts->pdata);
  joined[0] = g_unichar_toupper (joined[0]);
  return g_steal_pointer (&joined);
}

gboolean
tessera_object_get_sensitive (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), FALSE);
  return self->sensitive;
}

gboolean
tessera_object_get_extractable (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), FALSE);
  return self->extractable;
}

gboolean
tessera_object_get_always_authenticate (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), FALSE);
  return self->always_authenticate;
}

gboolean
tessera_object_get_local (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), FALSE);
  return self->local;
}

GBytes *
tessera_object_get_modulus (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->modulus;
}

GBytes *
tessera_object_get_public_exponent (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->public_exponent;
}

GBytes *
tessera_object_get_ec_params (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->ec_params;
}

GBytes *
tessera_object_get_ec_point (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->ec_point;
}

/**
 * tessera_object_get_value:
 *
 * Returns: (transfer none) (nullable): the DER of a certificate
 */
GBytes *
tessera_object_get_value (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->value;
}

/**
 * tessera_object_get_subject:
 *
 * Returns: (nullable): the certificate's subject, RFC 4514 style
 */
const char *
tessera_object_get_subject (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->subject;
}

const char *
tessera_object_get_issuer (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->issuer;
}

const char *
tessera_object_get_serial (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->serial;
}

GDateTime *
tessera_object_get_not_before (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->not_before;
}

GDateTime *
tessera_object_get_not_after (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->not_after;
}

/**
 * tessera_object_get_fingerprint_sha256:
 *
 * Returns: (nullable): the certificate's SHA-256 fingerprint as
 *   colon-separated upper-case hex, like `openssl x509 -fingerprint -sha256`
 */
const char *
tessera_object_get_fingerprint_sha256 (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->fingerprint_sha256;
}

/**
 * tessera_object_get_fingerprint_sha1:
 *
 * Returns: (nullable): the certificate's SHA-1 fingerprint, as
 *   `openssl x509 -fingerprint -sha1` prints it
 */
const char *
tessera_object_get_fingerprint_sha1 (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->fingerprint_sha1;
}

/**
 * tessera_object_get_certificate_usage:
 *
 * Returns: (nullable): the certificate's key usage extension in words,
 *   such as "Digital signature, Key encipherment"; %NULL without one
 */
const char *
tessera_object_get_certificate_usage (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->certificate_usage;
}

/**
 * tessera_object_get_parse_error:
 *
 * Returns: (nullable): why a certificate object could not be parsed, or
 *   why an object could not be read at all (its module's answer could
 *   not be right; such an object is of kind %TESSERA_OBJECT_KIND_OTHER)
 */
const GError *
tessera_object_get_parse_error (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->parse_error;
}

const char *
tessera_object_get_application (TesseraObject *self)
{
  g_return_val_if_fail (TESSERA_IS_OBJECT (self), NULL);
  return self->application;
}
