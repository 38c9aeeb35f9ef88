/* test-registry.c: modules, tokens, objects and keys, on real SoftHSM tokens
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <dlfcn.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <p11-kit/pkcs11.h>

#include "tessera-core.h"
#include "tessera-test-core.h"
#include "tessera-test-softhsm.h"

/* Tests --------------------------------------------------------------------- */

static void
test_uninitialized_token (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = tessera_test_load_softhsm ();
  GListModel *tokens = tessera_registry_get_tokens (registry);
  g_autoptr(TesseraToken) token = NULL;
  g_autofree char *summary = NULL;

  /* SoftHSM always offers one free slot with a blank token. */
  g_assert_cmpuint (g_list_model_get_n_items (tokens), ==, 1);
  token = g_list_model_get_item (tokens, 0);

  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED));
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_NOT_SET));
  g_assert_cmpstr (tessera_token_get_label (token), ==, "");
  g_assert_cmpstr (tessera_token_get_model (token), ==, "SoftHSM v2");
  g_assert_cmpstr (tessera_token_get_manufacturer (token), ==, "SoftHSM project");
  g_assert_cmpuint (tessera_token_get_kind (token), ==, TESSERA_TOKEN_KIND_SOFTWARE);
  g_assert_true (g_str_has_prefix (tessera_token_get_uri (token), "pkcs11:"));
  g_assert_nonnull (strstr (tessera_token_get_uri (token), "slot-id="));

  summary = tessera_token_describe_state (token);
  g_assert_cmpstr (summary, ==, "Not initialized");

  tessera_test_assert_finalized (g_steal_pointer (&registry));
  tessera_test_assert_finalized (g_steal_pointer (&token));
}

static void
test_keys_and_certificate (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;
  TesseraKey *key;
  TesseraObject *certificate;
  g_autofree char *der = NULL;
  g_autofree char *fingerprint = NULL;
  const struct { const char *type, *id, *label, *description; guint bits; } pairs[] = {
    { "rsa:2048", "01", "RSA key", "RSA 2048", 2048 },
    { "EC:prime256v1", "02", "P-256 key", "ECDSA P-256", 256 },
    { "EC:secp384r1", "03", "P-384 key", "ECDSA P-384", 384 },
    { "EC:secp521r1", "04", "P-521 key", "ECDSA P-521", 521 },
    { "EC:edwards25519", "05", "Ed25519 key", "Ed25519", 255 },
  };

  tessera_test_softhsm_init_token (softhsm, "Keys");
  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    tessera_test_softhsm_keypair (softhsm, "Keys", pairs[i].type, pairs[i].id, pairs[i].label);
  tessera_test_softhsm_certificate (softhsm, "Keys", "01", "RSA cert", "Test cert");

  registry = tessera_test_load_softhsm ();
  token = tessera_test_find_token (registry, "Keys");
  g_assert_nonnull (token);
  g_assert_false (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED));
  g_assert_cmpuint (tessera_token_get_min_pin_length (token), ==, 4);
  g_assert_cmpuint (tessera_token_get_max_pin_length (token), ==, 255);

  /* Without tessera_test_login: public keys and the certificate only. */
  tessera_test_read_objects (token, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (token)), ==, 6);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_keys (token)), ==, 5);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_certificates (token)), ==, 1);
  key = tessera_test_find_key (token, "01");
  g_assert_null (tessera_key_get_private_key (key));
  g_assert_nonnull (tessera_key_get_public_key (key));
  g_assert_false (tessera_token_get_logged_in (token));

  /* After tessera_test_login: every key has its private key too. */
  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);
  g_assert_true (tessera_token_get_logged_in (token));
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (token)), ==, 11);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_keys (token)), ==, 5);

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autofree char *description = NULL;
      TesseraObject *private_key;

      key = tessera_test_find_key (token, pairs[i].id);
      g_assert_nonnull (key);
      private_key = tessera_key_get_private_key (key);
      g_assert_nonnull (private_key);
      g_assert_nonnull (tessera_key_get_public_key (key));
      g_assert_cmpstr (tessera_key_get_label (key), ==, pairs[i].label);
      g_assert_cmpuint (tessera_key_get_bits (key), ==, pairs[i].bits);
      description = tessera_key_describe_type (key);
      g_assert_cmpstr (description, ==, pairs[i].description);

      /* pkcs11-tool makes private keys sensitive and able to sign */
      g_assert_true (tessera_object_get_sensitive (private_key));
      g_assert_true (tessera_object_get_usage (private_key) & TESSERA_KEY_USAGE_SIGN);
      g_assert_true (tessera_object_get_private (private_key));
    }

  /* The certificate joins the key with its ID, and GnuTLS parsed it. */
  key = tessera_test_find_key (token, "01");
  certificate = tessera_key_get_certificate (key);
  g_assert_nonnull (certificate);
  g_assert_null (tessera_object_get_parse_error (certificate));
  g_assert_cmpstr (tessera_object_get_label (certificate), ==, "RSA cert");
  g_assert_cmpstr (tessera_object_get_subject (certificate), ==, "CN=Test cert");
  g_assert_cmpstr (tessera_object_get_issuer (certificate), ==, "CN=Test cert");
  g_assert_cmpstr (tessera_object_get_serial (certificate), ==, "10:92");
  g_assert_nonnull (tessera_object_get_not_before (certificate));
  g_assert_cmpint (g_date_time_difference (tessera_object_get_not_after (certificate),
                                           tessera_object_get_not_before (certificate)) / G_TIME_SPAN_DAY,
                   >=, 364);

  /* The fingerprint is the one openssl computes. */
  der = g_build_filename (softhsm->dir, "cert.der", NULL);
  {
    const char *argv[] = { "openssl", "x509", "-inform", "DER", "-in", der, "-noout",
                           "-fingerprint", "-sha256", NULL };
    g_autofree char *out = tessera_test_run (argv, NULL);

    fingerprint = g_strdup (strchr (out, '=') + 1);
    g_strstrip (fingerprint);
  }
  g_assert_cmpstr (tessera_object_get_fingerprint_sha256 (certificate), ==, fingerprint);
}

