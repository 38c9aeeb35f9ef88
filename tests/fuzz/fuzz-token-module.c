/* fuzz-token-module.c: a PKCS#11 module of four tokens, for fuzz-uri
 *
 * Only what loading a module and listing its tokens needs: tokens with
 * spaces, UTF-8 and URI delimiters in their names, and a blank one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include <glib.h>
#include <p11-kit/pkcs11.h>

static const struct {
  CK_SLOT_ID  slot;
  const char *label, *manufacturer, *model, *serial;
  CK_FLAGS    flags;
} tokens[] = {
  { 1, "Fuzz", "Tessera", "libFuzzer", "0001", CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED },
  { 2, "Clé née à Zürich", "Tessera", "libFuzzer", "0002", CKF_TOKEN_INITIALIZED },
  { 3, "a;b=c/d?e%f&g", "Tessera; Inc", "libFuzzer", "0003", CKF_TOKEN_INITIALIZED },
  { 7, "", "Tessera", "libFuzzer", "", 0 },
};

static void
pad (CK_UTF8CHAR *field,
     gsize        size,
     const char  *text)
{
  memset (field, ' ', size);
  memcpy (field, text, MIN (strlen (text), size));
}

static CK_RV
initialize (CK_VOID_PTR args)
{
  return CKR_OK;
}

static CK_RV
finalize (CK_VOID_PTR reserved)
{
  return CKR_OK;
}

static CK_RV
get_info (CK_INFO_PTR info)
{
  memset (info, 0, sizeof *info);
  info->cryptokiVersion.major = 2;
  info->cryptokiVersion.minor = 40;
  pad (info->manufacturerID, sizeof info->manufacturerID, "Tessera");
  pad (info->libraryDescription, sizeof info->libraryDescription, "fuzz-uri tokens");
  return CKR_OK;
}

static CK_RV
get_slot_list (CK_BBOOL       token_present,
               CK_SLOT_ID_PTR slots,
               CK_ULONG_PTR   count)
{
  CK_ULONG room = *count;

  *count = G_N_ELEMENTS (tokens);
  if (slots == NULL)
    return CKR_OK;
  if (room < G_N_ELEMENTS (tokens))
    return CKR_BUFFER_TOO_SMALL;
  for (guint i = 0; i < G_N_ELEMENTS (tokens); i++)
    slots[i] = tokens[i].slot;
  return CKR_OK;
}

static CK_RV
get_slot_info (CK_SLOT_ID        slot,
               CK_SLOT_INFO_PTR  info)
{
  memset (info, 0, sizeof *info);
  pad (info->slotDescription, sizeof info->slotDescription, "fuzz slot");
  pad (info->manufacturerID, sizeof info->manufacturerID, "Tessera");
  info->flags = CKF_TOKEN_PRESENT;
  return CKR_OK;
}

static CK_RV
get_token_info (CK_SLOT_ID         slot,
                CK_TOKEN_INFO_PTR  info)
{
  for (guint i = 0; i < G_N_ELEMENTS (tokens); i++)
    if (tokens[i].slot == slot)
      {
        memset (info, 0, sizeof *info);
        pad (info->label, sizeof info->label, tokens[i].label);
        pad (info->manufacturerID, sizeof info->manufacturerID, tokens[i].manufacturer);
        pad (info->model, sizeof info->model, tokens[i].model);
        pad ((CK_UTF8CHAR *) info->serialNumber, sizeof info->serialNumber, tokens[i].serial);
        info->flags = tokens[i].flags;
        info->ulMaxPinLen = 64;
        info->ulMinPinLen = 4;
        return CKR_OK;
      }
  return CKR_SLOT_ID_INVALID;
}

static CK_RV
wait_for_slot_event (CK_FLAGS       flags,
                     CK_SLOT_ID_PTR slot,
                     CK_VOID_PTR    reserved)
{
  return CKR_FUNCTION_NOT_SUPPORTED;
}

static CK_RV get_function_list (CK_FUNCTION_LIST_PTR_PTR list);

static CK_FUNCTION_LIST functions = {
  .version = { 2, 40 },
  .C_Initialize = initialize,
  .C_Finalize = finalize,
  .C_GetInfo = get_info,
  .C_GetFunctionList = get_function_list,
  .C_GetSlotList = get_slot_list,
  .C_GetSlotInfo = get_slot_info,
  .C_GetTokenInfo = get_token_info,
  .C_WaitForSlotEvent = wait_for_slot_event,
};

static CK_RV
get_function_list (CK_FUNCTION_LIST_PTR_PTR list)
{
  *list = &functions;
  return CKR_OK;
}

CK_RV C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list);

CK_RV
C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list)
{
  return get_function_list (list);
}
