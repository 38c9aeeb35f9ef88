/* tessera-error.c: PKCS#11 return codes as messages a person can act on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tessera-private.h"
#include "tessera-module-host.h"

G_DEFINE_QUARK (tessera-pkcs11-error-quark, tessera_pkcs11_error)

static gboolean
has_control_character (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029)
        return TRUE;
    }
  return FALSE;
}

/**
 * tessera_check_pin_text:
 * @pin: (nullable): a PIN, from a file, a terminal or an entry
 *
 * A PIN is text: one with a control character or bytes that are not UTF-8
 * (a binary file given as a PIN file, a stray newline) cannot be what the
 * user meant, and sending it to the token would cost a try.
 *
 * Returns: %TRUE when @pin may be sent to a token (%NULL, for a PIN pad, may)
 */
gboolean
tessera_check_pin_text (const char  *pin,
                        GError     **error)
{
  if (pin == NULL)
    return TRUE;
  if (!g_utf8_validate (pin, -1, NULL) || has_control_character (pin))
    {
      g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INVALID,
                           _("The PIN has control characters or bytes that are not text, so it was not "
                             "sent to the token (no try was spent)."));
      return FALSE;
    }
  return TRUE;
}

/**
 * tessera_text_make_visible:
 * @text: (nullable): a label as the token holds it
 *
 * For showing a label in the window: control characters become the
 * visible symbols of Unicode's Control Pictures block (a line break is
 * "␊", an escape "␛"), C1 controls and bytes that are not UTF-8 become
 * U+FFFD, so the label stays on one line and looks like what it is.
 *
 * Returns: (transfer full): the text to show
 */
char *
tessera_text_make_visible (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  GString *out = g_string_new (NULL);

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20)
        g_string_append_unichar (out, 0x2400 + c);
      else if (c == 0x7f)
        g_string_append_unichar (out, 0x2421);
      else if ((c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029)
        g_string_append_unichar (out, 0xfffd);
      else
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

/**
 * tessera_check_label_text:
 * @label: a label Tessera is asked to write to a token
 *
 * Returns: %TRUE when @label is UTF-8 without control characters: a line
 *   break in a label would forge lines wherever the label is printed
 */
gboolean
tessera_check_label_text (const char  *label,
                          GError     **error)
{
  if (label == NULL || (g_utf8_validate (label, -1, NULL) && !has_control_character (label)))
    return TRUE;

  g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_LABEL_INVALID,
                       _("A label cannot have control characters, such as a line break or a tab, "
                         "or bytes that are not text."));
  return FALSE;
}

