/* tessera-ssh.c: OpenSSH public keys, fingerprints and readiness
 *
 * The lines are those `ssh-keygen -D` prints: the wire blob of RFC 4253,
 * RFC 5656 and RFC 8709 in base64, and as comment the CKA_LABEL of a
 * public-key object or a certificate's subject in OpenSSL's one-line form.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tessera-private.h"
#include "tessera-ssh.h"

G_DEFINE_QUARK (tessera-ssh-error-quark, tessera_ssh_error)

/* Writing the wire format ---------------------------------------------------- */

static void
put_uint32 (GByteArray *out,
            guint32     value)
{
  guint8 bytes[4] = { value >> 24, value >> 16, value >> 8, value };

  g_byte_array_append (out, bytes, 4);
}

static void
put_string (GByteArray   *out,
            const guint8 *data,
            gsize         len)
{
  put_uint32 (out, len);
  g_byte_array_append (out, data, len);
}

static void
put_cstring (GByteArray *out,
             const char *text)
{
  put_string (out, (const guint8 *) text, strlen (text));
}

/* An unsigned big-endian integer as an SSH mpint: no leading zeros, and a
 * zero byte in front when the top bit is set. */
static void
put_mpint (GByteArray   *out,
           const guint8 *data,
           gsize         len)
{
  while (len > 0 && data[0] == 0)
    {
      data++;
      len--;
    }

  if (len > 0 && (data[0] & 0x80))
    {
      put_uint32 (out, len + 1);
      g_byte_array_append (out, (const guint8 *) "", 1);
      g_byte_array_append (out, data, len);
    }
  else
    {
      put_string (out, data, len);
    }
}

/* Reading it back, for the blob's type and size, one string at a time. */
gboolean
_tessera_ssh_read_string (const guint8  **data,
            gsize          *len,
            const guint8  **value,
            gsize          *value_len)
{
  guint32 n;

  if (*len < 4)
    return FALSE;
  n = ((guint32) (*data)[0] << 24) | ((*data)[1] << 16) | ((*data)[2] << 8) | (*data)[3];
  if (*len - 4 < n)
    return FALSE;
  *value = *data + 4;
  *value_len = n;
  *data += 4 + n;
  *len -= 4 + n;
  return TRUE;
}

/* Curves ---------------------------------------------------------------------- */

static const struct {
  const char *curve;        /* TesseraObject's name */
  const char *ssh_type;
  const char *ssh_curve;
  guint       field_bytes;
  guint       bits;
  gnutls_ecc_curve_t gnutls;
} ssh_curves[] = {
  { "P-256", "ecdsa-sha2-nistp256", "nistp256", 32, 256, GNUTLS_ECC_CURVE_SECP256R1 },
  { "P-384", "ecdsa-sha2-nistp384", "nistp384", 48, 384, GNUTLS_ECC_CURVE_SECP384R1 },
  { "P-521", "ecdsa-sha2-nistp521", "nistp521", 66, 521, GNUTLS_ECC_CURVE_SECP521R1 },
};

/* CKA_EC_POINT is a DER OCTET STRING around the point, as PKCS#11 says,
 * though some modules give the bare point.  Takes either. */
static gboolean
unwrap_ec_point (GBytes        *ec_point,
                 gsize          expected,
                 const guint8 **point,
                 gsize         *point_len)
{
  const guint8 *data;
  gsize len, header, inner;

  data = g_bytes_get_data (ec_point, &len);

  if (len == expected && (expected == 32 || data[0] == 0x04))
    {
      *point = data;
      *point_len = len;
      return TRUE;
    }

  if (len < 2 || data[0] != 0x04)
    return FALSE;

  if (data[1] < 0x80)
    {
      inner = data[1];
      header = 2;
    }
  else if (data[1] == 0x81 && len >= 3)
    {
      inner = data[2];
      header = 3;
    }
  else if (data[1] == 0x82 && len >= 4)
    {
      inner = (data[2] << 8) | data[3];
      header = 4;
    }
  else
    {
      return FALSE;
    }

  if (header + inner != len || inner != expected)
    return FALSE;

  *point = data + header;
  *point_len = inner;
  return TRUE;
}

