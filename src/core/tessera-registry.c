/* tessera-registry.c: every PKCS#11 module and token Tessera knows, live
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "tessera-private.h"

/*
 * The registry owns two list models, modules and tokens, which belong to
 * the main context it was created in.  Everything that calls a module runs
 * on a worker thread and hands back a *scan*: for one module, the slots
 * that hold a token with their slot and token information.  The main
 * context then reconciles the token list with the scan, so that loading,
 * refreshing and hotplug all go through one path.
 *
 * Live updates come from one monitor thread per module: blocked in
 * C_WaitForSlotEvent where the module supports it, polling the slot list
 * otherwise (SoftHSM).
 */

#define DEFAULT_POLL_INTERVAL_MS 1000

typedef TesseraSlotEntry SlotEntry;

typedef struct
{
  TesseraModule *module;
  GArray        *slots;   /* of SlotEntry; NULL when the scan failed */
  GError        *error;   /* why it failed, applied on the main context */
  gboolean       stopped; /* the module's process stopped: its tokens go */
} Scan;

typedef struct _Monitor Monitor;

struct _TesseraRegistry
{
  GObject       parent_instance;

  char        **paths;
  GListStore   *modules;
  GListStore   *tokens;
  GMainContext *context;
  GPtrArray    *monitors;
  guint         poll_interval_ms;
  guint         in_process : 1;  /* modules load into this process */
  guint         monitoring : 1;
  guint         loading : 1;
  guint         loaded : 1;
  guint         host_server_missing : 1; /* in a sandbox, no p11-kit server socket */
};

G_DEFINE_FINAL_TYPE (TesseraRegistry, tessera_registry, G_TYPE_OBJECT)

static void monitor_stop (Monitor *monitor);
static gboolean monitor_runs_here (Monitor *monitor);
static void monitor_start (TesseraRegistry *self, TesseraModule *module);

static void
scan_free (Scan *scan)
{
  g_clear_object (&scan->module);
  g_clear_pointer (&scan->slots, g_array_unref);
  g_clear_error (&scan->error);
  g_free (scan);
}

/* What a registry leaves to be shut down: its monitors and modules. */
typedef struct
{
  GPtrArray  *monitors;
  GListStore *modules;
} Shutdown;

static void
shutdown_run (Shutdown *shutdown)
{
  guint n_modules;

  n_modules = shutdown->modules ? g_list_model_get_n_items (G_LIST_MODEL (shutdown->modules)) : 0;

  /* Tell every module's process to quit first, all at once: a call stuck
   * in a hung module then ends within a moment, so quitting never waits
   * for a module. */
  for (guint i = 0; i < n_modules; i++)
    {
      g_autoptr(TesseraModule) module = g_list_model_get_item (G_LIST_MODEL (shutdown->modules), i);
      _tessera_module_stop_host (module);
    }

  /* Stop the monitors, finalise the modules (which wakes threads blocked
   * in C_WaitForSlotEvent), then wait for the threads. */
  for (guint i = 0; shutdown->monitors != NULL && i < shutdown->monitors->len; i++)
    monitor_stop (g_ptr_array_index (shutdown->monitors, i));

  for (guint i = 0; i < n_modules; i++)
    {
      g_autoptr(TesseraModule) module = g_list_model_get_item (G_LIST_MODEL (shutdown->modules), i);
      _tessera_module_finalize (module);
    }

  g_clear_pointer (&shutdown->monitors, g_ptr_array_unref);
  g_clear_object (&shutdown->modules);
  g_free (shutdown);
}

static gboolean
shutdown_in_owner_thread (gpointer data)
{
  shutdown_run (data);
  return G_SOURCE_REMOVE;
}

static gboolean
shutdown_on_monitor_thread (Shutdown *shutdown)
{
  for (guint i = 0; shutdown->monitors != NULL && i < shutdown->monitors->len; i++)
    if (monitor_runs_here (g_ptr_array_index (shutdown->monitors, i)))
      return TRUE;
  return FALSE;
}

static void
tessera_registry_dispose (GObject *object)
{
  TesseraRegistry *self = (TesseraRegistry *) object;
  Shutdown *shutdown = g_new0 (Shutdown, 1);

  shutdown->monitors = g_steal_pointer (&self->monitors);
  shutdown->modules = g_steal_pointer (&self->modules);

  /* Worker threads never hold the registry (the tasks they run have no
   * source object), so C_Finalize never races a program's exit there.  A
   * monitor thread may hold the last reference, but cannot join itself:
   * then the shutdown waits for the registry's own context. */
  if (shutdown_on_monitor_thread (shutdown))
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      g_debug ("Registry released on a monitor thread; shutting down in its context");
      g_source_set_callback (source, shutdown_in_owner_thread, shutdown, NULL);
      g_source_attach (source, self->context);
    }
  else
    shutdown_run (shutdown);

  g_clear_object (&self->tokens);

  G_OBJECT_CLASS (tessera_registry_parent_class)->dispose (object);
}

static void
tessera_registry_finalize (GObject *object)
{
  TesseraRegistry *self = (TesseraRegistry *) object;

  g_clear_pointer (&self->paths, g_strfreev);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (tessera_registry_parent_class)->finalize (object);
}

static void
tessera_registry_class_init (TesseraRegistryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tessera_registry_dispose;
  object_class->finalize = tessera_registry_finalize;
}

static void
tessera_registry_init (TesseraRegistry *self)
{
  g_autofree char *host_server = _tessera_sandbox_host_server_path ();

  self->in_process = !_tessera_module_isolation_wanted ();
  /* The host's server is reached through p11-kit-client, isolated or not */
  if (!self->in_process || host_server != NULL)
    _tessera_module_prepare_isolation ();

  self->modules = g_list_store_new (TESSERA_TYPE_MODULE);
  self->tokens = g_list_store_new (TESSERA_TYPE_TOKEN);
  self->context = g_main_context_ref_thread_default ();
  self->monitors = g_ptr_array_new ();
  self->poll_interval_ms = DEFAULT_POLL_INTERVAL_MS;
}

/**
 * tessera_registry_new:
 *
 * Returns: (transfer full): a registry of the modules registered with
 *   p11-kit; load it with tessera_registry_load_async()
 */
TesseraRegistry *
tessera_registry_new (void)
{
  return g_object_new (TESSERA_TYPE_REGISTRY, NULL);
}

/**
 * tessera_registry_new_for_module_paths:
 * @paths: module files to load directly, as `pkcs11-tool --module` does
 *
 * Returns: (transfer full): a registry of just these modules
 */
TesseraRegistry *
tessera_registry_new_for_module_paths (const char * const *paths)
{
  TesseraRegistry *self = g_object_new (TESSERA_TYPE_REGISTRY, NULL);

  self->paths = g_strdupv ((char **) paths);
  if (self->paths == NULL)
    self->paths = g_new0 (char *, 1);

  return self;
}

/**
 * tessera_registry_take_started_host:
 * @module_path: a module file, as it will be given to
 *   tessera_registry_new_for_module_paths()
 * @socket_dir: the private folder the host's socket is in
 * @socket_path: where the host listens
 * @process: the host, started with tessera_module_host_spawn()
 *
 * Takes a tessera-module-host that was started before this process's
 * libraries loaded (tessera-cli's launcher does, so that the module loads
 * meanwhile).  A registry made later for the same path uses it; one that
 * is not used quits when this process exits.  Call it before any thread
 * starts.
 */
void
tessera_registry_take_started_host (const char                     *module_path,
                                    const char                     *socket_dir,
                                    const char                     *socket_path,
                                    const TesseraModuleHostProcess *process)
{
  g_return_if_fail (module_path != NULL && socket_dir != NULL && socket_path != NULL);
  g_return_if_fail (process != NULL && process->pid > 0);

  _tessera_module_prepare_isolation ();
  _tessera_module_take_started_host (module_path, socket_dir, socket_path, process);
}

/* Worker thread: scanning --------------------------------------------------- */

/* Every slot with a token, and its information.  A token that could not
 * be read is left out, and @call_failed set. */
