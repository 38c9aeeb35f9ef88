/* tessera-module.c: one PKCS#11 module
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>

#include "tessera-private.h"
#include "tessera-module-host.h"
#include "tessera-module-host-spawn.h"

/*
 * A TesseraModule is created on a worker thread, filled in there while
 * the module loads, and only read afterwards, so its fields need no lock.
 * The function list is used from worker threads only.
 *
 * An isolated module (the default) runs in a tessera-module-host process
 * of its own, and its function list is a p11-kit-client instance that
 * talks to that process over a private Unix socket.  Everything about
 * the host is under host_lock: it may die on any thread's call.
 */
typedef struct
{
  GPid      pid;          /* 0: none started, or reaped */
  int       control_fd;   /* write end; closing it tells the host to quit */
  int       status_fd;    /* read end: why the host stopped */
} Host;

/* Which module a p11-kit-client function list belongs to, for the few
 * calls that go through a host's extension channel. */
static GMutex clients_lock;
static GHashTable *clients;

struct _TesseraModule
{
  GObject           parent_instance;

  guint             order;       /* where the registry lists it */
  gboolean          in_process;  /* asked to load into this process */
  gboolean          isolated;
  char             *socket_path;
  char             *server_path; /* the host's p11-kit server, seen from a sandbox */
  struct _EarlyHost *early;      /* a host started before the module was asked for */
  GMutex            host_lock;
  Host              host;
  GMutex            extension_lock;
  int               extension_fd; /* the host's extension channel; under extension_lock */
  GError           *failure;     /* why the host stopped; under host_lock */

  char             *name;
  char             *path;
  char             *host_path;   /* computed once; NULL: none, or not yet */
  gboolean          host_path_known;
  char             *description;
  char             *manufacturer;
  char             *version;
  char             *unavailable;  /* why it was not loaded, when that is no fault */
  GError           *error;
  CK_FUNCTION_LIST *functions;
  GRWLock           lock;        /* readers: calls in flight; writer: C_Finalize */
  guint             registered : 1;
  guint             managed : 1;
  guint             initialized : 1;
  guint             waits_for_events : 1;
};

G_DEFINE_FINAL_TYPE (TesseraModule, tessera_module, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_PATH,
  PROP_DESCRIPTION,
  PROP_REGISTERED,
  PROP_LOADED,
  PROP_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void host_release (TesseraModule *self);
static void early_host_free (struct _EarlyHost *early);

static void
tessera_module_finalize (GObject *object)
{
  TesseraModule *self = (TesseraModule *) object;

  _tessera_module_stop_host (self);
  _tessera_module_finalize (self);
  host_release (self);
  g_clear_pointer (&self->early, early_host_free);
  if (self->functions != NULL && !self->isolated && self->server_path == NULL)
    p11_kit_module_release (self->functions);
  if (self->functions != NULL && self->isolated)
    {
      g_mutex_lock (&clients_lock);
      g_hash_table_remove (clients, self->functions);
      g_mutex_unlock (&clients_lock);
    }
  /* A p11-kit-client instance lives as long as the process. */
  self->functions = NULL;
  g_rw_lock_clear (&self->lock);
  if (self->socket_path != NULL)
    g_unlink (self->socket_path);
  if (self->extension_fd >= 0)
    close (self->extension_fd);
  g_mutex_clear (&self->extension_lock);
  g_clear_pointer (&self->socket_path, g_free);
  g_clear_pointer (&self->server_path, g_free);
  g_clear_error (&self->failure);
  g_mutex_clear (&self->host_lock);

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->host_path, g_free);
  g_clear_pointer (&self->description, g_free);
  g_clear_pointer (&self->manufacturer, g_free);
  g_clear_pointer (&self->version, g_free);
  g_clear_pointer (&self->unavailable, g_free);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (tessera_module_parent_class)->finalize (object);
}

static void
tessera_module_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  TesseraModule *self = TESSERA_MODULE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;
    case PROP_REGISTERED:
      g_value_set_boolean (value, self->registered);
      break;
    case PROP_LOADED:
      g_value_set_boolean (value, tessera_module_get_loaded (self));
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_module_class_init (TesseraModuleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tessera_module_finalize;
  object_class->get_property = tessera_module_get_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_REGISTERED] =
    g_param_spec_boolean ("registered", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOADED] =
    g_param_spec_boolean ("loaded", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tessera_module_init (TesseraModule *self)
{
  g_rw_lock_init (&self->lock);
  g_mutex_init (&self->host_lock);
  g_mutex_init (&self->extension_lock);
  self->extension_fd = -1;
  self->host.control_fd = -1;
  self->host.status_fd = -1;
}

TesseraModule *
_tessera_module_new (const char *name,
                     const char *path,
                     gboolean    registered)
{
  TesseraModule *self = g_object_new (TESSERA_TYPE_MODULE, NULL);

  self->name = g_strdup (name);
  self->path = g_strdup (path);
  self->registered = !!registered;

  return self;
}

/* Isolation ------------------------------------------------------------------ */

#define HOST_EXIT_WAIT_MS 250

/* p11-kit's client's CK_INFO when it has no server to talk to */
#define NO_CONNECTION "p11-kit (no connection)"

/**
 * _tessera_module_isolation_wanted:
 *
 * Modules run in tessera-module-host processes unless
 * TESSERA_IN_PROCESS_MODULES=1 (for benchmarks and debugging).
 */
gboolean
_tessera_module_isolation_wanted (void)
{
  return g_strcmp0 (g_getenv ("TESSERA_IN_PROCESS_MODULES"), "1") != 0;
}

/*
 * _tessera_module_prepare_isolation:
 *
 * Main thread, before any worker: p11-kit-client reads its server's
 * address from P11_KIT_SERVER_ADDRESS when it makes an instance, so the
 * variable is changed (under a lock) around each one.  Setting a variable
 * that exists only replaces one pointer in the environment, which readers
 * on other threads survive; adding one may move the whole array.  So make
 * sure it exists while there is one thread, and ignore SIGPIPE: a write
 * to a host that just died must fail, not kill Tessera.
 */
void
_tessera_module_prepare_isolation (void)
{
  static gsize prepared = 0;

  if (g_once_init_enter (&prepared))
    {
      if (g_getenv ("P11_KIT_SERVER_ADDRESS") == NULL)
        g_setenv ("P11_KIT_SERVER_ADDRESS", "", TRUE);
      signal (SIGPIPE, SIG_IGN);
      g_once_init_leave (&prepared, 1);
    }
}

static GMutex hosts_dir_lock;
static char *hosts_dir;

static void discard_early_hosts (void);

/* The folder is this process's own: whatever sockets are left in it at
 * exit (a module never finalized, a host started early and not used) go
 * with it.  A crash leaves it in the runtime directory, which the session
 * cleans. */
static void
remove_socket_dir (void)
{
  GDir *dir;
  const char *name;

  discard_early_hosts ();
  if (hosts_dir == NULL)
    return;

  dir = g_dir_open (hosts_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (hosts_dir, name, NULL);

      g_unlink (path);
    }
  g_clear_pointer (&dir, g_dir_close);
  g_rmdir (hosts_dir);
}

/* A private directory for the hosts' sockets, made once per process. */
static const char *
socket_dir (GError **error)
{
  char *dir;
  const char *result;

  g_mutex_lock (&hosts_dir_lock);
  dir = hosts_dir;
  if (dir == NULL)
    {
      g_autofree char *template = g_build_filename (g_get_user_runtime_dir (), "tessera-XXXXXX", NULL);

      if (g_mkdtemp_full (template, 0700) != NULL)
        {
          dir = hosts_dir = g_steal_pointer (&template);
          atexit (remove_socket_dir);
        }
      else
        {
          int saved = errno;

          g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                       _("Could not make a folder for the module’s process in %s: %s"),
                       g_get_user_runtime_dir (), g_strerror (saved));
        }
    }
  result = dir;
  g_mutex_unlock (&hosts_dir_lock);

  return result;
}