static GBytes *
ecdsa_blob (guint         curve_index,
            const guint8 *point,
            gsize         point_len)
{
  GByteArray *out = g_byte_array_new ();

  put_cstring (out, ssh_curves[curve_index].ssh_type);
  put_cstring (out, ssh_curves[curve_index].ssh_curve);
  put_string (out, point, point_len);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
ed25519_blob (const guint8 *key,
              gsize         len)
{
  GByteArray *out = g_byte_array_new ();

  put_cstring (out, "ssh-ed25519");
  put_string (out, key, len);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
rsa_blob (GBytes *exponent,
          GBytes *modulus)
{
  GByteArray *out = g_byte_array_new ();

  put_cstring (out, "ssh-rsa");
  put_mpint (out, g_bytes_get_data (exponent, NULL), g_bytes_get_size (exponent));
  put_mpint (out, g_bytes_get_data (modulus, NULL), g_bytes_get_size (modulus));
  return g_byte_array_free_to_bytes (out);
}

/* Left-pads a GnuTLS coordinate, which may have lost or gained leading
 * zeros, to the field size. */
static gboolean
append_coordinate (GByteArray           *out,
                   const gnutls_datum_t *value,
                   guint                 field_bytes)
{
  const guint8 *data = value->data;
  gsize len = value->size;
  guint8 zeros[66] = { 0 };

  while (len > 0 && data[0] == 0)
    {
      data++;
      len--;
    }
  if (len > field_bytes)
    return FALSE;

  g_byte_array_append (out, zeros, field_bytes - len);
  g_byte_array_append (out, data, len);
  return TRUE;
}

GBytes *
_tessera_ssh_blob_from_certificate (GBytes  *der,
                       GError **error)
{
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t datum;
  GBytes *blob = NULL;
  unsigned int bits = 0;
  int algorithm;

  datum.data = (unsigned char *) g_bytes_get_data (der, NULL);
  datum.size = g_bytes_get_size (der);

  gnutls_x509_crt_init (&crt);
  if (gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_DER) < 0)
    {
      gnutls_x509_crt_deinit (crt);
      g_set_error_literal (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_MALFORMED,
                           _("The certificate could not be read."));
      return NULL;
    }

  algorithm = gnutls_x509_crt_get_pk_algorithm (crt, &bits);
  if (algorithm == GNUTLS_PK_RSA)
    {
      gnutls_datum_t m = { NULL, 0 }, e = { NULL, 0 };

      if (gnutls_x509_crt_get_pk_rsa_raw (crt, &m, &e) >= 0)
        {
          g_autoptr(GBytes) modulus = g_bytes_new (m.data, m.size);
          g_autoptr(GBytes) exponent = g_bytes_new (e.data, e.size);

          blob = rsa_blob (exponent, modulus);
        }
      gnutls_free (m.data);
      gnutls_free (e.data);
    }
  else if (algorithm == GNUTLS_PK_ECDSA || algorithm == GNUTLS_PK_EDDSA_ED25519)
    {
      gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
      gnutls_datum_t x = { NULL, 0 }, y = { NULL, 0 };

      if (gnutls_x509_crt_get_pk_ecc_raw (crt, &curve, &x, &y) >= 0)
        {
          if (curve == GNUTLS_ECC_CURVE_ED25519)
            {
              blob = ed25519_blob (x.data, x.size);
            }
          else
            {
              for (guint i = 0; i < G_N_ELEMENTS (ssh_curves); i++)
                {
                  g_autoptr(GByteArray) point = NULL;

                  if (ssh_curves[i].gnutls != curve)
                    continue;

                  point = g_byte_array_new ();
                  g_byte_array_append (point, (const guint8 *) "\x04", 1);
                  if (append_coordinate (point, &x, ssh_curves[i].field_bytes) &&
                      append_coordinate (point, &y, ssh_curves[i].field_bytes))
                    blob = ecdsa_blob (i, point->data, point->len);
                }
            }
        }
      gnutls_free (x.data);
      gnutls_free (y.data);
    }

  gnutls_x509_crt_deinit (crt);

  if (blob == NULL)
    g_set_error_literal (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_UNSUPPORTED,
                         _("SSH cannot use the key type of this certificate."));
  return blob;
}

/**
 * tessera_ssh_blob_from_object:
 * @object: a public key, a certificate, or an RSA private key (whose
 *   public attributes are readable)
 *
 * Returns: (transfer full): the OpenSSH wire encoding of the public key
 */
GBytes *
tessera_ssh_blob_from_object (TesseraObject  *object,
                              GError        **error)
{
  TesseraObjectKind kind;
  const char *curve;

  g_return_val_if_fail (TESSERA_IS_OBJECT (object), NULL);

  kind = tessera_object_get_kind (object);
  if (kind == TESSERA_OBJECT_KIND_CERTIFICATE)
    {
      if (tessera_object_get_value (object) == NULL)
        {
          g_set_error_literal (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_INCOMPLETE,
                               _("The certificate object holds no certificate."));
          return NULL;
        }
      return _tessera_ssh_blob_from_certificate (tessera_object_get_value (object), error);
    }

  if (kind != TESSERA_OBJECT_KIND_PUBLIC_KEY && kind != TESSERA_OBJECT_KIND_PRIVATE_KEY)
    {
      g_set_error_literal (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_UNSUPPORTED,
                           _("This object holds no public key."));
      return NULL;
    }

  switch (tessera_object_get_key_type (object))
    {
    case TESSERA_KEY_TYPE_RSA:
      if (tessera_object_get_modulus (object) == NULL ||
          tessera_object_get_public_exponent (object) == NULL)
        break;
      return rsa_blob (tessera_object_get_public_exponent (object),
                       tessera_object_get_modulus (object));

    case TESSERA_KEY_TYPE_EC:
      curve = tessera_object_get_curve (object);
      for (guint i = 0; curve != NULL && i < G_N_ELEMENTS (ssh_curves); i++)
        {
          const guint8 *point;
          gsize point_len;

          if (!g_str_equal (curve, ssh_curves[i].curve))
            continue;
          if (tessera_object_get_ec_point (object) == NULL)
            break;
          if (!unwrap_ec_point (tessera_object_get_ec_point (object),
                                2 * ssh_curves[i].field_bytes + 1, &point, &point_len))
            {
              g_set_error_literal (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_MALFORMED,
                                   _("The key’s EC point is malformed."));
              return NULL;
            }
          return ecdsa_blob (i, point, point_len);
        }
      if (curve != NULL && tessera_object_get_ec_point (object) != NULL)
        {
          g_set_error (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_UNSUPPORTED,
                       _("SSH cannot use keys on the curve %s."), curve);
          return NULL;
        }
      break;

    case TESSERA_KEY_TYPE_ED25519:
      if (g_strcmp0 (tessera_object_get_curve (object), "Ed25519") == 0 &&
          tessera_object_get_ec_point (object) != NULL)
        {
          const guint8 *point;
          gsize point_len;

          if (!unwrap_ec_point (tessera_object_get_ec_point (object), 32, &point, &point_len))
            {
              g_set_error_literal (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_MALFORMED,
                                   _("The key’s Ed25519 point is malformed."));
              return NULL;
            }
          return ed25519_blob (point, point_len);
        }
      break;

    case TESSERA_KEY_TYPE_NONE:
    case TESSERA_KEY_TYPE_OTHER:
    default:
      g_set_error_literal (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_UNSUPPORTED,
                           _("SSH cannot use this key type."));
      return NULL;
    }

  g_set_error_literal (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_INCOMPLETE,
                       _("The token does not show this key’s public part."));
  return NULL;
}

/**
 * tessera_ssh_blob_get_type:
 *
 * Returns: (nullable): "ssh-rsa", "ecdsa-sha2-nistp256", "ssh-ed25519", …
 */
const char *
tessera_ssh_blob_get_type (GBytes *blob)
{
  static const char *types[] = {
    "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-ed25519",
  };
  const guint8 *data, *type;
  gsize len, type_len;

  data = g_bytes_get_data (blob, &len);
  if (!_tessera_ssh_read_string (&data, &len, &type, &type_len))
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (type_len == strlen (types[i]) && memcmp (type, types[i], type_len) == 0)
      return types[i];
  return NULL;
}

/**
 * tessera_ssh_blob_get_bits:
 *
 * Returns: the key size as `ssh-keygen -l` prints it
 */
guint
tessera_ssh_blob_get_bits (GBytes *blob)
{
  const char *type = tessera_ssh_blob_get_type (blob);
  const guint8 *data, *value;
  gsize len, value_len;
  guint bits;

  if (type == NULL)
    return 0;
  if (g_str_equal (type, "ssh-ed25519"))
    return 256;
  for (guint i = 0; i < G_N_ELEMENTS (ssh_curves); i++)
    if (g_str_equal (type, ssh_curves[i].ssh_type))
      return ssh_curves[i].bits;

  /* RSA: type, e, n */
  data = g_bytes_get_data (blob, &len);
  for (guint i = 0; i < 3; i++)
    if (!_tessera_ssh_read_string (&data, &len, &value, &value_len))
      return 0;
  while (value_len > 0 && value[0] == 0)
    {
      value++;
      value_len--;
    }
  if (value_len == 0)
    return 0;
  bits = value_len * 8;
  for (guint8 top = value[0]; (top & 0x80) == 0; top <<= 1)
    bits--;
  return bits;
}

/**
 * tessera_ssh_blob_get_type_label:
 *
 * Returns: "RSA", "ECDSA" or "ED25519", as `ssh-keygen -l` ends its line
 */
const char *
tessera_ssh_blob_get_type_label (GBytes *blob)
{
  const char *type = tessera_ssh_blob_get_type (blob);

  if (type == NULL)
    return "UNKNOWN";
  if (g_str_equal (type, "ssh-rsa"))
    return "RSA";
  if (g_str_equal (type, "ssh-ed25519"))
    return "ED25519";
  return "ECDSA";
}

/**
 * tessera_ssh_comment_is_safe:
 * @comment: (nullable): a label or subject meant as an SSH line's comment
 *
 * A label is data a token holds, written by any program: one with a line
 * break would add a second, forged key line to whatever the SSH line is
 * pasted into, and one with an escape sequence would drive the terminal.
 *
 * Returns: %TRUE when @comment holds no control character (C0, DEL, C1,
 *   or a Unicode line or paragraph separator) and is valid UTF-8
 */
gboolean
tessera_ssh_comment_is_safe (const char *comment)
{
  const char *p;

  if (comment == NULL)
    return TRUE;
  if (!g_utf8_validate (comment, -1, NULL))
    return FALSE;
  for (p = comment; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029)
        return FALSE;
    }
  return TRUE;
}

