/* tessera-private.h: what the core's classes share with each other
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <string.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include <gnutls/abstract.h>

#include "tessera-core.h"

G_BEGIN_DECLS

/* tessera-error.c */
void            _tessera_set_ck_error            (GError         **error,
                                                  CK_RV            rv,
                                                  const char      *what);
const char     *_tessera_ck_rv_name              (CK_RV            rv);
gboolean        _tessera_ck_rv_means_removed     (CK_RV            rv);
void            _tessera_set_pin_error           (GError         **error,
                                                  CK_RV            rv,
                                                  CK_FLAGS         flags,
                                                  gboolean         so,
                                                  TesseraTokenKind kind);


/* tessera-key.c */
void            _tessera_key_assess_all          (GPtrArray       *keys,
                                                  gboolean         logged_in);
gboolean        _tessera_key_same                (TesseraKey      *a,
                                                  TesseraKey      *b);
void            _tessera_key_take_parts          (TesseraKey      *self,
                                                  TesseraKey      *other);

/* tessera-registry.c */
typedef struct
{
  CK_SLOT_ID    slot_id;
  CK_TOKEN_INFO token_info;
} TesseraSlotEntry;

GArray         *_tessera_scan_slots              (CK_FUNCTION_LIST *functions,
                                                  gboolean        *call_failed,
                                                  GError         **error);
GArray         *_tessera_module_scan_slots       (TesseraModule   *module,
                                                  CK_FUNCTION_LIST *functions,
                                                  gboolean        *call_failed,
                                                  GError         **error);
gboolean        _tessera_uri_matches_token_info  (P11KitUri       *uri,
                                                  const CK_TOKEN_INFO *token_info);

/* tessera-module.c */
const char     *_tessera_sandbox_host_root       (void);
char           *_tessera_sandbox_host_server_path (void);
TesseraModule  *_tessera_module_new_for_host_server (const char *socket_path);
const char     *_tessera_module_get_host_server  (TesseraModule   *self);
gboolean        _tessera_module_is_tpm           (TesseraModule   *self);
void            _tessera_module_set_unavailable  (TesseraModule   *self,
                                                  const char      *reason);
TesseraModule  *_tessera_module_new              (const char      *name,
                                                  const char      *path,
                                                  gboolean         registered);
void            _tessera_module_set_functions    (TesseraModule   *self,
                                                  CK_FUNCTION_LIST *functions,
                                                  gboolean         managed);
CK_FUNCTION_LIST *_tessera_module_begin          (TesseraModule   *self);
void            _tessera_module_end              (TesseraModule   *self);
CK_FUNCTION_LIST *_tessera_module_peek_functions (TesseraModule   *self);
void            _tessera_module_set_error        (TesseraModule   *self,
                                                  const GError    *error);
void            _tessera_module_set_waits_for_events (TesseraModule *self,
                                                  gboolean         waits);
gboolean        _tessera_module_initialize       (TesseraModule   *self,
                                                  GError         **error);
void            _tessera_module_finalize         (TesseraModule   *self);
gboolean        _tessera_module_isolation_wanted (void);
void            _tessera_module_prepare_isolation (void);
void            _tessera_module_take_started_host (const char                     *module_path,
                                                   const char                     *socket_dir,
                                                   const char                     *socket_path,
                                                   const TesseraModuleHostProcess *process);
gboolean        _tessera_module_isolate          (TesseraModule   *self,
                                                  GError         **error);
gboolean        _tessera_module_explain_failure  (TesseraModule   *self,
                                                  GError         **error);
gboolean        _tessera_module_has_failed       (TesseraModule   *self);
void            _tessera_module_explain_current  (GError         **error,
                                                  const char      *what);
void            _tessera_module_stop_host        (TesseraModule   *self);
void            _tessera_module_set_order        (TesseraModule   *self,
                                                  guint            order);
guint           _tessera_module_get_order        (TesseraModule   *self);
void            _tessera_module_set_in_process   (TesseraModule   *self,
                                                  gboolean         in_process);
gboolean        _tessera_module_get_in_process   (TesseraModule   *self);
CK_RV           _tessera_module_get_mechanism_info (CK_FUNCTION_LIST  *functions,
                                                  CK_SLOT_ID         slot,
                                                  CK_MECHANISM_TYPE  type,
                                                  CK_MECHANISM_INFO *info);
CK_RV           _tessera_module_generate_key_pair (CK_FUNCTION_LIST *functions,
                                                  CK_SESSION_HANDLE session,
                                                  CK_MECHANISM     *mechanism,
                                                  CK_ATTRIBUTE     *public_template,
                                                  CK_ULONG          n_public,
                                                  CK_ATTRIBUTE     *private_template,
                                                  CK_ULONG          n_private,
                                                  CK_OBJECT_HANDLE *public_key,
                                                  CK_OBJECT_HANDLE *private_key);
CK_RV           _tessera_module_sign_init        (CK_FUNCTION_LIST  *functions,
                                                  CK_SESSION_HANDLE  session,
                                                  CK_MECHANISM      *mechanism,
                                                  CK_OBJECT_HANDLE   key);

/* tessera-token.c */
TesseraToken   *_tessera_token_new               (TesseraModule   *module,
                                                  CK_SLOT_ID       slot_id,
                                                  const CK_TOKEN_INFO *token_info);
gboolean        _tessera_token_same_identity     (TesseraToken    *self,
                                                  const CK_TOKEN_INFO *token_info);