static void
test_wrong_pin (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  tessera_test_softhsm_init_token (softhsm, "Pins");
  tessera_test_softhsm_keypair (softhsm, "Pins", "EC:prime256v1", "01", "key");

  registry = tessera_test_load_softhsm ();
  token = tessera_test_find_token (registry, "Pins");

  tessera_test_login (token, "000000", &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT);
  g_assert_true (g_str_has_prefix (error->message, "Wrong PIN."));
  g_assert_false (tessera_token_get_logged_in (token));
  /* SoftHSM raises COUNT_LOW after a failure; the message says so. */
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW));
  g_assert_nonnull (strstr (error->message, "few tries left"));
  g_clear_error (&error);

  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);
  g_assert_true (tessera_token_get_logged_in (token));
  g_assert_false (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW));
}

static void
test_missing_module (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autofree char *not_a_module = g_build_filename (softhsm->dir, "softhsm2.conf", NULL);
  const char *paths[] = { "/nonexistent/libnothing.so", not_a_module, TESSERA_TEST_SOFTHSM_MODULE, NULL };
  g_autoptr(TesseraRegistry) registry = NULL;
  GListModel *modules;
  g_autoptr(TesseraModule) missing = NULL;
  g_autoptr(TesseraModule) broken = NULL;
  g_autoptr(TesseraModule) softhsm_module = NULL;
  const GError *error;

  tessera_test_softhsm_init_token (softhsm, "Still here");

  registry = tessera_test_load_paths (paths);
  modules = tessera_registry_get_modules (registry);
  g_assert_cmpuint (g_list_model_get_n_items (modules), ==, 3);

  missing = g_list_model_get_item (modules, 0);
  error = tessera_module_get_error (missing);
  g_assert_error ((GError *) error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE);
  g_assert_cmpstr (error->message, ==, "The module file /nonexistent/libnothing.so does not exist.");
  g_assert_false (tessera_module_get_loaded (missing));

  broken = g_list_model_get_item (modules, 1);
  error = tessera_module_get_error (broken);
  g_assert_error ((GError *) error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE);
  g_assert_nonnull (strstr (error->message, "could not be loaded"));

  softhsm_module = g_list_model_get_item (modules, 2);
  g_assert_null (tessera_module_get_error (softhsm_module));
  g_assert_true (tessera_module_get_loaded (softhsm_module));
  g_assert_cmpstr (tessera_module_get_description (softhsm_module), ==, "Implementation of PKCS11");
  g_assert_nonnull (tessera_test_find_token (registry, "Still here"));
}