GArray *
_tessera_scan_slots (CK_FUNCTION_LIST  *functions,
            gboolean          *call_failed,
            GError           **error)
{
  g_autoptr(GArray) entries = g_array_new (FALSE, TRUE, sizeof (SlotEntry));
  CK_SLOT_ID stack_slots[32];
  g_autofree CK_SLOT_ID *heap_slots = NULL;
  CK_SLOT_ID *slots = stack_slots;
  CK_ULONG n_slots = G_N_ELEMENTS (stack_slots);
  CK_ULONG n_slots_room = 0;
  guint attempts = 0;
  CK_RV rv;

  rv = functions->C_GetSlotList (CK_TRUE, slots, &n_slots);
  while (rv == CKR_BUFFER_TOO_SMALL && attempts++ < 8)
    {
      /* No module has thousands of slots; one that says so lies. */
      if (n_slots == 0 || n_slots > 4096)
        {
          g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID,
                       _("Could not list the module’s slots: it reported %lu slots."),
                       (unsigned long) n_slots);
          return NULL;
        }
      g_free (heap_slots);
      heap_slots = g_new0 (CK_SLOT_ID, n_slots);
      n_slots_room = n_slots;
      slots = heap_slots;
      rv = functions->C_GetSlotList (CK_TRUE, slots, &n_slots);
    }

  if (rv != CKR_OK)
    {
      _tessera_set_ck_error (error, rv, _("Could not list the module’s slots"));
      return NULL;
    }

  /* A count beyond the room given means the module wrote past it, or
   * lies: either way its list cannot be used. */
  if (n_slots > (heap_slots != NULL ? n_slots_room : G_N_ELEMENTS (stack_slots)))
    {
      g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID,
                   _("Could not list the module’s slots: it answered %lu slots where there was room for %lu."),
                   (unsigned long) n_slots,
                   (unsigned long) (heap_slots != NULL ? n_slots_room : G_N_ELEMENTS (stack_slots)));
      return NULL;
    }

  for (CK_ULONG i = 0; i < n_slots; i++)
    {
      SlotEntry entry = { 0 };

      /* C_GetSlotList (CK_TRUE) lists only slots with a token, so
       * C_GetSlotInfo would add a call per slot and nothing Tessera shows. */
      entry.slot_id = slots[i];
      rv = functions->C_GetTokenInfo (slots[i], &entry.token_info);
      if (rv != CKR_OK)
        {
          *call_failed = TRUE;
          /* Removed between the two calls, or a card the module cannot read. */
          g_debug ("C_GetTokenInfo(%lu): %s", slots[i], _tessera_ck_rv_name (rv));
          continue;
        }

      g_array_append_val (entries, entry);
    }

  return g_steal_pointer (&entries);
}

static gboolean
is_trust_token (const CK_TOKEN_INFO *info)
{
  static const char model[] = "p11-kit-trust";
  gsize length = strlen (model);

  if (memcmp (info->model, model, length) != 0)
    return FALSE;
  for (gsize i = length; i < sizeof info->model; i++)
    if (info->model[i] != ' ' && info->model[i] != '\0')
      return FALSE;
  return TRUE;
}

/* Whether tpm2-pkcs11 can reach a TPM: a kernel device (the resource
 * manager or the TPM itself), or a TCTI configured for it (tpm2-abrmd
 * or a simulator, as the tests set up with swtpm). */
static gboolean
tpm_reachable (void)
{
  const char *tcti = g_getenv ("TPM2_PKCS11_TCTI");

  if (tcti == NULL || tcti[0] == '\0')
    tcti = g_getenv ("TPM2TOOLS_TCTI");
  if (tcti != NULL && tcti[0] != '\0')
    return TRUE;
  return g_file_test ("/dev/tpmrm0", G_FILE_TEST_EXISTS) || g_file_test ("/dev/tpm0", G_FILE_TEST_EXISTS);
}

/*
 * _tessera_module_scan_slots:
 *
 * _tessera_scan_slots() for @module.  The host's p11-kit server serves
 * p11-kit-trust's tokens too (p11-kit-server.service serves "pkcs11:"):
 * they hold the host's CA certificates, not keys, and are left out, as
 * the trust module itself is when it is registered.
 */
GArray *
_tessera_module_scan_slots (TesseraModule     *module,
                            CK_FUNCTION_LIST  *functions,
                            gboolean          *call_failed,
                            GError           **error)
{
  GArray *slots = _tessera_scan_slots (functions, call_failed, error);

  if (slots == NULL)
    return slots;

  if (_tessera_module_get_host_server (module) != NULL)
    for (guint i = slots->len; i > 0; i--)
      if (is_trust_token (&g_array_index (slots, SlotEntry, i - 1).token_info))
        g_array_remove_index (slots, i - 1);

  /* tpm2-pkcs11 offers an empty slot for a new token whether or not there
   * is a TPM to keep it in: without one, Set Up could only fail. */
  if (_tessera_module_is_tpm (module) && !tpm_reachable ())
    for (guint i = slots->len; i > 0; i--)
      if (!(g_array_index (slots, SlotEntry, i - 1).token_info.flags & CKF_TOKEN_INITIALIZED))
        {
          g_debug ("No TPM on this computer: tpm2-pkcs11's empty slot %lu is left out",
                   (unsigned long) g_array_index (slots, SlotEntry, i - 1).slot_id);
          g_array_remove_index (slots, i - 1);
        }

  return slots;
}

/* Worker thread.  A module that did not load gives a scan with neither
 * slots nor error: its load error stands. */
static Scan *
scan_module (TesseraModule *module)
{
  Scan *scan = g_new0 (Scan, 1);
  CK_FUNCTION_LIST *functions;

  scan->module = g_object_ref (module);

  functions = _tessera_module_begin (module);
  if (functions != NULL)
    {
      gboolean call_failed = FALSE;

      scan->slots = _tessera_module_scan_slots (module, functions, &call_failed, &scan->error);
      _tessera_module_end (module);

      /* A token that could not be read may have taken the module's
       * process down with it (a crash, a deadline). */
      if ((scan->error != NULL || call_failed) &&
          _tessera_module_explain_failure (module, &scan->error))
        {
          g_clear_pointer (&scan->slots, g_array_unref);
          scan->stopped = TRUE;
        }
    }
  else
    {
      /* It may have stopped before its first scan (a crash in C_Initialize). */
      scan->stopped = _tessera_module_explain_failure (module, &scan->error);
    }

  return scan;
}

/* Worker thread: loading modules ------------------------------------------ */

static char *
resolve_module_path (const char *configured)
{
  if (configured == NULL)
    return NULL;
  if (g_path_is_absolute (configured))
    return g_strdup (configured);
  return g_build_filename (P11_MODULE_PATH, configured, NULL);
}

static char *
module_name_for_path (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);

  if (g_str_has_suffix (base, ".so"))
    base[strlen (base) - 3] = '\0';
  return g_steal_pointer (&base);
}

/* Worker thread: loads a module created by path, in its own process or,
 * with TESSERA_IN_PROCESS_MODULES=1, in this one. */
static void
load_module_file (TesseraModule *module)
{
  const char *path = tessera_module_get_path (module);
  CK_FUNCTION_LIST *functions;

  if (_tessera_module_peek_functions (module) != NULL || tessera_module_get_error (module) != NULL ||
      tessera_module_get_unavailable_reason (module) != NULL)
    return;

  /* Without a TPM, tpm2-pkcs11 could only fail (or offer a slot for a
   * token it cannot keep): it is not loaded, and not an error. */
  if (_tessera_module_is_tpm (module) && !tpm_reachable ())
    {
      _tessera_module_set_unavailable (module, _("No TPM was found on this computer."));
      return;
    }

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_autoptr(GError) error = g_error_new (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                                             _("The module file %s does not exist."), path);
      _tessera_module_set_error (module, error);
      return;
    }

  if (!_tessera_module_get_in_process (module) || _tessera_module_get_host_server (module) != NULL)
    {
      g_autoptr(GError) error = NULL;

      /* The module is loaded in its own process, by _tessera_module_initialize();
       * the host's p11-kit server is one already. */
      if (!_tessera_module_isolate (module, &error) || !_tessera_module_initialize (module, &error))
        _tessera_module_set_error (module, error);
      return;
    }

  /* Unmanaged: Tessera is the only user of a module it loads by path, and
   * p11-kit's session tracking would cost calls on every exit. */
  functions = p11_kit_module_load (path, P11_KIT_MODULE_UNMANAGED);
  if (functions == NULL)
    {
      const char *reason = p11_kit_message ();
      g_autoptr(GError) error = NULL;

      if (reason != NULL && reason[0] != '\0')
        error = g_error_new (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                             _("The module %s could not be loaded: %s"), path, reason);
      else
        error = g_error_new (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                             _("The module %s could not be loaded."), path);
      _tessera_module_set_error (module, error);
      return;
    }

  _tessera_module_set_functions (module, functions, FALSE);
  {
    g_autoptr(GError) error = NULL;

    if (!_tessera_module_initialize (module, &error))
      _tessera_module_set_error (module, error);
  }
}