/* A new p11-kit-client instance for a host's socket. */
static CK_FUNCTION_LIST *
client_new (const char  *socket_path,
            GError     **error)
{
  static GMutex lock;
  static CK_C_GetFunctionList get_function_list;
  g_autofree char *address = g_strdup_printf ("unix:path=%s", socket_path);
  g_autofree char *saved = NULL;
  CK_FUNCTION_LIST *functions = NULL;
  CK_RV rv;

  g_mutex_lock (&lock);

  if (get_function_list == NULL)
    {
      g_autofree char *client = g_build_filename (P11_MODULE_PATH, "p11-kit-client.so", NULL);
      void *handle = dlopen (client, RTLD_NOW | RTLD_LOCAL);

      if (handle != NULL)
        get_function_list = (CK_C_GetFunctionList) dlsym (handle, "C_GetFunctionList");
      if (get_function_list == NULL)
        {
          g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                       _("p11-kit’s client module %s could not be loaded: %s"),
                       client, dlerror ());
          g_mutex_unlock (&lock);
          return NULL;
        }
    }

  saved = g_strdup (g_getenv ("P11_KIT_SERVER_ADDRESS"));
  g_setenv ("P11_KIT_SERVER_ADDRESS", address, TRUE);
  rv = get_function_list (&functions);
  g_setenv ("P11_KIT_SERVER_ADDRESS", saved != NULL ? saved : "", TRUE);

  g_mutex_unlock (&lock);

  if (rv != CKR_OK || functions == NULL)
    {
      _tessera_set_ck_error (error, rv, _("p11-kit’s client module failed"));
      return NULL;
    }
  return functions;
}

typedef struct
{
  char *name;
  int   fd;
} OutputReader;

/* What a module prints (tpm2-pkcs11's "ERROR: …" on every run) goes to
 * the debug log, not into Tessera's own output. */
static gpointer
output_thread (gpointer data)
{
  OutputReader *reader = data;
  GString *line = g_string_new (NULL);
  char buffer[512];
  ssize_t got;

  while ((got = read (reader->fd, buffer, sizeof buffer)) != 0)
    {
      if (got < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      for (ssize_t i = 0; i < got; i++)
        {
          if (buffer[i] == '\n' || line->len > 4096)
            {
              g_autofree char *valid = g_utf8_make_valid (line->str, line->len);
              g_debug ("Module %s says: %s", reader->name, valid);
              g_string_truncate (line, 0);
            }
          if (buffer[i] != '\n')
            g_string_append_c (line, buffer[i]);
        }
    }

  close (reader->fd);
  g_string_free (line, TRUE);
  g_free (reader->name);
  g_free (reader);
  return NULL;
}

/* A started host, before a TesseraModule takes it. */
typedef struct _EarlyHost
{
  char                     *module_path;
  char                     *socket_path;
  TesseraModuleHostProcess  process;
} EarlyHost;

/* Starts a host for @module_path listening on @socket_path. */
static gboolean
host_spawn (const char                *module_path,
            const char                *socket_path,
            TesseraModuleHostProcess  *process,
            GError                   **error)
{
  const char *program = tessera_module_host_program ();
  TesseraModuleHostSpawnStep step;
  int result;

  result = tessera_module_host_spawn (program, module_path, socket_path, process, &step);
  if (result == 0)
    return TRUE;

  if (result == ENAMETOOLONG && step == TESSERA_MODULE_HOST_SPAWN_SOCKET)
    g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                 _("The socket path %s is too long."), socket_path);
  else if (step == TESSERA_MODULE_HOST_SPAWN_SOCKET)
    g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                 _("Could not open a socket for the module’s process: %s"), g_strerror (result));
  else
    g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                 _("The module’s process %s could not be started: %s"), program, g_strerror (result));
  return FALSE;
}

/* Under host_lock. */
static gboolean
host_start_locked (TesseraModule  *self,
                   GError        **error)
{
  TesseraModuleHostProcess process;

  if (self->early != NULL)
    {
      /* Taken once: a reload starts a new host.  Its pipes are now the
       * module's, so the early host is freed as one with no process. */
      process = self->early->process;
      self->early->process.pid = 0;
      g_clear_pointer (&self->early, early_host_free);
    }
  else if (!host_spawn (self->path, self->socket_path, &process, error))
    return FALSE;

  /* Lock order: host_lock, then extension_lock */
  g_mutex_lock (&self->extension_lock);
  if (self->extension_fd >= 0)
    close (self->extension_fd);
  self->extension_fd = process.extension_fd;
  g_mutex_unlock (&self->extension_lock);

  self->host.pid = process.pid;
  self->host.control_fd = process.control_fd;
  self->host.status_fd = process.status_fd;
  g_clear_error (&self->failure);

  {
    OutputReader *reader = g_new0 (OutputReader, 1);

    reader->name = g_strdup (self->name);
    reader->fd = process.output_fd;
    g_thread_unref (g_thread_new ("tessera-module-output", output_thread, reader));
  }

  g_debug ("Module %s runs in process %d", self->name, (int) self->host.pid);
  return TRUE;
}

