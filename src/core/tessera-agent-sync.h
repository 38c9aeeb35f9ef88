/* tessera-agent-sync.h: keeps the agent in step with the cards
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-agent.h"
#include "tessera-registry.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_AGENT_SYNC (tessera_agent_sync_get_type ())

G_DECLARE_FINAL_TYPE (TesseraAgentSync, tessera_agent_sync, TESSERA, AGENT_SYNC, GObject)

TesseraAgentSync *tessera_agent_sync_new      (TesseraRegistry  *registry,
                                               TesseraAgent     *agent);
TesseraAgent     *tessera_agent_sync_get_agent    (TesseraAgentSync *self);
TesseraRegistry  *tessera_agent_sync_get_registry (TesseraAgentSync *self);
void              tessera_agent_sync_track    (TesseraAgentSync *self,
                                               TesseraToken     *token,
                                               guint             lifetime,
                                               gboolean          confirm);
void              tessera_agent_sync_untrack  (TesseraAgentSync *self,
                                               TesseraToken     *token);
gboolean          tessera_agent_sync_is_tracked (TesseraAgentSync *self,
                                                 TesseraToken     *token);

G_END_DECLS
