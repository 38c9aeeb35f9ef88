/* tessera-module-host-spawn.h: starting a tessera-module-host
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Plain C and libc only: the core starts its hosts with it, and so does
 * tessera-cli's launcher, before any other library is loaded.
 */

#pragma once

#include <sys/types.h>

/* A started host, seen from the process that started it */
typedef struct
{
  pid_t pid;
  int   control_fd;    /* write end; closing it tells the host to quit */
  int   status_fd;     /* read end, non-blocking: why the host stopped */
  int   extension_fd;  /* the extension channel (tessera-module-host.h) */
  int   output_fd;     /* read end of the host's stdout and stderr */
} TesseraModuleHostProcess;

/* What failed, when tessera_module_host_spawn() returns an errno */
typedef enum
{
  TESSERA_MODULE_HOST_SPAWN_SOCKET,     /* the listening socket, or a pipe */
  TESSERA_MODULE_HOST_SPAWN_PROCESS,    /* starting the program */
} TesseraModuleHostSpawnStep;

const char *tessera_module_host_program (void);

int         tessera_module_host_spawn   (const char                 *program,
                                         const char                 *module_path,
                                         const char                 *socket_path,
                                         TesseraModuleHostProcess   *process,
                                         TesseraModuleHostSpawnStep *failed_step);
