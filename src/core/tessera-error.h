/* tessera-error.h: the core's error domains
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TESSERA_PKCS11_ERROR (tessera_pkcs11_error_quark ())

/**
 * TesseraPkcs11Error:
 * @TESSERA_PKCS11_ERROR_FAILED: any other failure, with the module's code in the message
 * @TESSERA_PKCS11_ERROR_MODULE: a module could not be loaded or initialised
 * @TESSERA_PKCS11_ERROR_PIN_INCORRECT: the PIN was wrong
 * @TESSERA_PKCS11_ERROR_PIN_LOCKED: the PIN is locked
 * @TESSERA_PKCS11_ERROR_PIN_INVALID: the PIN has characters or a length the token refuses
 * @TESSERA_PKCS11_ERROR_PIN_EXPIRED: the PIN must be changed first
 * @TESSERA_PKCS11_ERROR_TOKEN_REMOVED: the token went away
 * @TESSERA_PKCS11_ERROR_NOT_INITIALIZED: the token has not been initialised
 * @TESSERA_PKCS11_ERROR_USER_PIN_NOT_SET: the token has no user PIN yet
 * @TESSERA_PKCS11_ERROR_WRITE_PROTECTED: the token refuses changes
 * @TESSERA_PKCS11_ERROR_NOT_SUPPORTED: the module cannot do this
 * @TESSERA_PKCS11_ERROR_DEVICE: the device reported an error
 * @TESSERA_PKCS11_ERROR_MODULE_CRASHED: the module's process stopped (it crashed)
 * @TESSERA_PKCS11_ERROR_MODULE_NOT_RESPONDING: a call to the module outlived its deadline
 * @TESSERA_PKCS11_ERROR_MODULE_INVALID: the module answered with a count, length
 *   or value that cannot be right
 * @TESSERA_PKCS11_ERROR_LABEL_INVALID: a label to be written has control
 *   characters or is not UTF-8
 *
 * Errors from PKCS#11 modules and tokens, with messages written for users.
 */
typedef enum {
  TESSERA_PKCS11_ERROR_FAILED,
  TESSERA_PKCS11_ERROR_MODULE,
  TESSERA_PKCS11_ERROR_PIN_INCORRECT,
  TESSERA_PKCS11_ERROR_PIN_LOCKED,
  TESSERA_PKCS11_ERROR_PIN_INVALID,
  TESSERA_PKCS11_ERROR_PIN_EXPIRED,
  TESSERA_PKCS11_ERROR_TOKEN_REMOVED,
  TESSERA_PKCS11_ERROR_NOT_INITIALIZED,
  TESSERA_PKCS11_ERROR_USER_PIN_NOT_SET,
  TESSERA_PKCS11_ERROR_WRITE_PROTECTED,
  TESSERA_PKCS11_ERROR_NOT_SUPPORTED,
  TESSERA_PKCS11_ERROR_DEVICE,
  TESSERA_PKCS11_ERROR_MODULE_CRASHED,
  TESSERA_PKCS11_ERROR_MODULE_NOT_RESPONDING,
  TESSERA_PKCS11_ERROR_MODULE_INVALID,
  TESSERA_PKCS11_ERROR_LABEL_INVALID,
} TesseraPkcs11Error;

GQuark   tessera_pkcs11_error_quark (void);

gboolean tessera_check_pin_text     (const char  *pin,
                                     GError     **error);
gboolean tessera_check_label_text   (const char  *label,
                                     GError     **error);
char    *tessera_text_make_visible  (const char  *text);

G_END_DECLS
