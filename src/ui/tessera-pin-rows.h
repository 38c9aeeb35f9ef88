/* tessera-pin-rows.h: what the PIN dialogs share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

GtkWidget *tessera_pin_rows_add_password  (GtkWidget     *list,
                                           const char    *title);
GtkWidget *tessera_pin_rows_add_entry     (GtkWidget     *list,
                                           const char    *title);
const char *tessera_pin_rows_get_title    (GtkWidget     *entry);
GtkWidget *tessera_pin_rows_new_list      (void);
GtkWidget *tessera_pin_rows_new_label     (const char    *css_class);
void       tessera_pin_rows_wipe          (GtkWidget     *row);
gboolean   tessera_pin_rows_check_new     (TesseraToken  *token,
                                           GtkWidget     *new_row,
                                           GtkWidget     *repeat_row,
                                           GError       **error);
char      *tessera_pin_rows_describe_length (TesseraToken *token);
char      *tessera_pin_rows_describe_tries  (TesseraToken *token,
                                             gboolean      so_pin);

G_END_DECLS
