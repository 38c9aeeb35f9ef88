/* tessera-cli-launcher.c: the tessera-cli that people run
 *
 * A PKCS#11 module runs in a tessera-module-host process of its own, and
 * loading it there (SoftHSM: OpenSSL and its token store) takes a few
 * milliseconds; so does loading the CLI's own libraries (GLib, GIO,
 * GnuTLS, libsecret).  This launcher links nothing but libc: it starts
 * the hosts of the modules named with --module at once, then runs the
 * CLI proper (tessera-cli-main), which takes the hosts over
 * (tessera_module_adopt_early_hosts()).  Both start-ups then overlap.
 *
 * Anything unexpected here only means no early host: the CLI then starts
 * its own, as it always can.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <libintl.h>
#include <limits.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "tessera-module-host-start.h"

#define MAX_EARLY_HOSTS 8

/* tessera-cli's options that take a value, as GOption reads them */
static const char * const long_with_value[] = {
  "module", "pin-file", "lifetime", "label", "so-pin-file", "new-pin-file", "type",
  "id", "kind", "subject", "days", "output", "hash",
};
static const char short_with_value[] = "mtoE";

static bool
takes_value (const char *name,
             size_t      length)
{
  for (size_t i = 0; i < sizeof long_with_value / sizeof long_with_value[0]; i++)
    if (strlen (long_with_value[i]) == length && strncmp (long_with_value[i], name, length) == 0)
      return true;
  return false;
}

/* The values of --module, in order, read the way GOption reads them:
 * the values of other options are skipped, and "--" ends the options. */
static size_t
find_modules (int          argc,
              char       **argv,
              const char **modules,
              size_t       max)
{
  size_t n = 0;

  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];
      const char *value = NULL;
      bool is_module = false;

      if (strcmp (arg, "--") == 0)
        break;

      if (strncmp (arg, "--", 2) == 0)
        {
          const char *name = arg + 2;
          const char *equals = strchr (name, '=');
          size_t length = equals ? (size_t) (equals - name) : strlen (name);

          if (!takes_value (name, length))
            continue;
          is_module = length == strlen ("module") && strncmp (name, "module", length) == 0;
          value = equals ? equals + 1 : (i + 1 < argc ? argv[++i] : NULL);
        }
      else if (arg[0] == '-' && arg[1] != '\0')
        {
          /* A group such as -fm: each short option that takes a value
           * takes the next argument, in order. */
          for (const char *c = arg + 1; *c != '\0'; c++)
            if (strchr (short_with_value, *c) != NULL && i + 1 < argc)
              {
                i++;
                if (*c == 'm' && n < max)
                  modules[n++] = argv[i];
              }
          continue;
        }

      if (is_module && value != NULL && n < max)
        modules[n++] = value;
    }

  return n;
}

static const char *
host_program (void)
{
  const char *path = getenv ("TESSERA_MODULE_HOST");

  if (path != NULL && path[0] != '\0')
    return path;
  if (access (TESSERA_MODULE_HOST_INSTALLED, X_OK) == 0)
    return TESSERA_MODULE_HOST_INSTALLED;
  return TESSERA_MODULE_HOST_BUILT;
}

/* The CLI proper: beside this launcher in the build tree, else where
 * bindir leads to libexecdir (an install, also under a DESTDIR), else
 * the installed path. */
static const char *
cli_program (void)
{
  static char path[PATH_MAX];
  char self[PATH_MAX];
  ssize_t length = readlink ("/proc/self/exe", self, sizeof self - 1);
  char *slash;

  if (length <= 0)
    return TESSERA_CLI_MAIN_INSTALLED;
  self[length] = '\0';
  slash = strrchr (self, '/');
  if (slash == NULL)
    return TESSERA_CLI_MAIN_INSTALLED;
  *slash = '\0';

  if (snprintf (path, sizeof path, "%s/tessera-cli-main", self) < (int) sizeof path &&
      access (path, X_OK) == 0)
    return path;
#ifdef TESSERA_CLI_MAIN_RELATIVE
  if (snprintf (path, sizeof path, "%s/" TESSERA_CLI_MAIN_RELATIVE, self) < (int) sizeof path &&
      access (path, X_OK) == 0)
    return path;
#endif
  return TESSERA_CLI_MAIN_INSTALLED;
}