static char *
read_status_locked (TesseraModule *self)
{
  char buffer[1024];
  ssize_t got;

  if (self->host.status_fd < 0)
    return NULL;

  got = read (self->host.status_fd, buffer, sizeof buffer - 1);
  if (got <= 0)
    return NULL;
  buffer[got] = '\0';
  return g_strdup (g_strchomp (buffer));
}

/* Why the host stopped, as a user reads it. */
static GError *
failure_from_status (TesseraModule *self,
                     const char    *status,
                     int            wait_status)
{
  g_auto(GStrv) words = status ? g_strsplit (status, " ", 3) : NULL;
  guint n = words ? g_strv_length (words) : 0;

  if (n >= 2 && g_str_equal (words[0], "load"))
    {
      g_autofree char *reason = g_strjoinv (" ", words + 1);
      g_autofree char *valid = g_utf8_make_valid (reason, -1);

      return g_error_new (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                          _("The module %s could not be loaded: %s"), self->path, valid);
    }

  if (n == 3 && g_str_equal (words[0], "timeout"))
    {
      guint64 ms = g_ascii_strtoull (words[2], NULL, 10);

      return g_error_new (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_NOT_RESPONDING,
                          g_dngettext (GETTEXT_PACKAGE,
                                       "The module “%s” is not responding: %s did not return within %u second.",
                                       "The module “%s” is not responding: %s did not return within %u seconds.",
                                       (gulong) ((ms + 999) / 1000)),
                          self->name, words[1], (guint) ((ms + 999) / 1000));
    }

  if (WIFSIGNALED (wait_status))
    {
      int signum = WTERMSIG (wait_status);
      const char *call = n == 3 && g_str_equal (words[0], "crash") ? words[1] : NULL;

      if (call != NULL && g_str_has_prefix (call, "C_"))
        return g_error_new (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_CRASHED,
                            _("The module “%s” stopped working: it crashed (%s) in %s."),
                            self->name, g_strsignal (signum), call);
      return g_error_new (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_CRASHED,
                          _("The module “%s” stopped working: it crashed (%s)."),
                          self->name, g_strsignal (signum));
    }

  return g_error_new (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_CRASHED,
                      _("The module “%s” stopped working: its process ended with status %d."),
                      self->name, WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1);
}

/* Under host_lock: reaps the host if it has exited, waiting up to
 * @wait_ms for it, and records why. */
/* Under host_lock: the host is no longer this module's to talk to */
static void
host_forget_locked (TesseraModule *self)
{
  self->host.pid = 0;
  if (self->host.control_fd >= 0)
    close (self->host.control_fd);
  if (self->host.status_fd >= 0)
    close (self->host.status_fd);
  self->host.control_fd = self->host.status_fd = -1;
}

static gboolean
host_reap_locked (TesseraModule *self,
                  guint          wait_ms)
{
  gint64 until = g_get_monotonic_time () + wait_ms * G_TIME_SPAN_MILLISECOND;
  gulong pause_us = 100;
  int wait_status = 0;
  pid_t done;

  if (self->host.pid == 0)
    return self->failure != NULL;

  done = waitpid (self->host.pid, &wait_status, WNOHANG);

  /* A host told to quit is gone within a millisecond or two: wait for
   * exactly that, so that a command's exit does not wait longer. */
  if (done == 0 && wait_ms > 0)
    {
      int pidfd = pidfd_open (self->host.pid, 0);

      if (pidfd >= 0)
        {
          struct pollfd exited = { .fd = pidfd, .events = POLLIN };
          gint64 left_ms;

          while ((left_ms = (until - g_get_monotonic_time ()) / G_TIME_SPAN_MILLISECOND + 1) > 0 &&
                 poll (&exited, 1, (int) left_ms) < 0 && errno == EINTR)
            ;
          close (pidfd);
          done = waitpid (self->host.pid, &wait_status, WNOHANG);
        }
      else
        {
          /* A kernel without pidfds: look again soon, then less often */
          while (done == 0 && g_get_monotonic_time () < until)
            {
              g_usleep (pause_us);
              pause_us = MIN (pause_us * 2, 5 * G_TIME_SPAN_MILLISECOND);
              done = waitpid (self->host.pid, &wait_status, WNOHANG);
            }
        }
    }

  if (done == 0)
    return FALSE;

  if (done == self->host.pid)
    {
      g_autofree char *status = read_status_locked (self);

      g_clear_error (&self->failure);
      if (self->host.control_fd < 0 && WIFEXITED (wait_status) && WEXITSTATUS (wait_status) == 0)
        self->failure = g_error_new (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                                     _("The module “%s” was closed while Tessera used it."), self->name);
      else
        self->failure = failure_from_status (self, status, wait_status);
      g_debug ("Module %s: %s", self->name, self->failure->message);
    }

  host_forget_locked (self);

  return self->failure != NULL;
}

static gboolean
error_may_be_transport (GError **error)
{
  const GError *e = error ? *error : NULL;

  if (e == NULL || e->domain != TESSERA_PKCS11_ERROR)
    return TRUE;
  switch (e->code)
    {
    case TESSERA_PKCS11_ERROR_PIN_INCORRECT:
    case TESSERA_PKCS11_ERROR_PIN_LOCKED:
    case TESSERA_PKCS11_ERROR_PIN_INVALID:
    case TESSERA_PKCS11_ERROR_PIN_EXPIRED:
    case TESSERA_PKCS11_ERROR_NOT_INITIALIZED:
    case TESSERA_PKCS11_ERROR_USER_PIN_NOT_SET:
    case TESSERA_PKCS11_ERROR_WRITE_PROTECTED:
    case TESSERA_PKCS11_ERROR_NOT_SUPPORTED:
    case TESSERA_PKCS11_ERROR_MODULE_INVALID:
      return FALSE;
    default:
      return TRUE;
    }
}

/*
 * _tessera_module_explain_failure:
 * @error: (inout): the error a call on this module gave, or %NULL
 *
 * After a call failed: when the module's host process has stopped, this
 * replaces @error with why ("stopped working", "not responding") and
 * returns %TRUE.
 */
gboolean
_tessera_module_explain_failure (TesseraModule  *self,
                                 GError        **error)
{
  gboolean failed;

  if (!self->isolated)
    return FALSE;

  g_mutex_lock (&self->host_lock);
  /* The module answered these itself: no need to wait for its process
   * to be seen gone.  A broken connection reads as a device error (or,
   * once closed, an uninitialised or removed module). */
  failed = host_reap_locked (self, error_may_be_transport (error) ? HOST_EXIT_WAIT_MS : 0);
  if (failed && error != NULL)
    {
      g_clear_error (error);
      *error = g_error_copy (self->failure);
    }
  g_mutex_unlock (&self->host_lock);

  return failed;
}

