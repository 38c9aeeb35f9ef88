/* fuzz-certificate.c: what the core does with a certificate's CKA_VALUE
 *
 * The input is the DER a token gives as a certificate object's CKA_VALUE,
 * read through _tessera_object_read_one() from an honest module, so that
 * it is parsed as the core parses it (subject, issuer, serial, dates,
 * fingerprints, key usage, key type), then used as a key's certificate:
 * its OpenSSH public key and subject line, PEM export.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "fuzz-module.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static const CK_OBJECT_CLASS klass = CKO_CERTIFICATE;
  static const CK_CERTIFICATE_TYPE type = CKC_X_509;
  static const CK_BBOOL no = CK_FALSE;
  const FuzzAttribute attributes[] = {
    { CKA_CLASS, &klass, sizeof klass },
    { CKA_CERTIFICATE_TYPE, &type, sizeof type },
    { CKA_LABEL, "Certificate", 11 },
    { CKA_ID, "\x01", 1 },
    { CKA_PRIVATE, &no, sizeof no },
    { CKA_MODIFIABLE, &no, sizeof no },
    { CKA_VALUE, data, size },
  };
  g_autoptr(GPtrArray) objects = g_ptr_array_new_with_free_func (g_object_unref);
  TesseraObject *object;

  fuzz_init ();

  object = _tessera_object_read_one (fuzz_module_honest (attributes, G_N_ELEMENTS (attributes)),
                                     1, 1, TRUE, &fuzz_token_info);
  g_assert_nonnull (object);
  g_assert_cmpint (tessera_object_get_kind (object), ==, TESSERA_OBJECT_KIND_CERTIFICATE);
  g_ptr_array_add (objects, object);

  fuzz_use_objects (objects);
  return 0;
}
