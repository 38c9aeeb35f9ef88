/* tessera-key-generation.c: key pairs made on the token
 *
 * The private key never leaves the token: sensitive, not extractable,
 * able to sign.  The public-key object is always stored, since OpenSSH
 * finds keys only through it.  Both get the user's label and one CKA_ID,
 * the SHA-1 of the public key as GnuTLS computes it (20 bytes), so that
 * GnuTLS tools, pkcs11-tool and OpenSSH all pair them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "tessera-key-generation.h"
#include "tessera-private.h"
#include "tessera-ssh.h"

#ifndef CKM_EC_EDWARDS_KEY_PAIR_GEN
# define CKM_EC_EDWARDS_KEY_PAIR_GEN 0x1055UL
#endif
#ifndef CKK_EC_EDWARDS
# define CKK_EC_EDWARDS 0x40UL
#endif

static const struct {
  guint         bits;
  const guint8 *der;
  gsize         len;
} ec_curves[] = {
  { 256, (const guint8 *) "\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 10 },
  { 384, (const guint8 *) "\x06\x05\x2b\x81\x04\x00\x22", 7 },
  { 521, (const guint8 *) "\x06\x05\x2b\x81\x04\x00\x23", 7 },
};

/* SoftHSM and pkcs11-tool name the Ed25519 curve by its printable name. */
static const guint8 ed25519_params[] = "\x13\x0c" "edwards25519";

/**
 * tessera_key_spec_describe:
 *
 * Returns: (transfer full): "RSA 2048", "ECDSA P-256", "Ed25519"
 */
char *
tessera_key_spec_describe (const TesseraKeySpec *spec)
{
  switch (spec->type)
    {
    case TESSERA_KEY_TYPE_RSA:
      return g_strdup_printf ("RSA %u", spec->bits);
    case TESSERA_KEY_TYPE_EC:
      return g_strdup_printf ("ECDSA P-%u", spec->bits);
    case TESSERA_KEY_TYPE_ED25519:
      return g_strdup ("Ed25519");
    default:
      return g_strdup (_("Unknown key type"));
    }
}

/**
 * tessera_key_spec_check_ssh:
 * @spec: a kind of key a token can make
 * @error: why SSH should not use it
 *
 * Whether keys of this kind serve SSH: the installed OpenSSH must take
 * them from a token (Ed25519 only since OpenSSH 10.1), and an RSA key
 * must have 2048 bits or more to be safe.
 *
 * Returns: %TRUE if a key of @spec serves SSH
 */
gboolean
tessera_key_spec_check_ssh (const TesseraKeySpec  *spec,
                            GError               **error)
{
  g_return_val_if_fail (spec != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!tessera_openssh_supports (spec->type))
    {
      if (spec->type == TESSERA_KEY_TYPE_ED25519)
        g_set_error_literal (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_UNSUPPORTED,
                             _("The installed OpenSSH cannot use Ed25519 keys from a token "
                               "(needs OpenSSH 10.1)"));
      else
        g_set_error_literal (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_UNSUPPORTED,
                             _("The installed OpenSSH cannot use keys of this type from a token"));
      return FALSE;
    }

  if (spec->type == TESSERA_KEY_TYPE_RSA && spec->bits < 2048)
    {
      g_set_error_literal (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_UNSUPPORTED,
                           _("Too short to be safe: choose 2048 bits or more"));
      return FALSE;
    }

  return TRUE;
}

/**
 * tessera_key_spec_recommend:
 * @specs: (element-type TesseraKeySpec): what a token can make, not empty
 *
 * Picks the kind to offer first: ECDSA P-256 (small, fast on cards, and
 * every OpenSSH takes it from a token), else RSA 3072, else RSA 2048,
 * else the first that serves SSH (see tessera_key_spec_check_ssh()),
 * else the first.
 *
 * Returns: the index in @specs
 */
guint
tessera_key_spec_recommend (GArray *specs)
{
  static const TesseraKeySpec preferred[] = {
    { TESSERA_KEY_TYPE_EC, 256 },
    { TESSERA_KEY_TYPE_RSA, 3072 },
    { TESSERA_KEY_TYPE_RSA, 2048 },
  };

  for (guint p = 0; p < G_N_ELEMENTS (preferred); p++)
    for (guint i = 0; i < specs->len; i++)
      {
        TesseraKeySpec *spec = &g_array_index (specs, TesseraKeySpec, i);

        if (spec->type == preferred[p].type && spec->bits == preferred[p].bits)
          return i;
      }
  for (guint i = 0; i < specs->len; i++)
    if (tessera_key_spec_check_ssh (&g_array_index (specs, TesseraKeySpec, i), NULL))
      return i;
  return 0;
}

