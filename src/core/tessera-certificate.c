/* tessera-certificate.c: self-signed certificates, import and export
 *
 * A self-signed certificate is built with GnuTLS and signed on the token:
 * GnuTLS sees the token key as an "external" private key whose signing
 * callbacks call C_Sign.  Certificates are written with the CKA_ID of
 * the private key they belong to, which is what OpenSSH pairs them by.
 * An import takes every certificate of a file on its own: each one is
 * written, or skipped with a TesseraCertificateOutcome that says why.
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
#include <gnutls/x509.h>

#include "tessera-certificate.h"
#include "tessera-key-generation.h"
#include "tessera-private.h"

/* Writing a certificate object ----------------------------------------------- */

/* CKA_SERIAL_NUMBER is the DER INTEGER, not its content. */
static GBytes *
der_integer (const guint8 *content,
             gsize         len)
{
  GByteArray *der = g_byte_array_new ();
  guint8 header[2] = { 0x02, (guint8) len };

  g_byte_array_append (der, header, sizeof header);
  g_byte_array_append (der, content, len);
  return g_byte_array_free_to_bytes (der);
}

/*
 * _tessera_certificate_create_object:
 *
 * Writes the X.509 certificate @der as a token object with @label and
 * @id, with the subject, issuer and serial attributes PKCS#11 asks for.
 */
gboolean
_tessera_certificate_create_object (TesseraSession  *write,
                                    GBytes               *der,
                                    const char           *label,
                                    GBytes               *id,
                                    CK_OBJECT_HANDLE     *handle_out,
                                    GError              **error)
{
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t value = { (unsigned char *) g_bytes_get_data (der, NULL), g_bytes_get_size (der) };
  gnutls_datum_t subject = { NULL, 0 }, issuer = { NULL, 0 };
  guint8 serial[64];
  size_t serial_len = sizeof serial;
  g_autoptr(GBytes) serial_der = NULL;
  CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
  CK_CERTIFICATE_TYPE type = CKC_X_509;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  gboolean ok = FALSE;
  CK_RV rv;

  gnutls_x509_crt_init (&crt);
  if (gnutls_x509_crt_import (crt, &value, GNUTLS_X509_FMT_DER) < 0 ||
      gnutls_x509_crt_get_raw_dn (crt, &subject) < 0 ||
      gnutls_x509_crt_get_raw_issuer_dn (crt, &issuer) < 0 ||
      gnutls_x509_crt_get_serial (crt, serial, &serial_len) < 0 || serial_len > 100)
    {
      g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                           _("The certificate could not be read."));
      goto out;
    }
  serial_der = der_integer (serial, serial_len);

  {
    CK_ATTRIBUTE template[] = {
      { CKA_CLASS, &klass, sizeof klass },
      { CKA_CERTIFICATE_TYPE, &type, sizeof type },
      { CKA_TOKEN, &yes, sizeof yes },
      { CKA_PRIVATE, &no, sizeof no },
      { CKA_LABEL, (void *) label, strlen (label) },
      { CKA_ID, (void *) g_bytes_get_data (id, NULL), g_bytes_get_size (id) },
      { CKA_SUBJECT, subject.data, subject.size },
      { CKA_ISSUER, issuer.data, issuer.size },
      { CKA_SERIAL_NUMBER, (void *) g_bytes_get_data (serial_der, NULL), g_bytes_get_size (serial_der) },
      { CKA_VALUE, value.data, value.size },
    };

    rv = write->functions->C_CreateObject (write->session, template, G_N_ELEMENTS (template), &handle);
    if (rv != CKR_OK)
      {
        _tessera_set_ck_error (error, rv, rv == CKR_USER_NOT_LOGGED_IN
                                          ? _("Log in to the token to store a certificate")
                                          : _("The token would not store the certificate"));
        goto out;
      }
  }
  if (handle_out != NULL)
    *handle_out = handle;
  ok = TRUE;

out:
  gnutls_free (subject.data);
  gnutls_free (issuer.data);
  gnutls_x509_crt_deinit (crt);
  return ok;
}

/* Signing with a token key, for GnuTLS ------------------------------------------ */

typedef struct
{
  CK_FUNCTION_LIST  *functions;
  CK_SESSION_HANDLE  session;
  CK_OBJECT_HANDLE   key;
  TesseraKeyType     type;
  int                pk;
  unsigned int       bits;
  GError            *error;
} TokenSigner;

static const guint8 *
digest_info_prefix (gnutls_sign_algorithm_t algorithm,
                    gsize                  *len)
{
  static const guint8 sha256[] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
  };
  static const guint8 sha384[] = {
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30,
  };
  static const guint8 sha512[] = {
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40,
  };

  switch (gnutls_sign_get_hash_algorithm (algorithm))
    {
    case GNUTLS_DIG_SHA256:
      *len = sizeof sha256;
      return sha256;
    case GNUTLS_DIG_SHA384:
      *len = sizeof sha384;
      return sha384;
    case GNUTLS_DIG_SHA512:
      *len = sizeof sha512;
      return sha512;
    default:
      return NULL;
    }
}

