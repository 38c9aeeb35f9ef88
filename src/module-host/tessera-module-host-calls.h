/* tessera-module-host-calls.h: every PKCS#11 2.40 function, its deadline kind
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An X-macro list, included by tessera-module-host.c with GUARDED and
 * GUARDED_SPECIAL defined: GUARDED functions are passed through under a
 * deadline as they are; GUARDED_SPECIAL ones also check what the module
 * answered, by hand, in tessera-module-host.c.  The parameter lists are
 * those of p11-kit's pkcs11.h.
 */

GUARDED_SPECIAL (C_Initialize, DEADLINE_INITIALIZE,
         (void *init_args),
         (init_args))
GUARDED_SPECIAL (C_Finalize, DEADLINE_READ,
         (void *reserved),
         (reserved))
GUARDED (C_GetInfo, DEADLINE_QUICK,
         (CK_INFO *info),
         (info))
GUARDED_SPECIAL (C_GetSlotList, DEADLINE_QUICK,
         (CK_BYTE token_present, CK_SLOT_ID *slot_list, CK_ULONG *count),
         (token_present, slot_list, count))
GUARDED (C_GetSlotInfo, DEADLINE_QUICK,
         (CK_SLOT_ID slot_id, CK_SLOT_INFO *info),
         (slot_id, info))
GUARDED (C_GetTokenInfo, DEADLINE_QUICK,
         (CK_SLOT_ID slot_id, CK_TOKEN_INFO *info),
         (slot_id, info))
GUARDED_SPECIAL (C_WaitForSlotEvent, DEADLINE_QUICK,
         (CK_FLAGS flags, CK_SLOT_ID *slot, void *reserved),
         (flags, slot, reserved))
GUARDED_SPECIAL (C_GetMechanismList, DEADLINE_QUICK,
         (CK_SLOT_ID slot_id, CK_MECHANISM_TYPE *mechanism_list, CK_ULONG *count),
         (slot_id, mechanism_list, count))
GUARDED (C_GetMechanismInfo, DEADLINE_QUICK,
         (CK_SLOT_ID slot_id, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO *info),
         (slot_id, type, info))
GUARDED (C_InitToken, DEADLINE_PIN,
         (CK_SLOT_ID slot_id, CK_BYTE *pin, CK_ULONG pin_len, CK_BYTE *label),
         (slot_id, pin, pin_len, label))
GUARDED (C_InitPIN, DEADLINE_PIN,
         (CK_SESSION_HANDLE session, CK_BYTE *pin, CK_ULONG pin_len),
         (session, pin, pin_len))
GUARDED (C_SetPIN, DEADLINE_PIN,
         (CK_SESSION_HANDLE session, CK_BYTE *old_pin, CK_ULONG old_len, CK_BYTE *new_pin, CK_ULONG new_len),
         (session, old_pin, old_len, new_pin, new_len))
GUARDED (C_OpenSession, DEADLINE_READ,
         (CK_SLOT_ID slot_id, CK_FLAGS flags, void *application, CK_NOTIFY notify, CK_SESSION_HANDLE *session),
         (slot_id, flags, application, notify, session))
GUARDED (C_CloseSession, DEADLINE_READ,
         (CK_SESSION_HANDLE session),
         (session))
GUARDED (C_CloseAllSessions, DEADLINE_READ,
         (CK_SLOT_ID slot_id),
         (slot_id))
GUARDED (C_GetSessionInfo, DEADLINE_READ,
         (CK_SESSION_HANDLE session, CK_SESSION_INFO *info),
         (session, info))
GUARDED (C_GetOperationState, DEADLINE_READ,
         (CK_SESSION_HANDLE session, CK_BYTE *operation_state, CK_ULONG *operation_state_len),
         (session, operation_state, operation_state_len))
GUARDED (C_SetOperationState, DEADLINE_READ,
         (CK_SESSION_HANDLE session, CK_BYTE *operation_state, CK_ULONG operation_state_len, CK_OBJECT_HANDLE encryption_key, CK_OBJECT_HANDLE authentiation_key),
         (session, operation_state, operation_state_len, encryption_key, authentiation_key))
