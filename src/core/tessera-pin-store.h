/* tessera-pin-store.h: PINs in the user's keyring, only when asked to
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-agent.h"
#include "tessera-types.h"

G_BEGIN_DECLS

#define TESSERA_PIN_STORE_ERROR (tessera_pin_store_error_quark ())

typedef enum {
  TESSERA_PIN_STORE_ERROR_NOT_STORED,
  TESSERA_PIN_STORE_ERROR_WRONG_AND_FORGOTTEN,
  TESSERA_PIN_STORE_ERROR_NO_KEYRING,
} TesseraPinStoreError;

GQuark    tessera_pin_store_error_quark       (void);

void      tessera_pin_store_save_async        (TesseraToken        *token,
                                               const char          *pin,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean  tessera_pin_store_save_finish       (GAsyncResult        *result,
                                               GError             **error);

void      tessera_pin_store_lookup_async      (TesseraToken        *token,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
char     *tessera_pin_store_lookup_finish     (GAsyncResult        *result,
                                               GError             **error);

void      tessera_pin_store_forget_async      (TesseraToken        *token,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean  tessera_pin_store_forget_finish     (GAsyncResult        *result,
                                               GError             **error);

void      tessera_pin_store_forget_all_async  (GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean  tessera_pin_store_forget_all_finish (GAsyncResult        *result,
                                               GError             **error);

void      tessera_pin_free                    (char                *pin);

void      tessera_agent_add_token_remembered_async  (TesseraAgent        *agent,
                                                     TesseraToken        *token,
                                                     guint                lifetime,
                                                     gboolean             confirm,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
int       tessera_agent_add_token_remembered_finish (TesseraAgent        *agent,
                                                     GAsyncResult        *result,
                                                     GError             **error);

G_END_DECLS