static int
token_sign_hash (gnutls_privkey_t         key,
                 gnutls_sign_algorithm_t  algorithm,
                 void                    *userdata,
                 unsigned int             flags,
                 const gnutls_datum_t    *hash,
                 gnutls_datum_t          *signature)
{
  TokenSigner *signer = userdata;
  g_autofree guint8 *buffer = NULL;
  gnutls_datum_t input = *hash;

  /* RSA PKCS#1 v1.5 signs a DigestInfo.  GnuTLS hands over one already
   * encoded (GNUTLS_SIGN_RSA_RAW), or the bare hash with its algorithm. */
  if (signer->type == TESSERA_KEY_TYPE_RSA && algorithm != GNUTLS_SIGN_RSA_RAW &&
      !(flags & GNUTLS_PRIVKEY_SIGN_FLAG_TLS1_RSA))
    {
      gsize prefix_len = 0;
      const guint8 *prefix = digest_info_prefix (algorithm, &prefix_len);

      if (prefix == NULL)
        return GNUTLS_E_UNSUPPORTED_SIGNATURE_ALGORITHM;
      buffer = g_malloc (prefix_len + hash->size);
      memcpy (buffer, prefix, prefix_len);
      memcpy (buffer + prefix_len, hash->data, hash->size);
      input.data = buffer;
      input.size = prefix_len + hash->size;
    }

  g_clear_error (&signer->error);
  if (!_tessera_sign_hash (signer->functions, signer->session, signer->key, signer->type,
                           &input, signature, &signer->error))
    return GNUTLS_E_PK_SIGN_FAILED;
  return 0;
}

static int
token_sign_data (gnutls_privkey_t         key,
                 gnutls_sign_algorithm_t  algorithm,
                 void                    *userdata,
                 unsigned int             flags,
                 const gnutls_datum_t    *data,
                 gnutls_datum_t          *signature)
{
  TokenSigner *signer = userdata;

  if (signer->type != TESSERA_KEY_TYPE_ED25519)
    return GNUTLS_E_INVALID_REQUEST;   /* GnuTLS hashes, then calls sign_hash */

  g_clear_error (&signer->error);
  if (!_tessera_sign_data (signer->functions, signer->session, signer->key, data, signature, &signer->error))
    return GNUTLS_E_PK_SIGN_FAILED;
  return 0;
}

static int
token_info (gnutls_privkey_t  key,
            unsigned int      flags,
            void             *userdata)
{
  TokenSigner *signer = userdata;

  if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO)
    return signer->pk;
  if (flags & GNUTLS_PRIVKEY_INFO_PK_ALGO_BITS)
    return signer->bits;
  if (flags & GNUTLS_PRIVKEY_INFO_HAVE_SIGN_ALGO)
    {
      gnutls_sign_algorithm_t algorithm = GNUTLS_FLAGS_TO_SIGN_ALGO (flags);

      return gnutls_sign_get_pk_algorithm (algorithm) == (gnutls_pk_algorithm_t) signer->pk;
    }
  return -1;
}

/* Creating the self-signed certificate ------------------------------------------ */

typedef struct
{
  TesseraModule *module;
  CK_SLOT_ID     slot;
  TesseraObject *private_key;
  GBytes        *blob;
  GBytes        *id;
  char          *label;
  char          *common_name;
  guint          days;
} Create;

static void
create_free (Create *create)
{
  g_clear_object (&create->module);
  g_clear_object (&create->private_key);
  g_clear_pointer (&create->blob, g_bytes_unref);
  g_clear_pointer (&create->id, g_bytes_unref);
  g_free (create->label);
  g_free (create->common_name);
  g_free (create);
}

/*
 * _tessera_certificate_build_self_signed:
 * @private_key: the key that signs, on the token
 * @blob: its public key
 *
 * Returns: (transfer full) (nullable): the DER of a certificate for
 *   @blob signed on the token by @private_key, checked to verify
 */