/**
 * tessera_ssh_format_line:
 * @comment: (nullable): the comment; none when empty
 *
 * Returns: (transfer full): the authorized_keys line, byte for byte what
 *   `ssh-keygen -D` prints for the key; always one line: a comment with a
 *   control character (see tessera_ssh_comment_is_safe()) is left out,
 *   where `ssh-keygen -D` would print it raw
 */
char *
tessera_ssh_format_line (GBytes     *blob,
                         const char *comment)
{
  g_autofree char *base64 = g_base64_encode (g_bytes_get_data (blob, NULL), g_bytes_get_size (blob));

  if (comment == NULL || comment[0] == '\0' || !tessera_ssh_comment_is_safe (comment))
    return g_strdup_printf ("%s %s", tessera_ssh_blob_get_type (blob), base64);
  return g_strdup_printf ("%s %s %s", tessera_ssh_blob_get_type (blob), base64, comment);
}

/**
 * tessera_ssh_fingerprint_sha256:
 *
 * Returns: (transfer full): "SHA256:" and the unpadded base64 digest
 */
char *
tessera_ssh_fingerprint_sha256 (GBytes *blob)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;
  g_autofree char *base64 = NULL;
  gsize end;

  g_checksum_update (checksum, g_bytes_get_data (blob, NULL), g_bytes_get_size (blob));
  g_checksum_get_digest (checksum, digest, &len);
  base64 = g_base64_encode (digest, len);
  end = strlen (base64);
  while (end > 0 && base64[end - 1] == '=')
    base64[--end] = '\0';

  return g_strconcat ("SHA256:", base64, NULL);
}

