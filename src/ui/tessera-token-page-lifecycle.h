/* tessera-token-page-lifecycle.h: the token page's PIN and initialization actions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

void tessera_token_page_install_lifecycle_actions (GtkWidgetClass *widget_class);

G_END_DECLS
