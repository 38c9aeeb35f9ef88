/* tessera-application.c: the application, its registry and settings
 *
 * Tessera has one registry of modules and tokens for all its windows.  The
 * application creates it, loads it once at startup, adds the modules the
 * user chose in Preferences and then keeps it live.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-application.h"
#include "tessera-error-dialog.h"
#include "tessera-preferences-window.h"
#include "tessera-window.h"

#define TESSERA_WEBSITE   "https://tessera.app/"
#define TESSERA_ISSUE_URL "https://tessera.app/issues/"

struct _TesseraApplication
{
  AdwApplication   parent_instance;

  /* owned references */
  GSettings       *settings;
  TesseraRegistry *registry;
  TesseraAgent    *agent;
  TesseraAgentSync *agent_sync;
  GCancellable    *cancellable;
  GError          *load_error;

  /* weak */
  TesseraPreferencesWindow *preferences;

  guint            loading : 1;
  guint            private_modules : 1;
};

G_DEFINE_FINAL_TYPE (TesseraApplication, tessera_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_LOADING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

TesseraApplication *
tessera_application_new (void)
{
  return g_object_new (TESSERA_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "resource-base-path", RESOURCE_BASE_PATH,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       NULL);
}

/* TESSERA_MODULES, when set, replaces the modules registered with p11-kit
 * by a private list (colon-separated paths).  An empty value means no
 * module at all, which is how the tests reach the empty state. */
static TesseraRegistry *
create_registry (gboolean *private_modules)
{
  const char *env = g_getenv ("TESSERA_MODULES");
  g_auto(GStrv) parts = NULL;
  g_autoptr(GPtrArray) paths = NULL;

  if (env == NULL)
    {
      *private_modules = FALSE;
      return tessera_registry_new ();
    }

  *private_modules = TRUE;
  paths = g_ptr_array_new ();
  parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] != '\0')
        g_ptr_array_add (paths, parts[i]);
    }
  g_ptr_array_add (paths, NULL);

  g_debug ("Using %u module(s) from TESSERA_MODULES", paths->len - 1);

  return tessera_registry_new_for_module_paths ((const char * const *) paths->pdata);
}

static gboolean
registry_has_module_path (TesseraRegistry *registry,
                          const char      *path)
{
  GListModel *modules = tessera_registry_get_modules (registry);
  guint n = g_list_model_get_n_items (modules);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraModule) module = g_list_model_get_item (modules, i);

      if (g_strcmp0 (tessera_module_get_path (module), path) == 0)
        return TRUE;
    }

  return FALSE;
}