const char *
_tessera_ck_rv_name (CK_RV rv)
{
  switch (rv)
    {
#define RV(x) case x: return #x;
    RV (CKR_OK)
    RV (CKR_CANCEL)
    RV (CKR_HOST_MEMORY)
    RV (CKR_SLOT_ID_INVALID)
    RV (CKR_GENERAL_ERROR)
    RV (CKR_FUNCTION_FAILED)
    RV (CKR_ARGUMENTS_BAD)
    RV (CKR_NO_EVENT)
    RV (CKR_CANT_LOCK)
    RV (CKR_ATTRIBUTE_READ_ONLY)
    RV (CKR_ATTRIBUTE_SENSITIVE)
    RV (CKR_ATTRIBUTE_TYPE_INVALID)
    RV (CKR_ATTRIBUTE_VALUE_INVALID)
    RV (CKR_DATA_INVALID)
    RV (CKR_DEVICE_ERROR)
    RV (CKR_DEVICE_MEMORY)
    RV (CKR_DEVICE_REMOVED)
    RV (CKR_FUNCTION_CANCELED)
    RV (CKR_FUNCTION_NOT_SUPPORTED)
    RV (CKR_KEY_HANDLE_INVALID)
    RV (CKR_MECHANISM_INVALID)
    RV (CKR_OBJECT_HANDLE_INVALID)
    RV (CKR_OPERATION_ACTIVE)
    RV (CKR_OPERATION_NOT_INITIALIZED)
    RV (CKR_PIN_INCORRECT)
    RV (CKR_PIN_INVALID)
    RV (CKR_PIN_LEN_RANGE)
    RV (CKR_PIN_EXPIRED)
    RV (CKR_PIN_LOCKED)
    RV (CKR_SESSION_CLOSED)
    RV (CKR_SESSION_COUNT)
    RV (CKR_SESSION_HANDLE_INVALID)
    RV (CKR_SESSION_READ_ONLY)
    RV (CKR_SESSION_EXISTS)
    RV (CKR_SESSION_READ_ONLY_EXISTS)
    RV (CKR_SESSION_READ_WRITE_SO_EXISTS)
    RV (CKR_TEMPLATE_INCOMPLETE)
    RV (CKR_TEMPLATE_INCONSISTENT)
    RV (CKR_TOKEN_NOT_PRESENT)
    RV (CKR_TOKEN_NOT_RECOGNIZED)
    RV (CKR_TOKEN_WRITE_PROTECTED)
    RV (CKR_USER_ALREADY_LOGGED_IN)
    RV (CKR_USER_NOT_LOGGED_IN)
    RV (CKR_USER_PIN_NOT_INITIALIZED)
    RV (CKR_USER_TYPE_INVALID)
    RV (CKR_USER_ANOTHER_ALREADY_LOGGED_IN)
    RV (CKR_USER_TOO_MANY_TYPES)
    RV (CKR_BUFFER_TOO_SMALL)
    RV (CKR_CRYPTOKI_NOT_INITIALIZED)
    RV (CKR_CRYPTOKI_ALREADY_INITIALIZED)
    RV (TESSERA_CKR_MODULE_INVALID_ANSWER)
#undef RV
    default:
      return NULL;
    }
}

gboolean
_tessera_ck_rv_means_removed (CK_RV rv)
{
  return rv == CKR_DEVICE_REMOVED ||
         rv == CKR_TOKEN_NOT_PRESENT ||
         rv == CKR_SESSION_CLOSED ||
         rv == CKR_SLOT_ID_INVALID;
}

/*
 * _tessera_set_ck_error:
 * @what: what Tessera was doing, already translated ("Could not log in"),
 *   or %NULL
 *
 * Sets @error from a PKCS#11 return code, with a message that says what
 * happened in words rather than in CKR_ names.  The CKR_ name is kept at
 * the end of the message for bug reports.
 */