static bool
usable_module_path (const char *path)
{
  struct stat info;

  return strpbrk (path, "\t\n") == NULL && stat (path, &info) == 0 && S_ISREG (info.st_mode);
}

static bool
keep_open_across_exec (int fd)
{
  int flags = fcntl (fd, F_GETFD);

  return flags >= 0 && fcntl (fd, F_SETFD, flags & ~FD_CLOEXEC) == 0;
}

/* Where GLib's g_get_user_runtime_dir() says the CLI keeps the hosts'
 * sockets: $XDG_RUNTIME_DIR, else the user's cache directory, which is
 * made if missing, as GLib does. */
static bool
runtime_dir (char   *dir,
             size_t  size)
{
  const char *runtime = getenv ("XDG_RUNTIME_DIR");
  const char *cache = getenv ("XDG_CACHE_HOME");
  const char *home = getenv ("HOME");
  int length;

  if (runtime != NULL && runtime[0] != '\0')
    length = snprintf (dir, size, "%s", runtime);
  else if (cache != NULL && cache[0] != '\0')
    length = snprintf (dir, size, "%s", cache);
  else if (home != NULL && home[0] != '\0')
    length = snprintf (dir, size, "%s/.cache", home);
  else
    return false;

  if (length < 0 || (size_t) length >= size || dir[0] != '/')
    return false;
  if (runtime == NULL || runtime[0] == '\0')
    mkdir (dir, 0700);
  return true;
}

/* Starts a host for each module and says so in TESSERA_EARLY_HOSTS (the
 * format is in tessera-module.c). */
static void
start_hosts (int    argc,
             char **argv)
{
  const char *modules[MAX_EARLY_HOSTS];
  size_t n_modules = find_modules (argc, argv, modules, MAX_EARLY_HOSTS);
  const char *in_process = getenv ("TESSERA_IN_PROCESS_MODULES");
  char base[PATH_MAX];
  char dir[PATH_MAX];
  char *value = NULL;
  size_t value_size = 0;
  FILE *out;
  size_t started = 0;

  if (n_modules == 0 || (in_process != NULL && strcmp (in_process, "1") == 0) ||
      !runtime_dir (base, sizeof base))
    return;

  if (snprintf (dir, sizeof dir, "%s/tessera-XXXXXX", base) >= (int) sizeof dir ||
      mkdtemp (dir) == NULL)
    return;

  out = open_memstream (&value, &value_size);
  if (out == NULL)
    {
      rmdir (dir);
      return;
    }
  fprintf (out, "%s\n", dir);

  for (size_t i = 0; i < n_modules; i++)
    {
      TesseraModuleHostProcess process;
      TesseraModuleHostStartStep step;
      char socket_path[PATH_MAX];

      if (!usable_module_path (modules[i]) ||
          snprintf (socket_path, sizeof socket_path, "%s/early-%zu.sock", dir, i) >= (int) sizeof socket_path ||
          tessera_module_host_start (host_program (), modules[i], socket_path, &process, &step) != 0)
        continue;

      if (!keep_open_across_exec (process.control_fd) || !keep_open_across_exec (process.status_fd) ||
          !keep_open_across_exec (process.output_fd) || !keep_open_across_exec (process.extension_fd))
        {
          tessera_module_host_process_close (&process);
          unlink (socket_path);
          continue;
        }

      fprintf (out, "%s\t%s\t%d\t%d\t%d\t%d\t%d\n", modules[i], socket_path, (int) process.pid,
               process.control_fd, process.status_fd, process.output_fd, process.extension_fd);
      started++;
    }

  if (fclose (out) == 0 && started > 0)
    setenv (TESSERA_MODULE_HOST_EARLY_VARIABLE, value, 1);
  else
    rmdir (dir);
  free (value);
}

int
main (int    argc,
      char **argv)
{
  const char *program = cli_program ();
  const char *localedir;
  int saved;

  start_hosts (argc, argv);
  execv (program, argv);

  saved = errno;
  localedir = getenv ("TESSERA_LOCALEDIR");
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  fprintf (stderr, "tessera-cli: ");
  fprintf (stderr, dgettext (GETTEXT_PACKAGE, "Could not run %s: %s"), program, strerror (saved));
  fprintf (stderr, "\n");
  return 127;
}
