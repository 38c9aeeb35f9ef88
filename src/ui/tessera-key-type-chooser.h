/* tessera-key-type-chooser.h: the kinds of key a token can make, one to choose
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_KEY_TYPE_CHOOSER (tessera_key_type_chooser_get_type ())

G_DECLARE_FINAL_TYPE (TesseraKeyTypeChooser, tessera_key_type_chooser, TESSERA, KEY_TYPE_CHOOSER, AdwPreferencesGroup)

GtkWidget            *tessera_key_type_chooser_new               (void);
void                  tessera_key_type_chooser_list_specs_async  (TesseraKeyTypeChooser  *self,
                                                                  TesseraToken           *token,
                                                                  GCancellable           *cancellable,
                                                                  GAsyncReadyCallback     callback,
                                                                  gpointer                user_data);
gboolean              tessera_key_type_chooser_list_specs_finish (TesseraKeyTypeChooser  *self,
                                                                  GAsyncResult           *result,
                                                                  GError                **error);
void                  tessera_key_type_chooser_set_specs         (TesseraKeyTypeChooser  *self,
                                                                  GArray                 *specs);
GArray               *tessera_key_type_chooser_get_specs         (TesseraKeyTypeChooser  *self);
const TesseraKeySpec *tessera_key_type_chooser_get_selected      (TesseraKeyTypeChooser  *self);
gboolean              tessera_key_type_chooser_get_show_unusable (TesseraKeyTypeChooser  *self);
void                  tessera_key_type_chooser_set_show_unusable (TesseraKeyTypeChooser  *self,
                                                                  gboolean                show_unusable);

G_END_DECLS