void
_tessera_set_ck_error (GError     **error,
                       CK_RV        rv,
                       const char  *what)
{
  TesseraPkcs11Error code = TESSERA_PKCS11_ERROR_FAILED;
  const char *message;
  const char *name = _tessera_ck_rv_name (rv);
  g_autofree char *code_text = NULL;

  switch (rv)
    {
    case CKR_PIN_INCORRECT:
      code = TESSERA_PKCS11_ERROR_PIN_INCORRECT;
      message = _("The PIN is incorrect.");
      break;
    case CKR_PIN_LOCKED:
      code = TESSERA_PKCS11_ERROR_PIN_LOCKED;
      message = _("The PIN is locked. It must be unblocked with the SO PIN.");
      break;
    case CKR_PIN_INVALID:
      code = TESSERA_PKCS11_ERROR_PIN_INVALID;
      message = _("The token does not accept the characters in this PIN.");
      break;
    case CKR_PIN_LEN_RANGE:
      code = TESSERA_PKCS11_ERROR_PIN_INVALID;
      message = _("The PIN is too short or too long for this token.");
      break;
    case CKR_PIN_EXPIRED:
      code = TESSERA_PKCS11_ERROR_PIN_EXPIRED;
      message = _("The PIN has expired and must be changed first.");
      break;
    case CKR_USER_PIN_NOT_INITIALIZED:
      code = TESSERA_PKCS11_ERROR_USER_PIN_NOT_SET;
      message = _("The token has no user PIN yet. Set one with the SO PIN first.");
      break;
    case CKR_TOKEN_NOT_RECOGNIZED:
      code = TESSERA_PKCS11_ERROR_NOT_INITIALIZED;
      message = _("The token is not recognized; it may not be initialized.");
      break;
    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_SESSION_CLOSED:
    case CKR_SLOT_ID_INVALID:
      code = TESSERA_PKCS11_ERROR_TOKEN_REMOVED;
      message = _("The token was removed.");
      break;
    case CKR_TOKEN_WRITE_PROTECTED:
    case CKR_SESSION_READ_ONLY:
      code = TESSERA_PKCS11_ERROR_WRITE_PROTECTED;
      message = _("The token is write-protected.");
      break;
    case CKR_FUNCTION_NOT_SUPPORTED:
      code = TESSERA_PKCS11_ERROR_NOT_SUPPORTED;
      message = _("The module does not support this operation.");
      break;
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_MEMORY:
      code = TESSERA_PKCS11_ERROR_DEVICE;
      message = _("The device reported an error.");
      break;
    case CKR_HOST_MEMORY:
      message = _("The module ran out of memory.");
      break;
    case CKR_SESSION_COUNT:
      message = _("The token has too many open sessions.");
      break;
    case CKR_USER_NOT_LOGGED_IN:
      message = _("You must log in to the token first.");
      break;
    case CKR_USER_ANOTHER_ALREADY_LOGGED_IN:
      message = _("Another user is logged in to the token.");
      break;
    case CKR_CRYPTOKI_NOT_INITIALIZED:
      code = TESSERA_PKCS11_ERROR_MODULE;
      message = _("The module is not initialized.");
      break;
    case CKR_FUNCTION_CANCELED:
      message = _("The operation was canceled on the device.");
      break;
    case TESSERA_CKR_MODULE_INVALID_ANSWER:
      code = TESSERA_PKCS11_ERROR_MODULE_INVALID;
      message = _("The module gave an answer that cannot be right (a count or length larger than the room it was given).");
      break;
    default:
      message = _("The module reported an error.");
      break;
    }

  if (name != NULL)
    code_text = g_strdup (name);
  else
    code_text = g_strdup_printf ("0x%08lx", (unsigned long) rv);

  if (what != NULL)
    g_set_error (error, TESSERA_PKCS11_ERROR, code, "%s: %s (%s)", what, message, code_text);
  else
    g_set_error (error, TESSERA_PKCS11_ERROR, code, "%s (%s)", message, code_text);

  /* What a broken connection to a module's process gives: say why the
   * process stopped (a crash, a deadline) instead. */
  if (rv == CKR_DEVICE_ERROR || rv == CKR_DEVICE_REMOVED || rv == CKR_GENERAL_ERROR ||
      rv == CKR_CRYPTOKI_NOT_INITIALIZED)
    _tessera_module_explain_current (error, what);
}

/*
 * _tessera_ck_string:
 * @chars: a fixed-width CK_UTF8CHAR field of CK_INFO or CK_TOKEN_INFO
 *
 * Modules put anything in these fields.  The padding at the end (spaces,
 * or NULs from modules that pad the C way) is dropped; every other NUL,
 * control character (C0, DEL, C1: a terminal escape, a newline) and byte
 * that is not UTF-8 becomes U+FFFD, one for each such character or byte.
 *
 * Returns: (transfer full): valid, terminated UTF-8 on one line
 */