typedef struct
{
  TesseraRegistry *registry;
  const char      *label;
  gboolean         present;
} TokenPresence;

static gboolean
token_presence_reached (gpointer data)
{
  TokenPresence *presence = data;

  return (tessera_test_find_token (presence->registry, presence->label) != NULL) == presence->present;
}

static gboolean
module_polled (gpointer data)
{
  return !tessera_module_get_waits_for_events (data);
}

static void
test_hotplug_initialize (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(TesseraToken) blank = NULL;
  g_autoptr(TesseraModule) module = NULL;
  CK_FUNCTION_LIST *functions;
  CK_UTF8CHAR label[32];
  TokenPresence presence;
  gint64 start, elapsed;
  CK_RV rv;

  tessera_test_softhsm_init_token (softhsm, "First");

  /* The token is initialised in this process, and SoftHSM shows no other
   * process's changes: the module must run in this one too. */
  registry = tessera_test_load_softhsm_in_process ();
  tessera_registry_set_poll_interval (registry, 250);
  tessera_registry_start_monitoring (registry);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_registry_get_tokens (registry)), ==, 2);
  blank = g_list_model_get_item (tessera_registry_get_tokens (registry), 1);
  g_assert_true (tessera_token_has_state (blank, TESSERA_TOKEN_STATE_NOT_INITIALIZED));

  /* Initialise the blank token behind Tessera's back, in this process:
   * SoftHSM does not show other processes' changes. */
  functions = tessera_test_softhsm_functions ();
  memset (label, ' ', sizeof label);
  memcpy (label, "Second", 6);
  start = g_get_monotonic_time ();
  rv = functions->C_InitToken (tessera_token_get_slot_id (blank),
                               (CK_UTF8CHAR_PTR) TESSERA_TEST_SO_PIN, 8, label);
  g_assert_cmpuint (rv, ==, CKR_OK);

  presence = (TokenPresence) { registry, "Second", TRUE };
  g_assert_true (tessera_test_wait_until (token_presence_reached, &presence, 5.0));
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("initialised token appeared after %" G_GINT64_FORMAT " ms", elapsed / 1000);
  g_assert_cmpint (elapsed, <, 2 * G_USEC_PER_SEC);

  /* The blank token's object is gone: it is a new token now. */
  g_assert_true (tessera_token_has_state (blank, TESSERA_TOKEN_STATE_REMOVED));
  g_assert_nonnull (tessera_test_find_token (registry, "First"));

  /* SoftHSM answers CKR_NO_EVENT to a look without blocking, and only its
   * blocking C_WaitForSlotEvent says it is not supported: the monitor
   * turns to polling a moment after it starts, possibly after the token
   * above already showed. */
  module = g_list_model_get_item (tessera_registry_get_modules (registry), 0);
  g_assert_true (tessera_test_wait_until (module_polled, module, 2.0));
}

/* The test module pulls and reinserts its token on demand. */

typedef struct
{
  TesseraTestSoftHsm *softhsm;
  char               *control;
  TesseraRegistry    *registry;
} Testmod;

static void
testmod_control (Testmod    *testmod,
                 const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (testmod->control, contents, -1, &error);
  g_assert_no_error (error);
}

