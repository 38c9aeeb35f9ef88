/* tessera-token-row.h: a token in the sidebar
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_TOKEN_ROW (tessera_token_row_get_type ())

G_DECLARE_FINAL_TYPE (TesseraTokenRow, tessera_token_row, TESSERA, TOKEN_ROW, AdwActionRow)

GtkWidget    *tessera_token_row_new       (TesseraToken    *token);
TesseraToken *tessera_token_row_get_token (TesseraTokenRow *self);

G_END_DECLS
