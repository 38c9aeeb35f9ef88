/* tessera-signing.c: signatures made on the token, checked with GnuTLS
 *
 * The private key never leaves the token, so the only proof that a
 * public key belongs to it is a signature: sign a challenge on the
 * token, verify it with the public key.  The same signing lets GnuTLS
 * sign certificates with a token key, through an "external" private key.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "tessera-private.h"
#include "tessera-ssh.h"

#ifndef CKM_EDDSA
# define CKM_EDDSA 0x1057UL
#endif

/* The DER prefix of a SHA-256 DigestInfo, for CKM_RSA_PKCS. */
static const guint8 sha256_digest_info[] = {
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
  0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};

static gboolean
read_blob_string (const guint8   **data,
                  gsize           *len,
                  gnutls_datum_t  *value)
{
  const guint8 *bytes;
  gsize size;

  if (!_tessera_ssh_read_string (data, len, &bytes, &size))
    return FALSE;
  value->data = (unsigned char *) bytes;
  value->size = size;
  return TRUE;
}

/*
 * _tessera_pubkey_from_ssh_blob:
 *
 * Returns: (nullable): the public key of an OpenSSH wire blob, for GnuTLS;
 *   free with gnutls_pubkey_deinit()
 */
gnutls_pubkey_t
_tessera_pubkey_from_ssh_blob (GBytes *blob)
{
  const char *type = tessera_ssh_blob_get_type (blob);
  const guint8 *data;
  gsize len;
  gnutls_datum_t field, a, b;
  gnutls_pubkey_t pubkey = NULL;
  int ret = -1;

  if (type == NULL)
    return NULL;

  data = g_bytes_get_data (blob, &len);
  read_blob_string (&data, &len, &field);   /* the type */
  if (gnutls_pubkey_init (&pubkey) < 0)
    return NULL;

  if (g_str_equal (type, "ssh-rsa"))
    {
      if (read_blob_string (&data, &len, &a) && read_blob_string (&data, &len, &b))
        ret = gnutls_pubkey_import_rsa_raw (pubkey, &b, &a);
    }
  else if (g_str_equal (type, "ssh-ed25519"))
    {
      if (read_blob_string (&data, &len, &a))
        ret = gnutls_pubkey_import_ecc_raw (pubkey, GNUTLS_ECC_CURVE_ED25519, &a, NULL);
    }
  else
    {
      gnutls_ecc_curve_t curve = g_str_equal (type, "ecdsa-sha2-nistp256") ? GNUTLS_ECC_CURVE_SECP256R1
                               : g_str_equal (type, "ecdsa-sha2-nistp384") ? GNUTLS_ECC_CURVE_SECP384R1
                               : GNUTLS_ECC_CURVE_SECP521R1;
      gnutls_datum_t point;

      if (read_blob_string (&data, &len, &field) && read_blob_string (&data, &len, &point) &&
          point.size > 1 && point.data[0] == 0x04)
        {
          gsize half = (point.size - 1) / 2;

          a.data = point.data + 1;
          a.size = half;
          b.data = point.data + 1 + half;
          b.size = half;
          ret = gnutls_pubkey_import_ecc_raw (pubkey, curve, &a, &b);
        }
    }

  if (ret < 0)
    {
      gnutls_pubkey_deinit (pubkey);
      return NULL;
    }
  return pubkey;
}

/*
 * Runs C_SignInit/C_Sign with @mechanism over @input, sizing the output
 * first.  Returns the raw PKCS#11 signature.
 */
