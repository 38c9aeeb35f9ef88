/* tessera-setup-assistant.h: "Set Up for SSH…", from a blank token to an SSH login
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_SETUP_ASSISTANT (tessera_setup_assistant_get_type ())

G_DECLARE_FINAL_TYPE (TesseraSetupAssistant, tessera_setup_assistant, TESSERA, SETUP_ASSISTANT, AdwWindow)

GtkWidget *tessera_setup_assistant_new (GtkWindow        *parent,
                                        TesseraToken     *token,
                                        TesseraRegistry  *registry,
                                        TesseraAgentSync *agent_sync,
                                        GSettings        *settings,
                                        GCancellable     *cancellable);

G_END_DECLS
