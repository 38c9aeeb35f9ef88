/* tessera-cli-launcher.h: what tessera-cli's launcher hands to the CLI
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * tessera-cli is a small program of libc only (tessera-cli-launcher.c)
 * that starts the hosts of the modules named with --module, and only then
 * loads the CLI itself, libtessera-cli.so with GLib, GIO, GnuTLS and
 * libsecret, and calls its tessera_cli_main().  On two cores the modules
 * load while those libraries do (issue 13).
 */

#pragma once

#include "tessera-module-host-spawn.h"

typedef struct
{
  const char               *module_path;  /* as given with --module */
  const char               *socket_path;
  TesseraModuleHostProcess  process;
} TesseraCliStartedHost;

#define TESSERA_CLI_LIBRARY     "libtessera-cli.so"
#define TESSERA_CLI_MAIN_SYMBOL "tessera_cli_main"

/* @socket_dir: the launcher's private folder for the hosts' sockets, or
 * NULL when it started none */
typedef int (*TesseraCliMain) (int                          argc,
                               char                       **argv,
                               const char                  *socket_dir,
                               const TesseraCliStartedHost *hosts,
                               int                          n_hosts);

int tessera_cli_main (int                          argc,
                      char                       **argv,
                      const char                  *socket_dir,
                      const TesseraCliStartedHost *hosts,
                      int                          n_hosts);
