/* tessera-row-title-layout.h: an action row's title and subtitle, laid out
 * without GtkBoxLayout's width-for-height searches
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define TESSERA_TYPE_ROW_TITLE_LAYOUT (tessera_row_title_layout_get_type ())

G_DECLARE_FINAL_TYPE (TesseraRowTitleLayout, tessera_row_title_layout, TESSERA, ROW_TITLE_LAYOUT, GtkLayoutManager)

void tessera_row_title_layout_install     (AdwActionRow *row);
void tessera_row_title_layout_install_all (GtkWidget    *root);

G_END_DECLS
