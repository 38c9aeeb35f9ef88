/* tessera-toast.h: a toast in the window a widget belongs to
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

void tessera_toast_show (GtkWidget  *near,
                         const char *text);

G_END_DECLS
