/* tessera-test-core.h: helpers for tests that drive the core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <p11-kit/pkcs11.h>

#include "tessera-core.h"

G_BEGIN_DECLS

typedef gboolean (*TesseraTestCondition) (gpointer data);

void              tessera_test_on_ready        (GObject             *source_object,
                                                GAsyncResult        *result,
                                                gpointer             user_data);
GAsyncResult     *tessera_test_wait_result     (GAsyncResult       **slot);
gboolean          tessera_test_wait_until      (TesseraTestCondition condition,
                                                gpointer             data,
                                                double               seconds);
void              tessera_test_assert_finalized (gpointer            object);
TesseraRegistry  *tessera_test_load_paths      (const char * const  *paths);
TesseraRegistry  *tessera_test_load_softhsm    (void);
TesseraRegistry  *tessera_test_load_softhsm_in_process (void);
TesseraToken     *tessera_test_find_token      (TesseraRegistry     *registry,
                                                const char          *label);
void              tessera_test_login           (TesseraToken        *token,
                                                const char          *pin,
                                                GError             **error);
void              tessera_test_read_objects    (TesseraToken        *token,
                                                GError             **error);
TesseraKey       *tessera_test_find_key        (TesseraToken        *token,
                                                const char          *id_hex);
CK_FUNCTION_LIST *tessera_test_softhsm_functions (void);

G_END_DECLS
