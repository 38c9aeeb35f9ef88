/* tessera-forget-pins-row.h: forget every PIN remembered in the keyring
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define TESSERA_TYPE_FORGET_PINS_ROW (tessera_forget_pins_row_get_type ())

G_DECLARE_FINAL_TYPE (TesseraForgetPinsRow, tessera_forget_pins_row, TESSERA, FORGET_PINS_ROW, AdwActionRow)

G_END_DECLS