gboolean        _tessera_token_update_info       (TesseraToken    *self,
                                                  CK_SLOT_ID       slot_id,
                                                  const CK_TOKEN_INFO *token_info);
const CK_TOKEN_INFO *_tessera_token_peek_info    (TesseraToken    *self);
void            _tessera_token_info_pad          (CK_TOKEN_INFO   *token_info);
void            _tessera_token_mark_removed      (TesseraToken    *self);
void            _tessera_token_close_session     (TesseraToken    *self,
                                                  CK_FUNCTION_LIST *functions);
void            _tessera_token_set_logged_out    (TesseraToken    *self);
void            _tessera_token_note_lockout      (TesseraToken    *self,
                                                  gboolean         locked_out);

/* tessera-tpm-lockout.c */
gint64          _tessera_tpm_lockout_lookup      (const char      *tpm_identity);
void            _tessera_tpm_lockout_remember    (const char      *tpm_identity,
                                                  gboolean         locked_out);

/* tessera-object.c */
GPtrArray      *_tessera_object_read_all         (CK_FUNCTION_LIST    *functions,
                                                  CK_SESSION_HANDLE    session,
                                                  const CK_TOKEN_INFO *token_info,
                                                  GCancellable        *cancellable,
                                                  CK_RV               *rv_out,
                                                  GError             **error);
GPtrArray      *_tessera_object_read_private     (CK_FUNCTION_LIST    *functions,
                                                  CK_SESSION_HANDLE    session,
                                                  const CK_TOKEN_INFO *token_info,
                                                  GCancellable        *cancellable,
                                                  CK_RV               *rv_out,
                                                  GError             **error);
gboolean        _tessera_object_same             (TesseraObject       *a,
                                                  TesseraObject       *b);
TesseraObject  *_tessera_object_read_one         (CK_FUNCTION_LIST    *functions,
                                                  CK_SESSION_HANDLE    session,
                                                  CK_OBJECT_HANDLE     handle,
                                                  gboolean             is_certificate,
                                                  const CK_TOKEN_INFO *token_info);

/* tessera-ssh.c */
gboolean        _tessera_ssh_read_string         (const guint8  **data,
                                                  gsize          *len,
                                                  const guint8  **value,
                                                  gsize          *value_len);
GBytes         *_tessera_ssh_blob_from_certificate (GBytes        *der,
                                                  GError         **error);

/* tessera-agent.c */
GPtrArray      *_tessera_agent_parse_identities  (GBytes          *reply,
                                                  GError         **error);

/* tessera-signing.c */
gnutls_pubkey_t _tessera_pubkey_from_ssh_blob    (GBytes          *blob);
gboolean        _tessera_sign_hash               (CK_FUNCTION_LIST *functions,
                                                  CK_SESSION_HANDLE session,
                                                  CK_OBJECT_HANDLE key,
                                                  TesseraKeyType   type,
                                                  const gnutls_datum_t *digest_info_or_hash,
                                                  gnutls_datum_t  *signature,
                                                  GError         **error);
gboolean        _tessera_sign_data               (CK_FUNCTION_LIST *functions,
                                                  CK_SESSION_HANDLE session,
                                                  CK_OBJECT_HANDLE key,
                                                  const gnutls_datum_t *message,
                                                  gnutls_datum_t  *signature,
                                                  GError         **error);
TesseraObject  *_tessera_match_private_key       (CK_FUNCTION_LIST *functions,
                                                  CK_SESSION_HANDLE session,
                                                  GPtrArray       *objects,
                                                  GBytes          *blob,
                                                  gboolean        *by_signature,
                                                  GError         **error);
gboolean        _tessera_test_sign               (CK_FUNCTION_LIST *functions,
                                                  CK_SESSION_HANDLE session,
                                                  CK_OBJECT_HANDLE key,
                                                  TesseraKeyType   type,
                                                  gnutls_pubkey_t  pubkey,
                                                  GError         **error);

/* tessera-token-editing.c: a session of its own, for one operation */
typedef struct
{
  TesseraModule     *module;
  CK_FUNCTION_LIST  *functions;
  CK_SESSION_HANDLE  session;
} TesseraSession;

gboolean        _tessera_session_open            (TesseraSession  *session,
                                                  TesseraModule   *module,
                                                  CK_SLOT_ID       slot,
                                                  gboolean         read_write,
                                                  GError         **error);
void            _tessera_session_close           (TesseraSession  *session);
gboolean        _tessera_object_check_unchanged  (TesseraSession  *session,
                                                  TesseraObject   *object,
                                                  GError         **error);
CK_OBJECT_CLASS _tessera_object_kind_to_class    (TesseraObjectKind kind);

/* tessera-certificate.c */
gboolean        _tessera_certificate_create_object (TesseraSession *write,
                                                  GBytes          *der,
                                                  const char      *label,
                                                  GBytes          *id,
                                                  CK_OBJECT_HANDLE *handle_out,
                                                  GError         **error);
GBytes         *_tessera_certificate_build_self_signed (TesseraSession *write,
                                                  TesseraObject   *private_key,
                                                  GBytes          *blob,
                                                  const char      *common_name,
                                                  guint            days,
                                                  GError         **error);

/* Helpers for CK_UTF8CHAR fields, which are space-padded, not terminated,
 * and may hold anything: NULs, control characters and bytes that are not
 * UTF-8 come out as U+FFFD (tessera-error.c). */
char           *_tessera_ck_string               (const CK_UTF8CHAR *chars,
                                                  gsize              length);
#define TESSERA_CK_STRING(field) _tessera_ck_string ((field), sizeof (field))

G_END_DECLS
