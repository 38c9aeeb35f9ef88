/* tessera-window.h: the main window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-application.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_WINDOW (tessera_window_get_type ())

G_DECLARE_FINAL_TYPE (TesseraWindow, tessera_window, TESSERA, WINDOW, AdwApplicationWindow)

TesseraWindow *tessera_window_new             (TesseraApplication *application);
GCancellable  *tessera_window_get_cancellable (TesseraWindow      *self);
void           tessera_window_add_toast       (TesseraWindow      *self,
                                               AdwToast           *toast);
void           tessera_window_select_token    (TesseraWindow      *self,
                                               TesseraToken       *token);

void           tessera_window_remember_public_key_file (TesseraWindow *self,
                                                        const char    *key_identity,
                                                        GFile         *file);
GFile         *tessera_window_lookup_public_key_file   (TesseraWindow *self,
                                                        const char    *key_identity);

G_END_DECLS
