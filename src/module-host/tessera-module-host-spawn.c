/* tessera-module-host-spawn.c: starting a tessera-module-host
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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tessera-module-host-spawn.h"

/* TESSERA_MODULE_HOST, else the installed host, else the built one */
const char *
tessera_module_host_program (void)
{
  const char *path = getenv ("TESSERA_MODULE_HOST");

  if (path != NULL && path[0] != '\0')
    return path;
  if (access (TESSERA_MODULE_HOST_INSTALLED, X_OK) == 0)
    return TESSERA_MODULE_HOST_INSTALLED;
  return TESSERA_MODULE_HOST_BUILT;
}

/* A listening socket at @path; -1 and errno on failure */
static int
listen_on (const char *path)
{
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof address.sun_path)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  strcpy (address.sun_path, path);

  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;

  unlink (path);
  if (bind (fd, (struct sockaddr *) &address, sizeof address) == 0 && listen (fd, 4) == 0)
    return fd;

  {
    int saved = errno;

    close (fd);
    errno = saved;
  }
  return -1;
}

static void
close_pair (int fds[2])
{
  for (int i = 0; i < 2; i++)
    if (fds[i] >= 0)
      {
        close (fds[i]);
        fds[i] = -1;
      }
}

/*
 * posix_spawn(), which glibc runs as vfork() and exec: no copy of the
 * caller's page tables, where fork() would copy them (~1.5 ms for the
 * CLI, more for the window).  @source_fds become the host's fds 3, 4, 5
 * and 6, @output_fd its stdout and stderr, /dev/null its stdin; every
 * other descriptor is closed, CLOEXEC or not.  Returns 0 or an errno.
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

      result = posix_spawn (pid, argv[0], &actions, &attributes, (char * const *) argv, environ);

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
 * Starts @program to serve @module_path on a socket it listens on at
 * @socket_path, and fills in @process.  Returns 0, or an errno with
 * @failed_step saying what failed; then nothing is left open.
 */
int
tessera_module_host_spawn (const char                 *program,
                           const char                 *module_path,
                           const char                 *socket_path,
                           TesseraModuleHostProcess   *process,
                           TesseraModuleHostSpawnStep *failed_step)
{
  const char *argv[] = { program, module_path, NULL };
  int control[2] = { -1, -1 };
  int status[2] = { -1, -1 };
  int output[2] = { -1, -1 };
  int extension[2] = { -1, -1 };
  int listen_fd;
  int result;
  pid_t pid = 0;

  *failed_step = TESSERA_MODULE_HOST_SPAWN_SOCKET;

  listen_fd = listen_on (socket_path);
  if (listen_fd < 0)
    return errno;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, extension) != 0 ||
      pipe2 (control, O_CLOEXEC) != 0 ||
      pipe2 (status, O_CLOEXEC) != 0 ||
      pipe2 (output, O_CLOEXEC) != 0)
    {
      result = errno;
      close (listen_fd);
      close_pair (control);
      close_pair (status);
      close_pair (output);
      close_pair (extension);
      return result;
    }

  {
    const int source_fds[] = { listen_fd, control[0], status[1], extension[1] };

    result = spawn_host (argv, output[1], source_fds, &pid);
  }

  close (listen_fd);
  close (control[0]);
  close (status[1]);
  close (output[1]);
  close (extension[1]);

  if (result != 0)
    {
      close (control[1]);
      close (status[0]);
      close (output[0]);
      close (extension[0]);
      *failed_step = TESSERA_MODULE_HOST_SPAWN_PROCESS;
      return result;
    }

  fcntl (status[0], F_SETFL, fcntl (status[0], F_GETFL) | O_NONBLOCK);

  process->pid = pid;
  process->control_fd = control[1];
  process->status_fd = status[0];
  process->extension_fd = extension[0];
  process->output_fd = output[0];
  return 0;
}