static GBytes *
sign_raw (CK_FUNCTION_LIST  *functions,
          CK_SESSION_HANDLE  session,
          CK_OBJECT_HANDLE   key,
          CK_MECHANISM_TYPE  mechanism_type,
          const guint8      *input,
          gsize              input_len,
          GError           **error)
{
  /* Far beyond RSA 16384 (2 KiB) and post-quantum signatures: a module
   * that asks for more, or fills more than it was given, is lying */
  const CK_ULONG max_length = 64 * 1024;
  CK_MECHANISM mechanism = { mechanism_type, NULL, 0 };
  g_autofree guint8 *signature = NULL;
  CK_ULONG length = 0, room;
  CK_RV rv;

  rv = _tessera_module_sign_init (functions, session, &mechanism, key);
  if (rv == CKR_OK)
    rv = functions->C_Sign (session, (CK_BYTE_PTR) input, input_len, NULL, &length);
  if (rv == CKR_OK)
    {
      room = MAX (length, 1);
      if (room <= max_length)
        {
          signature = g_malloc (room);
          rv = functions->C_Sign (session, (CK_BYTE_PTR) input, input_len, signature, &length);
        }
      if (rv == CKR_OK && (room > max_length || length > room))
        {
          g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID,
                       _("The token’s module gave an impossible length for a signature: %lu bytes. Nothing was signed."),
                       (unsigned long) length);
          return NULL;
        }
    }
  if (rv != CKR_OK)
    {
      _tessera_set_ck_error (error, rv, rv == CKR_USER_NOT_LOGGED_IN
                                        ? _("Log in to the token to sign with its key")
                                        : _("The token could not sign with the key"));
      return NULL;
    }
  return g_bytes_new (signature, length);
}

/* A copy GnuTLS can own and gnutls_free(). */
static void
bytes_to_datum (GBytes         *bytes,
                gnutls_datum_t *datum)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  datum->data = gnutls_malloc (len > 0 ? len : 1);
  memcpy (datum->data, data, len);
  datum->size = len;
}

/* PKCS#11 gives ECDSA signatures as r‖s; X.509 and GnuTLS want DER. */
static gboolean
ecdsa_to_der (GBytes         *raw,
              gnutls_datum_t *der)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (raw, &len);
  gnutls_datum_t r, s;

  if (len == 0 || len % 2 != 0)
    return FALSE;
  r.data = (unsigned char *) data;
  r.size = len / 2;
  s.data = (unsigned char *) data + len / 2;
  s.size = len / 2;
  return gnutls_encode_rs_value (der, &r, &s) >= 0;
}

/*
 * _tessera_sign_hash:
 * @digest_info_or_hash: for RSA a DigestInfo, for ECDSA the bare hash
 *
 * Signs a prepared hash on the token: CKM_RSA_PKCS or CKM_ECDSA.  The
 * result is in the form GnuTLS and X.509 use (DER for ECDSA); free it
 * with gnutls_free().
 */
gboolean
_tessera_sign_hash (CK_FUNCTION_LIST      *functions,
                    CK_SESSION_HANDLE      session,
                    CK_OBJECT_HANDLE       key,
                    TesseraKeyType         type,
                    const gnutls_datum_t  *digest_info_or_hash,
                    gnutls_datum_t        *signature,
                    GError               **error)
{
  g_autoptr(GBytes) raw = NULL;

  switch (type)
    {
    case TESSERA_KEY_TYPE_RSA:
      raw = sign_raw (functions, session, key, CKM_RSA_PKCS,
                      digest_info_or_hash->data, digest_info_or_hash->size, error);
      if (raw == NULL)
        return FALSE;
      bytes_to_datum (raw, signature);
      return TRUE;

    case TESSERA_KEY_TYPE_EC:
      raw = sign_raw (functions, session, key, CKM_ECDSA,
                      digest_info_or_hash->data, digest_info_or_hash->size, error);
      if (raw == NULL)
        return FALSE;
      if (!ecdsa_to_der (raw, signature))
        {
          g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                               _("The token returned a malformed ECDSA signature."));
          return FALSE;
        }
      return TRUE;

    default:
      g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_NOT_SUPPORTED,
                           _("Tessera cannot sign with this key type."));
      return FALSE;
    }
}

/*
 * _tessera_sign_data:
 *
 * Signs a whole message on the token: CKM_EDDSA, for Ed25519 keys.
 */
gboolean
_tessera_sign_data (CK_FUNCTION_LIST      *functions,
                    CK_SESSION_HANDLE      session,
                    CK_OBJECT_HANDLE       key,
                    const gnutls_datum_t  *message,
                    gnutls_datum_t        *signature,
                    GError               **error)
{
  g_autoptr(GBytes) raw = NULL;

  raw = sign_raw (functions, session, key, CKM_EDDSA, message->data, message->size, error);
  if (raw == NULL)
    return FALSE;
  bytes_to_datum (raw, signature);
  return TRUE;
}

