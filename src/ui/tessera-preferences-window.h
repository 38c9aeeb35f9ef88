/* tessera-preferences-window.h: modules, PINs and agent defaults
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_PREFERENCES_WINDOW (tessera_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (TesseraPreferencesWindow, tessera_preferences_window, TESSERA, PREFERENCES_WINDOW, AdwPreferencesWindow)

TesseraPreferencesWindow *tessera_preferences_window_new           (TesseraRegistry          *registry,
                                                                    GSettings                *settings,
                                                                    GtkWindow                *parent);
void                      tessera_preferences_window_choose_module (TesseraPreferencesWindow *self);

G_END_DECLS