/*
 * _tessera_module_has_failed:
 *
 * Returns: %TRUE when the module's host process is known to have stopped
 */
gboolean
_tessera_module_has_failed (TesseraModule *self)
{
  gboolean failed;

  if (!self->isolated)
    return FALSE;

  g_mutex_lock (&self->host_lock);
  failed = host_reap_locked (self, 0);
  g_mutex_unlock (&self->host_lock);
  return failed;
}

/*
 * _tessera_module_stop_host:
 *
 * Tells the host to quit: it exits at once, or when the call in flight
 * ends (at most 300 ms later), which ends any call that is stuck.
 */
void
_tessera_module_stop_host (TesseraModule *self)
{
  g_mutex_lock (&self->host_lock);
  if (self->host.control_fd >= 0)
    {
      close (self->host.control_fd);
      self->host.control_fd = -1;
    }
  g_mutex_unlock (&self->host_lock);
}

/* A host told to stop that is still going. */
typedef struct
{
  GPid  pid;
  guint kill_id;
} LeavingHost;

static void
on_host_left (GPid     pid,
              int      wait_status,
              gpointer data)
{
  LeavingHost *leaving = data;

  g_clear_handle_id (&leaving->kill_id, g_source_remove);
  g_spawn_close_pid (pid);
  g_free (leaving);
}

static gboolean
kill_leaving_host (gpointer data)
{
  LeavingHost *leaving = data;

  kill (leaving->pid, SIGKILL);
  leaving->kill_id = 0;
  return G_SOURCE_REMOVE;
}

/* A host told to stop quits by itself: at once, or when the call in
 * flight ends, 300 ms at the most (its watchdog).  So nothing waits for
 * it to tear down: a command ends and the window closes or reloads while
 * it does; it is reaped from the main context, and killed if it is still
 * there two seconds later. */
static void
host_release (TesseraModule *self)
{
  LeavingHost *leaving;

  g_mutex_lock (&self->host_lock);
  if (self->host.pid != 0)
    host_reap_locked (self, 0);
  if (self->host.pid == 0)
    {
      g_mutex_unlock (&self->host_lock);
      return;
    }

  leaving = g_new0 (LeavingHost, 1);
  leaving->pid = self->host.pid;
  g_child_watch_add (leaving->pid, on_host_left, leaving);
  leaving->kill_id = g_timeout_add_seconds (2, kill_leaving_host, leaving);

  host_forget_locked (self);
  g_mutex_unlock (&self->host_lock);
}

/* Hosts started early --------------------------------------------------------- */

static GMutex early_lock;
static GPtrArray *early_hosts;   /* of EarlyHost, not yet taken by a module */
static gint socket_counter;

static void
early_host_free (EarlyHost *early)
{
  /* Closing the control pipe tells the host to quit */
  if (early->process.pid != 0)
    {
      close (early->process.control_fd);
      close (early->process.status_fd);
      close (early->process.extension_fd);
      close (early->process.output_fd);
    }
  if (early->socket_path != NULL)
    g_unlink (early->socket_path);
  g_free (early->socket_path);
  g_free (early->module_path);
  g_free (early);
}

/* Hosts no module took: their sockets go before their folder does. */
static void
discard_early_hosts (void)
{
  g_mutex_lock (&early_lock);
  g_clear_pointer (&early_hosts, g_ptr_array_unref);
  g_mutex_unlock (&early_lock);
}

/*
 * _tessera_module_take_started_host:
 * @module_path: the module file, as the registry will be given it
 * @socket_dir: the private folder @socket_path is in
 * @socket_path: where the host listens
 * @process: the host, started with tessera_module_host_spawn()
 *
 * Takes a host that was started before the core was (tessera-cli's
 * launcher starts them before its libraries load).  The first isolated
 * module with the same path uses it instead of starting its own; one that
 * no module uses quits when this process exits.
 */
void
_tessera_module_take_started_host (const char                     *module_path,
                                   const char                     *socket_dir,
                                   const char                     *socket_path,
                                   const TesseraModuleHostProcess *process)
{
  EarlyHost *early = g_new0 (EarlyHost, 1);

  early->module_path = g_strdup (module_path);
  early->socket_path = g_strdup (socket_path);
  early->process = *process;

  /* The launcher's folder is this process's folder for sockets */
  g_mutex_lock (&hosts_dir_lock);
  if (hosts_dir == NULL)
    {
      hosts_dir = g_strdup (socket_dir);
      atexit (remove_socket_dir);
    }
  g_mutex_unlock (&hosts_dir_lock);

  g_mutex_lock (&early_lock);
  if (early_hosts == NULL)
    early_hosts = g_ptr_array_new_with_free_func ((GDestroyNotify) early_host_free);
  g_ptr_array_add (early_hosts, early);
  g_mutex_unlock (&early_lock);
}

static EarlyHost *
take_early_host (const char *module_path)
{
  EarlyHost *found = NULL;

  g_mutex_lock (&early_lock);
  for (guint i = 0; early_hosts != NULL && i < early_hosts->len; i++)
    {
      EarlyHost *early = g_ptr_array_index (early_hosts, i);

      if (g_strcmp0 (early->module_path, module_path) == 0)
        {
          found = g_ptr_array_steal_index (early_hosts, i);
          break;
        }
    }
  g_mutex_unlock (&early_lock);

  return found;
}

/*
 * _tessera_module_isolate:
 *
 * Worker thread, instead of loading the module in-process: prepares the
 * client side of its host.  The host itself starts in
 * _tessera_module_initialize().
 */
gboolean
_tessera_module_isolate (TesseraModule  *self,
                         GError        **error)
{
  const char *dir;
  g_autofree char *file = NULL;

  g_return_val_if_fail (self->functions == NULL, FALSE);

  /* The host's server is a process of its own already, and not ours to
   * start: only the client side is needed. */
  if (self->server_path != NULL)
    {
      self->functions = client_new (self->server_path, error);
      return self->functions != NULL;
    }

  self->early = take_early_host (self->path);
  if (self->early != NULL)
    {
      self->socket_path = g_steal_pointer (&self->early->socket_path);
    }
  else
    {
      dir = socket_dir (error);
      if (dir == NULL)
        return FALSE;

      file = g_strdup_printf ("module-%d.sock", g_atomic_int_add (&socket_counter, 1));
      self->socket_path = g_build_filename (dir, file, NULL);
    }
  self->functions = client_new (self->socket_path, error);
  if (self->functions == NULL)
    return FALSE;

  self->isolated = TRUE;
  self->managed = FALSE;

  g_mutex_lock (&clients_lock);
  if (clients == NULL)
    clients = g_hash_table_new (NULL, NULL);
  g_hash_table_insert (clients, self->functions, self);
  g_mutex_unlock (&clients_lock);
  return TRUE;
}

