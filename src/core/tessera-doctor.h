/* tessera-doctor.h: finds and repairs the object mismatches OpenSSH trips on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-key.h"
#include "tessera-object.h"
#include "tessera-token.h"

G_BEGIN_DECLS

/**
 * TesseraProblemKind:
 * @TESSERA_PROBLEM_ID_MISMATCH: a certificate or public key whose CKA_ID
 *   matches no private key, while its key material matches one
 * @TESSERA_PROBLEM_NO_PUBLIC_PART: a private key with no public-key or
 *   certificate object, so OpenSSH cannot see it
 * @TESSERA_PROBLEM_SHARED_ID: several objects of one class share an ID
 * @TESSERA_PROBLEM_EMPTY_ID: a key or certificate has an empty ID
 */
typedef enum {
  TESSERA_PROBLEM_ID_MISMATCH,
  TESSERA_PROBLEM_NO_PUBLIC_PART,
  TESSERA_PROBLEM_SHARED_ID,
  TESSERA_PROBLEM_EMPTY_ID,
} TesseraProblemKind;

#define TESSERA_TYPE_PROBLEM (tessera_problem_get_type ())

G_DECLARE_FINAL_TYPE (TesseraProblem, tessera_problem, TESSERA, PROBLEM, GObject)

TesseraProblemKind  tessera_problem_get_kind             (TesseraProblem *self);
const char         *tessera_problem_get_kind_nick        (TesseraProblem *self);
const char         *tessera_problem_get_title            (TesseraProblem *self);
const char         *tessera_problem_get_description      (TesseraProblem *self);
gboolean            tessera_problem_get_fixable          (TesseraProblem *self);
const char         *tessera_problem_get_fix_description  (TesseraProblem *self);
GBytes             *tessera_problem_get_key_id           (TesseraProblem *self);
GPtrArray          *tessera_problem_get_objects          (TesseraProblem *self);

void        tessera_token_diagnose_async     (TesseraToken        *token,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
GPtrArray  *tessera_token_diagnose_finish    (TesseraToken        *token,
                                              GAsyncResult        *result,
                                              GError             **error);

void        tessera_token_fix_problem_async  (TesseraToken        *token,
                                              TesseraProblem      *problem,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    tessera_token_fix_problem_finish (TesseraToken        *token,
                                              GAsyncResult        *result,
                                              GError             **error);

void        tessera_token_test_key_async     (TesseraToken        *token,
                                              TesseraKey          *key,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean    tessera_token_test_key_finish    (TesseraToken        *token,
                                              GAsyncResult        *result,
                                              GError             **error);

G_END_DECLS