/**
 * tessera_ssh_fingerprint_md5:
 *
 * Returns: (transfer full): "MD5:" and colon-separated hex
 */
char *
tessera_ssh_fingerprint_md5 (GBytes *blob)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_MD5);
  guint8 digest[16];
  gsize len = sizeof digest;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *hex = NULL;

  g_checksum_update (checksum, g_bytes_get_data (blob, NULL), g_bytes_get_size (blob));
  g_checksum_get_digest (checksum, digest, &len);
  bytes = g_bytes_new (digest, len);
  hex = tessera_bytes_to_hex (bytes, ':');

  return g_strconcat ("MD5:", hex, NULL);
}

/**
 * tessera_ssh_format_fingerprint_line:
 *
 * Returns: (transfer full): `bits fingerprint comment (type)`, as
 *   `ssh-keygen -l` prints it
 */
char *
tessera_ssh_format_fingerprint_line (GBytes     *blob,
                                     const char *comment,
                                     gboolean    md5)
{
  g_autofree char *fingerprint = md5 ? tessera_ssh_fingerprint_md5 (blob)
                                     : tessera_ssh_fingerprint_sha256 (blob);

  /* One line, as the key line: a comment with control characters is left out */
  return g_strdup_printf ("%u %s %s (%s)", tessera_ssh_blob_get_bits (blob), fingerprint,
                          comment != NULL && comment[0] != '\0' && tessera_ssh_comment_is_safe (comment)
                          ? comment : "no comment",
                          tessera_ssh_blob_get_type_label (blob));
}

