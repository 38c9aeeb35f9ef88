/* tessera-key-details.h: every object of a key, with all its attributes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_KEY_DETAILS (tessera_key_details_get_type ())

G_DECLARE_FINAL_TYPE (TesseraKeyDetails, tessera_key_details, TESSERA, KEY_DETAILS, AdwPreferencesPage)

GtkWidget  *tessera_key_details_new       (GObject           *item);
GObject    *tessera_key_details_get_item  (TesseraKeyDetails *self);
const char *tessera_key_details_get_title (TesseraKeyDetails *self);
void        tessera_key_details_set_problem (TesseraKeyDetails *self,
                                             TesseraProblem    *problem);

G_END_DECLS
