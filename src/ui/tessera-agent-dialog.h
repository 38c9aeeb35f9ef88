/* tessera-agent-dialog.h: add a token to the SSH agent, asking for the PIN
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_AGENT_DIALOG (tessera_agent_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TesseraAgentDialog, tessera_agent_dialog, TESSERA, AGENT_DIALOG, AdwMessageDialog)

void  tessera_agent_dialog_add_token_async  (GtkWindow           *parent,
                                             TesseraAgentSync    *sync,
                                             GSettings           *settings,
                                             TesseraToken        *token,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
int   tessera_agent_dialog_add_token_finish (GAsyncResult        *result,
                                             GError             **error);
void  tessera_agent_dialog_show_error       (GtkWindow           *parent,
                                             TesseraToken        *token,
                                             const GError        *error);

G_END_DECLS