char *
_tessera_ck_string (const CK_UTF8CHAR *chars,
                    gsize              length)
{
  const char *text = (const char *) chars;
  GString *string;
  gsize end = length;

  while (end > 0 && (chars[end - 1] == ' ' || chars[end - 1] == '\0'))
    end--;

  string = g_string_sized_new (end);
  for (gsize i = 0; i < end;)
    {
      /* (gunichar) -2 for a NUL or a character cut short, -1 for bad bytes */
      gunichar c = g_utf8_get_char_validated (text + i, end - i);
      gsize skip = 1;

      if (c != (gunichar) -1 && c != (gunichar) -2)
        skip = g_utf8_next_char (text + i) - (text + i);

      if (c == (gunichar) -1 || c == (gunichar) -2 || g_unichar_iscntrl (c))
        g_string_append (string, "\xEF\xBF\xBD");
      else
        g_string_append_len (string, text + i, skip);
      i += skip;
    }

  return g_string_free (string, FALSE);
}

/*
 * A TPM counts wrong PINs for all its tokens together (its SO PINs too),
 * and in its dictionary-attack lockout refuses every PIN unchecked:
 * tpm2-pkcs11 then answers CKR_PIN_LOCKED.  No SO PIN ends that lockout;
 * time does, or the TPM's lockout authorization.  Its tokens report no
 * tries-left flags.
 */
static void
set_tpm_pin_error (GError   **error,
                   CK_RV      rv,
                   gboolean   so)
{
  if (rv == CKR_PIN_LOCKED)
    g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED,
                         _("The TPM is locked out after too many wrong PINs on its tokens, so it "
                           "refused this one without checking it. The lockout clears by itself "
                           "after the TPM’s recovery time, or at once with the TPM’s lockout "
                           "authorization (tpm2_dictionarylockout --clear-lockout)."));
  else
    g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT,
                         so ? _("Wrong SO PIN. The TPM counts wrong PINs for all its tokens "
                                "together and locks out after a few failed tries; then it "
                                "refuses every PIN until its recovery time has passed.")
                            : _("Wrong PIN. The TPM counts wrong PINs for all its tokens "
                                "together and locks out after a few failed tries; then it "
                                "refuses every PIN until its recovery time has passed."));
}

/*
 * _tessera_set_pin_error:
 * @flags: the token's flags read after the failure, 0 when unknown
 * @so: whether this was the SO PIN
 * @kind: the token's kind: a TPM's PINs fail in a way of their own
 *
 * A wrong or locked PIN in words.  PKCS#11 has no retry counter, only
 * these flags: say exactly what they say, and never make up a number.
 * A token that raises none of them after a wrong PIN does not count
 * tries where PKCS#11 can see it: say that.
 */
void
_tessera_set_pin_error (GError           **error,
                        CK_RV              rv,
                        CK_FLAGS           flags,
                        gboolean           so,
                        TesseraTokenKind   kind)
{
  CK_FLAGS locked = so ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED;
  CK_FLAGS final_try = so ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY;
  CK_FLAGS count_low = so ? CKF_SO_PIN_COUNT_LOW : CKF_USER_PIN_COUNT_LOW;

  if (kind == TESSERA_TOKEN_KIND_TPM && !(flags & (locked | final_try | count_low)))
    set_tpm_pin_error (error, rv, so);
  else if (rv == CKR_PIN_LOCKED || (flags & locked))
    g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED,
                         so ? _("The SO PIN is locked. Only the token’s maker can reset it.")
                            : rv == CKR_PIN_LOCKED
                              ? _("The PIN is locked. It must be unblocked with the SO PIN.")
                              : _("Wrong PIN. The PIN is now locked; it must be unblocked with the SO PIN."));
  else if (flags & final_try)
    g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT,
                         so ? _("Wrong SO PIN. 1 try left before the SO PIN is locked.")
                            : _("Wrong PIN. 1 try left before the PIN is locked."));
  else if (flags & count_low)
    g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT,
                         so ? _("Wrong SO PIN. Only a few tries left before the SO PIN is locked.")
                            : _("Wrong PIN. Only a few tries left before the PIN is locked."));
  else
    g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT,
                         so ? _("Wrong SO PIN. The token does not say how many tries are left.")
                            : _("Wrong PIN. The token does not say how many tries are left."));
}