/* The subject in OpenSSL's one-line form ----------------------------------- */

static const struct {
  const char *oid;
  const char *name;
} short_names[] = {
  { "2.5.4.3", "CN" },
  { "2.5.4.6", "C" },
  { "2.5.4.7", "L" },
  { "2.5.4.8", "ST" },
  { "2.5.4.9", "street" },
  { "2.5.4.10", "O" },
  { "2.5.4.11", "OU" },
  { "2.5.4.4", "SN" },
  { "2.5.4.5", "serialNumber" },
  { "2.5.4.12", "title" },
  { "2.5.4.13", "description" },
  { "2.5.4.17", "postalCode" },
  { "2.5.4.41", "name" },
  { "2.5.4.42", "GN" },
  { "2.5.4.43", "initials" },
  { "2.5.4.46", "dnQualifier" },
  { "2.5.4.65", "pseudonym" },
  { "0.9.2342.19200300.100.1.1", "UID" },
  { "0.9.2342.19200300.100.1.25", "DC" },
  { "1.2.840.113549.1.9.1", "emailAddress" },
};

/**
 * tessera_ssh_subject_oneline:
 *
 * Returns: (transfer full) (nullable): the certificate's subject the way
 *   OpenSSL's X509_NAME_oneline() writes it, "/C=US/O=Acme/CN=SSH key",
 *   which is the comment OpenSSH gives a key found through a certificate
 */
char *
tessera_ssh_subject_oneline (GBytes *certificate_der)
{
  gnutls_x509_crt_t crt = NULL;
  gnutls_x509_dn_t dn = NULL;
  gnutls_datum_t datum;
  GString *out;

  datum.data = (unsigned char *) g_bytes_get_data (certificate_der, NULL);
  datum.size = g_bytes_get_size (certificate_der);

  gnutls_x509_crt_init (&crt);
  if (gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_DER) < 0 ||
      gnutls_x509_crt_get_subject (crt, &dn) < 0)
    {
      gnutls_x509_crt_deinit (crt);
      return NULL;
    }

  out = g_string_new (NULL);
  for (int rdn = 0; ; rdn++)
    {
      gnutls_x509_ava_st ava;

      if (gnutls_x509_dn_get_rdn_ava (dn, rdn, 0, &ava) < 0)
        break;

      for (int i = 0; gnutls_x509_dn_get_rdn_ava (dn, rdn, i, &ava) >= 0; i++)
        {
          g_autofree char *oid = g_strndup ((const char *) ava.oid.data, ava.oid.size);
          const char *name = oid;
          const guint8 *value = ava.value.data;
          gsize len = ava.value.size;
          gboolean bmp = ava.value_tag == 30;  /* BMPString: OpenSSL drops the zero bytes */

          for (guint n = 0; n < G_N_ELEMENTS (short_names); n++)
            if (g_str_equal (oid, short_names[n].oid))
              name = short_names[n].name;

          g_string_append_printf (out, "/%s=", name);
          for (gsize b = 0; b < len; b++)
            {
              guint8 c = value[b];

              if (bmp && (b % 2) == 0 && c == 0)
                continue;
              if (c < 0x20 || c > 0x7e)
                g_string_append_printf (out, "\\x%02X", c);
              else
                g_string_append_c (out, c);
            }
        }
    }

  gnutls_x509_crt_deinit (crt);
  return g_string_free (out, FALSE);
}

