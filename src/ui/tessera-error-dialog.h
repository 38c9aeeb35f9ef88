/* tessera-error-dialog.h: an error, its fix, and the help page about it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

void  tessera_show_help          (GtkWindow  *parent,
                                  const char *page);
void  tessera_error_dialog_show  (GtkWindow  *parent,
                                  const char *heading,
                                  const char *body,
                                  const char *help_page);

G_END_DECLS
