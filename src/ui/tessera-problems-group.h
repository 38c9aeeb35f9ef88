/* tessera-problems-group.h: what is wrong with a token's objects, and the fixes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_PROBLEMS_GROUP (tessera_problems_group_get_type ())

G_DECLARE_FINAL_TYPE (TesseraProblemsGroup, tessera_problems_group, TESSERA, PROBLEMS_GROUP, AdwPreferencesGroup)

void            tessera_problems_group_set_token (TesseraProblemsGroup *self,
                                                  TesseraToken         *token,
                                                  GCancellable         *cancellable);
TesseraProblem *tessera_problems_group_lookup    (TesseraProblemsGroup *self,
                                                  TesseraKey           *key);
void            tessera_problems_group_fix       (TesseraProblemsGroup *self,
                                                  TesseraProblem       *problem);

G_END_DECLS
