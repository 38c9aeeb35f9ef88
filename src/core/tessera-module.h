/* tessera-module.h: one PKCS#11 module
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-types.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_MODULE (tessera_module_get_type ())

G_DECLARE_FINAL_TYPE (TesseraModule, tessera_module, TESSERA, MODULE, GObject)

const char   *tessera_module_get_name          (TesseraModule *self);
const char   *tessera_module_get_display_name  (TesseraModule *self);
const char   *tessera_module_get_unavailable_reason (TesseraModule *self);
const char   *tessera_module_get_path          (TesseraModule *self);
const char   *tessera_module_get_host_path     (TesseraModule *self);
const char   *tessera_module_get_description   (TesseraModule *self);
const char   *tessera_module_get_manufacturer  (TesseraModule *self);
const char   *tessera_module_get_version       (TesseraModule *self);
gboolean      tessera_module_get_registered    (TesseraModule *self);
gboolean      tessera_module_get_loaded        (TesseraModule *self);
const GError *tessera_module_get_error         (TesseraModule *self);
gboolean      tessera_module_get_waits_for_events (TesseraModule *self);
gboolean      tessera_module_get_isolated      (TesseraModule *self);

G_END_DECLS
