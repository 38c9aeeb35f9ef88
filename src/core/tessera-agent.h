/* tessera-agent.h: a client for the running ssh-agent
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-types.h"

G_BEGIN_DECLS

#define TESSERA_AGENT_ERROR (tessera_agent_error_quark ())

/**
 * TesseraAgentError:
 * @TESSERA_AGENT_ERROR_NO_AGENT: SSH_AUTH_SOCK is unset, or nothing listens there
 * @TESSERA_AGENT_ERROR_TIMEOUT: the agent did not answer in time
 * @TESSERA_AGENT_ERROR_PROTOCOL: the agent's answer made no sense
 * @TESSERA_AGENT_ERROR_NOT_SUPPORTED: the agent does not take smart cards (gpg-agent)
 * @TESSERA_AGENT_ERROR_PROVIDER_NOT_ALLOWED: the module is outside ssh-agent's -P allowlist
 * @TESSERA_AGENT_ERROR_NO_USABLE_KEY: no key on the token is one OpenSSH can use
 * @TESSERA_AGENT_ERROR_REFUSED: the agent answered "failure"
 * @TESSERA_AGENT_ERROR_KEYS_MISSING: the agent said yes, but the keys did not appear
 * @TESSERA_AGENT_ERROR_OTHER_TOKENS: the agent would try the PIN on other tokens
 *   of the module, and no one-token provider can prevent it
 */
typedef enum {
  TESSERA_AGENT_ERROR_NO_AGENT,
  TESSERA_AGENT_ERROR_TIMEOUT,
  TESSERA_AGENT_ERROR_PROTOCOL,
  TESSERA_AGENT_ERROR_NOT_SUPPORTED,
  TESSERA_AGENT_ERROR_PROVIDER_NOT_ALLOWED,
  TESSERA_AGENT_ERROR_NO_USABLE_KEY,
  TESSERA_AGENT_ERROR_REFUSED,
  TESSERA_AGENT_ERROR_KEYS_MISSING,
  TESSERA_AGENT_ERROR_OTHER_TOKENS,
} TesseraAgentError;

/**
 * TesseraAgentState:
 *
 * How many of a token's SSH keys the agent holds.
 */
typedef enum {
  TESSERA_AGENT_STATE_NONE,
  TESSERA_AGENT_STATE_SOME,
  TESSERA_AGENT_STATE_ALL,
} TesseraAgentState;

/**
 * TesseraAgentIdentity:
 * @blob: the public key, OpenSSH wire encoding
 * @comment: the agent's comment for it
 */
typedef struct
{
  GBytes *blob;
  char   *comment;
} TesseraAgentIdentity;

#define TESSERA_TYPE_AGENT (tessera_agent_get_type ())

G_DECLARE_FINAL_TYPE (TesseraAgent, tessera_agent, TESSERA, AGENT, GObject)

GQuark             tessera_agent_error_quark          (void);
void               tessera_agent_identity_free        (TesseraAgentIdentity *identity);

TesseraAgent      *tessera_agent_new                  (const char          *socket_path);
const char        *tessera_agent_get_socket_path      (TesseraAgent        *self);
void               tessera_agent_set_timeout          (TesseraAgent        *self,
                                                       guint                seconds);
gboolean           tessera_agent_is_gpg_agent         (TesseraAgent        *self);
gboolean           tessera_agent_provider_allowed     (const char          *provider,
                                                       char               **real_path);

void               tessera_agent_list_identities_async  (TesseraAgent        *self,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
GPtrArray         *tessera_agent_list_identities_finish (TesseraAgent        *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);

void               tessera_agent_add_provider_async   (TesseraAgent        *self,
                                                       const char          *provider,
                                                       const char          *pin,
                                                       guint                lifetime,
                                                       gboolean             confirm,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean           tessera_agent_add_provider_finish  (TesseraAgent        *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

void               tessera_agent_remove_provider_async  (TesseraAgent        *self,
                                                         const char          *provider,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean           tessera_agent_remove_provider_finish (TesseraAgent        *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);

void               tessera_agent_add_token_async      (TesseraAgent        *self,
                                                       TesseraToken        *token,
                                                       const char          *pin,
                                                       guint                lifetime,
                                                       gboolean             confirm,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
int                tessera_agent_add_token_finish     (TesseraAgent        *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

void               tessera_agent_remove_token_async   (TesseraAgent        *self,
                                                       TesseraToken        *token,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
gboolean           tessera_agent_remove_token_finish  (TesseraAgent        *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);
char              *tessera_agent_get_token_provider   (TesseraToken        *token);

TesseraAgentState  tessera_agent_state_for_token      (GPtrArray           *identities,
                                                       TesseraToken        *token);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TesseraAgentIdentity, tessera_agent_identity_free)

G_END_DECLS