/* Reads a p11-kit module config file just enough to tell whether Tessera
 * should have loaded it, and from which file. */
static char *
configured_module_file (const char *config_path)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *module = NULL;

  if (!g_file_get_contents (config_path, &contents, NULL, NULL))
    return NULL;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (g_str_has_prefix (line, "enable-in:") || g_str_has_prefix (line, "disable-in:") ||
          (g_str_has_prefix (line, "trust-policy:") && strstr (line, "yes") != NULL))
        return NULL;
      if (g_str_has_prefix (line, "module:"))
        {
          g_free (module);
          module = g_strdup (g_strstrip (line + strlen ("module:")));
        }
    }

  return resolve_module_path (module);
}

/* p11-kit skips modules that fail to load without saying which.  Look at
 * the config directories for modules that should be there but are not. */
static void
add_unloaded_configured_modules (GPtrArray  *modules,
                                 GHashTable *loaded_names)
{
  g_autofree char *user_dir = g_build_filename (g_get_user_config_dir (), "pkcs11", "modules", NULL);
  const char *dirs[] = { P11_SYSTEM_CONFIG_MODULES, P11_PACKAGE_CONFIG_MODULES, user_dir };

  for (guint d = 0; d < G_N_ELEMENTS (dirs); d++)
    {
      g_autoptr(GDir) dir = g_dir_open (dirs[d], 0, NULL);
      const char *entry;

      if (dir == NULL)
        continue;

      while ((entry = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *name = NULL;
          g_autofree char *config_path = NULL;
          g_autofree char *file = NULL;
          g_autoptr(GError) error = NULL;
          TesseraModule *module;

          if (!g_str_has_suffix (entry, ".module"))
            continue;

          name = g_strndup (entry, strlen (entry) - strlen (".module"));
          if (g_hash_table_contains (loaded_names, name))
            continue;

          config_path = g_build_filename (dirs[d], entry, NULL);
          file = configured_module_file (config_path);
          if (file == NULL)
            continue;

          module = _tessera_module_new (name, file, TRUE);
          if (!g_file_test (file, G_FILE_TEST_EXISTS))
            error = g_error_new (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                                 _("The module file %s does not exist."), file);
          else
            error = g_error_new (TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                                 _("p11-kit could not load the module %s."), file);
          _tessera_module_set_error (module, error);
          g_ptr_array_add (modules, module);
          g_hash_table_add (loaded_names, g_steal_pointer (&name));
        }
    }
}

static TesseraModule *
module_new_for_path (const char *path)
{
  g_autofree char *name = module_name_for_path (path);

  return _tessera_module_new (name, path, FALSE);
}

/* In-process, through p11-kit: all registered modules, or only those
 * named in @only. */
static GPtrArray *
load_registered_modules_in_process (GHashTable *only)
{
  GPtrArray *modules = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  CK_FUNCTION_LIST **list;
  GError *error = NULL;

  list = p11_kit_modules_load (NULL, 0);
  for (guint i = 0; list != NULL && list[i] != NULL; i++)
    {
      g_autofree char *name = p11_kit_module_get_name (list[i]);
      g_autofree char *trust = p11_kit_config_option (list[i], "trust-policy");
      g_autofree char *configured = p11_kit_config_option (list[i], "module");
      g_autofree char *path = resolve_module_path (configured);
      TesseraModule *module;

      g_hash_table_add (names, g_strdup (name ? name : ""));

      /* The trust module holds the system's CA certificates, not keys. */
      if (g_strcmp0 (trust, "yes") == 0 ||
          (only != NULL && !g_hash_table_contains (only, name ? name : "")))
        {
          p11_kit_module_release (list[i]);
          continue;
        }

      module = _tessera_module_new (name, path, TRUE);
      _tessera_module_set_functions (module, list[i], TRUE);
      if (!_tessera_module_initialize (module, &error))
        _tessera_module_set_error (module, error);
      g_clear_error (&error);
      g_ptr_array_add (modules, module);
    }
  free (list);

  if (only == NULL)
    add_unloaded_configured_modules (modules, names);

  return modules;
}

static int
compare_strings (const void *a,
                 const void *b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* Whether a module config names its module by a remote: line only (a
 * module that p11-kit itself runs elsewhere). */
static gboolean
config_is_remote_only (const char *config_path)
{
  g_autofree char *contents = NULL;
  gboolean remote = FALSE, module = FALSE;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (config_path, &contents, NULL, NULL))
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = g_strstrip (lines[i]);

      remote |= g_str_has_prefix (line, "remote:");
      module |= g_str_has_prefix (line, "module:");
    }
  return remote && !module;
}

/*
 * The registered modules, each in its own process: the module files come
 * from p11-kit's config directories, read here rather than by p11-kit,
 * which would load every module into Tessera to say where it is.  A later
 * directory overrides an earlier one, as in p11-kit (the user's own only
 * when not root).  Modules that p11-kit runs remotely itself stay with
 * p11-kit.
 */
static GPtrArray *
load_registered_modules_isolated (void)
{
  g_autofree char *user_dir = g_build_filename (g_get_user_config_dir (), "pkcs11", "modules", NULL);
  const char *dirs[] = { P11_PACKAGE_CONFIG_MODULES, P11_SYSTEM_CONFIG_MODULES,
                         getuid () != 0 ? user_dir : NULL };
  g_autoptr(GHashTable) files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) remote = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree const char **names = NULL;
  GPtrArray *modules = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint d = 0; d < G_N_ELEMENTS (dirs); d++)
    {
      g_autoptr(GDir) dir = dirs[d] ? g_dir_open (dirs[d], 0, NULL) : NULL;
      const char *entry;

      while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *config_path = NULL;
          char *name;
          char *file;

          if (!g_str_has_suffix (entry, ".module"))
            continue;

          name = g_strndup (entry, strlen (entry) - strlen (".module"));
          config_path = g_build_filename (dirs[d], entry, NULL);
          file = configured_module_file (config_path);
          g_hash_table_remove (remote, name);
          if (file != NULL)
            g_hash_table_replace (files, name, file);
          else if (g_hash_table_remove (files, name), config_is_remote_only (config_path))
            g_hash_table_add (remote, name);
          else
            g_free (name);
        }
    }

  names = (const char **) g_hash_table_get_keys_as_array (files, NULL);
  qsort (names, g_hash_table_size (files), sizeof (char *), compare_strings);
  for (guint i = 0; names[i] != NULL; i++)
    g_ptr_array_add (modules, _tessera_module_new (names[i], g_hash_table_lookup (files, names[i]), TRUE));

  if (g_hash_table_size (remote) > 0)
    {
      g_autoptr(GPtrArray) remote_modules = load_registered_modules_in_process (remote);

      for (guint i = 0; i < remote_modules->len; i++)
        g_ptr_array_add (modules, g_object_ref (g_ptr_array_index (remote_modules, i)));
    }

  return modules;
}

/* Worker thread: which modules there are.  Each is loaded and scanned on
 * its own thread afterwards (in-process registered modules excepted: p11-kit
 * loads those all at once here). */
typedef struct
{
  char     **paths;
  gboolean   in_process;
  gboolean   host_server_missing; /* out */
} Listing;

static void
listing_free (Listing *listing)
{
  g_strfreev (listing->paths);
  g_free (listing);
}

/* Whether @st is the socket P11_KIT_SERVER_ADDRESS names */
static gboolean
is_default_server (const GStatBuf *st)
{
  const char *address = g_getenv ("P11_KIT_SERVER_ADDRESS");
  GStatBuf other;

  return address != NULL && g_str_has_prefix (address, "unix:path=") &&
         g_stat (address + strlen ("unix:path="), &other) == 0 &&
         other.st_dev == st->st_dev && other.st_ino == st->st_ino;
}

