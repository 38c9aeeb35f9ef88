/* tessera-module.c: one PKCS#11 module
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <stdlib.h>

#include <glib/gi18n-lib.h>

#include "tessera-private.h"

/*
 * A TesseraModule is created on a worker thread, filled in there while
 * the module loads, and only read afterwards, so its fields need no lock.
 * The function list is used from worker threads only.
 */
struct _TesseraModule
{
  GObject           parent_instance;

  char             *name;
  char             *path;
  char             *host_path;   /* computed once; NULL: none, or not yet */
  gboolean          host_path_known;
  char             *description;
  char             *manufacturer;
  char             *version;
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

static void
tessera_module_finalize (GObject *object)
{
  TesseraModule *self = (TesseraModule *) object;

  _tessera_module_finalize (self);
  if (self->functions != NULL)
    p11_kit_module_release (self->functions);
  self->functions = NULL;
  g_rw_lock_clear (&self->lock);

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->host_path, g_free);
  g_clear_pointer (&self->description, g_free);
  g_clear_pointer (&self->manufacturer, g_free);
  g_clear_pointer (&self->version, g_free);
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
CK_FUNCTION_LIST *
_tessera_module_begin (TesseraModule *self)
{
  g_rw_lock_reader_lock (&self->lock);
  if (self->initialized)
    return self->functions;

  g_rw_lock_reader_unlock (&self->lock);
  return NULL;
}

void
_tessera_module_end (TesseraModule *self)
{
  g_rw_lock_reader_unlock (&self->lock);
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
 * module initialisation can take seconds (OpenSC talks to pcscd).
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
      _tessera_module_set_error (self, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  self->initialized = TRUE;

  rv = self->functions->C_GetInfo (&info);
  if (rv == CKR_OK)
    {
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