/* Which kinds the mechanism list allows ---------------------------------------- */

static void
list_specs_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  TesseraToken *token = source_object;
  TesseraModule *module = task_data;
  g_autoptr(GArray) specs = g_array_new (FALSE, FALSE, sizeof (TesseraKeySpec));
  CK_SLOT_ID slot = tessera_token_get_slot_id (token);
  CK_FUNCTION_LIST *functions;
  CK_MECHANISM_INFO info;
  CK_RV rv;

  functions = _tessera_module_begin (module);
  if (functions == NULL)
    {
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                               _("The token’s module is not loaded."));
      return;
    }

  rv = functions->C_GetMechanismInfo (slot, CKM_RSA_PKCS_KEY_PAIR_GEN, &info);
  if (rv == CKR_OK && (info.flags & CKF_GENERATE_KEY_PAIR))
    {
      static const guint sizes[] = { 2048, 3072, 4096 };

      for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
        if (sizes[i] >= info.ulMinKeySize && sizes[i] <= info.ulMaxKeySize)
          g_array_append_val (specs, ((TesseraKeySpec) { TESSERA_KEY_TYPE_RSA, sizes[i] }));
    }

  rv = functions->C_GetMechanismInfo (slot, CKM_EC_KEY_PAIR_GEN, &info);
  if (rv == CKR_OK && (info.flags & CKF_GENERATE_KEY_PAIR))
    for (guint i = 0; i < G_N_ELEMENTS (ec_curves); i++)
      if (ec_curves[i].bits >= info.ulMinKeySize && ec_curves[i].bits <= info.ulMaxKeySize)
        g_array_append_val (specs, ((TesseraKeySpec) { TESSERA_KEY_TYPE_EC, ec_curves[i].bits }));

  rv = _tessera_module_get_mechanism_info (functions, slot, CKM_EC_EDWARDS_KEY_PAIR_GEN, &info);
  if (rv == CKR_OK && (info.flags & CKF_GENERATE_KEY_PAIR))
    g_array_append_val (specs, ((TesseraKeySpec) { TESSERA_KEY_TYPE_ED25519, 255 }));

  _tessera_module_end (module);

  /* The caller marks the kinds OpenSSH cannot use, Ed25519 by OpenSSH's
   * version: learn it here, not on the main thread. */
  for (guint i = 0; i < specs->len; i++)
    if (g_array_index (specs, TesseraKeySpec, i).type == TESSERA_KEY_TYPE_ED25519)
      tessera_openssh_get_version (NULL, NULL);
  g_task_return_pointer (task, g_steal_pointer (&specs), (GDestroyNotify) g_array_unref);
}

/**
 * tessera_token_list_key_specs_async:
 *
 * Finds which of RSA 2048/3072/4096, ECDSA P-256/384/521 and Ed25519 the
 * token can generate, from its mechanism information.
 */
void
tessera_token_list_key_specs_async (TesseraToken        *token,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (token, cancellable, callback, user_data);

  g_task_set_source_tag (task, tessera_token_list_key_specs_async);
  g_task_set_task_data (task, g_object_ref (tessera_token_get_module (token)), g_object_unref);
  g_task_run_in_thread (task, list_specs_thread);
}

/**
 * tessera_token_list_key_specs_finish:
 *
 * Returns: (transfer full) (element-type TesseraKeySpec): the kinds
 */