static void
on_user_module_added (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(TesseraApplication) self = user_data;
  g_autoptr(TesseraModule) module = NULL;
  g_autoptr(GError) error = NULL;

  module = tessera_registry_add_module_finish (TESSERA_REGISTRY (object), result, &error);
  if (module == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not load a module from Preferences: %s", error->message);
}

static void
add_user_modules (TesseraApplication *self)
{
  g_auto(GStrv) paths = g_settings_get_strv (self->settings, "module-paths");

  for (guint i = 0; paths[i] != NULL; i++)
    {
      if (registry_has_module_path (self->registry, paths[i]))
        continue;

      tessera_registry_add_module_async (self->registry, paths[i], self->cancellable,
                                         on_user_module_added, g_object_ref (self));
    }
}

static void
on_registry_loaded (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(TesseraApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_registry_load_finish (TESSERA_REGISTRY (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      g_warning ("Could not load PKCS#11 modules: %s", error->message);
      g_clear_error (&self->load_error);
      self->load_error = g_steal_pointer (&error);
    }
  else
    {
      /* With TESSERA_MODULES the module list is private and complete */
      if (!self->private_modules)
        add_user_modules (self);

      tessera_registry_start_monitoring (self->registry);
    }

  self->loading = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

/* Closes the application's windows of one kind: its main windows, or the
 * others.  The list changes as windows close, so work on a copy that keeps
 * each window alive until all of them were asked to close. */
static void
close_windows (TesseraApplication *self,
               gboolean            main_windows)
{
  GList *windows = NULL;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l != NULL; l = l->next)
    {
      if (TESSERA_IS_WINDOW (l->data) == main_windows)
        windows = g_list_prepend (windows, g_object_ref (l->data));
    }

  for (GList *l = windows; l != NULL; l = l->next)
    {
      /* See close_transient_windows() in tessera-window.c */
      if (!main_windows)
        gtk_window_set_transient_for (l->data, NULL);
      gtk_window_close (l->data);
    }

  g_list_free_full (windows, g_object_unref);
}

static void
tessera_application_quit_action (GSimpleAction *action,
                                 GVariant      *parameter,
                                 gpointer       user_data)
{
  TesseraApplication *self = user_data;

  /* Dialogs first, while the windows they belong to still exist; then
   * the main windows, which save their state and cancel their work */
  close_windows (self, FALSE);
  close_windows (self, TRUE);

  g_application_quit (G_APPLICATION (self));
}

static void
tessera_application_about_action (GSimpleAction *action,
                                  GVariant      *parameter,
                                  gpointer       user_data)
{
  TesseraApplication *self = user_data;
  static const char *developers[] = { "The Tessera developers", NULL };
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", window,
                        "modal", TRUE,
                        "application-name", _("Tessera"),
                        "application-icon", APPLICATION_ID,
                        "developer-name", _("The Tessera developers"),
                        "developers", developers,
                        "version", PACKAGE_VERSION,
                        "website", TESSERA_WEBSITE,
                        "issue-url", TESSERA_ISSUE_URL,
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "copyright", _("© The Tessera developers"),
                        /* Translators: put your names here, one per line */
                        "translator-credits", _("translator-credits"),
                        "comments", _("Make a smart card, security key or software token "
                                      "ready for SSH and keep it manageable"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
tessera_application_preferences_action (GSimpleAction *action,
                                        GVariant      *parameter,
                                        gpointer       user_data)
{
  tessera_application_show_preferences (user_data, NULL, FALSE);
}

static void
tessera_application_add_module_action (GSimpleAction *action,
                                       GVariant      *parameter,
                                       gpointer       user_data)
{
  tessera_application_show_preferences (user_data, "modules", TRUE);
}

static void
tessera_application_help_action (GSimpleAction *action,
                                 GVariant      *parameter,
                                 gpointer       user_data)
{
  TesseraApplication *self = user_data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  tessera_show_help (window, NULL);
}

static void
tessera_application_create_software_token_action (GSimpleAction *action,
                                                  GVariant      *parameter,
                                                  gpointer       user_data)
{
  TesseraApplication *self = user_data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  /* The active window may be a dialog: the token joins a main window */
  if (!TESSERA_IS_WINDOW (window))
    {
      window = NULL;
      for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
        if (TESSERA_IS_WINDOW (l->data))
          {
            window = l->data;
            break;
          }
    }

  if (window != NULL)
    gtk_widget_activate_action (GTK_WIDGET (window), "win.create-software-token", NULL);
}

static const GActionEntry app_actions[] = {
  { "quit", tessera_application_quit_action },
  { "about", tessera_application_about_action },
  { "preferences", tessera_application_preferences_action },
  { "add-module", tessera_application_add_module_action },
  { "help", tessera_application_help_action },
  { "create-software-token", tessera_application_create_software_token_action },
};

static const struct {
  const char *action;
  const char *accels[2];
} app_accels[] = {
  { "app.quit", { "<Primary>q", NULL } },
  { "app.preferences", { "<Primary>comma", NULL } },
  { "app.help", { "F1", NULL } },
  { "win.refresh", { "F5", NULL } },
};

static void
tessera_application_startup (GApplication *application)
{
  TesseraApplication *self = TESSERA_APPLICATION (application);
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  gboolean private_modules = FALSE;

  G_APPLICATION_CLASS (tessera_application_parent_class)->startup (application);

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, TESSERA_SCHEMA_ID, TRUE);
  if (schema == NULL)
    g_error ("The GSettings schema %s is not installed. Install Tessera, or point "
             "GSETTINGS_SCHEMA_DIR at the build's data directory.", TESSERA_SCHEMA_ID);

  self->settings = g_settings_new (TESSERA_SCHEMA_ID);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self),
                                                                            "create-software-token")),
                               tessera_software_token_available ());
  for (guint i = 0; i < G_N_ELEMENTS (app_accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self),
                                           app_accels[i].action,
                                           app_accels[i].accels);

  self->registry = create_registry (&private_modules);
  self->private_modules = private_modules;
  self->loading = TRUE;

  /* One agent and one sync for all windows: a pulled card leaves the
   * agent once, and its toast shows once, in the active window */
  self->agent = tessera_agent_new (NULL);
  self->agent_sync = tessera_agent_sync_new (self->registry, self->agent);
  tessera_registry_load_async (self->registry, self->cancellable,
                               on_registry_loaded, g_object_ref (self));
}