GBytes *
_tessera_certificate_build_self_signed (TesseraSession  *write,
                                        TesseraObject        *private_key,
                                        GBytes               *blob,
                                        const char           *common_name,
                                        guint                 days,
                                        GError              **error)
{
  gnutls_pubkey_t pubkey = _tessera_pubkey_from_ssh_blob (blob);
  gnutls_privkey_t privkey = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_digest_algorithm_t digest = GNUTLS_DIG_SHA256;
  TokenSigner signer = { 0 };
  guint8 serial[16];
  guint8 key_id[20];
  size_t key_id_len = sizeof key_id;
  gnutls_datum_t der = { NULL, 0 };
  unsigned int status = 0;
  time_t now = time (NULL);
  GBytes *result = NULL;
  int ret;

  if (pubkey == NULL)
    {
      g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                           _("The key’s public part could not be read."));
      return NULL;
    }

  signer.functions = write->functions;
  signer.session = write->session;
  signer.key = tessera_object_get_handle (private_key);
  signer.type = tessera_object_get_key_type (private_key);
  signer.pk = gnutls_pubkey_get_pk_algorithm (pubkey, &signer.bits);

  gnutls_privkey_init (&privkey);
  ret = gnutls_privkey_import_ext4 (privkey, &signer, token_sign_data, token_sign_hash,
                                    NULL, NULL, token_info, 0);
  if (ret >= 0)
    ret = gnutls_x509_crt_init (&crt);
  if (ret >= 0)
    ret = gnutls_x509_crt_set_version (crt, 3);

  /* A random positive serial: the top bit clear, and never all zero. */
  if (ret >= 0)
    ret = gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial);
  serial[0] = (serial[0] & 0x7f) | 0x01;
  if (ret >= 0)
    ret = gnutls_x509_crt_set_serial (crt, serial, sizeof serial);

  if (ret >= 0)
    ret = gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                         common_name, strlen (common_name));
  if (ret >= 0)
    ret = gnutls_x509_crt_set_activation_time (crt, now);
  if (ret >= 0)
    ret = gnutls_x509_crt_set_expiration_time (crt, now + (time_t) days * 24 * 60 * 60);
  if (ret >= 0)
    ret = gnutls_x509_crt_set_pubkey (crt, pubkey);
  if (ret >= 0)
    ret = gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
  if (ret >= 0)
    ret = gnutls_pubkey_get_key_id (pubkey, GNUTLS_KEYID_USE_SHA1, key_id, &key_id_len);
  if (ret >= 0)
    ret = gnutls_x509_crt_set_subject_key_id (crt, key_id, key_id_len);
  if (ret >= 0)
    gnutls_pubkey_get_preferred_hash_algorithm (pubkey, &digest, NULL);
  if (ret >= 0)
    ret = gnutls_x509_crt_privkey_sign (crt, crt, privkey, digest, 0);

  if (ret < 0)
    {
      if (signer.error != NULL)
        g_propagate_error (error, g_steal_pointer (&signer.error));
      else
        g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                     _("The certificate could not be made: %s"), gnutls_strerror (ret));
      goto out;
    }

  /* The signature was made on the token; it must verify with the key
   * the certificate names, or the token's key is not this public key. */
  ret = gnutls_x509_crt_verify (crt, &crt, 1, GNUTLS_VERIFY_DISABLE_TIME_CHECKS, &status);
  if (ret < 0 || status != 0)
    {
      g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                           _("The token’s signature does not match the key’s public part: the private key and its public key are not a pair."));
      goto out;
    }

  if (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_DER, &der) >= 0)
    {
      result = g_bytes_new (der.data, der.size);
      gnutls_free (der.data);
    }

out:
  g_clear_error (&signer.error);
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
  gnutls_privkey_deinit (privkey);
  gnutls_pubkey_deinit (pubkey);
  return result;
}

static void
create_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Create *create = task_data;
  TesseraSession write;
  g_autoptr(GBytes) der = NULL;
  GError *error = NULL;

  if (!_tessera_session_open (&write, create->module, create->slot, TRUE, &error) ||
      !_tessera_object_check_unchanged (&write, create->private_key, &error))
    goto out;

  der = _tessera_certificate_build_self_signed (&write, create->private_key, create->blob,
                                                create->common_name, create->days, &error);
  if (der == NULL)
    goto out;

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    goto out;

  _tessera_certificate_create_object (&write, der, create->label, create->id, NULL, &error);

out:
  _tessera_session_close (&write);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * tessera_token_create_certificate_async:
 * @key: a key with a private key and a readable public part
 * @common_name: (nullable): the subject's CN; "SSH key" when %NULL
 * @days: how long it is valid, from now
 *
 * Makes an X.509 v3 certificate for @key, signed on the token by the
 * key itself: a random positive serial, key usage digitalSignature and
 * the subject key identifier.  It is written with the key's CKA_ID and
 * label.  Logged in, since the private key signs.
 */