/* The extension channel ---------------------------------------------------- */

/* One request on the host's extension channel; a broken channel (the
 * host died) reads as a device error, like a broken RPC connection. */
static CK_RV
extension_call (TesseraModule *self,
                guint32        op,
                GArray        *request,
                guint64       *reply,
                guint          n_reply)
{
  guint32 header[2] = { op, request->len * sizeof (guint64) };
  guint64 answer[8] = { 0 };
  guint32 answer_len = 0;
  gboolean ok;

  g_mutex_lock (&self->extension_lock);
  ok = self->extension_fd >= 0 &&
       tessera_module_host_write_all (self->extension_fd, header, sizeof header) &&
       tessera_module_host_write_all (self->extension_fd, request->data, header[1]) &&
       tessera_module_host_read_all (self->extension_fd, &answer_len, sizeof answer_len) &&
       answer_len >= sizeof (guint64) && answer_len <= sizeof answer && answer_len % 8 == 0 &&
       tessera_module_host_read_all (self->extension_fd, answer, answer_len);
  g_mutex_unlock (&self->extension_lock);

  if (!ok)
    return CKR_DEVICE_ERROR;
  for (guint i = 0; i < n_reply; i++)
    reply[i] = i + 1 < answer_len / 8 ? answer[i + 1] : 0;
  return (CK_RV) answer[0];
}

static void
put (GArray  *request,
     guint64  value)
{
  g_array_append_val (request, value);
}

static void
put_template (GArray             *request,
              const CK_ATTRIBUTE *template,
              CK_ULONG            count)
{
  put (request, count);
  for (CK_ULONG i = 0; i < count; i++)
    {
      guint words = (template[i].ulValueLen + 7) / 8;
      guint at;

      put (request, template[i].type);
      put (request, template[i].ulValueLen);
      at = request->len;
      g_array_set_size (request, at + words);
      memset (&g_array_index (request, guint64, at), 0, words * sizeof (guint64));
      if (template[i].ulValueLen > 0)
        memcpy (&g_array_index (request, guint64, at), template[i].pValue, template[i].ulValueLen);
    }
}

static TesseraModule *
isolated_module_for (CK_FUNCTION_LIST *functions)
{
  TesseraModule *module;

  g_mutex_lock (&clients_lock);
  module = clients ? g_hash_table_lookup (clients, functions) : NULL;
  g_mutex_unlock (&clients_lock);
  return module;
}

/*
 * _tessera_module_get_mechanism_info:
 *
 * C_GetMechanismInfo, through the host's extension channel for the EdDSA
 * mechanisms p11-kit 0.24's RPC cannot carry.
 */
CK_RV
_tessera_module_get_mechanism_info (CK_FUNCTION_LIST  *functions,
                                    CK_SLOT_ID         slot,
                                    CK_MECHANISM_TYPE  type,
                                    CK_MECHANISM_INFO *info)
{
  TesseraModule *self = isolated_module_for (functions);
  g_autoptr(GArray) request = NULL;
  guint64 reply[3];
  CK_RV rv;

  if (self == NULL || !TESSERA_MODULE_HOST_EXTENSION_MECHANISM (type))
    return functions->C_GetMechanismInfo (slot, type, info);

  request = g_array_new (FALSE, FALSE, sizeof (guint64));
  put (request, slot);
  put (request, type);
  rv = extension_call (self, TESSERA_MODULE_HOST_OP_MECHANISM_INFO, request, reply, 3);
  info->ulMinKeySize = reply[0];
  info->ulMaxKeySize = reply[1];
  info->flags = reply[2];
  return rv;
}

/*
 * _tessera_module_generate_key_pair:
 *
 * C_GenerateKeyPair, through the host's extension channel for EdDSA.
 */
CK_RV
_tessera_module_generate_key_pair (CK_FUNCTION_LIST   *functions,
                                   CK_SESSION_HANDLE   session,
                                   CK_MECHANISM       *mechanism,
                                   CK_ATTRIBUTE       *public_template,
                                   CK_ULONG            n_public,
                                   CK_ATTRIBUTE       *private_template,
                                   CK_ULONG            n_private,
                                   CK_OBJECT_HANDLE   *public_key,
                                   CK_OBJECT_HANDLE   *private_key)
{
  TesseraModule *self = isolated_module_for (functions);
  g_autoptr(GArray) request = NULL;
  guint64 reply[2];
  CK_RV rv;

  if (self == NULL || !TESSERA_MODULE_HOST_EXTENSION_MECHANISM (mechanism->mechanism))
    return functions->C_GenerateKeyPair (session, mechanism, public_template, n_public,
                                         private_template, n_private, public_key, private_key);

  if (mechanism->ulParameterLen != 0 || n_public > TESSERA_MODULE_HOST_MAX_ATTRIBUTES ||
      n_private > TESSERA_MODULE_HOST_MAX_ATTRIBUTES)
    return CKR_ARGUMENTS_BAD;

  request = g_array_new (FALSE, FALSE, sizeof (guint64));
  put (request, session);
  put (request, mechanism->mechanism);
  put_template (request, public_template, n_public);
  put_template (request, private_template, n_private);
  rv = extension_call (self, TESSERA_MODULE_HOST_OP_GENERATE_KEY_PAIR, request, reply, 2);
  *public_key = reply[0];
  *private_key = reply[1];
  return rv;
}

/*
 * _tessera_module_sign_init:
 *
 * C_SignInit, through the host's extension channel for EdDSA; C_Sign
 * itself carries no mechanism and goes through p11-kit as usual.
 */
CK_RV
_tessera_module_sign_init (CK_FUNCTION_LIST  *functions,
                           CK_SESSION_HANDLE  session,
                           CK_MECHANISM      *mechanism,
                           CK_OBJECT_HANDLE   key)
{
  TesseraModule *self = isolated_module_for (functions);
  g_autoptr(GArray) request = NULL;

  if (self == NULL || !TESSERA_MODULE_HOST_EXTENSION_MECHANISM (mechanism->mechanism))
    return functions->C_SignInit (session, mechanism, key);

  if (mechanism->ulParameterLen != 0)
    return CKR_MECHANISM_PARAM_INVALID;

  request = g_array_new (FALSE, FALSE, sizeof (guint64));
  put (request, session);
  put (request, mechanism->mechanism);
  put (request, key);
  return extension_call (self, TESSERA_MODULE_HOST_OP_SIGN_INIT, request, NULL, 0);
}

