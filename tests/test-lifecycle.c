/* test-lifecycle.c: initialise tokens and set, change and unblock PINs,
 * on SoftHSM, the test module and opencryptoki's software token, each
 * step checked with pkcs11-tool or pkcsconf
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include <gio/gio.h>

#include "tessera-test-core.h"
#include "tessera-test-softhsm.h"

#define OPENCRYPTOKI "/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so"

/* Does the token take @pin from pkcs11-tool?  A user PIN logs in and lists
 * objects; an SO PIN logs in and sets the user PIN to @user_pin, the one
 * thing an SO session does with pkcs11-tool. */
static gboolean
pkcs11_tool_accepts_pins (const char *module,
                          const char *token_label,
                          const char *pin,
                          gboolean    so,
                          const char *user_pin)
{
  const char *user_argv[] = { "pkcs11-tool", "--module", module, "--token-label", token_label,
                              "--login", "--pin", pin, "-O", NULL };
  const char *so_argv[] = { "pkcs11-tool", "--module", module, "--token-label", token_label,
                            "--login", "--login-type", "so", "--so-pin", pin,
                            "--init-pin", "--pin", user_pin, NULL };
  g_autofree char *out = NULL;
  int status;

  out = tessera_test_run (so ? so_argv : user_argv, &status);
  return status == 0;
}

static gboolean
pkcs11_tool_accepts (const char *module,
                     const char *token_label,
                     const char *pin,
                     gboolean    so)
{
  g_assert_false (so);
  return pkcs11_tool_accepts_pins (module, token_label, pin, FALSE, NULL);
}

static void
initialize (TesseraToken *token,
            const char   *so_pin,
            const char   *label,
            const char   *user_pin,
            GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tessera_token_initialize_async (token, so_pin, label, user_pin, NULL, tessera_test_on_ready, &result);
  tessera_token_initialize_finish (token, tessera_test_wait_result (&result), error);
}

static void
change_pin (TesseraToken   *token,
            TesseraPinKind  kind,
            const char     *old_pin,
            const char     *new_pin,
            GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tessera_token_change_pin_async (token, kind, old_pin, new_pin, NULL, tessera_test_on_ready, &result);
  tessera_token_change_pin_finish (token, tessera_test_wait_result (&result), error);
}

static void
unblock (TesseraToken *token,
         const char   *so_pin,
         const char   *new_pin,
         GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tessera_token_unblock_pin_async (token, so_pin, new_pin, NULL, tessera_test_on_ready, &result);
  tessera_token_unblock_pin_finish (token, tessera_test_wait_result (&result), error);
}

static void
refresh (TesseraRegistry *registry)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  tessera_registry_refresh_async (registry, NULL, tessera_test_on_ready, &result);
  tessera_registry_refresh_finish (registry, tessera_test_wait_result (&result), &error);
  g_assert_no_error (error);
}

static void
test_softhsm_lifecycle (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = tessera_test_load_softhsm ();
  g_autoptr(TesseraToken) blank = g_list_model_get_item (tessera_registry_get_tokens (registry), 0);
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  g_assert_true (tessera_token_has_state (blank, TESSERA_TOKEN_STATE_NOT_INITIALIZED));

  /* Too short a PIN is refused before any call. */
  initialize (blank, "87654321", "Fresh", "12", &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INVALID);
  g_assert_nonnull (strstr (error->message, "Nothing was sent"));
  g_clear_error (&error);

  /* Initialise the blank token and set its user PIN. */
  initialize (blank, "87654321", "Fresh", "1234", &error);
  g_assert_no_error (error);
  refresh (registry);
  token = tessera_test_find_token (registry, "Fresh");
  g_assert_nonnull (token);
  g_assert_false (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED));
  g_assert_false (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_NOT_SET));
  g_assert_true (pkcs11_tool_accepts (TESSERA_TEST_SOFTHSM_MODULE, "Fresh", "1234", FALSE));
  g_assert_false (pkcs11_tool_accepts (TESSERA_TEST_SOFTHSM_MODULE, "Fresh", "9999", FALSE));

  /* Change the user PIN: the new one works, the old one no longer. */
  change_pin (token, TESSERA_PIN_USER, "0000", "222222", &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT);
  g_clear_error (&error);
  change_pin (token, TESSERA_PIN_USER, "1234", "222222", &error);
  g_assert_no_error (error);
  g_assert_true (pkcs11_tool_accepts (TESSERA_TEST_SOFTHSM_MODULE, "Fresh", "222222", FALSE));
  g_assert_false (pkcs11_tool_accepts (TESSERA_TEST_SOFTHSM_MODULE, "Fresh", "1234", FALSE));

  /* Change the SO PIN. */
  change_pin (token, TESSERA_PIN_SO, "00000000", "11112222", &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT);
  g_assert_true (g_str_has_prefix (error->message, "Wrong SO PIN"));
  g_clear_error (&error);
  change_pin (token, TESSERA_PIN_SO, "87654321", "11112222", &error);
  g_assert_no_error (error);
  g_assert_true (pkcs11_tool_accepts_pins (TESSERA_TEST_SOFTHSM_MODULE, "Fresh", "11112222", TRUE, "222222"));
  g_assert_false (pkcs11_tool_accepts_pins (TESSERA_TEST_SOFTHSM_MODULE, "Fresh", "87654321", TRUE, "222222"));

  /* A new user PIN set by the SO. */
  unblock (token, "11112222", "333333", &error);
  g_assert_no_error (error);
  g_assert_true (pkcs11_tool_accepts (TESSERA_TEST_SOFTHSM_MODULE, "Fresh", "333333", FALSE));
  g_assert_false (pkcs11_tool_accepts (TESSERA_TEST_SOFTHSM_MODULE, "Fresh", "222222", FALSE));
}

