/* tessera-ssh.h: OpenSSH public keys, fingerprints and readiness
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-object.h"

G_BEGIN_DECLS

#define TESSERA_SSH_ERROR (tessera_ssh_error_quark ())

typedef enum {
  TESSERA_SSH_ERROR_UNSUPPORTED,
  TESSERA_SSH_ERROR_INCOMPLETE,
  TESSERA_SSH_ERROR_MALFORMED,
} TesseraSshError;

/**
 * TesseraSshVerdict:
 * @TESSERA_SSH_VERDICT_READY: OpenSSH can list the key and sign with it
 * @TESSERA_SSH_VERDICT_LOGIN_NEEDED: the private key can only be checked after login
 * @TESSERA_SSH_VERDICT_NO_PUBLIC_OBJECT: no public-key or certificate object: OpenSSH cannot see it
 * @TESSERA_SSH_VERDICT_ID_MISMATCH: the public key or certificate has another ID than the private key
 * @TESSERA_SSH_VERDICT_NO_PRIVATE_KEY: there is no private key: only a certificate or public key
 * @TESSERA_SSH_VERDICT_UNSUPPORTED_TYPE: the installed OpenSSH cannot use this key type
 * @TESSERA_SSH_VERDICT_CANNOT_SIGN: the private key is not allowed to sign
 * @TESSERA_SSH_VERDICT_TOKEN_NOT_INITIALIZED: the token is not initialised
 */
typedef enum {
  TESSERA_SSH_VERDICT_READY,
  TESSERA_SSH_VERDICT_LOGIN_NEEDED,
  TESSERA_SSH_VERDICT_NO_PUBLIC_OBJECT,
  TESSERA_SSH_VERDICT_ID_MISMATCH,
  TESSERA_SSH_VERDICT_NO_PRIVATE_KEY,
  TESSERA_SSH_VERDICT_UNSUPPORTED_TYPE,
  TESSERA_SSH_VERDICT_CANNOT_SIGN,
  TESSERA_SSH_VERDICT_TOKEN_NOT_INITIALIZED,
} TesseraSshVerdict;

GQuark      tessera_ssh_error_quark            (void);

GBytes     *tessera_ssh_blob_from_object       (TesseraObject  *object,
                                                GError        **error);
const char *tessera_ssh_blob_get_type          (GBytes         *blob);
guint       tessera_ssh_blob_get_bits          (GBytes         *blob);
const char *tessera_ssh_blob_get_type_label    (GBytes         *blob);
gboolean    tessera_ssh_comment_is_safe        (const char     *comment);
char       *tessera_ssh_format_line            (GBytes         *blob,
                                                const char     *comment);
char       *tessera_ssh_fingerprint_sha256     (GBytes         *blob);
char       *tessera_ssh_fingerprint_md5        (GBytes         *blob);
char       *tessera_ssh_format_fingerprint_line (GBytes        *blob,
                                                const char     *comment,
                                                gboolean        md5);
char       *tessera_ssh_subject_oneline        (GBytes         *certificate_der);

gboolean    tessera_openssh_get_version        (guint          *major,
                                                guint          *minor);
gboolean    tessera_openssh_supports           (TesseraKeyType  key_type);

G_END_DECLS

G_BEGIN_DECLS

/**
 * TesseraSshIdentity:
 * @object: the public-key or certificate object OpenSSH would read
 * @blob: the public key's wire encoding
 * @comment: the comment OpenSSH gives it
 * @supported: whether the installed OpenSSH uses keys of this type
 *
 * One key as `ssh-keygen -D` lists it.
 */
typedef struct
{
  TesseraObject *object;
  GBytes        *blob;
  char          *comment;
  gboolean       supported;
} TesseraSshIdentity;

void        tessera_ssh_identity_free          (TesseraSshIdentity *identity);
GPtrArray  *tessera_ssh_list_identities        (GListModel         *objects,
                                                GPtrArray          *seen);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TesseraSshIdentity, tessera_ssh_identity_free)

G_END_DECLS
