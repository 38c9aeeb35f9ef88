/* bench-fill-token.c: many key pairs with certificates, in one process
 *
 *   bench-fill-token MODULE TOKEN_LABEL PIN N [LABEL_PREFIX]
 *
 * Fills an initialised token with N EC P-256 key pairs, generated on the
 * token, each with a self-signed certificate signed on the token by its
 * own key.  Key pair i has CKA_ID i (two bytes, 0001, 0002, ...) on all
 * three objects and the label "LABEL_PREFIX%04d" (default "bench key ").
 * The public key and the certificate are public objects.
 *
 * For benchmark-gui.sh: pkcs11-tool and certtool make the same objects,
 * but a process per object made a 500-key token take minutes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/pkcs11.h>
#include <gnutls/x509.h>

static const char *pin;

static int
pin_callback (void         *user_data,
              int           attempt,
              const char   *token_url,
              const char   *token_label,
              unsigned int  flags,
              char         *out,
              size_t        out_size)
{
  if (attempt > 0 || strlen (pin) >= out_size)
    return -1;
  strcpy (out, pin);
  return 0;
}

static void
check (int         ret,
       const char *what,
       int         i)
{
  if (ret < 0)
    {
      fprintf (stderr, "bench-fill-token: key %d: %s: %s\n", i, what, gnutls_strerror (ret));
      exit (1);
    }
}

/* A URI path attribute value, percent-encoded where it must be */
static void
encode (char       *out,
        size_t      size,
        const char *value)
{
  size_t n = 0;

  for (; *value != '\0' && n + 4 < size; value++)
    {
      unsigned char c = (unsigned char) *value;

      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || strchr ("-._~", c) != NULL)
        out[n++] = (char) c;
      else
        n += (size_t) snprintf (out + n, size - n, "%%%02X", c);
    }
  out[n] = '\0';
}

int
main (int   argc,
      char *argv[])
{
  const char *module, *token, *prefix;
  char token_url[512], key_url[600], encoded[256], label[128], dn[160];
  int n;
  time_t now = time (NULL);

  if (argc < 5 || argc > 6)
    {
      fprintf (stderr, "usage: %s MODULE TOKEN_LABEL PIN N [LABEL_PREFIX]\n", argv[0]);
      return 2;
    }
  module = argv[1];
  token = argv[2];
  pin = argv[3];
  n = atoi (argv[4]);
  prefix = argc > 5 ? argv[5] : "bench key ";
  if (n < 1 || n > 65535)
    {
      fprintf (stderr, "bench-fill-token: N must be 1 to 65535\n");
      return 2;
    }

  encode (encoded, sizeof encoded, token);
  snprintf (token_url, sizeof token_url, "pkcs11:token=%s", encoded);

  check (gnutls_global_init (), "gnutls_global_init", 0);
  check (gnutls_pkcs11_init (GNUTLS_PKCS11_FLAG_MANUAL, NULL), "gnutls_pkcs11_init", 0);
  check (gnutls_pkcs11_add_provider (module, NULL), module, 0);
  gnutls_pkcs11_set_pin_function (pin_callback, NULL);

  for (int i = 1; i <= n; i++)
    {
      unsigned char id[2] = { (unsigned char) (i >> 8), (unsigned char) (i & 0xff) };
      gnutls_datum_t cid = { id, sizeof id };
      gnutls_datum_t der = { NULL, 0 };
      unsigned char serial[2] = { id[0], id[1] };
      gnutls_pubkey_t pubkey;
      gnutls_privkey_t privkey;
      gnutls_x509_crt_t crt;

      snprintf (label, sizeof label, "%s%04d", prefix, i);
      check (gnutls_pkcs11_privkey_generate3 (token_url, GNUTLS_PK_ECDSA,
                                              GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1),
                                              label, &cid, GNUTLS_X509_FMT_DER, &der,
                                              GNUTLS_KEY_DIGITAL_SIGNATURE,
                                              GNUTLS_PKCS11_OBJ_FLAG_LOGIN
                                              | GNUTLS_PKCS11_OBJ_FLAG_MARK_PRIVATE
                                              | GNUTLS_PKCS11_OBJ_FLAG_MARK_SENSITIVE),
             "generating the key pair", i);

      check (gnutls_pubkey_init (&pubkey), "gnutls_pubkey_init", i);
      check (gnutls_pubkey_import (pubkey, &der, GNUTLS_X509_FMT_DER), "reading the public key", i);
      gnutls_free (der.data);

      snprintf (key_url, sizeof key_url, "%s;id=%%%02X%%%02X;type=private", token_url, id[0], id[1]);
      check (gnutls_privkey_init (&privkey), "gnutls_privkey_init", i);
      check (gnutls_privkey_import_url (privkey, key_url, 0), key_url, i);

      snprintf (dn, sizeof dn, "CN=%s", label);
      check (gnutls_x509_crt_init (&crt), "gnutls_x509_crt_init", i);
      check (gnutls_x509_crt_set_version (crt, 3), "set_version", i);
      check (gnutls_x509_crt_set_serial (crt, serial, sizeof serial), "set_serial", i);
      check (gnutls_x509_crt_set_dn (crt, dn, NULL), "set_dn", i);
      check (gnutls_x509_crt_set_activation_time (crt, now - 3600), "set_activation_time", i);
      check (gnutls_x509_crt_set_expiration_time (crt, now + 365 * 24 * 3600), "set_expiration_time", i);
      check (gnutls_x509_crt_set_basic_constraints (crt, 0, -1), "set_basic_constraints", i);
      check (gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE), "set_key_usage", i);
      check (gnutls_x509_crt_set_pubkey (crt, pubkey), "set_pubkey", i);
      check (gnutls_x509_crt_privkey_sign (crt, crt, privkey, GNUTLS_DIG_SHA256, 0),
             "signing the certificate on the token", i);
      check (gnutls_pkcs11_copy_x509_crt2 (token_url, crt, label, &cid, GNUTLS_PKCS11_OBJ_FLAG_LOGIN),
             "writing the certificate", i);

      gnutls_x509_crt_deinit (crt);
      gnutls_privkey_deinit (privkey);
      gnutls_pubkey_deinit (pubkey);
    }

  gnutls_pkcs11_deinit ();
  gnutls_global_deinit ();
  return 0;
}