GArray *
tessera_token_list_key_specs_finish (TesseraToken  *token,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The key ID ---------------------------------------------------------------------- */

/**
 * tessera_key_id_for_ssh_blob:
 *
 * Returns: (transfer full) (nullable): the SHA-1 of the public key's
 *   SubjectPublicKeyInfo, the ID GnuTLS gives keys
 */
GBytes *
tessera_key_id_for_ssh_blob (GBytes *blob)
{
  gnutls_pubkey_t pubkey = _tessera_pubkey_from_ssh_blob (blob);
  guint8 id[20];
  size_t id_size = sizeof id;
  int ret;

  if (pubkey == NULL)
    return NULL;
  ret = gnutls_pubkey_get_key_id (pubkey, GNUTLS_KEYID_USE_SHA1, id, &id_size);
  gnutls_pubkey_deinit (pubkey);

  return ret >= 0 ? g_bytes_new (id, id_size) : NULL;
}

/* Generating ----------------------------------------------------------------------- */

typedef struct
{
  TesseraModule  *module;
  CK_SLOT_ID      slot;
  TesseraKeySpec  spec;
  char           *label;
  CK_TOKEN_INFO   token_info;
} Generate;

static void
generate_free (Generate *generate)
{
  g_clear_object (&generate->module);
  g_free (generate->label);
  g_free (generate);
}

static GBytes *
read_public_blob (CK_FUNCTION_LIST    *functions,
                  CK_SESSION_HANDLE    session,
                  CK_OBJECT_HANDLE     public_key,
                  const CK_TOKEN_INFO *token_info)
{
  g_autoptr(TesseraObject) object = _tessera_object_read_one (functions, session, public_key, FALSE, token_info);

  return object != NULL ? tessera_ssh_blob_from_object (object, NULL) : NULL;
}

static void
generate_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  Generate *generate = task_data;
  CK_FUNCTION_LIST *functions;
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  CK_OBJECT_HANDLE public_key, private_key;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_ULONG modulus_bits = generate->spec.bits;
  CK_BYTE exponent[] = { 0x01, 0x00, 0x01 };
  guint8 temporary_id[20];
  CK_MECHANISM mechanism = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
  CK_ATTRIBUTE public_template[8];
  CK_ATTRIBUTE private_template[8];
  CK_ULONG n_public = 0, n_private = 0;
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(GBytes) id = NULL;
  GError *error = NULL;
  CK_RV rv;

  /* A random ID until the public key, and so its real ID, exists. */
  for (guint i = 0; i < sizeof temporary_id; i++)
    temporary_id[i] = g_random_int_range (0, 256);

  public_template[n_public++] = (CK_ATTRIBUTE) { CKA_TOKEN, &yes, sizeof yes };
  public_template[n_public++] = (CK_ATTRIBUTE) { CKA_PRIVATE, &no, sizeof no };
  public_template[n_public++] = (CK_ATTRIBUTE) { CKA_VERIFY, &yes, sizeof yes };
  public_template[n_public++] = (CK_ATTRIBUTE) { CKA_LABEL, generate->label, strlen (generate->label) };
  public_template[n_public++] = (CK_ATTRIBUTE) { CKA_ID, temporary_id, sizeof temporary_id };

  private_template[n_private++] = (CK_ATTRIBUTE) { CKA_TOKEN, &yes, sizeof yes };
  private_template[n_private++] = (CK_ATTRIBUTE) { CKA_PRIVATE, &yes, sizeof yes };
  private_template[n_private++] = (CK_ATTRIBUTE) { CKA_SENSITIVE, &yes, sizeof yes };
  private_template[n_private++] = (CK_ATTRIBUTE) { CKA_EXTRACTABLE, &no, sizeof no };
  private_template[n_private++] = (CK_ATTRIBUTE) { CKA_SIGN, &yes, sizeof yes };
  private_template[n_private++] = (CK_ATTRIBUTE) { CKA_LABEL, generate->label, strlen (generate->label) };
  private_template[n_private++] = (CK_ATTRIBUTE) { CKA_ID, temporary_id, sizeof temporary_id };

  switch (generate->spec.type)
    {
    case TESSERA_KEY_TYPE_RSA:
      public_template[n_public++] = (CK_ATTRIBUTE) { CKA_MODULUS_BITS, &modulus_bits, sizeof modulus_bits };
      public_template[n_public++] = (CK_ATTRIBUTE) { CKA_PUBLIC_EXPONENT, exponent, sizeof exponent };
      break;
    case TESSERA_KEY_TYPE_EC:
      mechanism.mechanism = CKM_EC_KEY_PAIR_GEN;
      for (guint i = 0; i < G_N_ELEMENTS (ec_curves); i++)
        if (ec_curves[i].bits == generate->spec.bits)
          public_template[n_public++] = (CK_ATTRIBUTE) { CKA_EC_PARAMS, (void *) ec_curves[i].der, ec_curves[i].len };
      break;
    case TESSERA_KEY_TYPE_ED25519:
      mechanism.mechanism = CKM_EC_EDWARDS_KEY_PAIR_GEN;
      public_template[n_public++] = (CK_ATTRIBUTE) { CKA_EC_PARAMS, (void *) ed25519_params, sizeof ed25519_params - 1 };
      break;
    default:
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_NOT_SUPPORTED,
                               _("Tessera cannot make keys of this type."));
      return;
    }

  functions = _tessera_module_begin (generate->module);
  if (functions == NULL)
    {
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                               _("The token’s module is not loaded."));
      return;
    }

  /* A read-write session of its own: the login is the application's, so
   * it is logged in if the token is. */
  rv = functions->C_OpenSession (generate->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session);
  if (rv != CKR_OK)
    {
      _tessera_set_ck_error (&error, rv, _("Could not open a session on the token"));
      goto out;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    goto out;

  rv = _tessera_module_generate_key_pair (functions, session, &mechanism, public_template, n_public,
                                          private_template, n_private, &public_key, &private_key);
  if (rv != CKR_OK)
    {
      _tessera_set_ck_error (&error, rv, rv == CKR_USER_NOT_LOGGED_IN
                                         ? _("Log in to the token to make a key")
                                         : _("The token could not make the key"));
      goto out;
    }

  /* PKCS#11 cannot interrupt C_GenerateKeyPair.  A cancel that came
   * while it ran undoes it, so that a cancelled generation leaves no key. */
  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      functions->C_DestroyObject (session, private_key);
      functions->C_DestroyObject (session, public_key);
      goto out;
    }

  /* Now that the public key exists, give both objects its ID. */
  blob = read_public_blob (functions, session, public_key, &generate->token_info);
  id = blob != NULL ? tessera_key_id_for_ssh_blob (blob) : NULL;
  if (id != NULL)
    {
      CK_ATTRIBUTE id_attribute = { CKA_ID, (void *) g_bytes_get_data (id, NULL), g_bytes_get_size (id) };

      rv = functions->C_SetAttributeValue (session, public_key, &id_attribute, 1);
      if (rv == CKR_OK)
        rv = functions->C_SetAttributeValue (session, private_key, &id_attribute, 1);
      if (rv != CKR_OK)
        {
          /* Both keep the random ID they were made with: still one ID. */
          g_debug ("The token kept the generated key's first ID: %s", _tessera_ck_rv_name (rv));
          g_clear_pointer (&id, g_bytes_unref);
        }
    }
  if (id == NULL)
    id = g_bytes_new (temporary_id, sizeof temporary_id);

  /* The last point where a cancel can still be honoured by undoing. */
  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      functions->C_DestroyObject (session, private_key);
      functions->C_DestroyObject (session, public_key);
    }