static void
testmod_setup (Testmod    *testmod,
               const char *control)
{
  const char *paths[] = { g_getenv ("TESSERA_TESTMOD"), NULL };

  g_assert_nonnull (paths[0]);
  testmod->softhsm = tessera_test_softhsm_new ();
  tessera_test_softhsm_init_token (testmod->softhsm, "Card");
  tessera_test_softhsm_keypair (testmod->softhsm, "Card", "EC:prime256v1", "01", "card key");

  testmod->control = g_build_filename (testmod->softhsm->dir, "control", NULL);
  testmod_control (testmod, control);
  g_setenv ("TESSERA_TESTMOD_CONTROL", testmod->control, TRUE);

  testmod->registry = tessera_test_load_paths (paths);
}

static void
testmod_teardown (Testmod *testmod)
{
  tessera_test_assert_finalized (testmod->registry);
  g_free (testmod->control);
  tessera_test_softhsm_free (testmod->softhsm);
  g_unsetenv ("TESSERA_TESTMOD_CONTROL");
}

static void
check_card_comes_and_goes (Testmod  *testmod,
                           gboolean  expect_waits)
{
  TokenPresence presence = { testmod->registry, "Card", FALSE };
  g_autoptr(TesseraModule) module = NULL;
  TesseraToken *token;
  g_autoptr(TesseraToken) removed = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  tessera_registry_set_poll_interval (testmod->registry, 250);
  tessera_registry_start_monitoring (testmod->registry);

  token = tessera_test_find_token (testmod->registry, "Card");
  g_assert_nonnull (token);
  removed = g_object_ref (token);
  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_keys (token)), ==, 1);

  /* Pull the card. */
  start = g_get_monotonic_time ();
  testmod_control (testmod, expect_waits ? "present=0\n" : "present=0\nwait=0\n");
  g_assert_true (tessera_test_wait_until (token_presence_reached, &presence, 5.0));
  g_test_message ("removal seen after %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - start) / 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
  g_assert_true (tessera_token_has_state (removed, TESSERA_TOKEN_STATE_REMOVED));
  g_assert_false (tessera_token_get_logged_in (removed));
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_keys (removed)), ==, 0);

  /* A removed token refuses work with a clear error. */
  tessera_test_read_objects (removed, &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_TOKEN_REMOVED);
  g_clear_error (&error);

  /* Put it back. */
  start = g_get_monotonic_time ();
  testmod_control (testmod, expect_waits ? "present=1\n" : "present=1\nwait=0\n");
  presence.present = TRUE;
  g_assert_true (tessera_test_wait_until (token_presence_reached, &presence, 5.0));
  g_test_message ("insertion seen after %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - start) / 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);

  module = g_list_model_get_item (tessera_registry_get_modules (testmod->registry), 0);
  g_assert_cmpint (tessera_module_get_waits_for_events (module), ==, expect_waits);
}

static void
test_hotplug_wait_for_slot_event (void)
{
  Testmod testmod = { 0 };

  testmod_setup (&testmod, "present=1\n");
  check_card_comes_and_goes (&testmod, TRUE);
  testmod_teardown (&testmod);
}

static void
test_hotplug_polling (void)
{
  Testmod testmod = { 0 };

  testmod_setup (&testmod, "present=1\nwait=0\n");
  check_card_comes_and_goes (&testmod, FALSE);
  testmod_teardown (&testmod);
}

static void
test_removed_mid_operation (void)
{
  Testmod testmod = { 0 };
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  /* No monitoring: the card goes between listing and reading. */
  testmod_setup (&testmod, "present=1\n");
  token = tessera_test_find_token (testmod.registry, "Card");
  g_assert_nonnull (token);

  testmod_control (&testmod, "present=0\n");
  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_TOKEN_REMOVED);
  g_assert_nonnull (strstr (error->message, "removed"));
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_REMOVED));

  testmod_teardown (&testmod);
}

