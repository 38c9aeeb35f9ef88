/* test-keys.c: key generation's cancel, on the test module over SoftHSM
 *
 * PKCS#11 cannot interrupt C_GenerateKeyPair; a cancel that arrives while
 * a slow token computes must still leave no key behind.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include <gio/gio.h>

#include "tessera-test-core.h"
#include "tessera-test-softhsm.h"

static gboolean
cancel_now (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static guint
count_objects (TesseraTestSoftHsm *softhsm)
{
  const char *argv[] = { "pkcs11-tool", "--module", TESSERA_TEST_SOFTHSM_MODULE, "--token-label", "Slow",
                         "--login", "--pin", TESSERA_TEST_PIN, "-O", NULL };
  g_autofree char *out = tessera_test_run (argv, NULL);
  guint n = 0;

  for (const char *p = out; (p = strstr (p, " Object;")) != NULL; p++)
    n++;
  return n;
}

static void
test_generate_cancelled (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  const char *paths[] = { g_getenv ("TESSERA_TESTMOD"), NULL };
  g_autofree char *control = g_build_filename (softhsm->dir, "control", NULL);
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) id = NULL;
  g_autoptr(GError) error = NULL;
  TesseraKeySpec spec = { TESSERA_KEY_TYPE_EC, 256 };
  TesseraToken *token;

  tessera_test_softhsm_init_token (softhsm, "Slow");
  g_setenv ("TESSERA_TESTMOD_CONTROL", control, TRUE);
  registry = tessera_test_load_paths (paths);
  token = tessera_test_find_token (registry, "Slow");
  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);

  /* Every call now takes 300 ms: the cancel lands inside C_GenerateKeyPair. */
  g_file_set_contents (control, "latency_ms=300\n", -1, &error);
  g_assert_no_error (error);
  tessera_token_generate_key_async (token, &spec, "cancelled", cancellable, tessera_test_on_ready, &result);
  g_timeout_add (450, cancel_now, cancellable);
  id = tessera_token_generate_key_finish (token, tessera_test_wait_result (&result), &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (id);
  g_clear_error (&error);

  g_file_set_contents (control, "", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_objects (softhsm), ==, 0);

  /* And without a cancel, the same call makes the pair. */
  g_clear_object (&result);
  tessera_token_generate_key_async (token, &spec, "kept", NULL, tessera_test_on_ready, &result);
  id = tessera_token_generate_key_finish (token, tessera_test_wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_objects (softhsm), ==, 2);

  g_unsetenv ("TESSERA_TESTMOD_CONTROL");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/keys/generate-cancelled-leaves-no-key", test_generate_cancelled);

  return g_test_run ();
}