static gnutls_digest_algorithm_t
digest_for_curve (gnutls_pubkey_t pubkey)
{
  gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;

  if (gnutls_pubkey_export_ecc_raw (pubkey, &curve, NULL, NULL) < 0)
    return GNUTLS_DIG_SHA256;
  switch (curve)
    {
    case GNUTLS_ECC_CURVE_SECP384R1:
      return GNUTLS_DIG_SHA384;
    case GNUTLS_ECC_CURVE_SECP521R1:
      return GNUTLS_DIG_SHA512;
    default:
      return GNUTLS_DIG_SHA256;
    }
}

/*
 * _tessera_test_sign:
 * @pubkey: the public key the private key should belong to
 *
 * Signs a random challenge with the private key @key on the token and
 * verifies the signature with @pubkey.  Returns %TRUE only when it
 * verifies; %FALSE with @error unset when the signature was made but is
 * not @pubkey's, and with @error set when no signature could be made.
 */
gboolean
_tessera_test_sign (CK_FUNCTION_LIST   *functions,
                    CK_SESSION_HANDLE   session,
                    CK_OBJECT_HANDLE    key,
                    TesseraKeyType      type,
                    gnutls_pubkey_t     pubkey,
                    GError            **error)
{
  guint8 challenge[32];
  gnutls_datum_t message = { challenge, sizeof challenge };
  gnutls_datum_t signature = { NULL, 0 };
  gnutls_sign_algorithm_t algorithm;
  int pk = gnutls_pubkey_get_pk_algorithm (pubkey, NULL);
  gboolean made;
  int ret;

  if (gnutls_rnd (GNUTLS_RND_NONCE, challenge, sizeof challenge) < 0)
    {
      g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                           _("No random challenge could be made."));
      return FALSE;
    }

  if (type == TESSERA_KEY_TYPE_RSA && pk == GNUTLS_PK_RSA)
    {
      guint8 input[sizeof sha256_digest_info + 32];
      gnutls_datum_t prepared = { input, sizeof input };

      memcpy (input, sha256_digest_info, sizeof sha256_digest_info);
      gnutls_hash_fast (GNUTLS_DIG_SHA256, challenge, sizeof challenge, input + sizeof sha256_digest_info);
      algorithm = GNUTLS_SIGN_RSA_SHA256;
      made = _tessera_sign_hash (functions, session, key, type, &prepared, &signature, error);
    }
  else if (type == TESSERA_KEY_TYPE_EC && pk == GNUTLS_PK_ECDSA)
    {
      gnutls_digest_algorithm_t digest = digest_for_curve (pubkey);
      guint8 hash[64];
      gnutls_datum_t prepared = { hash, gnutls_hash_get_len (digest) };

      gnutls_hash_fast (digest, challenge, sizeof challenge, hash);
      algorithm = gnutls_pk_to_sign (GNUTLS_PK_ECDSA, digest);
      made = _tessera_sign_hash (functions, session, key, type, &prepared, &signature, error);
    }
  else if (type == TESSERA_KEY_TYPE_ED25519 && pk == GNUTLS_PK_EDDSA_ED25519)
    {
      algorithm = GNUTLS_SIGN_EDDSA_ED25519;
      made = _tessera_sign_data (functions, session, key, &message, &signature, error);
    }
  else
    return FALSE;   /* different key types never pair */

  if (!made)
    return FALSE;

  ret = gnutls_pubkey_verify_data2 (pubkey, algorithm, 0, &message, &signature);
  gnutls_free (signature.data);
  g_debug ("Test signature %s", ret >= 0 ? "verified" : "did not verify");
  return ret >= 0;
}

static gboolean
blob_fits_key (GBytes        *blob,
               TesseraObject *key)
{
  const char *type = tessera_ssh_blob_get_type (blob);
  const char *curve = tessera_object_get_curve (key);

  if (type == NULL)
    return FALSE;
  switch (tessera_object_get_key_type (key))
    {
    case TESSERA_KEY_TYPE_RSA:
      return g_str_equal (type, "ssh-rsa");
    case TESSERA_KEY_TYPE_ED25519:
      return g_str_equal (type, "ssh-ed25519");
    case TESSERA_KEY_TYPE_EC:
      if (curve == NULL)
        return g_str_has_prefix (type, "ecdsa-sha2-");
      return (g_str_equal (curve, "P-256") && g_str_equal (type, "ecdsa-sha2-nistp256")) ||
             (g_str_equal (curve, "P-384") && g_str_equal (type, "ecdsa-sha2-nistp384")) ||
             (g_str_equal (curve, "P-521") && g_str_equal (type, "ecdsa-sha2-nistp521"));
    default:
      return FALSE;
    }
}