void
tessera_token_create_certificate_async (TesseraToken        *token,
                                        TesseraKey          *key,
                                        const char          *common_name,
                                        guint                days,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (token, cancellable, callback, user_data);
  Create *create;

  g_task_set_source_tag (task, tessera_token_create_certificate_async);

  if (tessera_key_get_private_key (key) == NULL)
    {
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                               _("Only a key whose private key is on the token can sign its certificate. Log in to see private keys."));
      return;
    }
  if (tessera_key_get_ssh_blob (key) == NULL)
    {
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                               _("The token does not show this key’s public part, so no certificate can name it."));
      return;
    }
  if (days == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("A certificate must be valid for at least one day."));
      return;
    }

  create = g_new0 (Create, 1);
  create->module = g_object_ref (tessera_token_get_module (token));
  create->slot = tessera_token_get_slot_id (token);
  create->private_key = g_object_ref (tessera_key_get_private_key (key));
  create->blob = g_bytes_ref (tessera_key_get_ssh_blob (key));
  create->id = g_bytes_ref (tessera_key_get_id (key));
  create->label = g_strdup (tessera_key_get_label (key) != NULL ? tessera_key_get_label (key) : "");
  create->common_name = g_strdup (common_name != NULL && *common_name != '\0'
                                  ? common_name : TESSERA_CERTIFICATE_DEFAULT_COMMON_NAME);
  create->days = days;

  g_task_set_task_data (task, create, (GDestroyNotify) create_free);
  g_task_run_in_thread (task, create_thread);
}