/**
 * tessera_module_get_isolated:
 *
 * Returns: %TRUE when the module runs in a process of its own
 *   (tessera-module-host), as every module does unless
 *   TESSERA_IN_PROCESS_MODULES=1
 */
gboolean
tessera_module_get_isolated (TesseraModule *self)
{
  g_return_val_if_fail (TESSERA_IS_MODULE (self), FALSE);
  return self->isolated;
}

void
_tessera_module_set_order (TesseraModule *self,
                           guint          order)
{
  self->order = order;
}

void
_tessera_module_set_in_process (TesseraModule *self,
                                gboolean       in_process)
{
  self->in_process = !!in_process;
}

gboolean
_tessera_module_get_in_process (TesseraModule *self)
{
  return self->in_process;
}

guint
_tessera_module_get_order (TesseraModule *self)
{
  return self->order;
}

/* Takes over a module p11-kit loaded; it is released with the object. */
void
_tessera_module_set_functions (TesseraModule    *self,
                               CK_FUNCTION_LIST *functions,
                               gboolean          managed)
{
  g_return_if_fail (TESSERA_IS_MODULE (self));
  g_return_if_fail (self->functions == NULL);

  self->functions = functions;
  self->managed = !!managed;
}

/*
 * _tessera_module_begin:
 *
 * Starts a run of PKCS#11 calls on a worker thread.  The module cannot be
 * finalised until _tessera_module_end(), so the calls never race
 * C_Finalize.
 *
 * Returns: the function list, or %NULL (and nothing to end) when the
 *   module is not initialised
 */
/* The isolated module this thread is calling, so that an error set from
 * a bare CK_RV can say why its process stopped. */
static GPrivate current_module;

CK_FUNCTION_LIST *
_tessera_module_begin (TesseraModule *self)
{
  g_rw_lock_reader_lock (&self->lock);
  if (self->initialized)
    {
      if (self->isolated)
        g_private_set (&current_module, self);
      return self->functions;
    }

  g_rw_lock_reader_unlock (&self->lock);
  return NULL;
}

void
_tessera_module_end (TesseraModule *self)
{
  if (g_private_get (&current_module) == self)
    g_private_set (&current_module, NULL);
  g_rw_lock_reader_unlock (&self->lock);
}

/*
 * _tessera_module_explain_current:
 * @error: (inout): an error just set from a CK_RV that a broken connection gives
 * @what: (nullable): what Tessera was doing, as in _tessera_set_ck_error()
 *
 * Between _tessera_module_begin() and _tessera_module_end() of an
 * isolated module: when its process stopped, @error becomes why.
 */
void
_tessera_module_explain_current (GError     **error,
                                 const char  *what)
{
  TesseraModule *self = g_private_get (&current_module);
  g_autoptr(GError) failure = NULL;

  if (self == NULL || error == NULL || *error == NULL)
    return;
  if (!_tessera_module_explain_failure (self, &failure) || failure == NULL)
    return;

  g_clear_error (error);
  if (what != NULL)
    *error = g_error_new (failure->domain, failure->code, "%s: %s", what, failure->message);
  else
    *error = g_steal_pointer (&failure);
}

/*
 * The function list without any guard, for C_WaitForSlotEvent: it blocks
 * until C_Finalize wakes it, so it must not hold off C_Finalize.  Valid
 * as long as the caller holds a reference on the module.
 */
CK_FUNCTION_LIST *
_tessera_module_peek_functions (TesseraModule *self)
{
  return self->functions;
}

/* Main context only, once the module is in the registry's list. */
void
_tessera_module_set_error (TesseraModule *self,
                           const GError  *error)
{
  if (self->error == NULL && error == NULL)
    return;

  g_clear_error (&self->error);
  if (error != NULL)
    self->error = g_error_copy (error);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADED]);
}

void
_tessera_module_set_waits_for_events (TesseraModule *self,
                                      gboolean       waits)
{
  self->waits_for_events = !!waits;
}

/*
 * Initialises the module and reads its CK_INFO.  Runs on a worker thread:
 * module initialisation can take seconds (OpenSC talks to pcscd).  The
 * caller records a failure with _tessera_module_set_error(), on the main
 * context once the module is listed (the window watches it).
 */