static void
test_locked_pin (void)
{
  Testmod testmod = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *summary = NULL;
  TesseraToken *token;
  g_autofree char *state_file = NULL;

  testmod_setup (&testmod, "pin_locked=1\n");
  token = tessera_test_find_token (testmod.registry, "Card");
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_LOCKED));
  summary = tessera_token_describe_state (token);
  g_assert_cmpstr (summary, ==, "PIN locked");

  /* Tessera refuses before spending a tessera_test_login on a locked PIN. */
  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED);
  g_assert_false (tessera_token_get_logged_in (token));

  testmod_teardown (&testmod);
}

static void
test_final_try (void)
{
  Testmod testmod = { 0 };
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  /* An emulated counter of three tries, as opencryptoki keeps. */
  testmod_setup (&testmod, "tries=3\n");
  token = tessera_test_find_token (testmod.registry, "Card");

  tessera_test_login (token, "000000", &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT);
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW));
  g_clear_error (&error);

  tessera_test_login (token, "000000", &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT);
  g_assert_cmpstr (error->message, ==, "Wrong PIN. 1 try left before the PIN is locked.");
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY));
  g_clear_error (&error);

  tessera_test_login (token, "000000", &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED);
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_LOCKED));

  testmod_teardown (&testmod);
}

static void
test_malformed_certificate (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TesseraObject) object = NULL;
  CK_FUNCTION_LIST *functions;
  CK_SESSION_HANDLE session;
  CK_OBJECT_HANDLE handle;
  CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
  CK_CERTIFICATE_TYPE type = CKC_X_509;
  CK_BBOOL yes = CK_TRUE;
  guint8 garbage[] = { 0x30, 0x82, 0x01, 0x00, 0x01, 0x02, 0x03 };
  guint8 subject[] = { 0x30, 0x00 };
  CK_ATTRIBUTE template[] = {
    { CKA_CLASS, &klass, sizeof klass },
    { CKA_CERTIFICATE_TYPE, &type, sizeof type },
    { CKA_TOKEN, &yes, sizeof yes },
    { CKA_LABEL, "broken", 6 },
    { CKA_ID, "\x07", 1 },
    { CKA_SUBJECT, subject, sizeof subject },
    { CKA_VALUE, garbage, sizeof garbage },
  };
  TesseraToken *token;

  tessera_test_softhsm_init_token (softhsm, "Broken");
  registry = tessera_test_load_softhsm ();
  token = tessera_test_find_token (registry, "Broken");

  functions = tessera_test_softhsm_functions ();
  g_assert_cmpuint (functions->C_OpenSession (tessera_token_get_slot_id (token),
                                              CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                              NULL, NULL, &session), ==, CKR_OK);
  g_assert_cmpuint (functions->C_Login (session, CKU_USER, (CK_UTF8CHAR_PTR) TESSERA_TEST_PIN, 6), ==, CKR_OK);
  g_assert_cmpuint (functions->C_CreateObject (session, template, G_N_ELEMENTS (template), &handle), ==, CKR_OK);
  functions->C_CloseSession (session);
  /* Tessera reads it in the module's own process; the next test's SoftHSM
   * here must start from its own configuration. */
  functions->C_Finalize (NULL);

  tessera_test_read_objects (token, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_certificates (token)), ==, 1);
  object = g_list_model_get_item (tessera_token_get_certificates (token), 0);
  g_assert_cmpstr (tessera_object_get_label (object), ==, "broken");
  g_assert_nonnull (tessera_object_get_parse_error (object));
  g_assert_true (g_str_has_prefix (tessera_object_get_parse_error (object)->message,
                                   "The certificate could not be read"));
  g_assert_null (tessera_object_get_subject (object));
}