/*
 * _tessera_match_private_key:
 * @objects: (element-type TesseraObject): what the session sees, logged in
 * @blob: a public key, as an OpenSSH blob
 * @by_signature: (out) (optional): set when only a test signature showed it
 *
 * Finds the private key @blob belongs to, by key material: the private
 * key's own public attributes (RSA), or a public key or certificate
 * object under its ID holding @blob.  A private key whose public part
 * is nowhere to be seen (typical for EC keys whose public-key object
 * was lost) is tried with a test signature.
 *
 * Returns: (transfer none) (nullable): the private key; %NULL, with
 *   @error set only when a test signature could not be made
 */
TesseraObject *
_tessera_match_private_key (CK_FUNCTION_LIST   *functions,
                            CK_SESSION_HANDLE   session,
                            GPtrArray          *objects,
                            GBytes             *blob,
                            gboolean           *by_signature,
                            GError            **error)
{
  g_autoptr(GPtrArray) hidden = g_ptr_array_new ();
  g_autoptr(GError) sign_error = NULL;
  gnutls_pubkey_t pubkey;
  TesseraObject *found = NULL;

  if (by_signature != NULL)
    *by_signature = FALSE;

  for (guint i = 0; i < objects->len; i++)
    {
      TesseraObject *key = g_ptr_array_index (objects, i);
      g_autoptr(GBytes) material = NULL;
      GBytes *id = tessera_object_get_id (key);
      gboolean known = FALSE;

      if (tessera_object_get_kind (key) != TESSERA_OBJECT_KIND_PRIVATE_KEY || !blob_fits_key (blob, key))
        continue;

      material = tessera_ssh_blob_from_object (key, NULL);
      if (material != NULL)
        {
          if (g_bytes_equal (material, blob))
            return key;
          continue;
        }

      /* A key with a public part under its ID is that public key: test
       * signatures are only for keys whose public part is nowhere, or a
       * CA certificate on the token would cost one per key. */
      for (guint j = 0; id != NULL && g_bytes_get_size (id) > 0 && j < objects->len && !known; j++)
        {
          TesseraObject *partner = g_ptr_array_index (objects, j);
          g_autoptr(GBytes) partner_blob = NULL;

          if (partner == key || tessera_object_get_id (partner) == NULL ||
              !g_bytes_equal (tessera_object_get_id (partner), id))
            continue;
          if (tessera_object_get_kind (partner) != TESSERA_OBJECT_KIND_PUBLIC_KEY &&
              tessera_object_get_kind (partner) != TESSERA_OBJECT_KIND_CERTIFICATE)
            continue;
          partner_blob = tessera_ssh_blob_from_object (partner, NULL);
          if (partner_blob != NULL && g_bytes_equal (partner_blob, blob))
            return key;
          known = partner_blob != NULL;
        }
      if (!known)
        g_ptr_array_add (hidden, key);
    }

  if (hidden->len == 0)
    return NULL;

  pubkey = _tessera_pubkey_from_ssh_blob (blob);
  if (pubkey == NULL)
    return NULL;

  for (guint i = 0; i < hidden->len && found == NULL; i++)
    {
      TesseraObject *key = g_ptr_array_index (hidden, i);
      g_autoptr(GError) local_error = NULL;

      if (_tessera_test_sign (functions, session, tessera_object_get_handle (key),
                              tessera_object_get_key_type (key), pubkey, &local_error))
        found = key;
      else if (local_error != NULL && sign_error == NULL)
        sign_error = g_steal_pointer (&local_error);
    }
  gnutls_pubkey_deinit (pubkey);

  if (found != NULL && by_signature != NULL)
    *by_signature = TRUE;
  if (found == NULL && sign_error != NULL)
    g_propagate_error (error, g_steal_pointer (&sign_error));
  return found;
}
