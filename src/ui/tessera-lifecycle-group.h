/* tessera-lifecycle-group.h: a token's PINs and initialization on its page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_LIFECYCLE_GROUP (tessera_lifecycle_group_get_type ())

G_DECLARE_FINAL_TYPE (TesseraLifecycleGroup, tessera_lifecycle_group, TESSERA, LIFECYCLE_GROUP, AdwPreferencesGroup)

void tessera_lifecycle_group_set_token (TesseraLifecycleGroup *self,
                                        TesseraToken          *token);

G_END_DECLS