/* Worker thread: in a sandbox, the module that stands for the host's
 * p11-kit server, when its socket is there; @missing when it is not.
 * Flatpak's own server, which serves only p11-kit-trust, is not it:
 * Flatpak puts it in /run/flatpak/p11-kit, links $XDG_RUNTIME_DIR/p11-kit
 * there when nothing else is at that path, and (some versions) names it
 * in P11_KIT_SERVER_ADDRESS. */
static TesseraModule *
host_server_module_new (gboolean *missing)
{
  g_autofree char *socket_path = _tessera_sandbox_host_server_path ();
  g_autofree char *real = NULL;
  GStatBuf st;

  *missing = FALSE;
  if (socket_path == NULL)
    return NULL;
  if (g_stat (socket_path, &st) != 0 || !S_ISSOCK (st.st_mode))
    {
      g_debug ("In a sandbox, and no p11-kit server socket at %s", socket_path);
      *missing = TRUE;
      return NULL;
    }
  real = realpath (socket_path, NULL);
  if ((real != NULL && g_str_has_prefix (real, "/run/flatpak/")) || is_default_server (&st))
    {
      g_debug ("In a sandbox: %s is Flatpak's own p11-kit server (%s), not the host's",
               socket_path, real != NULL ? real : "P11_KIT_SERVER_ADDRESS");
      *missing = TRUE;
      return NULL;
    }
  g_debug ("In a sandbox: the host's p11-kit server at %s", socket_path);
  return _tessera_module_new_for_host_server (socket_path);
}

static void
list_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Listing *listing = task_data;
  GPtrArray *modules;

  if (listing->paths == NULL && !listing->in_process)
    {
      modules = load_registered_modules_isolated ();
    }
  else if (listing->paths == NULL)
    {
      modules = load_registered_modules_in_process (NULL);
    }
  else
    {
      modules = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; listing->paths[i] != NULL; i++)
        g_ptr_array_add (modules, module_new_for_path (listing->paths[i]));
    }

  /* In a Flatpak, the host's p11-kit server goes with the registered ones */
  if (listing->paths == NULL)
    {
      TesseraModule *host_server = host_server_module_new (&listing->host_server_missing);

      if (host_server != NULL)
        g_ptr_array_add (modules, host_server);
    }

  for (guint i = 0; i < modules->len; i++)
    {
      _tessera_module_set_order (g_ptr_array_index (modules, i), i);
      _tessera_module_set_in_process (g_ptr_array_index (modules, i), listing->in_process);
    }

  g_task_return_pointer (task, modules, (GDestroyNotify) g_ptr_array_unref);
}

/* Worker thread: each module loaded, unless it is already, and scanned,
 * one after the other: for a refresh, and for modules loaded into this
 * process, as modules that share a library may not survive initialising
 * side by side. */
static void
load_and_scan_each_thread (GTask        *task,
                           gpointer      source_object,
                           gpointer      task_data,
                           GCancellable *cancellable)
{
  GPtrArray *modules = task_data;
  GPtrArray *scans = g_ptr_array_new_with_free_func ((GDestroyNotify) scan_free);

  for (guint i = 0; i < modules->len; i++)
    {
      load_module_file (g_ptr_array_index (modules, i));
      g_ptr_array_add (scans, scan_module (g_ptr_array_index (modules, i)));
    }
  g_task_return_pointer (task, scans, (GDestroyNotify) g_ptr_array_unref);
}

/* Worker thread: one module, loaded and scanned. */
static void
load_and_scan_thread (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  TesseraModule *module = task_data;
  GPtrArray *scans = g_ptr_array_new_with_free_func ((GDestroyNotify) scan_free);

  load_module_file (module);
  g_ptr_array_add (scans, scan_module (module));
  g_task_return_pointer (task, scans, (GDestroyNotify) g_ptr_array_unref);
}

/* Main context: reconciling ------------------------------------------------ */

static gboolean
entry_matches_token (const SlotEntry *entry,
                     TesseraToken    *token)
{
  if (!_tessera_token_same_identity (token, &entry->token_info))
    return FALSE;

  /* Blank tokens all look alike: their slot tells them apart. */
  if (!(entry->token_info.flags & CKF_TOKEN_INITIALIZED))
    return tessera_token_get_slot_id (token) == entry->slot_id;

  return TRUE;
}

static guint
module_position (TesseraRegistry *self,
                 TesseraModule   *module)
{
  guint position;

  if (!g_list_store_find (self->modules, module, &position))
    return G_MAXUINT;
  return position;
}

/* Where a new token of @module goes: after the tokens of its module and of
 * every module before it, so the list stays grouped by module. */
static guint
insert_position (TesseraRegistry *self,
                 TesseraModule   *module)
{
  guint module_index = module_position (self, module);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->tokens));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (G_LIST_MODEL (self->tokens), i);

      if (module_position (self, tessera_token_get_module (token)) > module_index)
        return i;
    }

  return n;
}

/* A failed scan leaves the tokens as they are: one bad C_GetSlotList
 * is no reason to drop a card.  Its error shows on the module. */
static void
reconcile (TesseraRegistry *self,
           Scan            *scan)
{
  GListModel *tokens = G_LIST_MODEL (self->tokens);
  g_autofree gboolean *used = NULL;
  guint n_slots;

  if (scan->error != NULL)
    {
      _tessera_module_set_error (scan->module, scan->error);

      /* A module whose process stopped took its sessions with it: its
       * tokens come back when it is reloaded.  (Known from the worker that
       * scanned: the main context never waits on a module's process.) */
      if (scan->stopped)
        {
          for (guint i = g_list_model_get_n_items (tokens); i > 0; i--)
            {
              g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i - 1);

              if (tessera_token_get_module (token) != scan->module)
                continue;
              _tessera_token_mark_removed (token);
              g_list_store_remove (self->tokens, i - 1);
            }
        }
      return;
    }
  if (scan->slots == NULL)
    return;

  /* The module answers again: an earlier failed scan is over. */
  if (tessera_module_get_error (scan->module) != NULL)
    _tessera_module_set_error (scan->module, NULL);

  n_slots = scan->slots->len;

  used = g_new0 (gboolean, MAX (n_slots, 1));

  for (guint i = g_list_model_get_n_items (tokens); i > 0; i--)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i - 1);
      gboolean found = FALSE;
      guint n_slots_to_try;

      if (tessera_token_get_module (token) != scan->module)
        continue;

      /* A token object that saw its card go stays gone; if the card is
       * back, it comes back as a new token, with no stale session. */
      if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_REMOVED))
        n_slots_to_try = 0;
      else
        n_slots_to_try = n_slots;

      for (guint s = 0; s < n_slots_to_try && !found; s++)
        {
          SlotEntry *entry = &g_array_index (scan->slots, SlotEntry, s);

          if (used[s] || !entry_matches_token (entry, token))
            continue;

          used[s] = found = TRUE;
          _tessera_token_update_info (token, entry->slot_id, &entry->token_info);
        }

      if (!found)
        {
          g_debug ("Token %s is gone", tessera_token_get_uri (token));
          _tessera_token_mark_removed (token);
          g_list_store_remove (self->tokens, i - 1);
        }
    }

  for (guint s = 0; s < n_slots; s++)
    {
      SlotEntry *entry = &g_array_index (scan->slots, SlotEntry, s);
      g_autoptr(TesseraToken) token = NULL;

      if (used[s])
        continue;

      token = _tessera_token_new (scan->module, entry->slot_id, &entry->token_info);
      g_debug ("Token %s appeared", tessera_token_get_uri (token));
      g_list_store_insert (self->tokens, insert_position (self, scan->module), token);
    }
}

/* Modules keep the order they were listed in, whichever loads first. */
static void
add_module_in_order (TesseraRegistry *self,
                     TesseraModule   *module)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->modules));
  guint order = _tessera_module_get_order (module);
  guint position = n;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraModule) other = g_list_model_get_item (G_LIST_MODEL (self->modules), i);

      if (_tessera_module_get_order (other) > order)
        {
          position = i;
          break;
        }
    }
  g_list_store_insert (self->modules, position, module);
}

static void
add_modules_and_reconcile (TesseraRegistry *self,
                           GPtrArray       *scans)
{
  for (guint i = 0; i < scans->len; i++)
    {
      Scan *scan = g_ptr_array_index (scans, i);

      if (!g_list_store_find (self->modules, scan->module, NULL))
        {
          add_module_in_order (self, scan->module);
          if (self->monitoring)
            monitor_start (self, scan->module);
        }
      reconcile (self, scan);
    }
}

