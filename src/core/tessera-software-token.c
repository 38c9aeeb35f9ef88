/* tessera-software-token.c: a SoftHSM token for the user
 *
 * SoftHSM reads $SOFTHSM2_CONF, else ~/.config/softhsm2/softhsm2.conf,
 * else /etc/softhsm/softhsm2.conf, whose token directory only root may
 * write.  Tessera writes the user's config only when it is missing, with
 * the tokens in the user's data directory, and never rewrites one; the
 * module reads its config when initialised, so it is then reloaded.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "tessera-private.h"
#include "tessera-software-token.h"
#include "tessera-token-lifecycle.h"

static const char *softhsm_paths[] = {
  "/usr/lib/softhsm/libsofthsm2.so",
  P11_MODULE_PATH "/libsofthsm2.so",
  "/usr/lib64/pkcs11/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
};

static const char *
softhsm_module_path (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (softhsm_paths); i++)
    if (g_file_test (softhsm_paths[i], G_FILE_TEST_EXISTS))
      return softhsm_paths[i];
  return NULL;
}

/**
 * tessera_software_token_available:
 *
 * Returns: whether SoftHSM's module is installed
 */
gboolean
tessera_software_token_available (void)
{
  return softhsm_module_path () != NULL;
}

/**
 * tessera_software_token_config_path:
 *
 * Returns: (transfer full): the SoftHSM config that SoftHSM will read for
 *   this user: $SOFTHSM2_CONF, or the one in ~/.config
 */
char *
tessera_software_token_config_path (void)
{
  const char *env = g_getenv ("SOFTHSM2_CONF");

  if (env != NULL && env[0] != '\0')
    return g_strdup (env);
  /* SoftHSM looks in $HOME, whatever XDG_CONFIG_HOME says. */
  return g_build_filename (g_get_home_dir (), ".config", "softhsm2", "softhsm2.conf", NULL);
}

typedef struct
{
  char          *label;
  char          *so_pin;
  char          *user_pin;
  TesseraModule *module;
  gboolean       config_written;
} Create;

static void
create_free (Create *create)
{
  g_free (create->label);
  tessera_pin_wipe (&create->so_pin);
  tessera_pin_wipe (&create->user_pin);
  g_clear_object (&create->module);
  g_free (create);
}

/* Worker thread: writes the config if, and only if, there is none. */
static void
config_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Create *create = task_data;
  g_autofree char *config = tessera_software_token_config_path ();
  g_autofree char *config_dir = g_path_get_dirname (config);
  g_autofree char *tokens = g_build_filename (g_get_user_data_dir (), "softhsm2", "tokens", NULL);
  g_autofree char *contents = NULL;
  GError *error = NULL;

  if (g_file_test (config, G_FILE_TEST_EXISTS))
    {
      g_debug ("Using the SoftHSM config %s as it is", config);
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (g_mkdir_with_parents (config_dir, 0700) != 0 || g_mkdir_with_parents (tokens, 0700) != 0)
    {
      int saved = errno;
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               _("Could not make the folders for the software token: %s"),
                               g_strerror (saved));
      return;
    }

  contents = g_strdup_printf ("# Written by Tessera for software tokens; yours to change.\n"
                              "directories.tokendir = %s\n"
                              "objectstore.backend = file\n"
                              "log.level = ERROR\n",
                              tokens);
  if (!g_file_set_contents (config, contents, -1, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  create->config_written = TRUE;
  g_task_return_boolean (task, TRUE);
}

static TesseraModule *
find_softhsm (TesseraRegistry *registry)
{
  GListModel *modules = tessera_registry_get_modules (registry);
  g_autofree char *wanted = realpath (softhsm_module_path (), NULL);

  for (guint i = 0; i < g_list_model_get_n_items (modules); i++)
    {
      g_autoptr(TesseraModule) module = g_list_model_get_item (modules, i);
      const char *path = tessera_module_get_path (module);
      g_autofree char *real = path ? realpath (path, NULL) : NULL;

      if (real != NULL && g_strcmp0 (real, wanted) == 0)
        return module;
    }
  return NULL;
}

static void create_initialized (GObject *source, GAsyncResult *result, gpointer user_data);
static void create_refreshed (GObject *source, GAsyncResult *result, gpointer user_data);

static void
create_initialize (GTask *task)
{
  TesseraRegistry *registry = g_task_get_source_object (task);
  Create *create = g_task_get_task_data (task);
  GListModel *tokens = tessera_registry_get_tokens (registry);

  for (guint i = 0; i < g_list_model_get_n_items (tokens); i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i);

      if (tessera_token_get_module (token) == create->module &&
          tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
        {
          tessera_token_initialize_async (token, create->so_pin, create->label, create->user_pin,
                                          g_task_get_cancellable (task), create_initialized, task);
          return;
        }
    }

  if (create->module != NULL && tessera_module_get_error (create->module) != NULL)
    g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                             _("SoftHSM could not start: %s"), tessera_module_get_error (create->module)->message);
  else
    g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                             _("SoftHSM offers no free slot for a new token."));
  g_object_unref (task);
}

