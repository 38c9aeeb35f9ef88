/* tessera-token-editing.h: rename and delete objects on a token
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-token.h"

G_BEGIN_DECLS

void      tessera_token_set_label_async         (TesseraToken        *token,
                                                 GPtrArray           *objects,
                                                 const char          *label,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean  tessera_token_set_label_finish        (TesseraToken        *token,
                                                 GAsyncResult        *result,
                                                 GError             **error);

void      tessera_token_delete_objects_async    (TesseraToken        *token,
                                                 GPtrArray           *objects,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
gboolean  tessera_token_delete_objects_finish   (TesseraToken        *token,
                                                 GAsyncResult        *result,
                                                 GError             **error);

G_END_DECLS