typedef struct
{
  GTask *outer;
  guint  pending;
} Loading;

static void
loading_step_done (Loading *loading)
{
  TesseraRegistry *self = g_task_get_source_object (loading->outer);

  if (--loading->pending > 0)
    return;

  self->loading = FALSE;
  self->loaded = TRUE;
  g_task_return_boolean (loading->outer, TRUE);
  g_object_unref (loading->outer);
  g_free (loading);
}

/* Main context: one module is loaded and scanned; its tokens show now,
 * whatever the other modules are doing. */
static void
module_loaded (GObject      *source_object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Loading *loading = user_data;
  TesseraRegistry *self = g_task_get_source_object (loading->outer);
  g_autoptr(GPtrArray) scans = g_task_propagate_pointer (G_TASK (result), NULL);

  if (scans != NULL && self->modules != NULL)
    add_modules_and_reconcile (self, scans);
  loading_step_done (loading);
}

static void
load_done (GObject      *source_object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) outer = user_data;
  TesseraRegistry *self = g_task_get_source_object (outer);
  g_autoptr(GPtrArray) modules = NULL;
  g_autoptr(GError) error = NULL;
  Loading *loading;

  modules = g_task_propagate_pointer (G_TASK (result), &error);
  if (modules == NULL)
    {
      self->loading = FALSE;
      g_task_return_error (outer, g_steal_pointer (&error));
      return;
    }
  self->host_server_missing = ((Listing *) g_task_get_task_data (G_TASK (result)))->host_server_missing;

  loading = g_new0 (Loading, 1);
  loading->outer = g_steal_pointer (&outer);

  if (self->in_process)
    {
      g_autoptr(GTask) task = g_task_new (NULL, g_task_get_cancellable (loading->outer),
                                          module_loaded, loading);

      loading->pending = 1;
      g_task_set_source_tag (task, tessera_registry_load_async);
      g_task_set_task_data (task, g_ptr_array_ref (modules), (GDestroyNotify) g_ptr_array_unref);
      g_task_run_in_thread (task, load_and_scan_each_thread);
      return;
    }

  /* One step per module, and one for this list, so that no module
   * finishes the load before every one has started. */
  loading->pending = modules->len + 1;

  for (guint i = 0; i < modules->len; i++)
    {
      g_autoptr(GTask) task = g_task_new (NULL, g_task_get_cancellable (loading->outer),
                                          module_loaded, loading);

      g_task_set_source_tag (task, tessera_registry_load_async);
      g_task_set_task_data (task, g_object_ref (g_ptr_array_index (modules, i)), g_object_unref);
      g_task_run_in_thread (task, load_and_scan_thread);
    }
  loading_step_done (loading);
}

/**
 * tessera_registry_load_async:
 *
 * Loads and initialises the modules and lists their tokens.  A module
 * that fails keeps its error (tessera_module_get_error()); the others
 * load on, so this only fails when cancelled.
 */
void
tessera_registry_load_async (TesseraRegistry     *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) outer = NULL;
  g_autoptr(GTask) inner = NULL;

  g_return_if_fail (TESSERA_IS_REGISTRY (self));

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, tessera_registry_load_async);

  if (self->loaded)
    {
      g_task_return_boolean (outer, TRUE);
      return;
    }
  if (self->loading)
    {
      g_task_return_new_error (outer, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "The registry is already loading");
      return;
    }
  self->loading = TRUE;

  inner = g_task_new (NULL, cancellable, load_done, g_steal_pointer (&outer));
  g_task_set_source_tag (inner, tessera_registry_load_async);
  {
    Listing *listing = g_new0 (Listing, 1);

    listing->paths = g_strdupv (self->paths);
    listing->in_process = self->in_process;
    g_task_set_task_data (inner, listing, (GDestroyNotify) listing_free);
  }
  g_task_run_in_thread (inner, list_thread);
}

gboolean
tessera_registry_load_finish (TesseraRegistry  *self,
                              GAsyncResult     *result,
                              GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Adding and removing modules ----------------------------------------------- */

static void
add_module_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  Listing *listing = task_data;
  GPtrArray *scans = g_ptr_array_new_with_free_func ((GDestroyNotify) scan_free);
  g_autoptr(TesseraModule) module = module_new_for_path (listing->paths[0]);

  _tessera_module_set_order (module, G_MAXUINT);
  _tessera_module_set_in_process (module, listing->in_process);
  load_module_file (module);
  g_ptr_array_add (scans, scan_module (module));
  g_task_return_pointer (task, scans, (GDestroyNotify) g_ptr_array_unref);
}

static void
add_module_done (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) outer = user_data;
  TesseraRegistry *self = g_task_get_source_object (outer);
  g_autoptr(GPtrArray) scans = NULL;
  g_autoptr(GError) error = NULL;
  Scan *scan;

  scans = g_task_propagate_pointer (G_TASK (result), &error);
  if (scans == NULL)
    {
      g_task_return_error (outer, g_steal_pointer (&error));
      return;
    }

  add_modules_and_reconcile (self, scans);
  scan = g_ptr_array_index (scans, 0);
  g_task_return_pointer (outer, g_object_ref (scan->module), g_object_unref);
}

static TesseraModule *
find_module_by_path (TesseraRegistry *self,
                     const char      *path)
{
  g_autofree char *real = realpath (path, NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->modules));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraModule) module = g_list_model_get_item (G_LIST_MODEL (self->modules), i);
      const char *module_path = tessera_module_get_path (module);
      g_autofree char *module_real = module_path ? realpath (module_path, NULL) : NULL;

      if (g_strcmp0 (module_path, path) == 0 ||
          (real != NULL && g_strcmp0 (real, module_real) == 0))
        return module;
    }

  return NULL;
}

/**
 * tessera_registry_add_module_async:
 * @path: the module file
 *
 * Loads a module the user chose.  A module that cannot load is still
 * added, with its error; adding a module that is already loaded fails.
 */
void
tessera_registry_add_module_async (TesseraRegistry     *self,
                                   const char          *path,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) outer = NULL;
  g_autoptr(GTask) inner = NULL;
  TesseraModule *existing;

  g_return_if_fail (TESSERA_IS_REGISTRY (self));
  g_return_if_fail (path != NULL);

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, tessera_registry_add_module_async);

  existing = find_module_by_path (self, path);
  if (existing != NULL)
    {
      g_task_return_new_error (outer, G_IO_ERROR, G_IO_ERROR_EXISTS,
                               _("The module %s is already loaded as “%s”."),
                               path, tessera_module_get_name (existing));
      return;
    }

  inner = g_task_new (NULL, cancellable, add_module_done, g_steal_pointer (&outer));
  g_task_set_source_tag (inner, tessera_registry_add_module_async);
  {
    Listing *listing = g_new0 (Listing, 1);

    listing->paths = g_new0 (char *, 2);
    listing->paths[0] = g_strdup (path);
    listing->in_process = self->in_process;
    g_task_set_task_data (inner, listing, (GDestroyNotify) listing_free);
  }
  g_task_run_in_thread (inner, add_module_thread);
}

/**
 * tessera_registry_add_module_finish:
 *
 * Returns: (transfer full): the module, which may carry a load error
 */
TesseraModule *
tessera_registry_add_module_finish (TesseraRegistry  *self,
                                    GAsyncResult     *result,
                                    GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
stop_monitor_for (TesseraRegistry *self,
                  TesseraModule   *module)
{
  for (guint i = 0; i < self->monitors->len; i++)
    {
      Monitor *monitor = g_ptr_array_index (self->monitors, i);

      if (*(TesseraModule **) monitor == module)
        {
          monitor_stop (monitor);
          g_ptr_array_remove_index (self->monitors, i);
          return;
        }
    }
}

/* Reloading a module ----------------------------------------------------------- */

static void
reload_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  TesseraModule *module = task_data;
  GPtrArray *scans = g_ptr_array_new_with_free_func ((GDestroyNotify) scan_free);
  GError *error = NULL;

  _tessera_module_finalize (module);
  if (!_tessera_module_initialize (module, &error))
    {
      g_ptr_array_unref (scans);
      g_task_return_error (task, error);
      return;
    }

  g_ptr_array_add (scans, scan_module (module));
  g_task_return_pointer (task, scans, (GDestroyNotify) g_ptr_array_unref);
}

