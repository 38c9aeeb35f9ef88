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
      /* certtool loads every registered module; tpm2-pkcs11's GLib
       * CRITICAL with no TPM must not be fatal to it */
      "env", "-u", "G_DEBUG", "GNUTLS_PIN=" TESSERA_TEST_PIN, "certtool", "--generate-self-signed",
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

/* Labels and PINs are data a token or a file holds: what may be shown,
 * put in an SSH line, sent as a PIN or written as a label. */
static void
test_text_rules (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *visible = tessera_text_make_visible ("evil\nssh-ed25519 \x1b[31m\x7f\xff");
  g_autofree char *plain = tessera_text_make_visible ("Schlüssel für SSH");
  static const guint8 blob_bytes[] = {
    0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9',
    0, 0, 0, 32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
  };
  g_autoptr(GBytes) blob = g_bytes_new_static (blob_bytes, sizeof blob_bytes);
  g_autofree char *forged = tessera_ssh_format_line (blob, "evil\nssh-rsa AAAA attacker");
  g_autofree char *ordinary = tessera_ssh_format_line (blob, "my key");

  g_assert_cmpstr (visible, ==, "evil\xe2\x90\x8assh-ed25519 \xe2\x90\x9b[31m\xe2\x90\xa1\xef\xbf\xbd");
  g_assert_cmpstr (plain, ==, "Schlüssel für SSH");

  g_assert_true (tessera_ssh_comment_is_safe ("Schlüssel für SSH"));
  g_assert_false (tessera_ssh_comment_is_safe ("a\tb"));
  g_assert_false (tessera_ssh_comment_is_safe ("a\xc2\x85" "b"));       /* NEL, a C1 line break */
  g_assert_false (tessera_ssh_comment_is_safe ("a\xe2\x80\xa8" "b"));   /* LINE SEPARATOR */
  g_assert_null (strchr (forged, '\n'));
  g_assert_true (g_str_has_prefix (forged, "ssh-ed25519 AAAA"));
  g_assert_null (strchr (forged + strlen ("ssh-ed25519 "), ' '));
  g_assert_true (g_str_has_suffix (ordinary, " my key"));

  g_assert_true (tessera_check_pin_text ("123456", NULL));
  g_assert_true (tessera_check_pin_text (NULL, NULL));   /* a PIN pad */
  g_assert_false (tessera_check_pin_text ("1234\n", &error));
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INVALID);
  g_clear_error (&error);
  g_assert_false (tessera_check_pin_text ("12\xff" "34", &error));
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INVALID);
  g_clear_error (&error);

  g_assert_true (tessera_check_label_text ("Clé d’accès", NULL));
  g_assert_false (tessera_check_label_text ("two\nlines", &error));
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_LABEL_INVALID);
}

static void
add_spec (GArray         *specs,
          TesseraKeyType  type,
          guint           bits)
{
  TesseraKeySpec spec = { type, bits };

  g_array_append_val (specs, spec);
}

static void
test_key_spec_rules (void)
{
  g_autoptr(GArray) specs = g_array_new (FALSE, FALSE, sizeof (TesseraKeySpec));
  g_autoptr(GError) error = NULL;
  TesseraKeySpec rsa_1024 = { TESSERA_KEY_TYPE_RSA, 1024 };
  TesseraKeySpec rsa_2048 = { TESSERA_KEY_TYPE_RSA, 2048 };
  TesseraKeySpec p384 = { TESSERA_KEY_TYPE_EC, 384 };
  TesseraKeySpec ed25519 = { TESSERA_KEY_TYPE_ED25519, 256 };

  g_assert_false (tessera_key_spec_check_ssh (&rsa_1024, &error));
  g_assert_error (error, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_true (tessera_key_spec_check_ssh (&rsa_2048, &error));
  g_assert_no_error (error);
  g_assert_true (tessera_key_spec_check_ssh (&p384, NULL));
  g_assert_cmpint (tessera_key_spec_check_ssh (&ed25519, NULL), ==,
                   tessera_openssh_supports (TESSERA_KEY_TYPE_ED25519));

  /* Never a key too short to be safe when a safe one is there */
  add_spec (specs, TESSERA_KEY_TYPE_RSA, 1024);
  add_spec (specs, TESSERA_KEY_TYPE_RSA, 4096);
  g_assert_cmpuint (tessera_key_spec_recommend (specs), ==, 1);

  add_spec (specs, TESSERA_KEY_TYPE_RSA, 3072);
  g_assert_cmpuint (tessera_key_spec_recommend (specs), ==, 2);

  add_spec (specs, TESSERA_KEY_TYPE_EC, 256);
  g_assert_cmpuint (tessera_key_spec_recommend (specs), ==, 3);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/ssh/readiness-verdicts", test_readiness_verdicts);
  g_test_add_func ("/core/ssh/text-rules", test_text_rules);
  g_test_add_func ("/core/ssh/key-spec-rules", test_key_spec_rules);
  g_test_add_func ("/core/ssh/uninitialized-token-has-no-keys", test_uninitialized_token_has_no_keys);

  return g_test_run ();
}
