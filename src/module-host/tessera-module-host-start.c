/* tessera-module-host-start.c: starting a tessera-module-host process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* posix_spawn_file_actions_addclosefrom_np(), pipe2() and environ */
#define _GNU_SOURCE 1

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tessera-module-host-start.h"

static void
close_pair (int pair[2])
{
  for (int i = 0; i < 2; i++)
    if (pair[i] >= 0)
      {
        close (pair[i]);
        pair[i] = -1;
      }
}

/* A listening socket at @path, made before the host starts: the client
 * may connect at once, and the host accepts when it is ready. */
static int
listen_on (const char                 *path,
           TesseraModuleHostStartStep *failed_step)
{
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof address.sun_path)
    {
      *failed_step = TESSERA_MODULE_HOST_START_SOCKET_PATH;
      errno = ENAMETOOLONG;
      return -1;
    }
  strcpy (address.sun_path, path);

  *failed_step = TESSERA_MODULE_HOST_START_SOCKET;
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;

  unlink (path);
  if (bind (fd, (struct sockaddr *) &address, sizeof address) != 0 || listen (fd, 4) != 0)
    {
      int saved = errno;

      close (fd);
      errno = saved;
      return -1;
    }
  return fd;
}

/*
 * Starts the host with posix_spawn(), which glibc runs as vfork() and
 * exec: no copy of the parent's page tables, where fork() would copy them
 * (~1.5 ms for the CLI, more for the window).  @source_fds become the
 * host's fds 3, 4, 5 and 6, @output_fd its stdout and stderr, /dev/null
 * its stdin; every other descriptor is closed, CLOEXEC or not.  Returns
 * 0 or an errno value.
 */
static int
spawn_host (const char * const  *argv,
            int                  output_fd,
            const int            source_fds[4],
            pid_t               *pid)
{
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  sigset_t defaults;
  int high[4] = { -1, -1, -1, -1 };
  int high_output = -1;
  int result = 0;

  /* Moved out of the way of fds 0 to 6 first: a dup2 onto a target must
   * never overwrite a source that is still to be moved. */
  for (int i = 0; i < 4 && result == 0; i++)
    if ((high[i] = fcntl (source_fds[i], F_DUPFD_CLOEXEC, 10)) < 0)
      result = errno;
  if (result == 0 && (high_output = fcntl (output_fd, F_DUPFD_CLOEXEC, 10)) < 0)
    result = errno;

  if (result == 0)
    {
      posix_spawn_file_actions_init (&actions);
      posix_spawnattr_init (&attributes);

      /* The host starts with default signal handling (Tessera ignores
       * SIGPIPE) and unblocked signals. */
      sigemptyset (&defaults);
      sigaddset (&defaults, SIGPIPE);
      posix_spawnattr_setsigdefault (&attributes, &defaults);
      sigemptyset (&defaults);
      posix_spawnattr_setsigmask (&attributes, &defaults);
      posix_spawnattr_setflags (&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

      posix_spawn_file_actions_addopen (&actions, 0, "/dev/null", O_RDONLY, 0);
      posix_spawn_file_actions_adddup2 (&actions, high_output, 1);
      posix_spawn_file_actions_adddup2 (&actions, high_output, 2);
      for (int i = 0; i < 4; i++)
        posix_spawn_file_actions_adddup2 (&actions, high[i], 3 + i);
      posix_spawn_file_actions_addclosefrom_np (&actions, 7);

      result = posix_spawn (pid, argv[0], &actions, &attributes,
                            (char * const *) argv, environ);

      posix_spawn_file_actions_destroy (&actions);
      posix_spawnattr_destroy (&attributes);
    }

  for (int i = 0; i < 4; i++)
    if (high[i] >= 0)
      close (high[i]);
  if (high_output >= 0)
    close (high_output);

  return result;
}

/*
 * tessera_module_host_start:
 * @program: the tessera-module-host executable
 * @module_path: the module file it loads
 * @socket_path: where it serves the module over p11-kit's RPC
 * @process: (out): Tessera's side of the host
 * @failed_step: (out): on failure, which step failed
 *
 * Makes the listening socket, the control, status and output pipes and
 * the extension channel, and starts the host on them.
 *
 * Returns: 0, or an errno value
 */
int
tessera_module_host_start (const char                 *program,
                           const char                 *module_path,
                           const char                 *socket_path,
                           TesseraModuleHostProcess   *process,
                           TesseraModuleHostStartStep *failed_step)
{
  const char *argv[] = { program, module_path, NULL };
  int control[2] = { -1, -1 };
  int status[2] = { -1, -1 };
  int output[2] = { -1, -1 };
  int extension[2] = { -1, -1 };
  int listen_fd;
  int result;
  pid_t pid = 0;

  listen_fd = listen_on (socket_path, failed_step);
  if (listen_fd < 0)
    return errno;

  *failed_step = TESSERA_MODULE_HOST_START_SOCKET;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, extension) != 0 ||
      pipe2 (control, O_CLOEXEC) != 0 ||
      pipe2 (status, O_CLOEXEC) != 0 ||
      pipe2 (output, O_CLOEXEC) != 0)
    {
      result = errno;
    }
  else
    {
      const int source_fds[] = { listen_fd, control[0], status[1], extension[1] };

      *failed_step = TESSERA_MODULE_HOST_START_SPAWN;
      result = spawn_host (argv, output[1], source_fds, &pid);
    }

  /* The host's ends */
  close (listen_fd);
  if (control[0] >= 0) close (control[0]);
  if (status[1] >= 0) close (status[1]);
  if (output[1] >= 0) close (output[1]);
  if (extension[1] >= 0) close (extension[1]);
  control[0] = status[1] = output[1] = extension[1] = -1;

  if (result != 0)
    {
      close_pair (control);
      close_pair (status);
      close_pair (output);
      close_pair (extension);
      unlink (socket_path);
      return result;
    }

  process->pid = pid;
  process->control_fd = control[1];
  process->status_fd = status[0];
  process->output_fd = output[0];
  process->extension_fd = extension[0];
  return 0;
}

/* Closes Tessera's side: a host that is still running quits. */
void
tessera_module_host_process_close (TesseraModuleHostProcess *process)
{
  int *fds[] = { &process->control_fd, &process->status_fd,
                 &process->output_fd, &process->extension_fd };

  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (*fds[i] >= 0)
      {
        close (*fds[i]);
        *fds[i] = -1;
      }
}