static void
reload_done (GObject      *source_object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) outer = user_data;
  TesseraRegistry *self = g_task_get_source_object (outer);
  TesseraModule *module = g_task_get_task_data (G_TASK (result));
  g_autoptr(GPtrArray) scans = NULL;
  GError *error = NULL;

  scans = g_task_propagate_pointer (G_TASK (result), &error);
  if (scans == NULL)
    {
      _tessera_module_set_error (module, error);
      g_task_return_error (outer, error);
      return;
    }

  /* Every token of the module is new: sessions and handles died with the
   * old initialisation. */
  for (guint i = g_list_model_get_n_items (G_LIST_MODEL (self->tokens)); i > 0; i--)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (G_LIST_MODEL (self->tokens), i - 1);

      if (tessera_token_get_module (token) == module)
        {
          _tessera_token_mark_removed (token);
          g_list_store_remove (self->tokens, i - 1);
        }
    }
  reconcile (self, g_ptr_array_index (scans, 0));

  if (self->monitoring)
    monitor_start (self, module);
  g_task_return_boolean (outer, TRUE);
}

/**
 * tessera_registry_reload_module_async:
 *
 * Finalises and initialises a module again, for a module that reads its
 * configuration only then (SoftHSM), and lists its tokens anew.
 */
void
tessera_registry_reload_module_async (TesseraRegistry     *self,
                                      TesseraModule       *module,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) outer = NULL;
  g_autoptr(GTask) inner = NULL;

  g_return_if_fail (TESSERA_IS_REGISTRY (self));
  g_return_if_fail (TESSERA_IS_MODULE (module));

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, tessera_registry_reload_module_async);

  stop_monitor_for (self, module);

  inner = g_task_new (NULL, cancellable, reload_done, g_steal_pointer (&outer));
  g_task_set_source_tag (inner, tessera_registry_reload_module_async);
  g_task_set_task_data (inner, g_object_ref (module), g_object_unref);
  g_task_run_in_thread (inner, reload_thread);
}

gboolean
tessera_registry_reload_module_finish (TesseraRegistry  *self,
                                       GAsyncResult     *result,
                                       GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * tessera_registry_remove_module:
 *
 * Forgets a module the user added, with its tokens.  Modules registered
 * with p11-kit cannot be removed here.
 */
void
tessera_registry_remove_module (TesseraRegistry *self,
                                TesseraModule   *module)
{
  guint position;
  Scan empty = { module, NULL, NULL };

  g_return_if_fail (TESSERA_IS_REGISTRY (self));
  g_return_if_fail (TESSERA_IS_MODULE (module));
  g_return_if_fail (!tessera_module_get_registered (module));

  if (!g_list_store_find (self->modules, module, &position))
    return;

  empty.slots = g_array_new (FALSE, TRUE, sizeof (SlotEntry));
  reconcile (self, &empty);
  g_array_unref (empty.slots);

  stop_monitor_for (self, module);
  g_list_store_remove (self->modules, position);
}

/* Refreshing ---------------------------------------------------------------- */


static void
refresh_done (GObject      *source_object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) outer = user_data;
  TesseraRegistry *self = g_task_get_source_object (outer);
  g_autoptr(GPtrArray) scans = NULL;
  g_autoptr(GError) error = NULL;

  scans = g_task_propagate_pointer (G_TASK (result), &error);
  if (scans == NULL)
    {
      g_task_return_error (outer, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < scans->len; i++)
    {
      Scan *scan = g_ptr_array_index (scans, i);

      /* The module may have been removed meanwhile. */
      if (g_list_store_find (self->modules, scan->module, NULL))
        reconcile (self, scan);
    }
  g_task_return_boolean (outer, TRUE);
}

/**
 * tessera_registry_refresh_async:
 *
 * Lists every module's tokens again, for example after a token was
 * initialised.  Monitoring does this by itself for insertions and
 * removals.
 */
void
tessera_registry_refresh_async (TesseraRegistry     *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) outer = NULL;
  g_autoptr(GTask) inner = NULL;
  GPtrArray *modules = g_ptr_array_new_with_free_func (g_object_unref);
  guint n;

  g_return_if_fail (TESSERA_IS_REGISTRY (self));

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, tessera_registry_refresh_async);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->modules));
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (modules, g_list_model_get_item (G_LIST_MODEL (self->modules), i));

  inner = g_task_new (NULL, cancellable, refresh_done, g_steal_pointer (&outer));
  g_task_set_source_tag (inner, tessera_registry_refresh_async);
  g_task_set_task_data (inner, modules, (GDestroyNotify) g_ptr_array_unref);
  g_task_run_in_thread (inner, load_and_scan_each_thread);
}

