/* tessera-cli-launcher.c: tessera-cli's program
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every module runs in a tessera-module-host of its own (issue 11).  For
 * a short command most of the time goes into two things that need not
 * wait for each other: loading the CLI's libraries (GLib, GIO, GnuTLS,
 * libsecret) and the host loading its module (SoftHSM: OpenSSL, and
 * reading its tokens).  So this program, which needs nothing but libc,
 * starts the hosts of the modules named with --module first, then loads
 * libtessera-cli.so (the CLI and the core) and hands them over in memory.
 * Registered modules (no --module) start their hosts as before, from the
 * core.  Anything that fails here is left to the core, which starts the
 * host itself and says what went wrong.
 */

#define _GNU_SOURCE 1

#include "config.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tessera-cli-launcher.h"

#define MAX_STARTED 8

/* The values of --module and -m, as GOption will read them, up to "--".
 * A value that turns out to be something else only starts a host that
 * quits unused. */
static int
module_paths_in (int          argc,
                 char       **argv,
                 const char **paths)
{
  int n = 0;

  for (int i = 1; i < argc && n < MAX_STARTED; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        break;
      if ((strcmp (argv[i], "--module") == 0 || strcmp (argv[i], "-m") == 0) && i + 1 < argc)
        paths[n++] = argv[++i];
      else if (strncmp (argv[i], "--module=", strlen ("--module=")) == 0)
        paths[n++] = argv[i] + strlen ("--module=");
    }
  return n;
}

/* The installed library, where it lies from this program (a relative
 * TESSERA_CLI_LIBRARY_INSTALLED), else the one in the build folder. */
#ifndef TESSERA_CLI_LINKED
static void *
load_cli_library (void)
{
  char path[PATH_MAX + 64];
  ssize_t len;

  if (TESSERA_CLI_LIBRARY_INSTALLED[0] == '/')
    snprintf (path, sizeof path, "%s", TESSERA_CLI_LIBRARY_INSTALLED);
  else if ((len = readlink ("/proc/self/exe", path, PATH_MAX)) > 0)
    {
      char *slash;

      path[len] = '\0';
      slash = strrchr (path, '/');
      if (slash != NULL)
        snprintf (slash + 1, sizeof path - (size_t) (slash + 1 - path), "%s",
                  TESSERA_CLI_LIBRARY_INSTALLED);
    }
  else
    path[0] = '\0';

  if (path[0] != '\0' && access (path, R_OK) == 0)
    return dlopen (path, RTLD_NOW | RTLD_LOCAL);
  return dlopen (TESSERA_CLI_LIBRARY_BUILT, RTLD_NOW | RTLD_LOCAL);
}
#endif

/* Whether the core will start hosts for --module at all */
static int
hosts_wanted (void)
{
  const char *in_process = getenv ("TESSERA_IN_PROCESS_MODULES");

  /* In the Flatpak sandbox modules may come from the host's p11-kit
   * server; the core decides there. */
  if (access ("/.flatpak-info", F_OK) == 0)
    return 0;
  return in_process == NULL || strcmp (in_process, "1") != 0;
}

int
main (int    argc,
      char **argv)
{
  const char *paths[MAX_STARTED];
  TesseraCliStartedHost started[MAX_STARTED];
  char socket_paths[MAX_STARTED][108];
  char dir[4096] = "";
  int n_paths = 0;
  int n_started = 0;
  TesseraCliMain cli_main;

  if (hosts_wanted ())
    n_paths = module_paths_in (argc, argv, paths);

  if (n_paths > 0)
    {
      const char *runtime = getenv ("XDG_RUNTIME_DIR");

      /* The core's fallback for no runtime folder is GLib's; it does that
       * one itself */
      if (runtime == NULL || runtime[0] != '/' ||
          snprintf (dir, sizeof dir, "%s/tessera-XXXXXX", runtime) >= (int) sizeof dir ||
          mkdtemp (dir) == NULL)
        dir[0] = '\0';
    }

  for (int i = 0; i < n_paths && dir[0] != '\0'; i++)
    {
      TesseraCliStartedHost *host = &started[n_started];
      TesseraModuleHostSpawnStep step;

      if (snprintf (socket_paths[i], sizeof socket_paths[i], "%s/early-%d.sock", dir, i) >=
          (int) sizeof socket_paths[i])
        continue;
      if (tessera_module_host_spawn (tessera_module_host_program (), paths[i], socket_paths[i],
                                     &host->process, &step) != 0)
        continue;
      host->module_path = paths[i];
      host->socket_path = socket_paths[i];
      n_started++;
    }
  if (n_started == 0 && dir[0] != '\0')
    {
      rmdir (dir);
      dir[0] = '\0';
    }

#ifdef TESSERA_CLI_LINKED
  /* A sanitizer build (src/cli/meson.build says why) */
  cli_main = tessera_cli_main;
#else
  {
    void *library = load_cli_library ();

    cli_main = library ? (TesseraCliMain) dlsym (library, TESSERA_CLI_MAIN_SYMBOL) : NULL;
  }
#endif
  if (cli_main == NULL)
    {
      /* Not translatable: the translations are in the library that failed */
      fprintf (stderr, "tessera-cli: could not load %s: %s\n", TESSERA_CLI_LIBRARY, dlerror ());
      for (int i = 0; i < n_started; i++)
        unlink (started[i].socket_path);
      if (dir[0] != '\0')
        rmdir (dir);
      return 1;
    }

  return cli_main (argc, argv, dir[0] != '\0' ? dir : NULL, started, n_started);
}
