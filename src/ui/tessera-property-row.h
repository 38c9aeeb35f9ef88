/* tessera-property-row.h: a row showing one named value
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define TESSERA_TYPE_PROPERTY_ROW (tessera_property_row_get_type ())

G_DECLARE_FINAL_TYPE (TesseraPropertyRow, tessera_property_row, TESSERA, PROPERTY_ROW, AdwActionRow)

GtkWidget  *tessera_property_row_new          (const char         *title,
                                               const char         *value);
const char *tessera_property_row_get_value    (TesseraPropertyRow *self);
void        tessera_property_row_set_value    (TesseraPropertyRow *self,
                                               const char         *value);
void        tessera_property_row_set_copyable (TesseraPropertyRow *self,
                                               gboolean            copyable);

G_END_DECLS
