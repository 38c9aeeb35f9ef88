/* tessera-test-softhsm.c: a private SoftHSM token directory per test
 *
 * The reference tools (softhsm2-util, pkcs11-tool, certtool) build the
 * tokens, so that what Tessera reads was written by someone else.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "tessera-test-softhsm.h"

#include <glib/gstdio.h>

/**
 * tessera_test_run:
 *
 * Runs a reference tool and returns its standard output.
 */
char *
tessera_test_run (const char * const *argv,
                  int                *exit_status)
{
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     &out, &err, &status, &error))
    g_error ("Could not run %s: %s", argv[0], error->message);

  if (exit_status != NULL)
    *exit_status = g_spawn_check_wait_status (status, NULL) ? 0 : 1;
  else if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed:\n%s%s", argv[0], out, err);

  return out;
}

void
tessera_test_run_ok (const char * const *argv)
{
  g_free (tessera_test_run (argv, NULL));
}

/**
 * tessera_test_softhsm_new:
 *
 * Makes a token directory and config, and points SOFTHSM2_CONF at it for
 * this process and the tools it runs.  Set before the module initialises.
 */
TesseraTestSoftHsm *
tessera_test_softhsm_new (void)
{
  TesseraTestSoftHsm *softhsm = g_new0 (TesseraTestSoftHsm, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *tokens = NULL;
  g_autofree char *contents = NULL;

  softhsm->dir = g_dir_make_tmp ("tessera-softhsm-XXXXXX", &error);
  g_assert_no_error (error);

  tokens = g_build_filename (softhsm->dir, "tokens", NULL);
  g_assert_cmpint (g_mkdir (tokens, 0700), ==, 0);

  softhsm->conf = g_build_filename (softhsm->dir, "softhsm2.conf", NULL);
  contents = g_strdup_printf ("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens);
  g_file_set_contents (softhsm->conf, contents, -1, &error);
  g_assert_no_error (error);

  g_setenv ("SOFTHSM2_CONF", softhsm->conf, TRUE);

  return softhsm;
}

void
tessera_test_softhsm_free (TesseraTestSoftHsm *softhsm)
{
  const char *argv[] = { "rm", "-rf", softhsm->dir, NULL };

  tessera_test_run_ok (argv);
  g_free (softhsm->dir);
  g_free (softhsm->conf);
  g_free (softhsm);
}

void
tessera_test_softhsm_init_token (TesseraTestSoftHsm *softhsm,
                                 const char         *label)
{
  const char *argv[] = {
    "softhsm2-util", "--init-token", "--free", "--label", label,
    "--so-pin", TESSERA_TEST_SO_PIN, "--pin", TESSERA_TEST_PIN, NULL
  };

  tessera_test_run_ok (argv);
}

/* @key_type as pkcs11-tool spells it: "rsa:2048", "EC:prime256v1",
 * "EC:edwards25519". */
void
tessera_test_softhsm_keypair (TesseraTestSoftHsm *softhsm,
                              const char         *token_label,
                              const char         *key_type,
                              const char         *id,
                              const char         *label)
{
  const char *argv[] = {
    "pkcs11-tool", "--module", TESSERA_TEST_SOFTHSM_MODULE, "--token-label", token_label,
    "--login", "--pin", TESSERA_TEST_PIN, "--keypairgen", "--key-type", key_type,
    "--id", id, "--label", label, NULL
  };

  tessera_test_run_ok (argv);
}

void
tessera_test_softhsm_write_object (TesseraTestSoftHsm *softhsm,
                                   const char         *token_label,
                                   const char         *type,
                                   const char         *file,
                                   const char         *id,
                                   const char         *label)
{
  const char *argv[] = {
    "pkcs11-tool", "--module", TESSERA_TEST_SOFTHSM_MODULE, "--token-label", token_label,
    "--login", "--pin", TESSERA_TEST_PIN, "--write-object", file, "--type", type,
    "--id", id, "--label", label, NULL
  };

  tessera_test_run_ok (argv);
}

/* A self-signed certificate made by certtool from a software key, written
 * to the token with pkcs11-tool. */
void
tessera_test_softhsm_certificate (TesseraTestSoftHsm *softhsm,
                                  const char         *token_label,
                                  const char         *id,
                                  const char         *label,
                                  const char         *common_name)
{
  g_autofree char *key = g_build_filename (softhsm->dir, "cert-key.pem", NULL);
  g_autofree char *template = g_build_filename (softhsm->dir, "cert.cfg", NULL);
  g_autofree char *pem = g_build_filename (softhsm->dir, "cert.pem", NULL);
  g_autofree char *der = g_build_filename (softhsm->dir, "cert.der", NULL);
  g_autofree char *template_text = g_strdup_printf ("cn = \"%s\"\nserial = 4242\nexpiration_days = 365\nsigning_key\n", common_name);
  g_autoptr(GError) error = NULL;
  const char *genkey[] = { "certtool", "--generate-privkey", "--key-type", "ecdsa", "--outfile", key, NULL };
  const char *gencert[] = { "certtool", "--generate-self-signed", "--load-privkey", key,
                            "--template", template, "--outfile", pem, NULL };
  const char *toder[] = { "certtool", "--certificate-info", "--infile", pem, "--outder", "--outfile", der, NULL };

  g_file_set_contents (template, template_text, -1, &error);
  g_assert_no_error (error);
  tessera_test_run_ok (genkey);
  tessera_test_run_ok (gencert);
  tessera_test_run_ok (toder);
  tessera_test_softhsm_write_object (softhsm, token_label, "cert", der, id, label);
}
