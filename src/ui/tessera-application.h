/* tessera-application.h: the application, its registry and settings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_SCHEMA_ID "app.tessera.Tessera"

#define TESSERA_TYPE_APPLICATION (tessera_application_get_type ())

G_DECLARE_FINAL_TYPE (TesseraApplication, tessera_application, TESSERA, APPLICATION, AdwApplication)

TesseraApplication *tessera_application_new              (void);
TesseraRegistry    *tessera_application_get_registry     (TesseraApplication *self);
GSettings          *tessera_application_get_settings     (TesseraApplication *self);
TesseraAgent       *tessera_application_get_agent        (TesseraApplication *self);
TesseraAgentSync   *tessera_application_get_agent_sync   (TesseraApplication *self);
gboolean            tessera_application_get_loading      (TesseraApplication *self);
const GError       *tessera_application_get_load_error   (TesseraApplication *self);
gboolean            tessera_application_get_private_modules (TesseraApplication *self);
void                tessera_application_show_preferences (TesseraApplication *self,
                                                          const char         *page_name,
                                                          gboolean            add_module);

G_END_DECLS