out:
  if (session != CK_INVALID_HANDLE)
    functions->C_CloseSession (session);
  _tessera_module_end (generate->module);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&id), (GDestroyNotify) g_bytes_unref);
}

/**
 * tessera_token_generate_key_async:
 * @spec: the kind of key
 * @label: the label of both objects
 *
 * Makes a key pair on the token, logged in: a sensitive, non-extractable
 * private key that may sign, and its public-key object, sharing the label
 * and the GnuTLS key ID.  Read the token's objects afterwards.
 *
 * Cancelling before the token starts stops it; cancelling while the
 * token computes (PKCS#11 cannot interrupt it) deletes the new pair once
 * it is made.  Either way a cancelled generation leaves no key.
 */
void
tessera_token_generate_key_async (TesseraToken         *token,
                                  const TesseraKeySpec *spec,
                                  const char           *label,
                                  GCancellable         *cancellable,
                                  GAsyncReadyCallback   callback,
                                  gpointer              user_data)
{
  g_autoptr(GTask) task = g_task_new (token, cancellable, callback, user_data);
  Generate *generate;
  P11KitUri *parsed;
  GError *error = NULL;

  g_task_set_source_tag (task, tessera_token_generate_key_async);

  if (!tessera_check_label_text (label, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  generate = g_new0 (Generate, 1);
  parsed = p11_kit_uri_new ();

  generate->module = g_object_ref (tessera_token_get_module (token));
  generate->slot = tessera_token_get_slot_id (token);
  generate->spec = *spec;
  generate->label = g_strdup (label != NULL ? label : "");
  if (p11_kit_uri_parse (tessera_token_get_uri (token), P11_KIT_URI_FOR_ANY, parsed) == P11_KIT_URI_OK)
    generate->token_info = *p11_kit_uri_get_token_info (parsed);
  p11_kit_uri_free (parsed);

  g_task_set_task_data (task, generate, (GDestroyNotify) generate_free);
  g_task_run_in_thread (task, generate_thread);
}

/**
 * tessera_token_generate_key_finish:
 *
 * Returns: (transfer full): the new key's CKA_ID
 */
GBytes *
tessera_token_generate_key_finish (TesseraToken  *token,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
