/* tessera-token-lifecycle.h: initialise a token, set, change and unblock PINs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <string.h>

#include <gio/gio.h>

#include "tessera-token.h"

G_BEGIN_DECLS

typedef enum {
  TESSERA_PIN_USER,
  TESSERA_PIN_SO,
} TesseraPinKind;

/**
 * TESSERA_TOKEN_LABEL_MAX_BYTES:
 *
 * The longest label a token holds, in bytes: CK_TOKEN_INFO's label is 32
 * bytes padded with spaces, and a letter outside ASCII takes 2 or more.
 */
#define TESSERA_TOKEN_LABEL_MAX_BYTES 32

/**
 * tessera_pin_wipe:
 * @pin: (inout) (nullable): a PIN copy, or %NULL
 *
 * Overwrites a PIN copy with zeros that the compiler keeps, frees it and
 * sets the pointer to %NULL.  Every copy of a PIN outside a widget ends
 * here.
 */
static inline void
tessera_pin_wipe (char **pin)
{
  if (*pin != NULL)
    {
      explicit_bzero (*pin, strlen (*pin));
      g_free (*pin);
      *pin = NULL;
    }
}

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
