/* tessera-paced-model.h: a list model that passes large changes on in steps
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TESSERA_TYPE_PACED_MODEL (tessera_paced_model_get_type ())
G_DECLARE_FINAL_TYPE (TesseraPacedModel, tessera_paced_model, TESSERA, PACED_MODEL, GObject)

TesseraPacedModel *tessera_paced_model_new         (GListModel        *model,
                                                     guint              step);
gboolean           tessera_paced_model_is_settled  (TesseraPacedModel *self);

G_END_DECLS
