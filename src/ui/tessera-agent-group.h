/* tessera-agent-group.h: a token's "Add to SSH Agent" switch
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_AGENT_GROUP (tessera_agent_group_get_type ())

G_DECLARE_FINAL_TYPE (TesseraAgentGroup, tessera_agent_group, TESSERA, AGENT_GROUP, AdwPreferencesGroup)

void  tessera_agent_group_set_token (TesseraAgentGroup *self,
                                     TesseraToken      *token,
                                     TesseraAgentSync  *sync,
                                     GSettings         *settings,
                                     GCancellable      *cancellable);
void  tessera_agent_group_refresh   (TesseraAgentGroup *self);

G_END_DECLS