gboolean
tessera_registry_refresh_finish (TesseraRegistry  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Monitoring ---------------------------------------------------------------- */

/* The registry as the monitors know it: a weak reference in a box that
 * the monitor and its pending updates share, so that a strong reference
 * is only ever taken on the main context. */
typedef struct
{
  gatomicrefcount ref;
  GWeakRef        registry;
} RegistryBox;

static RegistryBox *
registry_box_ref (RegistryBox *box)
{
  g_atomic_ref_count_inc (&box->ref);
  return box;
}

static void
registry_box_unref (RegistryBox *box)
{
  if (g_atomic_ref_count_dec (&box->ref))
    {
      g_weak_ref_clear (&box->registry);
      g_free (box);
    }
}

struct _Monitor
{
  TesseraModule    *module;      /* first: remove_module() looks at it */
  RegistryBox      *box;
  GMainContext     *context;
  GThread          *thread;
  GMutex            lock;
  GCond             cond;
  gboolean          stopping;
  gboolean          waiting;     /* the thread waits in C_WaitForSlotEvent */
  guint             interval_ms;
  GArray           *last;
};

typedef struct
{
  RegistryBox *box;
  Scan        *scan;
  gboolean     waits;
} MonitorUpdate;

static void
monitor_update_free (MonitorUpdate *update)
{
  registry_box_unref (update->box);
  scan_free (update->scan);
  g_free (update);
}

static gboolean
monitor_update_apply (gpointer user_data)
{
  MonitorUpdate *update = user_data;
  g_autoptr(TesseraRegistry) self = g_weak_ref_get (&update->box->registry);

  if (self == NULL || !g_list_store_find (self->modules, update->scan->module, NULL))
    return G_SOURCE_REMOVE;

  if (update->scan->error == NULL)
    _tessera_module_set_waits_for_events (update->scan->module, update->waits);
  reconcile (self, update->scan);

  return G_SOURCE_REMOVE;
}

/* Only what identifies a token and its state: counters such as the
 * number of open sessions change all the time and mean nothing here. */
static gboolean
slots_equal (GArray *a,
             GArray *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  if (a->len != b->len)
    return FALSE;

  for (guint i = 0; i < a->len; i++)
    {
      const SlotEntry *x = &g_array_index (a, SlotEntry, i);
      const SlotEntry *y = &g_array_index (b, SlotEntry, i);

      if (x->slot_id != y->slot_id ||
          x->token_info.flags != y->token_info.flags ||
          memcmp (x->token_info.label, y->token_info.label, sizeof x->token_info.label) != 0 ||
          memcmp (x->token_info.serialNumber, y->token_info.serialNumber,
                  sizeof x->token_info.serialNumber) != 0)
        return FALSE;
    }

  return TRUE;
}

static void
monitor_post (Monitor  *monitor,
              GArray   *slots,
              gboolean  waits)
{
  MonitorUpdate *update = g_new0 (MonitorUpdate, 1);

  update->box = registry_box_ref (monitor->box);
  update->scan = g_new0 (Scan, 1);
  update->scan->module = g_object_ref (monitor->module);
  update->scan->slots = g_array_ref (slots);
  update->waits = waits;

  g_main_context_invoke_full (monitor->context, G_PRIORITY_DEFAULT,
                              monitor_update_apply, update,
                              (GDestroyNotify) monitor_update_free);
}

static void
monitor_post_error (Monitor      *monitor,
                    const GError *error)
{
  MonitorUpdate *update = g_new0 (MonitorUpdate, 1);

  update->box = registry_box_ref (monitor->box);
  update->scan = g_new0 (Scan, 1);
  update->scan->module = g_object_ref (monitor->module);
  update->scan->error = g_error_copy (error);
  update->scan->stopped = TRUE;

  g_main_context_invoke_full (monitor->context, G_PRIORITY_DEFAULT,
                              monitor_update_apply, update,
                              (GDestroyNotify) monitor_update_free);
}

static gboolean
monitor_is_stopping (Monitor *monitor)
{
  gboolean stopping;

  g_mutex_lock (&monitor->lock);
  stopping = monitor->stopping;
  g_mutex_unlock (&monitor->lock);

  return stopping;
}

static void
monitor_set_waiting (Monitor  *monitor,
                     gboolean  waiting)
{
  g_mutex_lock (&monitor->lock);
  monitor->waiting = waiting;
  g_mutex_unlock (&monitor->lock);
}

/* Returns FALSE once the module is finalised. */
static gboolean
monitor_rescan (Monitor  *monitor,
                gboolean  waits,
                gboolean  always_post)
{
  g_autoptr(GError) error = NULL;
  CK_FUNCTION_LIST *functions;
  gboolean call_failed = FALSE;
  GArray *slots;

  functions = _tessera_module_begin (monitor->module);
  if (functions == NULL)
    return FALSE;
  slots = _tessera_module_scan_slots (monitor->module, functions, &call_failed, &error);
  _tessera_module_end (monitor->module);

  if (slots != NULL && call_failed && _tessera_module_has_failed (monitor->module))
    {
      g_clear_pointer (&slots, g_array_unref);
      g_set_error_literal (&error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                           _("A token of the module could not be read."));
    }

  if (slots == NULL)
    {
      g_debug ("Rescanning %s failed: %s", tessera_module_get_name (monitor->module), error->message);
      if (_tessera_module_explain_failure (monitor->module, &error))
        {
          monitor_post_error (monitor, error);
          return FALSE;
        }
      return TRUE;
    }

  if (always_post || !slots_equal (monitor->last, slots))
    monitor_post (monitor, slots, waits);

  g_clear_pointer (&monitor->last, g_array_unref);
  monitor->last = slots;
  return TRUE;
}

/* Waits one poll interval; returns FALSE when the monitor stops. */
static gboolean
monitor_sleep (Monitor *monitor)
{
  gint64 until = g_get_monotonic_time () + monitor->interval_ms * G_TIME_SPAN_MILLISECOND;

  g_mutex_lock (&monitor->lock);
  while (!monitor->stopping && g_cond_wait_until (&monitor->cond, &monitor->lock, until))
    ;
  g_mutex_unlock (&monitor->lock);

  return !monitor_is_stopping (monitor);
}

/* Asks for slot events without blocking, and drains the ones queued up:
 * one rescan sees them all.  Returns CKR_OK when there was one. */
static CK_RV
monitor_next_events (Monitor *monitor)
{
  CK_FUNCTION_LIST *functions;
  CK_SLOT_ID slot;
  CK_RV rv, first = CKR_CRYPTOKI_NOT_INITIALIZED;

  for (guint i = 0; i < 64; i++)
    {
      functions = _tessera_module_begin (monitor->module);
      if (functions == NULL)
        break;
      rv = functions->C_WaitForSlotEvent (CKF_DONT_BLOCK, &slot, NULL);
      _tessera_module_end (monitor->module);

      if (i == 0)
        first = rv;
      if (rv != CKR_OK)
        break;
    }
  return first;
}

static gpointer
monitor_thread (gpointer user_data)
{
  Monitor *monitor = user_data;
  CK_FUNCTION_LIST *functions;
  gboolean waits;
  CK_SLOT_ID slot;
  CK_RV rv;

  /* Learn whether the module reports events at all, without blocking. */
  functions = _tessera_module_begin (monitor->module);
  if (functions == NULL)
    return NULL;
  rv = functions->C_WaitForSlotEvent (CKF_DONT_BLOCK, &slot, NULL);
  _tessera_module_end (monitor->module);

  waits = rv == CKR_OK || rv == CKR_NO_EVENT;
  g_debug ("Monitoring %s by %s", tessera_module_get_name (monitor->module),
           waits ? "C_WaitForSlotEvent" : "polling");
  if (!monitor_rescan (monitor, waits, TRUE))
    return NULL;

  while (!monitor_is_stopping (monitor))
    {
      /* Isolated modules, and the host's p11-kit server, answer one call
       * at a time */
      if (waits && !tessera_module_get_isolated (monitor->module) &&
          _tessera_module_get_host_server (monitor->module) == NULL)
        {
          /* Not under the module's lock: this blocks until an event, or
           * until C_Finalize, which the lock would hold off. */
          monitor_set_waiting (monitor, TRUE);
          if (monitor_is_stopping (monitor))
            break;
          rv = _tessera_module_peek_functions (monitor->module)->C_WaitForSlotEvent (0, &slot, NULL);
          monitor_set_waiting (monitor, FALSE);

          if (monitor_is_stopping (monitor) || rv == CKR_CRYPTOKI_NOT_INITIALIZED)
            break;
        }
      else
        {
          if (!monitor_sleep (monitor))
            break;
          if (!waits)
            {
              if (!monitor_rescan (monitor, FALSE, FALSE))
                break;
              continue;
            }

          /* A module's process answers one call at a time, so a blocking
           * C_WaitForSlotEvent would hold up every other call: ask it
           * for events without blocking, once per interval. */
          rv = monitor_next_events (monitor);
          if (rv == CKR_NO_EVENT)
            continue;
          if (rv == CKR_CRYPTOKI_NOT_INITIALIZED)
            break;
        }

      if (rv == CKR_OK)
        {
          if (!monitor_rescan (monitor, TRUE, FALSE))
            break;
          continue;
        }

      g_debug ("C_WaitForSlotEvent on %s: %s; polling instead",
               tessera_module_get_name (monitor->module), _tessera_ck_rv_name (rv));
      waits = FALSE;
      if (!monitor_rescan (monitor, FALSE, TRUE))
        break;
    }

  return NULL;
}

static void
monitor_start (TesseraRegistry *self,
               TesseraModule   *module)
{
  Monitor *monitor;

  if (!tessera_module_get_loaded (module))
    return;

  monitor = g_new0 (Monitor, 1);
  monitor->module = g_object_ref (module);
  monitor->box = g_new0 (RegistryBox, 1);
  g_atomic_ref_count_init (&monitor->box->ref);
  g_weak_ref_init (&monitor->box->registry, self);
  monitor->context = g_main_context_ref (self->context);
  monitor->interval_ms = self->poll_interval_ms;
  g_mutex_init (&monitor->lock);
  g_cond_init (&monitor->cond);
  monitor->thread = g_thread_new ("tessera-monitor", monitor_thread, monitor);

  g_ptr_array_add (self->monitors, monitor);
}

static gboolean
monitor_runs_here (Monitor *monitor)
{
  return monitor->thread == g_thread_self ();
}

/* Stops and frees a monitor.  A thread blocked in C_WaitForSlotEvent
 * returns only when its module is finalised, so this finalises it too. */
static void
monitor_stop (Monitor *monitor)
{
  gboolean waiting;

  g_mutex_lock (&monitor->lock);
  monitor->stopping = TRUE;
  waiting = monitor->waiting;
  g_cond_signal (&monitor->cond);
  g_mutex_unlock (&monitor->lock);

  if (waiting)
    _tessera_module_finalize (monitor->module);

  g_thread_join (monitor->thread);

  g_clear_pointer (&monitor->last, g_array_unref);
  registry_box_unref (monitor->box);
  g_main_context_unref (monitor->context);
  g_mutex_clear (&monitor->lock);
  g_cond_clear (&monitor->cond);
  g_object_unref (monitor->module);
  g_free (monitor);
}

/**
 * tessera_registry_start_monitoring:
 *
 * Follows card insertion, removal and token changes from now on, each
 * module on its own thread.  Changes reach the token list in the main
 * context the registry was created in.
 */
void
tessera_registry_start_monitoring (TesseraRegistry *self)
{
  guint n;

  g_return_if_fail (TESSERA_IS_REGISTRY (self));

  if (self->monitoring)
    return;
  self->monitoring = TRUE;

  n = g_list_model_get_n_items (G_LIST_MODEL (self->modules));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraModule) module = g_list_model_get_item (G_LIST_MODEL (self->modules), i);
      monitor_start (self, module);
    }
}