gboolean
tessera_token_create_certificate_finish (TesseraToken  *token,
                                         GAsyncResult  *result,
                                         GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* What became of each certificate in a file ------------------------------------- */

/**
 * TesseraCertificateOutcome:
 *
 * One certificate of a file given to
 * tessera_token_import_certificates_async(): where it is in the file,
 * its subject, whether it was written and under which ID, or why not.
 */
struct _TesseraCertificateOutcome
{
  GObject                        parent_instance;

  TesseraCertificateOutcomeKind  kind;
  guint                          position;
  char                          *subject;
  GBytes                        *id;
  char                          *reason;
  GError                        *error;

  /* Only while importing */
  GBytes                        *der;
  TesseraObject                 *private_key;
};

G_DEFINE_FINAL_TYPE (TesseraCertificateOutcome, tessera_certificate_outcome, G_TYPE_OBJECT)

static void
tessera_certificate_outcome_finalize (GObject *object)
{
  TesseraCertificateOutcome *self = TESSERA_CERTIFICATE_OUTCOME (object);

  g_free (self->subject);
  g_clear_pointer (&self->id, g_bytes_unref);
  g_free (self->reason);
  g_clear_error (&self->error);
  g_clear_pointer (&self->der, g_bytes_unref);
  g_clear_object (&self->private_key);

  G_OBJECT_CLASS (tessera_certificate_outcome_parent_class)->finalize (object);
}

static void
tessera_certificate_outcome_class_init (TesseraCertificateOutcomeClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tessera_certificate_outcome_finalize;
}

static void
tessera_certificate_outcome_init (TesseraCertificateOutcome *self)
{
}

static TesseraCertificateOutcome *
outcome_new (guint position)
{
  TesseraCertificateOutcome *self = g_object_new (TESSERA_TYPE_CERTIFICATE_OUTCOME, NULL);

  self->position = position;
  return self;
}

/* Decides a skipped certificate: @reason is the short form for a list,
 * @error the whole sentence for a file that held only this one. */
static void
outcome_skip (TesseraCertificateOutcome     *self,
              TesseraCertificateOutcomeKind  kind,
              char                          *reason,
              GError                        *error)
{
  self->kind = kind;
  g_free (self->reason);
  self->reason = reason;
  g_clear_error (&self->error);
  self->error = error;
  g_clear_object (&self->private_key);
}

static void
outcome_skip_malformed (TesseraCertificateOutcome *self,
                        char                      *reason)
{
  outcome_skip (self, TESSERA_CERTIFICATE_OUTCOME_MALFORMED,
                reason != NULL ? reason : g_strdup (_("not a certificate, or malformed")),
                g_error_new_literal (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                                     _("The file is not an X.509 certificate in PEM or DER form.")));
}

/**
 * tessera_certificate_outcome_get_kind:
 *
 * Returns: whether the certificate was imported, and if not, why
 */
TesseraCertificateOutcomeKind
tessera_certificate_outcome_get_kind (TesseraCertificateOutcome *self)
{
  g_return_val_if_fail (TESSERA_IS_CERTIFICATE_OUTCOME (self), TESSERA_CERTIFICATE_OUTCOME_MALFORMED);

  return self->kind;
}

/**
 * tessera_certificate_outcome_get_imported:
 *
 * Returns: %TRUE when the certificate was written to the token
 */
gboolean
tessera_certificate_outcome_get_imported (TesseraCertificateOutcome *self)
{
  g_return_val_if_fail (TESSERA_IS_CERTIFICATE_OUTCOME (self), FALSE);

  return self->kind == TESSERA_CERTIFICATE_OUTCOME_IMPORTED;
}

/**
 * tessera_certificate_outcome_get_position:
 *
 * Returns: where the certificate is in the file, from 1: the first PEM
 *   block is 1, whatever its type
 */
guint
tessera_certificate_outcome_get_position (TesseraCertificateOutcome *self)
{
  g_return_val_if_fail (TESSERA_IS_CERTIFICATE_OUTCOME (self), 0);

  return self->position;
}

/**
 * tessera_certificate_outcome_get_subject:
 *
 * Returns: (nullable): the certificate's subject ("CN=SSH key"), with
 *   control characters as visible symbols; %NULL when it could not be read
 */
const char *
tessera_certificate_outcome_get_subject (TesseraCertificateOutcome *self)
{
  g_return_val_if_fail (TESSERA_IS_CERTIFICATE_OUTCOME (self), NULL);

  return self->subject;
}

/**
 * tessera_certificate_outcome_get_id:
 *
 * Returns: (nullable): the CKA_ID it was written with; for a certificate
 *   already on the token, the ID it has there
 */
GBytes *
tessera_certificate_outcome_get_id (TesseraCertificateOutcome *self)
{
  g_return_val_if_fail (TESSERA_IS_CERTIFICATE_OUTCOME (self), NULL);

  return self->id;
}

/**
 * tessera_certificate_outcome_get_reason:
 *
 * Returns: (nullable): why it was skipped, as a phrase for a list ("already
 *   on the token, as “alice”"); %NULL when it was imported
 */
const char *
tessera_certificate_outcome_get_reason (TesseraCertificateOutcome *self)
{
  g_return_val_if_fail (TESSERA_IS_CERTIFICATE_OUTCOME (self), NULL);

  return self->reason;
}

/**
 * tessera_certificate_outcome_describe:
 *
 * Returns: (transfer full): one line that names the certificate and says
 *   why it was skipped, for a list of skipped certificates
 */
char *
tessera_certificate_outcome_describe (TesseraCertificateOutcome *self)
{
  const char *reason;

  g_return_val_if_fail (TESSERA_IS_CERTIFICATE_OUTCOME (self), NULL);

  reason = self->reason != NULL ? self->reason : _("imported");
  if (self->subject != NULL && *self->subject != '\0')
    /* Translators: a certificate skipped on import: its subject, where it
     * is in the file, and why, e.g. “CN=alice” (position 2): matches no
     * key on this token */
    return g_strdup_printf (_("“%s” (position %u): %s"), self->subject, self->position, reason);

  /* Translators: something in a file that was not imported: where it is,
   * and why, e.g. Position 2: not a certificate, or malformed */
  return g_strdup_printf (_("Position %u: %s"), self->position, reason);
}

/* Reading the file ---------------------------------------------------------------- */

/* Files are bytes, not strings: they may hold a NUL anywhere */
static const char *
find_text (const char *from,
           const char *end,
           const char *needle)
{
  gsize length = strlen (needle);

  for (const char *p = from; p != NULL && p + length <= end; p++)
    {
      p = memchr (p, needle[0], end - p);
      if (p == NULL || p + length > end)
        return NULL;
      if (memcmp (p, needle, length) == 0)
        return p;
    }
  return NULL;
}

/* Fills in @outcome from one certificate, PEM or DER */
static void
read_certificate (TesseraCertificateOutcome *outcome,
                  const char                *data,
                  gsize                      length,
                  gnutls_x509_crt_fmt_t      format)
{
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t input = { (unsigned char *) data, length };
  gnutls_datum_t der = { NULL, 0 }, dn = { NULL, 0 };

  gnutls_x509_crt_init (&crt);
  if (gnutls_x509_crt_import (crt, &input, format) < 0 ||
      gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_DER, &der) < 0)
    {
      outcome_skip_malformed (outcome, NULL);
      gnutls_x509_crt_deinit (crt);
      return;
    }

  outcome->der = g_bytes_new (der.data, der.size);
  if (gnutls_x509_crt_get_dn3 (crt, &dn, 0) >= 0)
    {
      g_autofree char *text = g_strndup ((const char *) dn.data, dn.size);

      outcome->subject = tessera_text_make_visible (text);
    }
  gnutls_free (dn.data);
  gnutls_free (der.data);
  gnutls_x509_crt_deinit (crt);
}

/*
 * Splits @data into its PEM blocks, or takes it as one DER certificate.
 * Every block gets an outcome, in order: a broken block, or one that
 * holds something else, is decided here as malformed and the next block
 * is read all the same.
 */
