/* tessera-key-row.h: a key in the token page's list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_KEY_ROW (tessera_key_row_get_type ())

G_DECLARE_FINAL_TYPE (TesseraKeyRow, tessera_key_row, TESSERA, KEY_ROW, GtkWidget)

GtkWidget    *tessera_key_row_new         (GCancellable   *cancellable,
                                           GCancellable   *page_cancellable);
void          tessera_key_row_bind        (TesseraKeyRow  *self,
                                           TesseraKey     *key,
                                           TesseraToken   *token,
                                           TesseraProblem *problem);
void          tessera_key_row_unbind      (TesseraKeyRow  *self);
TesseraKey   *tessera_key_row_get_key     (TesseraKeyRow  *self);
TesseraToken *tessera_key_row_get_token   (TesseraKeyRow  *self);
void          tessera_key_row_set_problem (TesseraKeyRow  *self,
                                           TesseraProblem *problem);

G_END_DECLS
