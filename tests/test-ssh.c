/* test-ssh.c: each SSH readiness verdict, reproduced on a real SoftHSM token
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include <gio/gio.h>

#include "tessera-test-core.h"
#include "tessera-test-softhsm.h"

/* Changes a token behind Tessera's back, logged in as the user. */
typedef struct
{
  CK_FUNCTION_LIST  *functions;
  CK_SESSION_HANDLE  session;
} Session;

static Session
open_session (TesseraToken *token)
{
  Session session = { tessera_test_softhsm_functions (), 0 };

  g_assert_cmpuint (session.functions->C_OpenSession (tessera_token_get_slot_id (token),
                                                      CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                                      NULL, NULL, &session.session), ==, CKR_OK);
  return session;
}

static CK_OBJECT_HANDLE
find_one (Session         *session,
          CK_OBJECT_CLASS  klass,
          const char      *id,
          gsize            id_len)
{
  CK_ATTRIBUTE match[] = {
    { CKA_CLASS, &klass, sizeof klass },
    { CKA_ID, (void *) id, id_len },
  };
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  CK_ULONG count = 0;

  g_assert_cmpuint (session->functions->C_FindObjectsInit (session->session, match, 2), ==, CKR_OK);
  g_assert_cmpuint (session->functions->C_FindObjects (session->session, &handle, 1, &count), ==, CKR_OK);
  session->functions->C_FindObjectsFinal (session->session);
  g_assert_cmpuint (count, ==, 1);

  return handle;
}

static TesseraSshVerdict
verdict_of (TesseraToken *token,
            const char   *id_hex)
{
  TesseraKey *key = tessera_test_find_key (token, id_hex);

  g_assert_nonnull (key);
  return tessera_key_get_ssh_verdict (key);
}

