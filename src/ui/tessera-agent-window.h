/* tessera-agent-window.h: the keys the SSH agent holds
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_AGENT_WINDOW (tessera_agent_window_get_type ())

G_DECLARE_FINAL_TYPE (TesseraAgentWindow, tessera_agent_window, TESSERA, AGENT_WINDOW, AdwWindow)

GtkWidget *tessera_agent_window_new     (GtkWindow          *parent,
                                         TesseraAgentSync   *sync);
void       tessera_agent_window_refresh (TesseraAgentWindow *self);

G_END_DECLS