GUARDED (C_Login, DEADLINE_PIN,
         (CK_SESSION_HANDLE session, CK_USER_TYPE user_type, CK_BYTE *pin, CK_ULONG pin_len),
         (session, user_type, pin, pin_len))
GUARDED (C_Logout, DEADLINE_READ,
         (CK_SESSION_HANDLE session),
         (session))
GUARDED (C_CreateObject, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_ATTRIBUTE *templ, CK_ULONG count, CK_OBJECT_HANDLE *object),
         (session, templ, count, object))
GUARDED (C_CopyObject, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE *templ, CK_ULONG count, CK_OBJECT_HANDLE *new_object),
         (session, object, templ, count, new_object))
GUARDED (C_DestroyObject, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object),
         (session, object))
GUARDED (C_GetObjectSize, DEADLINE_READ,
         (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ULONG *size),
         (session, object, size))
GUARDED_SPECIAL (C_GetAttributeValue, DEADLINE_READ,
         (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE *templ, CK_ULONG count),
         (session, object, templ, count))
GUARDED (C_SetAttributeValue, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE *templ, CK_ULONG count),
         (session, object, templ, count))
GUARDED (C_FindObjectsInit, DEADLINE_READ,
         (CK_SESSION_HANDLE session, CK_ATTRIBUTE *templ, CK_ULONG count),
         (session, templ, count))
GUARDED_SPECIAL (C_FindObjects, DEADLINE_READ,
         (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE *object, CK_ULONG max_object_count, CK_ULONG *object_count),
         (session, object, max_object_count, object_count))
GUARDED (C_FindObjectsFinal, DEADLINE_READ,
         (CK_SESSION_HANDLE session),
         (session))
GUARDED (C_EncryptInit, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key),
         (session, mechanism, key))
GUARDED (C_Encrypt, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *data, CK_ULONG data_len, CK_BYTE *encrypted_data, CK_ULONG *encrypted_data_len),
         (session, data, data_len, encrypted_data, encrypted_data_len))
GUARDED (C_EncryptUpdate, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *part, CK_ULONG part_len, CK_BYTE *encrypted_part, CK_ULONG *encrypted_part_len),
         (session, part, part_len, encrypted_part, encrypted_part_len))
GUARDED (C_EncryptFinal, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *last_encrypted_part, CK_ULONG *last_encrypted_part_len),
         (session, last_encrypted_part, last_encrypted_part_len))
GUARDED (C_DecryptInit, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key),
         (session, mechanism, key))
GUARDED (C_Decrypt, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *encrypted_data, CK_ULONG encrypted_data_len, CK_BYTE *data, CK_ULONG *data_len),
         (session, encrypted_data, encrypted_data_len, data, data_len))
GUARDED (C_DecryptUpdate, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *encrypted_part, CK_ULONG encrypted_part_len, CK_BYTE *part, CK_ULONG *part_len),
         (session, encrypted_part, encrypted_part_len, part, part_len))
GUARDED (C_DecryptFinal, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *last_part, CK_ULONG *last_part_len),
         (session, last_part, last_part_len))
GUARDED (C_DigestInit, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism),
         (session, mechanism))
GUARDED (C_Digest, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *data, CK_ULONG data_len, CK_BYTE *digest, CK_ULONG *digest_len),
         (session, data, data_len, digest, digest_len))
GUARDED (C_DigestUpdate, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *part, CK_ULONG part_len),
         (session, part, part_len))
GUARDED (C_DigestKey, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key),
         (session, key))
GUARDED (C_DigestFinal, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *digest, CK_ULONG *digest_len),
         (session, digest, digest_len))
GUARDED (C_SignInit, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key),
         (session, mechanism, key))
GUARDED (C_Sign, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *data, CK_ULONG data_len, CK_BYTE *signature, CK_ULONG *signature_len),
         (session, data, data_len, signature, signature_len))
GUARDED (C_SignUpdate, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *part, CK_ULONG part_len),
         (session, part, part_len))
GUARDED (C_SignFinal, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *signature, CK_ULONG *signature_len),
         (session, signature, signature_len))
GUARDED (C_SignRecoverInit, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key),
         (session, mechanism, key))