static void
test_readiness_verdicts (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cert_template = NULL;
  g_autofree char *cert_der = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *line = NULL;
  TesseraToken *token;
  Session session;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE cannot_sign = { CKA_SIGN, &no, sizeof no };
  CK_RV rv;

  tessera_test_softhsm_init_token (softhsm, "Doctor");
  tessera_test_softhsm_keypair (softhsm, "Doctor", "rsa:2048", "01", "ready");
  tessera_test_softhsm_keypair (softhsm, "Doctor", "EC:prime256v1", "02", "no public object");
  tessera_test_softhsm_keypair (softhsm, "Doctor", "rsa:2048", "03", "mismatched");
  tessera_test_softhsm_keypair (softhsm, "Doctor", "EC:prime256v1", "04", "cannot sign");
  tessera_test_softhsm_keypair (softhsm, "Doctor", "EC:edwards25519", "05", "ed25519");
  tessera_test_softhsm_certificate (softhsm, "Doctor", "06", "lonely", "Somebody else");

  /* Key 03's certificate, signed on the token by its own private key,
   * written under another ID: the classic mismatch. */
  cert_template = g_build_filename (softhsm->dir, "mismatch.cfg", NULL);
  cert_der = g_build_filename (softhsm->dir, "mismatch.der", NULL);
  g_file_set_contents (cert_template, "cn = \"SSH key\"\nserial = 3\nexpiration_days = 30\nsigning_key\n", -1, &error);
  g_assert_no_error (error);
  {
    const char *argv[] = {
      "env", "GNUTLS_PIN=" TESSERA_TEST_PIN, "certtool", "--generate-self-signed",
      "--load-privkey", "pkcs11:token=Doctor;id=%03;type=private",
      "--load-pubkey", "pkcs11:token=Doctor;id=%03;type=public",
      "--template", cert_template, "--outder", "--outfile", cert_der, NULL
    };
    tessera_test_run_ok (argv);
  }
  tessera_test_softhsm_write_object (softhsm, "Doctor", "cert", cert_der, "33", "mismatched cert");

  registry = tessera_test_load_softhsm ();
  token = tessera_test_find_token (registry, "Doctor");

  session = open_session (token);
  g_assert_cmpuint (session.functions->C_Login (session.session, CKU_USER,
                                                (CK_UTF8CHAR_PTR) TESSERA_TEST_PIN, 6), ==, CKR_OK);
  /* 02 and 03 lose their public-key objects */
  g_assert_cmpuint (session.functions->C_DestroyObject (session.session,
                                                        find_one (&session, CKO_PUBLIC_KEY, "\x02", 1)), ==, CKR_OK);
  g_assert_cmpuint (session.functions->C_DestroyObject (session.session,
                                                        find_one (&session, CKO_PUBLIC_KEY, "\x03", 1)), ==, CKR_OK);
  /* 04 may not sign, where the token lets us say so */
  rv = session.functions->C_SetAttributeValue (session.session,
                                               find_one (&session, CKO_PRIVATE_KEY, "\x04", 1),
                                               &cannot_sign, 1);
  session.functions->C_CloseSession (session.session);

  /* Before login, keys without their private key cannot be judged. */
  tessera_test_read_objects (token, &error);
  g_assert_no_error (error);
  g_assert_cmpint (verdict_of (token, "01"), ==, TESSERA_SSH_VERDICT_LOGIN_NEEDED);
  g_assert_cmpint (verdict_of (token, "06"), ==, TESSERA_SSH_VERDICT_LOGIN_NEEDED);

  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);

  g_assert_cmpint (verdict_of (token, "01"), ==, TESSERA_SSH_VERDICT_READY);
  reason = tessera_key_describe_ssh_verdict (tessera_test_find_key (token, "01"));
  g_assert_cmpstr (reason, ==, "Ready for SSH.");
  line = tessera_key_get_ssh_line (tessera_test_find_key (token, "01"));
  g_assert_true (g_str_has_prefix (line, "ssh-rsa AAAA"));
  g_assert_true (g_str_has_suffix (line, " ready"));

  g_assert_cmpint (verdict_of (token, "02"), ==, TESSERA_SSH_VERDICT_NO_PUBLIC_OBJECT);
  g_assert_null (tessera_key_get_ssh_blob (tessera_test_find_key (token, "02")));

  /* Both halves of the mismatch say so: the private key 03 and the
   * certificate 33 carry the same public key. */
  g_assert_cmpint (verdict_of (token, "03"), ==, TESSERA_SSH_VERDICT_ID_MISMATCH);
  g_assert_cmpint (verdict_of (token, "33"), ==, TESSERA_SSH_VERDICT_ID_MISMATCH);
  g_assert_true (g_bytes_equal (tessera_key_get_ssh_blob (tessera_test_find_key (token, "03")),
                                tessera_key_get_ssh_blob (tessera_test_find_key (token, "33"))));

  if (rv == CKR_OK)
    g_assert_cmpint (verdict_of (token, "04"), ==, TESSERA_SSH_VERDICT_CANNOT_SIGN);
  else
    g_test_message ("SoftHSM refused to clear CKA_SIGN (0x%lx)", (unsigned long) rv);

  if (tessera_openssh_supports (TESSERA_KEY_TYPE_ED25519))
    g_assert_cmpint (verdict_of (token, "05"), ==, TESSERA_SSH_VERDICT_READY);
  else
    g_assert_cmpint (verdict_of (token, "05"), ==, TESSERA_SSH_VERDICT_UNSUPPORTED_TYPE);

  g_assert_cmpint (verdict_of (token, "06"), ==, TESSERA_SSH_VERDICT_NO_PRIVATE_KEY);
}

static void
test_uninitialized_token_has_no_keys (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = tessera_test_load_softhsm ();
  g_autoptr(TesseraToken) token = g_list_model_get_item (tessera_registry_get_tokens (registry), 0);
  g_autoptr(GError) error = NULL;

  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED));
  tessera_test_read_objects (token, &error);
  /* SoftHSM answers a blank token's session with an error of its own; either
   * way there is no key to judge. */
  g_clear_error (&error);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_keys (token)), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/ssh/readiness-verdicts", test_readiness_verdicts);
  g_test_add_func ("/core/ssh/uninitialized-token-has-no-keys", test_uninitialized_token_has_no_keys);

  return g_test_run ();
}
