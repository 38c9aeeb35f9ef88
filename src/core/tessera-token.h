/* tessera-token.h: a token in a slot of a PKCS#11 module
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-types.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_TOKEN (tessera_token_get_type ())

G_DECLARE_FINAL_TYPE (TesseraToken, tessera_token, TESSERA, TOKEN, GObject)

/**
 * TesseraTokenState:
 * @TESSERA_TOKEN_STATE_LOCKED_OUT: a TPM refused the last login because it
 *   was locked out after too many wrong PINs (no flag says so: Tessera
 *   remembers what the login found); it clears by itself with time
 *
 * The token's flags, decoded into states a person can act on.
 */
typedef enum /*< flags >*/ {
  TESSERA_TOKEN_STATE_NONE                    = 0,
  TESSERA_TOKEN_STATE_NOT_INITIALIZED         = 1 << 0,
  TESSERA_TOKEN_STATE_USER_PIN_NOT_SET        = 1 << 1,
  TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED  = 1 << 2,
  TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW      = 1 << 3,
  TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY      = 1 << 4,
  TESSERA_TOKEN_STATE_USER_PIN_LOCKED         = 1 << 5,
  TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED    = 1 << 6,
  TESSERA_TOKEN_STATE_SO_PIN_COUNT_LOW        = 1 << 7,
  TESSERA_TOKEN_STATE_SO_PIN_FINAL_TRY        = 1 << 8,
  TESSERA_TOKEN_STATE_SO_PIN_LOCKED           = 1 << 9,
  TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH     = 1 << 10,
  TESSERA_TOKEN_STATE_WRITE_PROTECTED         = 1 << 11,
  TESSERA_TOKEN_STATE_LOGIN_REQUIRED          = 1 << 12,
  TESSERA_TOKEN_STATE_REMOVED                 = 1 << 13,
  TESSERA_TOKEN_STATE_LOCKED_OUT              = 1 << 14,
} TesseraTokenState;

/**
 * TesseraTokenKind:
 *
 * What kind of device the token most likely is, for its icon.
 */
typedef enum {
  TESSERA_TOKEN_KIND_SMART_CARD,
  TESSERA_TOKEN_KIND_USB_KEY,
  TESSERA_TOKEN_KIND_TPM,
  TESSERA_TOKEN_KIND_SOFTWARE,
} TesseraTokenKind;

GType              tessera_token_state_get_type      (void) G_GNUC_CONST;
#define TESSERA_TYPE_TOKEN_STATE (tessera_token_state_get_type ())

TesseraModule     *tessera_token_get_module          (TesseraToken *self);
const char        *tessera_token_get_uri             (TesseraToken *self);
const char        *tessera_token_get_label           (TesseraToken *self);
const char        *tessera_token_get_display_name    (TesseraToken *self);
const char        *tessera_token_get_manufacturer    (TesseraToken *self);
const char        *tessera_token_get_model           (TesseraToken *self);
const char        *tessera_token_get_serial          (TesseraToken *self);
const char        *tessera_token_get_hardware_version (TesseraToken *self);
const char        *tessera_token_get_firmware_version (TesseraToken *self);
gulong             tessera_token_get_slot_id         (TesseraToken *self);
guint              tessera_token_get_min_pin_length  (TesseraToken *self);
guint              tessera_token_get_max_pin_length  (TesseraToken *self);
TesseraTokenState  tessera_token_get_state           (TesseraToken *self);
gboolean           tessera_token_has_state           (TesseraToken *self,
                                                      TesseraTokenState state);
char              *tessera_token_describe_state      (TesseraToken *self);
GStrv              tessera_token_list_state_descriptions (TesseraToken *self);
GStrv              tessera_token_list_attention_descriptions (TesseraToken *self);
TesseraTokenKind   tessera_token_get_kind            (TesseraToken *self);
gboolean           tessera_token_is_tpm              (TesseraToken *self);
const char        *tessera_token_get_kind_name       (TesseraToken *self);
const char        *tessera_token_get_icon_name       (TesseraToken *self);
GIcon             *tessera_token_get_icon            (TesseraToken *self);
GDateTime         *tessera_token_get_locked_out_since (TesseraToken *self);
gboolean           tessera_token_get_logged_in       (TesseraToken *self);
gboolean           tessera_token_get_objects_loaded  (TesseraToken *self);

GListModel        *tessera_token_get_objects         (TesseraToken *self);
GListModel        *tessera_token_get_keys            (TesseraToken *self);
TesseraKey        *tessera_token_find_key            (TesseraToken *self,
                                                      GBytes       *id);
GListModel        *tessera_token_get_certificates    (TesseraToken *self);
GListModel        *tessera_token_get_other_objects   (TesseraToken *self);

void               tessera_token_read_objects_async  (TesseraToken        *self,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean           tessera_token_read_objects_finish (TesseraToken        *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);

void               tessera_token_login_async         (TesseraToken        *self,
                                                      const char          *pin,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean           tessera_token_login_finish        (TesseraToken        *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);

void               tessera_token_logout_async        (TesseraToken        *self,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean           tessera_token_logout_finish       (TesseraToken        *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);

G_END_DECLS