/* The installed OpenSSH -------------------------------------------------------- */

/* The version `ssh -V` printed, kept in the user's cache directory for
 * the ssh binary it came from (path, size and modification time), so that
 * a run of tessera-cli starts no program unless OpenSSH changed. */
static char *
openssh_cache_path (void)
{
  return g_build_filename (g_get_user_cache_dir (), "tessera", "openssh-version", NULL);
}

static char *
openssh_binary_stamp (const char *binary)
{
  GStatBuf st;

  if (binary == NULL || g_stat (binary, &st) != 0)
    return NULL;
  return g_strdup_printf ("%s\n%" G_GINT64_FORMAT "\n%" G_GINT64_FORMAT "\n%" G_GINT64_FORMAT,
                          binary, (gint64) st.st_size, (gint64) st.st_mtim.tv_sec,
                          (gint64) st.st_mtim.tv_nsec);
}

static gboolean
openssh_cache_lookup (const char *stamp,
                      guint      *major,
                      guint      *minor)
{
  g_autofree char *path = openssh_cache_path ();
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autofree char *cached_stamp = NULL;
  g_autofree char *version = NULL;

  if (stamp == NULL || !g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, NULL))
    return FALSE;
  cached_stamp = g_key_file_get_string (file, "ssh", "binary", NULL);
  version = g_key_file_get_string (file, "ssh", "version", NULL);
  return g_strcmp0 (cached_stamp, stamp) == 0 && version != NULL &&
         sscanf (version, "%u.%u", major, minor) == 2;
}

static void
openssh_cache_store (const char *stamp,
                     guint       major,
                     guint       minor)
{
  g_autofree char *path = openssh_cache_path ();
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *version = g_strdup_printf ("%u.%u", major, minor);
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  if (stamp == NULL)
    return;
  g_key_file_set_string (file, "ssh", "binary", stamp);
  g_key_file_set_string (file, "ssh", "version", version);
  if (g_mkdir_with_parents (dir, 0700) != 0 || !g_key_file_save_to_file (file, path, &error))
    g_debug ("Could not cache the OpenSSH version in %s: %s", path,
             error != NULL ? error->message : g_strerror (errno));
}

/**
 * tessera_openssh_get_version:
 *
 * The version of the installed OpenSSH, from `ssh -V`: once per process,
 * and only when the ssh binary changed since the version was cached.
 * When it must run `ssh -V`, this runs a program: only key types that
 * depend on the version (Ed25519) ask, and the token's worker thread asks
 * first when it read such a key.
 *
 * Returns: %FALSE if OpenSSH is not installed
 */
gboolean
tessera_openssh_get_version (guint *major,
                             guint *minor)
{
  static gsize once;
  static guint cached_major, cached_minor;
  static gboolean found;

  if (g_once_init_enter (&once))
    {
      const char *override = g_getenv ("TESSERA_OPENSSH_VERSION");
      g_autofree char *binary = g_find_program_in_path ("ssh");
      g_autofree char *stamp = override == NULL ? openssh_binary_stamp (binary) : NULL;
      g_autofree char *err = NULL;
      const char *text = NULL;

      if (override != NULL)
        text = override;
      else if (openssh_cache_lookup (stamp, &cached_major, &cached_minor))
        found = TRUE;
      else if (binary != NULL)
        {
          const char *argv[] = { binary, "-V", NULL };

          if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                            NULL, NULL, NULL, &err, NULL, NULL) && err != NULL)
            text = strstr (err, "OpenSSH_") ? strstr (err, "OpenSSH_") + strlen ("OpenSSH_") : NULL;
        }

      if (!found && text != NULL && sscanf (text, "%u.%u", &cached_major, &cached_minor) == 2)
        {
          found = TRUE;
          if (override == NULL)
            openssh_cache_store (stamp, cached_major, cached_minor);
        }

      g_debug ("OpenSSH version: %u.%u", cached_major, cached_minor);
      g_once_init_leave (&once, 1);
    }

  if (major != NULL)
    *major = cached_major;
  if (minor != NULL)
    *minor = cached_minor;
  return found;
}