gboolean
_tessera_module_initialize (TesseraModule  *self,
                            GError        **error)
{
  CK_INFO info;
  CK_RV rv;

  g_return_val_if_fail (self->functions != NULL, FALSE);

  if (self->initialized)
    return TRUE;

  if (self->isolated)
    {
      gboolean started = TRUE;
      g_autoptr(GError) local_error = NULL;

      /* A host that stopped (a crash, a deadline) is replaced: this is
       * how Reload brings a module back. */
      g_mutex_lock (&self->host_lock);
      host_reap_locked (self, 0);
      if (self->host.pid == 0)
        started = host_start_locked (self, &local_error);
      g_mutex_unlock (&self->host_lock);

      if (!started)
        {
          local_error->code = TESSERA_PKCS11_ERROR_MODULE;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }

  if (self->managed)
    {
      /* p11-kit's managed wrapper passes CKF_OS_LOCKING_OK itself. */
      rv = p11_kit_module_initialize (self->functions);
    }
  else
    {
      /* A NULL argument would tell the module that no two threads ever
       * call it at once, and SoftHSM then drops its locks: Tessera's
       * workers and monitors do call it at once. */
      CK_C_INITIALIZE_ARGS args = { NULL, NULL, NULL, NULL, CKF_OS_LOCKING_OK, NULL };

      rv = self->functions->C_Initialize (&args);
    }

  if (rv != CKR_OK)
    {
      g_autoptr(GError) local_error = NULL;

      _tessera_set_ck_error (&local_error, rv, _("The module could not be initialized"));
      local_error->code = TESSERA_PKCS11_ERROR_MODULE;
      _tessera_module_explain_failure (self, &local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  self->initialized = TRUE;

  rv = self->functions->C_GetInfo (&info);

  /* p11-kit's client answers C_Initialize with CKR_OK when nothing
   * listens on its socket, and C_GetInfo with a stand-in.  For a host,
   * that means it stopped before it served (a file that is no module):
   * its exit says why. */
  if (rv == CKR_OK && self->isolated &&
      memcmp (info.libraryDescription, NO_CONNECTION, strlen (NO_CONNECTION)) == 0)
    {
      g_autoptr(GError) local_error = NULL;
      gboolean stopped;

      g_mutex_lock (&self->host_lock);
      stopped = host_reap_locked (self, HOST_EXIT_WAIT_MS);
      if (stopped)
        local_error = g_error_copy (self->failure);
      g_mutex_unlock (&self->host_lock);

      if (stopped)
        {
          self->functions->C_Finalize (NULL);
          self->initialized = FALSE;
          local_error->code = TESSERA_PKCS11_ERROR_MODULE;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }

  /* A socket left behind by a server that has gone */
  if (rv == CKR_OK && self->server_path != NULL &&
      memcmp (info.libraryDescription, NO_CONNECTION, strlen (NO_CONNECTION)) == 0)
    {
      self->functions->C_Finalize (NULL);
      self->initialized = FALSE;
      g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                   _("The p11-kit server on your computer does not answer at %s. Restart it there "
                     "with “systemctl --user restart p11-kit-server.socket”."),
                   self->server_path);
      return FALSE;
    }

  if (rv == CKR_OK)
    {
      /* A reload reads them again. */
      g_free (self->description);
      g_free (self->manufacturer);
      g_free (self->version);
      self->description = TESSERA_CK_STRING (info.libraryDescription);
      self->manufacturer = TESSERA_CK_STRING (info.manufacturerID);
      self->version = g_strdup_printf ("%u.%u",
                                       info.libraryVersion.major,
                                       info.libraryVersion.minor);
    }
  else
    {
      g_debug ("C_GetInfo failed for %s: %s", self->name, _tessera_ck_rv_name (rv));
    }

  return TRUE;
}

/* Finalises the module; the registry does this before it joins its
 * monitor threads, because C_Finalize is what wakes a thread blocked in
 * C_WaitForSlotEvent.  The module stays loaded until the object goes. */
void
_tessera_module_finalize (TesseraModule *self)
{
  g_rw_lock_writer_lock (&self->lock);
  if (self->functions != NULL && self->initialized)
    {
      if (self->managed)
        p11_kit_module_finalize (self->functions);
      else
        self->functions->C_Finalize (NULL);
    }
  self->initialized = FALSE;
  g_rw_lock_writer_unlock (&self->lock);
}

/**
 * tessera_module_get_name:
 *
 * Returns: the p11-kit name of a registered module, or the file name of a
 *   module loaded by path
 */
const char *
tessera_module_get_name (TesseraModule *self)
{
  g_return_val_if_fail (TESSERA_IS_MODULE (self), NULL);
  return self->name;
}

/* Readable names for the modules people meet most, by the module's name
 * without "lib" and ".so": the p11-kit name of a registered module, or
 * the file name of one loaded by path. */
static const struct
{
  const char *key;
  const char *name;
} known_modules[] = {
  { "softhsm2", N_("SoftHSM") },
  { "tpm2_pkcs11", N_("TPM") },
  { "opensc-pkcs11", N_("Smart cards (OpenSC)") },
  { "opensc", N_("Smart cards (OpenSC)") },
  { "onepin-opensc-pkcs11", N_("Smart cards (OpenSC, one PIN)") },
  { "opencryptoki", N_("openCryptoki") },
  { "ykcs11", N_("YubiKey (PIV)") },
  { "p11-kit-trust", N_("System trust") },
  { "gnome-keyring-pkcs11", N_("GNOME Keyring") },
  { "p11-kit-client", N_("p11-kit server") },
};

static char *
module_key (const char *name)
{
  g_autofree char *base = g_path_get_basename (name);
  char *dot = strstr (base, ".so");

  if (dot != NULL)
    *dot = '\0';
  return g_strdup (g_str_has_prefix (base, "lib") ? base + 3 : base);
}

/*
 * _tessera_module_is_tpm:
 *
 * Whether this is tpm2-pkcs11, whose tokens live in a TPM.
 */
gboolean
_tessera_module_is_tpm (TesseraModule *self)
{
  g_autofree char *key = module_key (self->name != NULL && self->name[0] != '\0' ? self->name : self->path);

  return g_str_equal (key, "tpm2_pkcs11");
}

/*
 * _tessera_module_set_unavailable:
 *
 * Marks a module that was not loaded because what it serves is not on
 * this computer (tpm2-pkcs11 without a TPM): no error, no tokens.
 */
void
_tessera_module_set_unavailable (TesseraModule *self,
                                 const char    *reason)
{
  g_free (self->unavailable);
  self->unavailable = g_strdup (reason);
}

/**
 * tessera_module_get_unavailable_reason:
 *
 * Returns: (nullable): why the module was left unloaded although nothing
 *   is wrong with it ("No TPM was found on this computer."), or %NULL
 */
const char *
tessera_module_get_unavailable_reason (TesseraModule *self)
{
  g_return_val_if_fail (TESSERA_IS_MODULE (self), NULL);
  return self->unavailable;
}

/* Text a person can read as a name: valid UTF-8, no control characters */
static gboolean
is_readable (const char *text)
{
  if (text == NULL || text[0] == '\0' || !g_utf8_validate (text, -1, NULL))
    return FALSE;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

/**
 * tessera_module_get_display_name:
 *
 * What to call the module in front of a person: "SoftHSM", "TPM",
 * "Smart cards (OpenSC)" for the common modules; else the description the
 * module gives of itself; else its name.
 *
 * Returns: (transfer none): a translated, readable name
 */
const char *
tessera_module_get_display_name (TesseraModule *self)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (TESSERA_IS_MODULE (self), NULL);

  /* "Your computer's tokens": named for what it is when it was made */
  if (self->server_path != NULL)
    return self->name;

  key = module_key (self->name != NULL && self->name[0] != '\0' ? self->name : self->path);
  for (guint i = 0; i < G_N_ELEMENTS (known_modules); i++)
    if (g_str_equal (key, known_modules[i].key))
      return g_dgettext (GETTEXT_PACKAGE, known_modules[i].name);

  if (is_readable (self->description))
    return self->description;

  return self->name != NULL && self->name[0] != '\0' ? self->name : self->path;
}

/**
 * tessera_module_get_path:
 *
 * Returns: the absolute path of the module's shared object, the path that
 *   ssh-agent and ssh-keygen are given as a provider
 */
const char *
tessera_module_get_path (TesseraModule *self)
{
  g_return_val_if_fail (TESSERA_IS_MODULE (self), NULL);
  return self->path;
}

/*
 * _tessera_sandbox_host_root:
 *
 * Returns: (nullable): where the host's files are seen from inside a
 *   sandbox ("/run/host" in a Flatpak, with --filesystem=host-os:ro), or
 *   %NULL outside one.  TESSERA_HOST_ROOT (a test hook) names another
 *   root; set to "" it means no sandbox.
 */
const char *
_tessera_sandbox_host_root (void)
{
  const char *root = g_getenv ("TESSERA_HOST_ROOT");

  if (root != NULL)
    return root[0] != '\0' ? root : NULL;
  return g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS) ? "/run/host" : NULL;
}

/* The host's p11-kit server ------------------------------------------------ */

/*
 * _tessera_sandbox_host_server_path:
 *
 * Inside a Flatpak (/.flatpak-info; TESSERA_HOST_ROOT plays no part
 * here), tokens on the host reach Tessera through the host's own
 * `p11-kit server`, whose socket --filesystem=xdg-run/p11-kit/pkcs11
 * shows at the same path inside.  P11_KIT_SERVER_ADDRESS is no guide:
 * Flatpak points it at its own server, which serves only p11-kit-trust.
 *
 * Returns: (transfer full) (nullable): $XDG_RUNTIME_DIR/p11-kit/pkcs11
 *   in a sandbox, whether or not anything is there; %NULL outside one
 */
char *
_tessera_sandbox_host_server_path (void)
{
  if (!g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    return NULL;
  return g_build_filename (g_get_user_runtime_dir (), "p11-kit", "pkcs11", NULL);
}

/*
 * _tessera_module_new_for_host_server:
 * @socket_path: the host's p11-kit server's socket
 *
 * The module that stands for the host's p11-kit server: a p11-kit-client
 * instance for exactly that address, made by client_new(), which sets
 * P11_KIT_SERVER_ADDRESS only while the instance is made.  Its path is
 * the client module's, whose copy on the host (the same file name in
 * the host's module folders) is what ssh-agent and ssh are given: run on
 * the host without P11_KIT_SERVER_ADDRESS, it reaches the same server at
 * the same default path.  It counts as registered: the user did not add
 * it and cannot remove it.
 */
TesseraModule *
_tessera_module_new_for_host_server (const char *socket_path)
{
  g_autofree char *client = g_build_filename (P11_MODULE_PATH, "p11-kit-client.so", NULL);
  TesseraModule *self = _tessera_module_new (_("Your computer’s tokens"), client, TRUE);

  self->server_path = g_strdup (socket_path);
  return self;
}

/*
 * _tessera_module_get_host_server:
 *
 * Returns: (nullable): the socket of the host's p11-kit server, for the
 *   module that stands for it; %NULL for any other module
 */
const char *
_tessera_module_get_host_server (TesseraModule *self)
{
  return self->server_path;
}

/* Where module files usually are on a host: the p11-kit module
 * directories and the library directories of Debian, Fedora and others. */
static const char * const host_module_dirs[] = {
  "/usr/lib/x86_64-linux-gnu/pkcs11", "/usr/lib/aarch64-linux-gnu/pkcs11", "/usr/lib64/pkcs11",
  "/usr/lib/pkcs11", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
  "/usr/lib", "/usr/lib/softhsm", "/usr/local/lib", "/usr/local/lib/pkcs11",
};

static char *
find_host_path (const char *path,
                const char *root)
{
  g_autofree char *resolved = realpath (path, NULL);
  g_autofree char *base = g_path_get_basename (path);
  gsize root_len = strlen (root);
  const char *real = resolved != NULL ? resolved : path;

  /* A module of the host's, seen through the root */
  if (g_str_has_prefix (real, root) && real[root_len] == '/')
    return g_strdup (real + root_len);

  /* A module of the sandbox's own (the Flatpak's OpenSC, the runtime's
   * p11-kit): the host agent needs the host's copy of the same module. */
  for (guint i = 0; i < G_N_ELEMENTS (host_module_dirs); i++)
    {
      g_autofree char *candidate = g_build_filename (root, host_module_dirs[i], base, NULL);

      if (g_file_test (candidate, G_FILE_TEST_IS_REGULAR))
        return g_build_filename (host_module_dirs[i], base, NULL);
    }
  return NULL;
}

/**
 * tessera_module_get_host_path:
 *
 * The path programs outside Tessera's sandbox (ssh-agent, ssh) must be
 * given: outside a sandbox, the module's path; inside a Flatpak, the
 * host's path of the same module, found through /run/host.
 *
 * Returns: (nullable): the module's path on the host, or %NULL when the
 *   host has no such module
 */
const char *
tessera_module_get_host_path (TesseraModule *self)
{
  const char *root;

  g_return_val_if_fail (TESSERA_IS_MODULE (self), NULL);

  if (!self->host_path_known)
    {
      root = _tessera_sandbox_host_root ();
      self->host_path = root == NULL ? g_strdup (self->path) : find_host_path (self->path, root);
      self->host_path_known = TRUE;
      g_debug ("Module %s is %s on the host", self->path, self->host_path ? self->host_path : "(nowhere)");
    }
  return self->host_path;
}

const char *
tessera_module_get_description (TesseraModule *self)
{
  g_return_val_if_fail (TESSERA_IS_MODULE (self), NULL);
  return self->description;
}

const char *
tessera_module_get_manufacturer (TesseraModule *self)
{
  g_return_val_if_fail (TESSERA_IS_MODULE (self), NULL);
  return self->manufacturer;
}

const char *
tessera_module_get_version (TesseraModule *self)
{
  g_return_val_if_fail (TESSERA_IS_MODULE (self), NULL);
  return self->version;
}

/**
 * tessera_module_get_registered:
 *
 * Returns: %TRUE for modules registered with p11-kit, %FALSE for module
 *   files the user added
 */
gboolean
tessera_module_get_registered (TesseraModule *self)
{
  g_return_val_if_fail (TESSERA_IS_MODULE (self), FALSE);
  return self->registered;
}

gboolean
tessera_module_get_loaded (TesseraModule *self)
{
  g_return_val_if_fail (TESSERA_IS_MODULE (self), FALSE);
  return self->initialized && self->error == NULL;
}

/**
 * tessera_module_get_error:
 *
 * Returns: (nullable): why the module could not be loaded or initialised
 */
const GError *
tessera_module_get_error (TesseraModule *self)
{
  g_return_val_if_fail (TESSERA_IS_MODULE (self), NULL);
  return self->error;
}

/**
 * tessera_module_get_waits_for_events:
 *
 * Returns: %TRUE when the module reports card insertion and removal through
 *   C_WaitForSlotEvent; otherwise Tessera polls it
 */
gboolean
tessera_module_get_waits_for_events (TesseraModule *self)
{
  g_return_val_if_fail (TESSERA_IS_MODULE (self), FALSE);
  return self->waits_for_events;
}