/**
 * tessera_registry_set_in_process:
 * @in_process: %TRUE to load modules into this process
 *
 * Every module runs in a tessera-module-host process of its own unless
 * this is set before tessera_registry_load_async() (or the environment
 * has TESSERA_IN_PROCESS_MODULES=1): for benchmarks, debugging, and
 * tests that change a module's state from their own process.
 */
void
tessera_registry_set_in_process (TesseraRegistry *self,
                                 gboolean         in_process)
{
  g_return_if_fail (TESSERA_IS_REGISTRY (self));
  g_return_if_fail (!self->loading && !self->loaded);

  self->in_process = !!in_process;
  if (!self->in_process)
    _tessera_module_prepare_isolation ();
}

/**
 * tessera_registry_set_poll_interval:
 *
 * Sets how often modules without C_WaitForSlotEvent are polled; takes
 * effect for monitors started afterwards.
 */
void
tessera_registry_set_poll_interval (TesseraRegistry *self,
                                    guint            milliseconds)
{
  g_return_if_fail (TESSERA_IS_REGISTRY (self));
  self->poll_interval_ms = MAX (milliseconds, 50);
}

/**
 * tessera_registry_get_modules:
 *
 * Returns: (transfer none): a #GListModel of #TesseraModule
 */
GListModel *
tessera_registry_get_modules (TesseraRegistry *self)
{
  g_return_val_if_fail (TESSERA_IS_REGISTRY (self), NULL);
  return G_LIST_MODEL (self->modules);
}

/**
 * tessera_registry_get_tokens:
 *
 * Returns: (transfer none): a #GListModel of #TesseraToken, grouped by
 *   module
 */
GListModel *
tessera_registry_get_tokens (TesseraRegistry *self)
{
  g_return_val_if_fail (TESSERA_IS_REGISTRY (self), NULL);
  return G_LIST_MODEL (self->tokens);
}

/**
 * tessera_registry_find_initialized_token:
 * @self: a #TesseraRegistry
 * @module: (nullable): the module to look in, or %NULL for all
 * @label: the label the token was given
 * @serial: (nullable): the serial number the token had, or %NULL
 *
 * Finds a token just initialized with @label: its slot may now show a
 * token of another serial number (SoftHSM gives each new token one), so
 * the one with @serial is preferred, and otherwise the last initialized
 * token with that label.  A label names no token for sure: callers use
 * this only right after initializing, to follow the token they made.
 *
 * Returns: (transfer none) (nullable): the token, or %NULL
 */
TesseraToken *
tessera_registry_find_initialized_token (TesseraRegistry *self,
                                         TesseraModule   *module,
                                         const char      *label,
                                         const char      *serial)
{
  GListModel *tokens;
  guint n;
  TesseraToken *found = NULL;

  g_return_val_if_fail (TESSERA_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (label != NULL, NULL);

  tokens = tessera_registry_get_tokens (self);
  n = g_list_model_get_n_items (tokens);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i);

      if (module != NULL && tessera_token_get_module (token) != module)
        continue;
      if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
        continue;
      if (g_strcmp0 (tessera_token_get_label (token), label) != 0)
        continue;

      if (serial != NULL && serial[0] != '\0' &&
          g_strcmp0 (tessera_token_get_serial (token), serial) == 0)
        return token;
      found = token;
    }

  return found;
}

/**
 * tessera_registry_get_host_server_hint:
 *
 * Inside a Flatpak, the host's tokens come through the host's p11-kit
 * server.  When its socket was missing as the registry loaded, this says
 * how to start it, for the empty state and the command line.
 *
 * Returns: (nullable): a translated hint, or %NULL outside a sandbox,
 *   when the server's socket was there, or before the registry loaded
 */
const char *
tessera_registry_get_host_server_hint (TesseraRegistry *self)
{
  g_return_val_if_fail (TESSERA_IS_REGISTRY (self), NULL);

  if (!self->host_server_missing)
    return NULL;
  return _("Tessera runs in a sandbox, and the tokens of your computer reach it through p11-kit’s "
           "server, which is not running. To start it, run “systemctl --user enable --now "
           "p11-kit-server.socket” on your computer, then open Tessera again.");
}

static gsize
trimmed_length (const CK_UTF8CHAR *chars,
                gsize              length)
{
  while (length > 0 && (chars[length - 1] == ' ' || chars[length - 1] == '\0'))
    length--;
  return length;
}

/*
 * A text field of a URI against the token's.  p11-kit leaves a field the
 * URI does not name zeroed, and pads one it names with spaces; its own
 * p11_kit_uri_match_token_info() then compares all the bytes, so a field
 * the module pads with NULs (tpm2-pkcs11's model) matches no URI without
 * those NULs.  Compare the trimmed text, as the token's URI carries it.
 */
static gboolean
field_matches (const CK_UTF8CHAR *in_uri,
               const CK_UTF8CHAR *on_token,
               gsize              length)
{
  gsize uri_length;

  if (in_uri[0] == '\0')
    return TRUE;

  uri_length = trimmed_length (in_uri, length);
  return uri_length == trimmed_length (on_token, length) &&
         memcmp (in_uri, on_token, uri_length) == 0;
}

gboolean
_tessera_uri_matches_token_info (P11KitUri           *uri,
                                 const CK_TOKEN_INFO *token_info)
{
  const CK_TOKEN_INFO *wanted = p11_kit_uri_get_token_info (uri);

  /* As p11-kit does: a URI with attributes it does not know matches nothing */
  if (p11_kit_uri_any_unrecognized (uri))
    return FALSE;

  return field_matches (wanted->label, token_info->label, sizeof wanted->label) &&
         field_matches (wanted->manufacturerID, token_info->manufacturerID,
                        sizeof wanted->manufacturerID) &&
         field_matches (wanted->model, token_info->model, sizeof wanted->model) &&
         field_matches (wanted->serialNumber, token_info->serialNumber,
                        sizeof wanted->serialNumber);
}

/**
 * tessera_registry_match_tokens:
 * @uri: a PKCS#11 URI
 *
 * A URI may match several tokens: two cards of one model, every token of
 * a TPM (they share serial and model), or a URI that names only a
 * manufacturer.  Commands that act on "the" token must refuse when more
 * than one matches.
 *
 * Text fields match when they are equal without their padding, so the
 * token's own URI (built from the trimmed fields) and a URI that spells
 * out a module's NUL padding both match it.
 *
 * Returns: (transfer container) (element-type TesseraToken) (nullable):
 *   every token @uri matches, in the registry's order, or %NULL when @uri
 *   is not a PKCS#11 URI
 */
GPtrArray *
tessera_registry_match_tokens (TesseraRegistry *self,
                               const char      *uri)
{
  P11KitUri *parsed;
  GPtrArray *matches;
  CK_ULONG slot_id;
  guint n;

  g_return_val_if_fail (TESSERA_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  parsed = p11_kit_uri_new ();
  if (p11_kit_uri_parse (uri, P11_KIT_URI_FOR_ANY, parsed) != P11_KIT_URI_OK)
    {
      p11_kit_uri_free (parsed);
      return NULL;
    }

  matches = g_ptr_array_new_with_free_func (g_object_unref);
  slot_id = p11_kit_uri_get_slot_id (parsed);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->tokens));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (G_LIST_MODEL (self->tokens), i);

      if (_tessera_uri_matches_token_info (parsed, _tessera_token_peek_info (token)) &&
          (slot_id == (CK_ULONG) -1 || slot_id == tessera_token_get_slot_id (token)))
        g_ptr_array_add (matches, g_object_ref (token));
    }

  p11_kit_uri_free (parsed);
  return matches;
}

/**
 * tessera_registry_lookup_token:
 * @uri: a PKCS#11 URI
 *
 * Returns: (transfer none) (nullable): the one token @uri matches, or
 *   %NULL when it matches none, or several (see
 *   tessera_registry_match_tokens())
 */
TesseraToken *
tessera_registry_lookup_token (TesseraRegistry *self,
                               const char      *uri)
{
  g_autoptr(GPtrArray) matches = NULL;

  g_return_val_if_fail (TESSERA_IS_REGISTRY (self), NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  matches = tessera_registry_match_tokens (self, uri);
  if (matches == NULL || matches->len != 1)
    return NULL;
  /* The registry's list holds its own reference */
  return g_ptr_array_index (matches, 0);
}