static void
test_large_certificate (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) template = g_string_new ("cn = \"Big\"\nserial = 5\nexpiration_days = 30\nsigning_key\n");
  g_autofree char *template_path = NULL;
  g_autofree char *key = NULL;
  g_autofree char *der = NULL;
  g_autoptr(TesseraObject) certificate = NULL;
  TesseraToken *token;

  /* More than the 4 KiB buffer, less than the 5000 bytes pkcs11-tool
   * writes: 85 long DNS names make about 4.5 KiB. */
  for (guint i = 0; i < 85; i++)
    g_string_append_printf (template, "dns_name = \"host-%03u.a-rather-long-domain-name.example.org\"\n", i);

  tessera_test_softhsm_init_token (softhsm, "Large");
  template_path = g_build_filename (softhsm->dir, "big.cfg", NULL);
  key = g_build_filename (softhsm->dir, "big.key", NULL);
  der = g_build_filename (softhsm->dir, "big.der", NULL);
  g_file_set_contents (template_path, template->str, -1, &error);
  g_assert_no_error (error);
  {
    const char *genkey[] = { "certtool", "--generate-privkey", "--key-type", "ecdsa", "--outfile", key, NULL };
    const char *gencert[] = { "certtool", "--generate-self-signed", "--load-privkey", key,
                              "--template", template_path, "--outder", "--outfile", der, NULL };
    tessera_test_run_ok (genkey);
    tessera_test_run_ok (gencert);
  }
  tessera_test_softhsm_write_object (softhsm, "Large", "cert", der, "0b", "big cert");

  registry = tessera_test_load_softhsm ();
  token = tessera_test_find_token (registry, "Large");
  tessera_test_read_objects (token, &error);
  g_assert_no_error (error);

  certificate = g_list_model_get_item (tessera_token_get_certificates (token), 0);
  g_assert_nonnull (certificate);
  g_assert_null (tessera_object_get_parse_error (certificate));
  g_assert_cmpuint (g_bytes_get_size (tessera_object_get_value (certificate)), >, 4096);
  g_assert_cmpstr (tessera_object_get_subject (certificate), ==, "CN=Big");
}

static void
test_stale_session (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  tessera_test_softhsm_init_token (softhsm, "Stale");
  tessera_test_softhsm_keypair (softhsm, "Stale", "EC:prime256v1", "01", "key");

  /* The sessions are closed from this process: the module must be here. */
  registry = tessera_test_load_softhsm_in_process ();
  token = tessera_test_find_token (registry, "Stale");
  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (token)), ==, 2);

  /* Every session goes, as when a card is pulled and put back between
   * two looks: the next read opens a new one, and the login is gone. */
  g_assert_cmpuint (tessera_test_softhsm_functions ()->C_CloseAllSessions (tessera_token_get_slot_id (token)),
                    ==, CKR_OK);
  tessera_test_read_objects (token, &error);
  g_assert_no_error (error);
  g_assert_false (tessera_token_get_logged_in (token));
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (token)), ==, 1);
}

static void
test_dispose_during_read (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  TesseraRegistry *registry;
  g_autoptr(TesseraToken) token = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  tessera_test_softhsm_init_token (softhsm, "Going");
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *id = g_strdup_printf ("%02x", i + 1);
      tessera_test_softhsm_keypair (softhsm, "Going", "EC:prime256v1", id, "key");
    }

  registry = tessera_test_load_softhsm ();
  token = g_object_ref (tessera_test_find_token (registry, "Going"));

  /* The window closes while a read is on its way: the module is finalised
   * only once the read is done with it. */
  tessera_token_read_objects_async (token, NULL, tessera_test_on_ready, &result);
  tessera_test_assert_finalized (registry);
  tessera_token_read_objects_finish (token, tessera_test_wait_result (&result), &error);
  if (error != NULL)
    g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE);
  else
    g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (token)), ==, 5);
}

/* tpm2-pkcs11 without a TPM: not loaded, no tokens, and no error; with
 * a TCTI configured (a simulator, the TPM tests' swtpm) it is loaded */
