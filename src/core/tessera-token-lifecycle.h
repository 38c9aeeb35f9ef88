/* tessera-token-lifecycle.h: initialise a token, set, change and unblock PINs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-token.h"

G_BEGIN_DECLS

typedef enum {
  TESSERA_PIN_USER,
  TESSERA_PIN_SO,
} TesseraPinKind;

const char *tessera_token_get_factory_so_pin   (TesseraToken        *token);

gboolean  tessera_token_check_pin_length       (TesseraToken        *token,
                                                const char          *pin,
                                                GError             **error);

void      tessera_token_initialize_async       (TesseraToken        *token,
                                                const char          *so_pin,
                                                const char          *label,
                                                const char          *user_pin,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
gboolean  tessera_token_initialize_finish      (TesseraToken        *token,
                                                GAsyncResult        *result,
                                                GError             **error);

void      tessera_token_change_pin_async       (TesseraToken        *token,
                                                TesseraPinKind       kind,
                                                const char          *old_pin,
                                                const char          *new_pin,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
gboolean  tessera_token_change_pin_finish      (TesseraToken        *token,
                                                GAsyncResult        *result,
                                                GError             **error);

void      tessera_token_unblock_pin_async      (TesseraToken        *token,
                                                const char          *so_pin,
                                                const char          *new_user_pin,
                                                GCancellable        *cancellable,
                                                GAsyncReadyCallback  callback,
                                                gpointer             user_data);
gboolean  tessera_token_unblock_pin_finish     (TesseraToken        *token,
                                                GAsyncResult        *result,
                                                GError             **error);

G_END_DECLS