static void
tessera_application_activate (GApplication *application)
{
  TesseraApplication *self = TESSERA_APPLICATION (application);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (tessera_window_new (self));

  gtk_window_present (window);
}

static void
tessera_application_shutdown (GApplication *application)
{
  TesseraApplication *self = TESSERA_APPLICATION (application);

  g_cancellable_cancel (self->cancellable);

  G_APPLICATION_CLASS (tessera_application_parent_class)->shutdown (application);
}

static void
tessera_application_dispose (GObject *object)
{
  TesseraApplication *self = TESSERA_APPLICATION (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_weak_pointer (&self->preferences);

  G_OBJECT_CLASS (tessera_application_parent_class)->dispose (object);
}

static void
tessera_application_finalize (GObject *object)
{
  TesseraApplication *self = TESSERA_APPLICATION (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->agent_sync);
  g_clear_object (&self->agent);
  g_clear_object (&self->registry);
  g_clear_object (&self->cancellable);
  g_clear_error (&self->load_error);

  G_OBJECT_CLASS (tessera_application_parent_class)->finalize (object);
}

static void
tessera_application_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  TesseraApplication *self = TESSERA_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_application_class_init (TesseraApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = tessera_application_dispose;
  object_class->finalize = tessera_application_finalize;
  object_class->get_property = tessera_application_get_property;

  app_class->startup = tessera_application_startup;
  app_class->activate = tessera_application_activate;
  app_class->shutdown = tessera_application_shutdown;

  /**
   * TesseraApplication:loading:
   *
   * Whether the registry is still loading its modules and tokens.
   */
  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL,
                          TRUE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tessera_application_init (TesseraApplication *self)
{
  self->cancellable = g_cancellable_new ();
  self->loading = TRUE;
}

TesseraRegistry *
tessera_application_get_registry (TesseraApplication *self)
{
  g_return_val_if_fail (TESSERA_IS_APPLICATION (self), NULL);

  return self->registry;
}

GSettings *
tessera_application_get_settings (TesseraApplication *self)
{
  g_return_val_if_fail (TESSERA_IS_APPLICATION (self), NULL);

  return self->settings;
}

TesseraAgent *
tessera_application_get_agent (TesseraApplication *self)
{
  g_return_val_if_fail (TESSERA_IS_APPLICATION (self), NULL);

  return self->agent;
}

TesseraAgentSync *
tessera_application_get_agent_sync (TesseraApplication *self)
{
  g_return_val_if_fail (TESSERA_IS_APPLICATION (self), NULL);

  return self->agent_sync;
}

gboolean
tessera_application_get_loading (TesseraApplication *self)
{
  g_return_val_if_fail (TESSERA_IS_APPLICATION (self), FALSE);

  return self->loading;
}

const GError *
tessera_application_get_load_error (TesseraApplication *self)
{
  g_return_val_if_fail (TESSERA_IS_APPLICATION (self), NULL);

  return self->load_error;
}

gboolean
tessera_application_get_private_modules (TesseraApplication *self)
{
  g_return_val_if_fail (TESSERA_IS_APPLICATION (self), FALSE);

  return self->private_modules;
}

/**
 * tessera_application_show_preferences:
 * @self: a #TesseraApplication
 * @page_name: (nullable): the page to show, "modules" or "general"
 * @add_module: whether to ask for a module file right away
 *
 * Presents the preferences window, creating it if needed.
 */
void
tessera_application_show_preferences (TesseraApplication *self,
                                      const char         *page_name,
                                      gboolean            add_module)
{
  GtkWindow *parent;

  g_return_if_fail (TESSERA_IS_APPLICATION (self));

  if (self->preferences == NULL)
    {
      parent = gtk_application_get_active_window (GTK_APPLICATION (self));
      g_set_weak_pointer (&self->preferences,
                          tessera_preferences_window_new (self->registry, self->settings, parent));
      /* So that the application's shortcuts (Ctrl+Q) work there too */
      gtk_window_set_application (GTK_WINDOW (self->preferences), GTK_APPLICATION (self));
    }

  if (page_name != NULL)
    adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (self->preferences),
                                                  page_name);

  gtk_window_present (GTK_WINDOW (self->preferences));

  if (add_module)
    tessera_preferences_window_choose_module (self->preferences);
}
