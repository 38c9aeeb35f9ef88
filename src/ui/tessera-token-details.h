/* tessera-token-details.h: what a token is, apart from its keys
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_TOKEN_DETAILS (tessera_token_details_get_type ())

G_DECLARE_FINAL_TYPE (TesseraTokenDetails, tessera_token_details, TESSERA, TOKEN_DETAILS, AdwPreferencesPage)

GtkWidget    *tessera_token_details_new       (TesseraToken        *token,
                                              GtkWidget           *page);
TesseraToken *tessera_token_details_get_token (TesseraTokenDetails *self);

G_END_DECLS
