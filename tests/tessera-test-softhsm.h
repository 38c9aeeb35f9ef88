/* tessera-test-softhsm.h: a private SoftHSM token directory per test
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TESSERA_TEST_SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define TESSERA_TEST_SO_PIN "12345678"
#define TESSERA_TEST_PIN "123456"

typedef struct
{
  char *dir;
  char *conf;
} TesseraTestSoftHsm;

TesseraTestSoftHsm *tessera_test_softhsm_new          (void);
void                tessera_test_softhsm_free         (TesseraTestSoftHsm *softhsm);
void                tessera_test_softhsm_init_token   (TesseraTestSoftHsm *softhsm,
                                                       const char         *label);
void                tessera_test_softhsm_keypair      (TesseraTestSoftHsm *softhsm,
                                                       const char         *token_label,
                                                       const char         *key_type,
                                                       const char         *id,
                                                       const char         *label);
void                tessera_test_softhsm_certificate  (TesseraTestSoftHsm *softhsm,
                                                       const char         *token_label,
                                                       const char         *id,
                                                       const char         *label,
                                                       const char         *common_name);
void                tessera_test_softhsm_write_object (TesseraTestSoftHsm *softhsm,
                                                       const char         *token_label,
                                                       const char         *type,
                                                       const char         *file,
                                                       const char         *id,
                                                       const char         *label);
char               *tessera_test_run                  (const char * const *argv,
                                                       int                *exit_status);
void                tessera_test_run_ok               (const char * const *argv);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TesseraTestSoftHsm, tessera_test_softhsm_free)

G_END_DECLS