static GPtrArray *
read_certificates (GBytes *data)
{
  GPtrArray *outcomes = g_ptr_array_new_with_free_func (g_object_unref);
  gsize length = 0;
  const char *start = g_bytes_get_data (data, &length);
  const char *end = start + length;
  const char *p = start;
  const char *begin;

  if (start == NULL)
    end = p = start = "";

  while ((begin = find_text (p, end, "-----BEGIN ")) != NULL)
    {
      TesseraCertificateOutcome *outcome = outcome_new (outcomes->len + 1);
      const char *type = begin + strlen ("-----BEGIN ");
      const char *next = find_text (type, end, "-----BEGIN ");
      const char *limit = next != NULL ? next : end;
      const char *line_end = memchr (type, '\n', limit - type);
      const char *type_end = find_text (type, line_end != NULL ? line_end : limit, "-----");
      g_autofree char *name = NULL;
      g_autofree char *end_marker = NULL;
      const char *block_end;

      g_ptr_array_add (outcomes, outcome);
      p = limit;
      if (type_end == NULL)
        {
          outcome_skip_malformed (outcome, NULL);
          continue;
        }

      name = g_strndup (type, type_end - type);
      end_marker = g_strdup_printf ("-----END %s-----", name);
      block_end = find_text (type_end, limit, end_marker);
      if (block_end == NULL)
        {
          outcome_skip_malformed (outcome, NULL);
          continue;
        }
      block_end += strlen (end_marker);
      p = block_end;

      if (g_str_equal (name, "CERTIFICATE") || g_str_equal (name, "X509 CERTIFICATE"))
        read_certificate (outcome, begin, block_end - begin, GNUTLS_X509_FMT_PEM);
      else
        {
          g_autofree char *shown = tessera_text_make_visible (name);

          if (g_utf8_strlen (shown, -1) > 40)
            *g_utf8_offset_to_pointer (shown, 40) = '\0';
          /* Translators: %s is the type of a PEM block, e.g. “PRIVATE KEY” */
          outcome_skip_malformed (outcome, g_strdup_printf (_("a “%s” block, not a certificate"), shown));
        }
    }

  if (outcomes->len == 0)
    {
      TesseraCertificateOutcome *outcome = outcome_new (1);

      g_ptr_array_add (outcomes, outcome);
      read_certificate (outcome, start, length, GNUTLS_X509_FMT_DER);
    }
  return outcomes;
}

/* Import ------------------------------------------------------------------------ */

typedef struct
{
  TesseraModule *module;
  CK_SLOT_ID     slot;
  CK_TOKEN_INFO  token_info;
  GBytes        *data;
  char          *label;
} Import;

static void
import_free (Import *import)
{
  g_clear_object (&import->module);
  g_clear_pointer (&import->data, g_bytes_unref);
  g_free (import->label);
  g_free (import);
}

static gboolean
outcome_pending (TesseraCertificateOutcome *outcome)
{
  return outcome->der != NULL && outcome->reason == NULL;
}

/* The certificate itself, under the key's ID: on the token already, or
 * earlier in the file */
static void
find_copy (TesseraCertificateOutcome *outcome,
           GPtrArray                 *objects,
           GPtrArray                 *outcomes,
           GBytes                    *id)
{
  for (guint i = 0; i < objects->len; i++)
    {
      TesseraObject *object = g_ptr_array_index (objects, i);
      GBytes *value = tessera_object_get_value (object);
      GBytes *object_id = tessera_object_get_id (object);

      if (tessera_object_get_kind (object) == TESSERA_OBJECT_KIND_CERTIFICATE && value != NULL &&
          g_bytes_equal (value, outcome->der) && object_id != NULL && g_bytes_equal (object_id, id))
        {
          const char *label = tessera_object_get_display_label (object);

          outcome->id = g_bytes_ref (id);
          /* Translators: why a certificate was not imported; %s is the
           * label of the copy on the token */
          outcome_skip (outcome, TESSERA_CERTIFICATE_OUTCOME_ALREADY_ON_TOKEN,
                        g_strdup_printf (_("already on the token, as “%s”"), label),
                        g_error_new (G_IO_ERROR, G_IO_ERROR_EXISTS,
                                     _("This certificate is already on the token, as “%s”, with its key’s ID; nothing was imported."),
                                     label));
          return;
        }
    }

  for (guint i = 0; i < outcomes->len; i++)
    {
      TesseraCertificateOutcome *earlier = g_ptr_array_index (outcomes, i);

      if (earlier == outcome)
        return;
      if (earlier->private_key != NULL && g_bytes_equal (earlier->der, outcome->der) &&
          g_bytes_equal (earlier->id, id))
        {
          outcome->id = g_bytes_ref (id);
          /* Translators: why a certificate was not imported */
          outcome_skip (outcome, TESSERA_CERTIFICATE_OUTCOME_ALREADY_ON_TOKEN,
                        g_strdup_printf (_("already on the token: the same as position %u"), earlier->position),
                        g_error_new_literal (G_IO_ERROR, G_IO_ERROR_EXISTS,
                                             _("This certificate is already on the token; nothing was imported.")));
          return;
        }
    }
}