static void
test_tpm_without_tpm (void)
{
  const char *tpm_module = "/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so";
  const char *paths[] = { tpm_module, NULL };
  gboolean have_tpm = g_file_test ("/dev/tpmrm0", G_FILE_TEST_EXISTS) ||
                      g_file_test ("/dev/tpm0", G_FILE_TEST_EXISTS);
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(TesseraModule) module = NULL;

  if (!g_file_test (tpm_module, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("tpm2-pkcs11 is not installed");
      return;
    }

  g_unsetenv ("TPM2_PKCS11_TCTI");
  g_unsetenv ("TPM2TOOLS_TCTI");
  registry = tessera_test_load_paths (paths);
  module = g_list_model_get_item (tessera_registry_get_modules (registry), 0);
  g_assert_nonnull (module);
  g_assert_cmpstr (tessera_module_get_display_name (module), ==, "TPM");

  if (have_tpm)
    {
      g_test_message ("this computer has a TPM: tpm2-pkcs11 is loaded");
      g_assert_null (tessera_module_get_unavailable_reason (module));
      return;
    }

  g_assert_cmpstr (tessera_module_get_unavailable_reason (module), ==, "No TPM was found on this computer.");
  g_assert_null (tessera_module_get_error (module));
  g_assert_false (tessera_module_get_loaded (module));
  g_assert_cmpuint (g_list_model_get_n_items (tessera_registry_get_tokens (registry)), ==, 0);
}

static void
test_registered_modules (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = tessera_registry_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GListModel *modules;
  TesseraToken *token;
  gboolean found_softhsm = FALSE;

  tessera_test_softhsm_init_token (softhsm, "Registered");

  tessera_registry_load_async (registry, NULL, tessera_test_on_ready, &result);
  tessera_registry_load_finish (registry, tessera_test_wait_result (&result), &error);
  g_assert_no_error (error);

  modules = tessera_registry_get_modules (registry);
  for (guint i = 0; i < g_list_model_get_n_items (modules); i++)
    {
      g_autoptr(TesseraModule) module = g_list_model_get_item (modules, i);

      g_assert_true (tessera_module_get_registered (module));
      /* p11-kit's trust module holds CA certificates, not keys. */
      g_assert_cmpstr (tessera_module_get_name (module), !=, "p11-kit-trust");
      if (g_strcmp0 (tessera_module_get_name (module), "softhsm2") == 0)
        {
          found_softhsm = TRUE;
          g_assert_true (g_path_is_absolute (tessera_module_get_path (module)));
          g_assert_true (g_file_test (tessera_module_get_path (module), G_FILE_TEST_EXISTS));
        }
    }
  g_assert_true (found_softhsm);

  token = tessera_test_find_token (registry, "Registered");
  g_assert_nonnull (token);
  g_assert_true (tessera_registry_lookup_token (registry, tessera_token_get_uri (token)) == token);
  g_assert_true (tessera_registry_lookup_token (registry, "pkcs11:token=Registered") == token);
  g_assert_null (tessera_registry_lookup_token (registry, "pkcs11:token=Nothing"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/registry/uninitialized-token", test_uninitialized_token);
  g_test_add_func ("/core/registry/keys-and-certificate", test_keys_and_certificate);
  g_test_add_func ("/core/registry/wrong-pin", test_wrong_pin);
  g_test_add_func ("/core/registry/missing-module", test_missing_module);
  g_test_add_func ("/core/registry/hotplug-initialize", test_hotplug_initialize);
  g_test_add_func ("/core/registry/hotplug-wait-for-slot-event", test_hotplug_wait_for_slot_event);
  g_test_add_func ("/core/registry/hotplug-polling", test_hotplug_polling);
  g_test_add_func ("/core/registry/removed-mid-operation", test_removed_mid_operation);
  g_test_add_func ("/core/registry/locked-pin", test_locked_pin);
  g_test_add_func ("/core/registry/final-try", test_final_try);
  g_test_add_func ("/core/object/malformed-certificate", test_malformed_certificate);
  g_test_add_func ("/core/object/large-certificate", test_large_certificate);
  g_test_add_func ("/core/token/stale-session", test_stale_session);
  g_test_add_func ("/core/registry/dispose-during-read", test_dispose_during_read);
  g_test_add_func ("/core/registry/registered-modules", test_registered_modules);
  g_test_add_func ("/core/registry/tpm-without-tpm", test_tpm_without_tpm);

  return g_test_run ();
}