/**
 * tessera_openssh_supports:
 *
 * Returns: whether the installed OpenSSH can use keys of this type from a
 *   PKCS#11 token: RSA and ECDSA always, Ed25519 since OpenSSH 10.1
 */
gboolean
tessera_openssh_supports (TesseraKeyType key_type)
{
  guint major = 0, minor = 0;

  switch (key_type)
    {
    case TESSERA_KEY_TYPE_RSA:
    case TESSERA_KEY_TYPE_EC:
      return TRUE;
    case TESSERA_KEY_TYPE_ED25519:
      if (!tessera_openssh_get_version (&major, &minor))
        return FALSE;
      return major > 10 || (major == 10 && minor >= 1);
    case TESSERA_KEY_TYPE_NONE:
    case TESSERA_KEY_TYPE_OTHER:
    default:
      return FALSE;
    }
}

/* Listing keys as OpenSSH does ------------------------------------------------ */

void
tessera_ssh_identity_free (TesseraSshIdentity *identity)
{
  g_clear_object (&identity->object);
  g_clear_pointer (&identity->blob, g_bytes_unref);
  g_clear_pointer (&identity->comment, g_free);
  g_free (identity);
}

static gboolean
blob_seen (GPtrArray *identities,
           GBytes    *blob)
{
  for (guint i = 0; i < identities->len; i++)
    {
      TesseraSshIdentity *identity = g_ptr_array_index (identities, i);

      if (g_bytes_equal (identity->blob, blob))
        return TRUE;
    }
  return FALSE;
}

static TesseraKeyType
blob_key_type (GBytes *blob)
{
  const char *type = tessera_ssh_blob_get_type (blob);

  if (g_strcmp0 (type, "ssh-rsa") == 0)
    return TESSERA_KEY_TYPE_RSA;
  if (g_strcmp0 (type, "ssh-ed25519") == 0)
    return TESSERA_KEY_TYPE_ED25519;
  return TESSERA_KEY_TYPE_EC;
}

/**
 * tessera_ssh_list_identities:
 * @objects: (element-type TesseraObject): a token's objects
 * @seen: (element-type TesseraSshIdentity) (nullable): identities already
 *   listed from other tokens of the same module, which OpenSSH skips
 *
 * Lists the keys OpenSSH finds on a token, in its order: the public-key
 * objects, then the certificates, each key once.  The public key of a
 * certificate is the certificate's; its comment is the subject.
 *
 * Returns: (transfer full) (element-type TesseraSshIdentity): the keys,
 *   unsupported ones included with @supported %FALSE
 */
GPtrArray *
tessera_ssh_list_identities (GListModel *objects,
                             GPtrArray  *seen)
{
  GPtrArray *identities = g_ptr_array_new_with_free_func ((GDestroyNotify) tessera_ssh_identity_free);
  const TesseraObjectKind passes[] = { TESSERA_OBJECT_KIND_PUBLIC_KEY, TESSERA_OBJECT_KIND_CERTIFICATE };
  guint n = g_list_model_get_n_items (objects);

  for (guint p = 0; p < G_N_ELEMENTS (passes); p++)
    {
      for (guint i = 0; i < n; i++)
        {
          g_autoptr(TesseraObject) object = g_list_model_get_item (objects, i);
          TesseraSshIdentity *identity;
          GBytes *blob;

          if (tessera_object_get_kind (object) != passes[p])
            continue;

          blob = tessera_ssh_blob_from_object (object, NULL);
          if (blob == NULL)
            continue;
          if (blob_seen (identities, blob) || (seen != NULL && blob_seen (seen, blob)))
            {
              g_bytes_unref (blob);
              continue;
            }

          identity = g_new0 (TesseraSshIdentity, 1);
          identity->object = g_object_ref (object);
          identity->blob = blob;
          if (passes[p] == TESSERA_OBJECT_KIND_CERTIFICATE)
            identity->comment = tessera_ssh_subject_oneline (tessera_object_get_value (object));
          else
            identity->comment = g_strdup (tessera_object_get_label (object));
          identity->supported = tessera_openssh_supports (blob_key_type (blob));
          g_ptr_array_add (identities, identity);
        }
    }

  return identities;
}