GUARDED (C_SignRecover, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *data, CK_ULONG data_len, CK_BYTE *signature, CK_ULONG *signature_len),
         (session, data, data_len, signature, signature_len))
GUARDED (C_VerifyInit, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key),
         (session, mechanism, key))
GUARDED (C_Verify, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *data, CK_ULONG data_len, CK_BYTE *signature, CK_ULONG signature_len),
         (session, data, data_len, signature, signature_len))
GUARDED (C_VerifyUpdate, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *part, CK_ULONG part_len),
         (session, part, part_len))
GUARDED (C_VerifyFinal, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *signature, CK_ULONG signature_len),
         (session, signature, signature_len))
GUARDED (C_VerifyRecoverInit, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key),
         (session, mechanism, key))
GUARDED (C_VerifyRecover, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *signature, CK_ULONG signature_len, CK_BYTE *data, CK_ULONG *data_len),
         (session, signature, signature_len, data, data_len))
GUARDED (C_DigestEncryptUpdate, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *part, CK_ULONG part_len, CK_BYTE *encrypted_part, CK_ULONG *encrypted_part_len),
         (session, part, part_len, encrypted_part, encrypted_part_len))
GUARDED (C_DecryptDigestUpdate, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *encrypted_part, CK_ULONG encrypted_part_len, CK_BYTE *part, CK_ULONG *part_len),
         (session, encrypted_part, encrypted_part_len, part, part_len))
GUARDED (C_SignEncryptUpdate, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *part, CK_ULONG part_len, CK_BYTE *encrypted_part, CK_ULONG *encrypted_part_len),
         (session, part, part_len, encrypted_part, encrypted_part_len))
GUARDED (C_DecryptVerifyUpdate, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_BYTE *encrypted_part, CK_ULONG encrypted_part_len, CK_BYTE *part, CK_ULONG *part_len),
         (session, encrypted_part, encrypted_part_len, part, part_len))
GUARDED (C_GenerateKey, DEADLINE_KEYGEN,
         (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_ATTRIBUTE *templ, CK_ULONG count, CK_OBJECT_HANDLE *key),
         (session, mechanism, templ, count, key))
GUARDED (C_GenerateKeyPair, DEADLINE_KEYGEN,
         (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_ATTRIBUTE *public_key_template, CK_ULONG public_key_attribute_count, CK_ATTRIBUTE *private_key_template, CK_ULONG private_key_attribute_count, CK_OBJECT_HANDLE *public_key, CK_OBJECT_HANDLE *private_key),
         (session, mechanism, public_key_template, public_key_attribute_count, private_key_template, private_key_attribute_count, public_key, private_key))
GUARDED (C_WrapKey, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE wrapping_key, CK_OBJECT_HANDLE key, CK_BYTE *wrapped_key, CK_ULONG *wrapped_key_len),
         (session, mechanism, wrapping_key, key, wrapped_key, wrapped_key_len))
GUARDED (C_UnwrapKey, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE unwrapping_key, CK_BYTE *wrapped_key, CK_ULONG wrapped_key_len, CK_ATTRIBUTE *templ, CK_ULONG attribute_count, CK_OBJECT_HANDLE *key),
         (session, mechanism, unwrapping_key, wrapped_key, wrapped_key_len, templ, attribute_count, key))
GUARDED (C_DeriveKey, DEADLINE_CRYPTO,
         (CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE base_key, CK_ATTRIBUTE *templ, CK_ULONG attribute_count, CK_OBJECT_HANDLE *key),
         (session, mechanism, base_key, templ, attribute_count, key))
GUARDED (C_SeedRandom, DEADLINE_READ,
         (CK_SESSION_HANDLE session, CK_BYTE *seed, CK_ULONG seed_len),
         (session, seed, seed_len))
GUARDED (C_GenerateRandom, DEADLINE_READ,
         (CK_SESSION_HANDLE session, CK_BYTE *random_data, CK_ULONG random_len),
         (session, random_data, random_len))
GUARDED (C_GetFunctionStatus, DEADLINE_READ,
         (CK_SESSION_HANDLE session),
         (session))
GUARDED (C_CancelFunction, DEADLINE_READ,
         (CK_SESSION_HANDLE session),
         (session))