static void
create_initialized (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  TesseraRegistry *registry = g_task_get_source_object (task);
  GError *error = NULL;

  if (!tessera_token_initialize_finish (TESSERA_TOKEN (source), result, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  /* SoftHSM moved the new token to a slot of its own, and opens a new
   * free slot only when initialised again. */
  tessera_registry_reload_module_async (registry, ((Create *) g_task_get_task_data (task))->module,
                                        g_task_get_cancellable (task), create_refreshed, task);
}

static void
create_refreshed (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  TesseraRegistry *registry = TESSERA_REGISTRY (source);
  Create *create = g_task_get_task_data (task);
  GListModel *tokens = tessera_registry_get_tokens (registry);
  GError *error = NULL;

  if (!tessera_registry_reload_module_finish (registry, result, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  for (guint i = 0; i < g_list_model_get_n_items (tokens); i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i);

      if (tessera_token_get_module (token) == create->module &&
          g_strcmp0 (tessera_token_get_label (token), create->label) == 0)
        {
          g_task_return_pointer (task, g_object_ref (token), g_object_unref);
          g_object_unref (task);
          return;
        }
    }

  g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                           _("The new token did not appear."));
  g_object_unref (task);
}

static void
create_module_ready (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GTask *task = user_data;
  TesseraRegistry *registry = TESSERA_REGISTRY (source);
  Create *create = g_task_get_task_data (task);
  GError *error = NULL;

  if (g_task_get_source_tag (G_TASK (result)) == tessera_registry_add_module_async)
    create->module = tessera_registry_add_module_finish (registry, result, &error);
  else
    tessera_registry_reload_module_finish (registry, result, &error);

  if (error != NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  create_initialize (task);
}

static void
create_configured (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  TesseraRegistry *registry = TESSERA_REGISTRY (source);
  Create *create = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  create->module = find_softhsm (registry);
  if (create->module == NULL)
    tessera_registry_add_module_async (registry, softhsm_module_path (), g_task_get_cancellable (task),
                                       create_module_ready, task);
  else if (create->config_written || tessera_module_get_error (create->module) != NULL)
    {
      g_object_ref (create->module);
      tessera_registry_reload_module_async (registry, create->module, g_task_get_cancellable (task),
                                            create_module_ready, task);
    }
  else
    {
      g_object_ref (create->module);
      create_initialize (task);
    }
}

/**
 * tessera_software_token_create_async:
 *
 * Makes a new SoftHSM token with a label, an SO PIN and a user PIN:
 * writes the user's SoftHSM config if there is none, loads or reloads the
 * module, and initialises its free slot.
 */
void
tessera_software_token_create_async (TesseraRegistry     *registry,
                                     const char          *label,
                                     const char          *so_pin,
                                     const char          *user_pin,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GTask *task = g_task_new (registry, cancellable, callback, user_data);
  g_autoptr(GTask) config = NULL;
  Create *create;

  g_task_set_source_tag (task, tessera_software_token_create_async);

  if (!tessera_software_token_available ())
    {
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_NOT_SUPPORTED,
                               _("SoftHSM is not installed. Install the softhsm2 package."));
      g_object_unref (task);
      return;
    }

  {
    GError *error = NULL;

    if (!tessera_check_label_text (label, &error) || !tessera_check_pin_text (so_pin, &error) ||
        !tessera_check_pin_text (user_pin, &error))
      {
        g_task_return_error (task, error);
        g_object_unref (task);
        return;
      }
  }

  create = g_new0 (Create, 1);
  create->label = g_strdup (label);
  create->so_pin = g_strdup (so_pin);
  create->user_pin = g_strdup (user_pin);
  g_task_set_task_data (task, create, (GDestroyNotify) create_free);

  config = g_task_new (registry, cancellable, create_configured, task);
  g_task_set_task_data (config, create, NULL);
  g_task_run_in_thread (config, config_thread);
}

/**
 * tessera_software_token_create_finish:
 *
 * Returns: (transfer full): the new token
 */
TesseraToken *
tessera_software_token_create_finish (TesseraRegistry  *registry,
                                      GAsyncResult     *result,
                                      GError          **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
