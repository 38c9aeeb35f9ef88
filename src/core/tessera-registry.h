/* tessera-registry.h: every PKCS#11 module and token Tessera knows, live
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-module-host-spawn.h"

#include "tessera-types.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_REGISTRY (tessera_registry_get_type ())

G_DECLARE_FINAL_TYPE (TesseraRegistry, tessera_registry, TESSERA, REGISTRY, GObject)

TesseraRegistry *tessera_registry_new                   (void);
TesseraRegistry *tessera_registry_new_for_module_paths  (const char * const *paths);
void             tessera_registry_take_started_host    (const char                     *module_path,
                                                        const char                     *socket_dir,
                                                        const char                     *socket_path,
                                                        const TesseraModuleHostProcess *process);

void             tessera_registry_load_async            (TesseraRegistry     *self,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean         tessera_registry_load_finish           (TesseraRegistry     *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);

void             tessera_registry_add_module_async      (TesseraRegistry     *self,
                                                         const char          *path,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
TesseraModule   *tessera_registry_add_module_finish     (TesseraRegistry     *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);
void             tessera_registry_remove_module         (TesseraRegistry     *self,
                                                         TesseraModule       *module);

void             tessera_registry_reload_module_async   (TesseraRegistry     *self,
                                                         TesseraModule       *module,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean         tessera_registry_reload_module_finish  (TesseraRegistry     *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);

void             tessera_registry_refresh_async         (TesseraRegistry     *self,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
gboolean         tessera_registry_refresh_finish        (TesseraRegistry     *self,
                                                         GAsyncResult        *result,
                                                         GError             **error);

void             tessera_registry_start_monitoring      (TesseraRegistry     *self);
void             tessera_registry_set_poll_interval     (TesseraRegistry     *self,
                                                         guint                milliseconds);
void             tessera_registry_set_in_process        (TesseraRegistry     *self,
                                                         gboolean             in_process);

GListModel      *tessera_registry_get_modules           (TesseraRegistry     *self);
GListModel      *tessera_registry_get_tokens            (TesseraRegistry     *self);
GPtrArray       *tessera_registry_match_tokens          (TesseraRegistry     *self,
                                                         const char          *uri);
TesseraToken    *tessera_registry_lookup_token          (TesseraRegistry     *self,
                                                         const char          *uri);
TesseraToken    *tessera_registry_find_initialized_token (TesseraRegistry   *self,
                                                          TesseraModule     *module,
                                                          const char        *label,
                                                          const char        *serial);
const char      *tessera_registry_get_host_server_hint  (TesseraRegistry     *self);

G_END_DECLS