/* Decides each certificate still pending: its key, or why it has none */
static void
match_keys (TesseraSession *session,
            GPtrArray      *objects,
            GPtrArray      *outcomes)
{
  for (guint i = 0; i < outcomes->len; i++)
    {
      TesseraCertificateOutcome *outcome = g_ptr_array_index (outcomes, i);
      g_autoptr(GBytes) blob = NULL;
      g_autoptr(GBytes) id = NULL;
      TesseraObject *private_key;
      GError *error = NULL;

      if (!outcome_pending (outcome))
        continue;

      blob = _tessera_ssh_blob_from_certificate (outcome->der, NULL);
      if (blob == NULL)
        {
          outcome_skip (outcome, TESSERA_CERTIFICATE_OUTCOME_UNSUPPORTED_KEY,
                        g_strdup (_("its key is of a type Tessera cannot pair with a token key")),
                        g_error_new_literal (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_NOT_SUPPORTED,
                                             _("The certificate’s key is of a type Tessera cannot pair with a token key.")));
          continue;
        }

      private_key = _tessera_match_private_key (session->functions, session->session, objects, blob, NULL, &error);
      if (private_key == NULL && error != NULL)
        {
          outcome_skip (outcome, TESSERA_CERTIFICATE_OUTCOME_NOT_STORED, g_strdup (error->message), error);
          continue;
        }
      if (private_key == NULL)
        {
          outcome_skip (outcome, TESSERA_CERTIFICATE_OUTCOME_NO_MATCHING_KEY,
                        g_strdup (_("matches no key on this token")),
                        g_error_new_literal (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                                             _("No private key on the token matches this certificate’s public key, so nothing was imported. Log in first if you have not, or import it onto the token that holds its key.")));
          continue;
        }

      id = tessera_object_get_id (private_key) != NULL ? g_bytes_ref (tessera_object_get_id (private_key))
                                                        : g_bytes_new (NULL, 0);
      find_copy (outcome, objects, outcomes, id);
      if (outcome_pending (outcome))
        {
          outcome->private_key = g_object_ref (private_key);
          outcome->id = g_steal_pointer (&id);
        }
    }
}

/* Nothing imported: one certificate's own error, or the list of reasons */
static GError *
nothing_imported_error (GPtrArray *outcomes)
{
  TesseraCertificateOutcome *first = g_ptr_array_index (outcomes, 0);
  GQuark domain = first->error->domain;
  int code = first->error->code;
  gboolean unmatched = FALSE;
  g_autoptr(GString) message = NULL;

  if (outcomes->len == 1)
    return g_error_copy (first->error);

  message = g_string_new (_("Nothing was imported:"));
  for (guint i = 0; i < outcomes->len; i++)
    {
      TesseraCertificateOutcome *outcome = g_ptr_array_index (outcomes, i);
      g_autofree char *line = tessera_certificate_outcome_describe (outcome);

      g_string_append_printf (message, "\n• %s", line);
      if (outcome->error->domain != domain || outcome->error->code != code)
        {
          domain = TESSERA_PKCS11_ERROR;
          code = TESSERA_PKCS11_ERROR_FAILED;
        }
      unmatched |= outcome->kind == TESSERA_CERTIFICATE_OUTCOME_NO_MATCHING_KEY;
    }
  if (unmatched)
    g_string_append_printf (message, "\n%s",
                            _("Log in first if you have not, or import each certificate onto the token that holds its key."));

  return g_error_new_literal (domain, code, message->str);
}

static void
import_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Import *import = task_data;
  TesseraSession write = { 0 };
  g_autoptr(GPtrArray) outcomes = read_certificates (import->data);
  g_autoptr(GPtrArray) objects = NULL;
  gboolean pending = FALSE;
  guint imported = 0;
  GError *error = NULL;
  CK_RV rv;

  for (guint i = 0; i < outcomes->len; i++)
    pending |= outcome_pending (g_ptr_array_index (outcomes, i));
  g_debug ("Importing from a file of %u blocks", outcomes->len);

  /* A file with no certificate in it needs no session */
  if (pending)
    {
      if (!_tessera_session_open (&write, import->module, import->slot, TRUE, &error))
        goto out;

      objects = _tessera_object_read_all (write.functions, write.session, &import->token_info,
                                          cancellable, &rv, &error);
      if (objects == NULL)
        goto out;

      match_keys (&write, objects, outcomes);

      if (g_cancellable_set_error_if_cancelled (cancellable, &error))
        goto out;
    }

  for (guint i = 0; i < outcomes->len; i++)
    {
      TesseraCertificateOutcome *outcome = g_ptr_array_index (outcomes, i);
      const char *label = import->label;
      GError *write_error = NULL;

      if (!outcome_pending (outcome))
        continue;

      if (label == NULL)
        label = tessera_object_get_label (outcome->private_key);
      if (!_tessera_certificate_create_object (&write, outcome->der, label != NULL ? label : "",
                                               outcome->id, NULL, &write_error))
        {
          outcome_skip (outcome, TESSERA_CERTIFICATE_OUTCOME_NOT_STORED,
                        g_strdup (write_error->message), write_error);
          continue;
        }
      outcome->kind = TESSERA_CERTIFICATE_OUTCOME_IMPORTED;
      g_clear_object (&outcome->private_key);
      imported++;
    }

  for (guint i = 0; i < outcomes->len; i++)
    g_clear_pointer (&((TesseraCertificateOutcome *) g_ptr_array_index (outcomes, i))->der, g_bytes_unref);

  if (imported == 0)
    error = nothing_imported_error (outcomes);

