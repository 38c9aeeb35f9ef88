/* tessera-module-host-start.h: starting a tessera-module-host process
 *
 * Plain C and libc only: the core uses it, and so does tessera-cli's
 * launcher, which starts the hosts before the CLI's own libraries load.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <sys/types.h>

/* A started host, seen from Tessera's side.  Every descriptor is
 * close-on-exec. */
typedef struct
{
  pid_t pid;
  int   control_fd;    /* write end; closing it tells the host to quit */
  int   status_fd;     /* read end: why the host stopped */
  int   output_fd;     /* read end: what the module prints */
  int   extension_fd;  /* the extension channel */
} TesseraModuleHostProcess;

typedef enum
{
  TESSERA_MODULE_HOST_START_SOCKET_PATH,  /* the socket path is too long */
  TESSERA_MODULE_HOST_START_SOCKET,       /* a socket or a pipe could not be made */
  TESSERA_MODULE_HOST_START_SPAWN,        /* the program could not be started */
} TesseraModuleHostStartStep;

/* The environment variable through which tessera-cli's launcher hands
 * the hosts it started to the CLI it runs. */
#define TESSERA_MODULE_HOST_EARLY_VARIABLE "TESSERA_EARLY_HOSTS"

int tessera_module_host_start (const char                 *program,
                               const char                 *module_path,
                               const char                 *socket_path,
                               TesseraModuleHostProcess   *process,
                               TesseraModuleHostStartStep *failed_step);

void tessera_module_host_process_close (TesseraModuleHostProcess *process);
