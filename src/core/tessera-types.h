/* tessera-types.h: forward declarations shared by the core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _TesseraKey      TesseraKey;
typedef struct _TesseraModule   TesseraModule;
typedef struct _TesseraObject   TesseraObject;
typedef struct _TesseraRegistry TesseraRegistry;
typedef struct _TesseraToken    TesseraToken;

G_END_DECLS