out:
  _tessera_session_close (&write);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&outcomes), (GDestroyNotify) g_ptr_array_unref);
}

/**
 * tessera_token_import_certificates_async:
 * @data: X.509 certificates: PEM with any number of CERTIFICATE blocks,
 *   or one in DER
 * @label: (nullable): the label of each certificate written; when %NULL,
 *   each takes its private key's
 *
 * Writes each certificate in @data onto the token with the CKA_ID of the
 * private key whose public key it holds, found by key material (or a
 * test signature, for keys that hide their public part).  A certificate
 * is skipped, with nothing written for it, when it is already on the
 * token under that ID, when no private key matches it, or when it cannot
 * be read; the others are imported all the same.  Logged in.
 */
void
tessera_token_import_certificates_async (TesseraToken        *token,
                                         GBytes              *data,
                                         const char          *label,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (token, cancellable, callback, user_data);
  P11KitUri *parsed;
  Import *import;
  GError *error = NULL;

  g_return_if_fail (TESSERA_IS_TOKEN (token));
  g_return_if_fail (data != NULL);

  g_task_set_source_tag (task, tessera_token_import_certificates_async);

  if (!tessera_check_label_text (label, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  import = g_new0 (Import, 1);
  import->module = g_object_ref (tessera_token_get_module (token));
  import->slot = tessera_token_get_slot_id (token);
  import->data = g_bytes_ref (data);
  import->label = g_strdup (label);
  parsed = p11_kit_uri_new ();
  if (p11_kit_uri_parse (tessera_token_get_uri (token), P11_KIT_URI_FOR_ANY, parsed) == P11_KIT_URI_OK)
    import->token_info = *p11_kit_uri_get_token_info (parsed);
  p11_kit_uri_free (parsed);

  g_task_set_task_data (task, import, (GDestroyNotify) import_free);
  g_task_run_in_thread (task, import_thread);
}

/**
 * tessera_token_import_certificates_finish:
 *
 * Fails when not one certificate was imported, with a message that says
 * why for each; a file of one certificate already on the token fails
 * with %G_IO_ERROR_EXISTS, as does a file whose certificates all are.
 *
 * Returns: (transfer full) (element-type TesseraCertificateOutcome): what
 *   became of each certificate, in the file's order; at least one was
 *   imported
 */
GPtrArray *
tessera_token_import_certificates_finish (TesseraToken  *token,
                                          GAsyncResult  *result,
                                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, token), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Export ------------------------------------------------------------------------ */

/**
 * tessera_certificate_export:
 * @certificate: a certificate object, as read
 *
 * Returns: (transfer full): the certificate as PEM ("-----BEGIN
 *   CERTIFICATE-----") or DER
 */
GBytes *
tessera_certificate_export (TesseraObject             *certificate,
                            TesseraCertificateFormat   format,
                            GError                   **error)
{
  GBytes *value;
  gnutls_datum_t der, pem = { NULL, 0 };
  GBytes *result;

  g_return_val_if_fail (TESSERA_IS_OBJECT (certificate), NULL);

  value = tessera_object_get_value (certificate);
  if (tessera_object_get_kind (certificate) != TESSERA_OBJECT_KIND_CERTIFICATE ||
      value == NULL || tessera_object_get_parse_error (certificate) != NULL)
    {
      g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                           _("This object holds no readable certificate."));
      return NULL;
    }

  if (format == TESSERA_CERTIFICATE_FORMAT_DER)
    return g_bytes_ref (value);

  der.data = (unsigned char *) g_bytes_get_data (value, NULL);
  der.size = g_bytes_get_size (value);
  if (gnutls_pem_base64_encode2 ("CERTIFICATE", &der, &pem) < 0)
    {
      g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                           _("The certificate could not be encoded."));
      return NULL;
    }
  result = g_bytes_new (pem.data, pem.size);
  gnutls_free (pem.data);
  return result;
}