static void
test_initialize_erases_objects (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  tessera_test_softhsm_init_token (softhsm, "Full");
  tessera_test_softhsm_keypair (softhsm, "Full", "EC:prime256v1", "01", "doomed key");
  tessera_test_softhsm_certificate (softhsm, "Full", "01", "doomed cert", "Doomed");

  registry = tessera_test_load_softhsm ();
  token = tessera_test_find_token (registry, "Full");
  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (token)), ==, 3);

  initialize (token, TESSERA_TEST_SO_PIN, "Empty", TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);
  refresh (registry);

  token = tessera_test_find_token (registry, "Empty");
  g_assert_nonnull (token);
  g_assert_null (tessera_test_find_token (registry, "Full"));
  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (token)), ==, 0);
  {
    const char *argv[] = { "pkcs11-tool", "--module", TESSERA_TEST_SOFTHSM_MODULE, "--token-label", "Empty",
                           "--login", "--pin", TESSERA_TEST_PIN, "-O", NULL };
    g_autofree char *out = tessera_test_run (argv, NULL);

    g_assert_null (strstr (out, "doomed"));
  }
}

static void
test_unblock_locked_pin (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  const char *paths[] = { g_getenv ("TESSERA_TESTMOD"), NULL };
  g_autofree char *control = g_build_filename (softhsm->dir, "control", NULL);
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  tessera_test_softhsm_init_token (softhsm, "Locks");
  g_file_set_contents (control, "tries=2\n", -1, &error);
  g_assert_no_error (error);
  g_setenv ("TESSERA_TESTMOD_CONTROL", control, TRUE);

  registry = tessera_test_load_paths (paths);
  token = tessera_test_find_token (registry, "Locks");

  /* Failed logins lead to locked. */
  tessera_test_login (token, "000000", &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT);
  g_clear_error (&error);
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY));
  tessera_test_login (token, "000000", &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED);
  g_clear_error (&error);
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_LOCKED));

  /* Unblock PIN restores access, with the new PIN. */
  unblock (token, TESSERA_TEST_SO_PIN, "654321", &error);
  g_assert_no_error (error);
  refresh (registry);
  token = tessera_test_find_token (registry, "Locks");
  g_assert_false (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_LOCKED));
  tessera_test_login (token, "654321", &error);
  g_assert_no_error (error);
  g_assert_true (tessera_token_get_logged_in (token));

  g_unsetenv ("TESSERA_TESTMOD_CONTROL");
}

/* The software token as the package leaves it; FALSE where pkcsslotd
 * cannot run. */
static gboolean
opencryptoki_reset (void)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "opencryptoki-reset.sh", NULL);
  const char *argv[] = { script, NULL };
  int status;

  g_free (tessera_test_run (argv, &status));
  return status == 0;
}

static void
test_opencryptoki_lifecycle (void)
{
  const char *paths[] = { OPENCRYPTOKI, NULL };
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *flags = NULL;
  TesseraToken *token = NULL;
  GListModel *tokens;

  if (!opencryptoki_reset ())
    {
      g_test_skip ("pkcsslotd cannot run here");
      return;
    }

  registry = tessera_test_load_paths (paths);
  tokens = tessera_registry_get_tokens (registry);
  for (guint i = 0; i < g_list_model_get_n_items (tokens) && token == NULL; i++)
    {
      g_autoptr(TesseraToken) candidate = g_list_model_get_item (tokens, i);

      if (tessera_token_get_slot_id (candidate) == 3)
        token = candidate;
    }
  g_assert_nonnull (token);
  g_assert_cmpuint (tessera_token_get_kind (token), ==, TESSERA_TOKEN_KIND_SOFTWARE);

  /* The fresh token: not initialised, and both PINs to be changed. */
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED));
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED));
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED));
  g_assert_cmpuint (tessera_token_get_min_pin_length (token), ==, 4);
  g_assert_cmpuint (tessera_token_get_max_pin_length (token), ==, 8);

  /* Initialise from the default SO PIN, and set the user PIN. */
  initialize (token, "87654321", "tessera-life", "12345678", &error);
  g_assert_no_error (error);
  refresh (registry);
  token = tessera_test_find_token (registry, "tessera-life");
  g_assert_nonnull (token);

  /* opencryptoki flags its default SO PIN as one to be changed. */
  g_assert_true (tessera_token_has_state (token, TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED));

  change_pin (token, TESSERA_PIN_USER, "12345678", "2468", &error);
  g_assert_no_error (error);
  change_pin (token, TESSERA_PIN_SO, "87654321", "13579", &error);
  g_assert_no_error (error);
  refresh (registry);
  token = tessera_test_find_token (registry, "tessera-life");
  g_assert_false (tessera_token_has_state (token, TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED));
  g_assert_false (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED));

  /* pkcsconf agrees: the flags are cleared. */
  {
    const char *argv[] = { "pkcsconf", "-t", "-c", "3", NULL };
    flags = tessera_test_run (argv, NULL);
  }
  g_assert_nonnull (strstr (flags, "tessera-life"));
  g_assert_null (strstr (flags, "PIN_TO_BE_CHANGED"));
  g_assert_true (pkcs11_tool_accepts (OPENCRYPTOKI, "tessera-life", "2468", FALSE));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/lifecycle/softhsm", test_softhsm_lifecycle);
  g_test_add_func ("/core/lifecycle/initialize-erases-objects", test_initialize_erases_objects);
  g_test_add_func ("/core/lifecycle/unblock-locked-pin", test_unblock_locked_pin);
  g_test_add_func ("/core/lifecycle/opencryptoki", test_opencryptoki_lifecycle);

  return g_test_run ();
}
