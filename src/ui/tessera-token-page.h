/* tessera-token-page.h: everything on one token
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"
#include "tessera-pin-dialog.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_TOKEN_PAGE (tessera_token_page_get_type ())

G_DECLARE_FINAL_TYPE (TesseraTokenPage, tessera_token_page, TESSERA, TOKEN_PAGE, AdwPreferencesPage)

GtkWidget    *tessera_token_page_new       (TesseraToken     *token,
                                            TesseraRegistry  *registry,
                                            TesseraAgentSync *agent_sync,
                                            GSettings        *settings,
                                            GCancellable     *cancellable);
TesseraToken *tessera_token_page_get_token (TesseraTokenPage *self);
TesseraRegistry *tessera_token_page_get_registry    (TesseraTokenPage *self);
GCancellable    *tessera_token_page_get_cancellable (TesseraTokenPage *self);
void          tessera_token_page_reload    (TesseraTokenPage *self);
void          tessera_token_page_log_in    (TesseraTokenPage *self);
void          tessera_token_page_show_details (TesseraTokenPage *self,
                                               GObject          *item);
void          tessera_token_page_when_logged_in (TesseraTokenPage    *self,
                                                 TesseraLoggedInFunc  func,
                                                 gpointer             user_data,
                                                 GDestroyNotify       destroy);
void          tessera_token_page_fix_problem  (TesseraTokenPage *self,
                                               TesseraProblem   *problem);
TesseraProblem *tessera_token_page_lookup_problem (TesseraTokenPage *self,
                                                   TesseraKey       *key);

G_END_DECLS
