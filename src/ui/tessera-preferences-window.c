/* tessera-preferences-window.c: modules, PINs and agent defaults
 *
 * The modules page lists the modules p11-kit registers for the whole
 * system, read-only with their status, and the modules the user added for
 * Tessera, which are kept in the "module-paths" setting.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-forget-pins-row.h"
#include "tessera-preferences-window.h"

struct _TesseraPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  /* template widgets */
  AdwPreferencesGroup  *user_group;
  AdwPreferencesGroup  *system_group;
  GtkWidget            *add_module_button;
  GtkSwitch            *remember_pins_switch;
  AdwComboRow          *lifetime_row;
  GtkStringList        *lifetime_model;
  GtkSwitch            *confirm_switch;

  /* widgets made in code */
  GPtrArray            *module_rows;

  /* owned references */
  TesseraRegistry      *registry;
  GSettings            *settings;
  GCancellable         *cancellable;
  GtkFileChooserNative *chooser;
  GArray               *lifetimes;

  guint                 updating_lifetime : 1;
};

G_DEFINE_FINAL_TYPE (TesseraPreferencesWindow, tessera_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

enum {
  PROP_0,
  PROP_REGISTRY,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const guint lifetime_presets[] = { 0, 5 * 60, 15 * 60, 60 * 60, 4 * 60 * 60, 8 * 60 * 60, 24 * 60 * 60 };

static char *
describe_lifetime (guint seconds)
{
  if (seconds == 0)
    return g_strdup (C_("key lifetime", "No limit"));

  if (seconds % (24 * 60 * 60) == 0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u day", "%u days", seconds / 86400),
                            seconds / 86400);

  if (seconds % (60 * 60) == 0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u hour", "%u hours", seconds / 3600),
                            seconds / 3600);

  if (seconds % 60 == 0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u minute", "%u minutes", seconds / 60),
                            seconds / 60);

  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u second", "%u seconds", seconds),
                          seconds);
}

static void
show_error_dialog (TesseraPreferencesWindow *self,
                   const char               *heading,
                   const char               *body)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Modules */

static const char *
module_display_name (TesseraModule *module)
{
  return tessera_module_get_display_name (module);
}

static TesseraModule *
find_module (TesseraPreferencesWindow *self,
             const char               *path)
{
  GListModel *modules = tessera_registry_get_modules (self->registry);
  guint n = g_list_model_get_n_items (modules);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraModule) module = g_list_model_get_item (modules, i);

      if (g_strcmp0 (tessera_module_get_path (module), path) == 0)
        return module;
    }

  return NULL;
}

static void
on_remove_module_clicked (GtkButton                *button,
                          TesseraPreferencesWindow *self)
{
  const char *path = g_object_get_data (G_OBJECT (button), "tessera-path");
  g_auto(GStrv) paths = g_settings_get_strv (self->settings, "module-paths");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) new_paths = NULL;
  TesseraModule *module;

  g_debug ("Removing module %s", path);

  module = find_module (self, path);
  if (module != NULL)
    tessera_registry_remove_module (self->registry, module);

  for (guint i = 0; paths[i] != NULL; i++)
    {
      if (g_strcmp0 (paths[i], path) != 0)
        g_strv_builder_add (builder, paths[i]);
    }
  new_paths = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "module-paths", (const char * const *) new_paths);
}

static GtkWidget *
create_module_row (TesseraPreferencesWindow *self,
                   TesseraModule            *module,
                   const char               *path,
                   gboolean                  removable)
{
  GtkWidget *row = adw_action_row_new ();
  const GError *error = module ? tessera_module_get_error (module) : NULL;
  g_autofree char *basename = g_path_get_basename (path);
  g_autofree char *subtitle = NULL;
  const char *title = module ? module_display_name (module) : basename;
  const char *status;
  const char *icon_name;

  if (error != NULL)
    {
      status = error->message;
      icon_name = "dialog-error-symbolic";
    }
  else if (module != NULL && tessera_module_get_loaded (module))
    {
      status = C_("module status", "Loaded");
      icon_name = "emblem-ok-symbolic";
    }
  else
    {
      status = C_("module status", "Not loaded");
      icon_name = "dialog-information-symbolic";
    }

  subtitle = g_strdup_printf ("%s\n%s", path, status);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_icon_name (ADW_ACTION_ROW (row), icon_name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle,
                                  -1);

  if (removable)
    {
      GtkWidget *button = gtk_button_new_from_icon_name ("user-trash-symbolic");
      /* Translators: accessible label of a button, %s is a module name */
      g_autofree char *label = g_strdup_printf (_("Remove module %s"), title);

      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, _("Remove Module"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                      -1);
      g_object_set_data_full (G_OBJECT (button), "tessera-path", g_strdup (path), g_free);
      g_signal_connect_object (button, "clicked",
                               G_CALLBACK (on_remove_module_clicked), self, 0);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
    }

  return row;
}

static void
add_module_row (TesseraPreferencesWindow *self,
                AdwPreferencesGroup      *group,
                GtkWidget                *row)
{
  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->module_rows, row);
}

static void
rebuild_module_rows (TesseraPreferencesWindow *self)
{
  GListModel *modules = tessera_registry_get_modules (self->registry);
  g_auto(GStrv) paths = g_settings_get_strv (self->settings, "module-paths");
  guint n = g_list_model_get_n_items (modules);
  guint n_user = 0, n_system = 0;

  for (guint i = 0; i < self->module_rows->len; i++)
    {
      GtkWidget *row = g_ptr_array_index (self->module_rows, i);
      GtkWidget *group = gtk_widget_get_ancestor (row, ADW_TYPE_PREFERENCES_GROUP);

      adw_preferences_group_remove (ADW_PREFERENCES_GROUP (group), row);
    }
  g_ptr_array_set_size (self->module_rows, 0);

  /* The user's modules, in the order they were added */
  for (guint i = 0; paths[i] != NULL; i++)
    {
      add_module_row (self, self->user_group,
                      create_module_row (self, find_module (self, paths[i]), paths[i], TRUE));
      n_user++;
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraModule) module = g_list_model_get_item (modules, i);
      const char *path = tessera_module_get_path (module);

      if (tessera_module_get_registered (module))
        {
          add_module_row (self, self->system_group,
                          create_module_row (self, module, path, FALSE));
          n_system++;
        }
      else if (!g_strv_contains ((const char * const *) paths, path))
        {
          /* Loaded for this run only, from TESSERA_MODULES */
          add_module_row (self, self->user_group,
                          create_module_row (self, module, path, TRUE));
          n_user++;
        }
    }

  if (n_user == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("No modules added"));
      gtk_widget_add_css_class (row, "dim-label");
      add_module_row (self, self->user_group, row);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->system_group), n_system > 0);
}

static void
on_modules_items_changed (GListModel               *model,
                          guint                     position,
                          guint                     removed,
                          guint                     added,
                          TesseraPreferencesWindow *self)
{
  rebuild_module_rows (self);
}

static void
on_module_paths_changed (GSettings                *settings,
                         const char               *key,
                         TesseraPreferencesWindow *self)
{
  rebuild_module_rows (self);
}

typedef struct
{
  TesseraPreferencesWindow *self;
  char                     *path;
} AddModuleData;

static void
add_module_data_free (AddModuleData *data)
{
  g_clear_object (&data->self);
  g_free (data->path);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AddModuleData, add_module_data_free)

static void
on_module_added (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(AddModuleData) data = user_data;
  TesseraPreferencesWindow *self = data->self;
  g_autoptr(TesseraModule) module = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) new_paths = NULL;

  module = tessera_registry_add_module_finish (TESSERA_REGISTRY (object), result, &error);

  /* The window is gone: touch nothing */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (self->cancellable))
    return;

  gtk_widget_set_sensitive (self->add_module_button, TRUE);

  if (module == NULL)
    {
      g_debug ("Could not add module %s: %s", data->path, error->message);
      show_error_dialog (self, _("Could Not Add the Module"), error->message);
      return;
    }

  /* Keep only modules that load, so that a wrong file is not retried at every start */
  paths = g_settings_get_strv (self->settings, "module-paths");
  if (g_strv_contains ((const char * const *) paths, data->path))
    return;

  builder = g_strv_builder_new ();
  g_strv_builder_addv (builder, (const char **) paths);
  g_strv_builder_add (builder, data->path);
  new_paths = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "module-paths", (const char * const *) new_paths);

  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                    adw_toast_new (_("Module added")));
}

static void
tessera_preferences_window_add_path (TesseraPreferencesWindow *self,
                                     const char               *path)
{
  g_auto(GStrv) paths = g_settings_get_strv (self->settings, "module-paths");
  AddModuleData *data;

  if (g_strv_contains ((const char * const *) paths, path) || find_module (self, path) != NULL)
    {
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                        adw_toast_new (_("This module is already loaded")));
      return;
    }

  data = g_new0 (AddModuleData, 1);
  data->self = g_object_ref (self);
  data->path = g_strdup (path);

  gtk_widget_set_sensitive (self->add_module_button, FALSE);
  tessera_registry_add_module_async (self->registry, path, self->cancellable,
                                     on_module_added, data);
}

static void
on_chooser_response (GtkNativeDialog          *chooser,
                     int                       response,
                     TesseraPreferencesWindow *self)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      path = file ? g_file_get_path (file) : NULL;
    }

  gtk_native_dialog_destroy (chooser);
  g_clear_object (&self->chooser);

  if (path != NULL)
    tessera_preferences_window_add_path (self, path);
}

/**
 * tessera_preferences_window_choose_module:
 * @self: a #TesseraPreferencesWindow
 *
 * Asks for a module file and adds it.
 */
void
tessera_preferences_window_choose_module (TesseraPreferencesWindow *self)
{
  static const char * const module_folders[] = {
    "/usr/lib/x86_64-linux-gnu/pkcs11",
    "/usr/lib/aarch64-linux-gnu/pkcs11",
    "/usr/lib64/pkcs11",
    "/usr/lib/pkcs11",
  };
  g_autoptr(GtkFileFilter) filter = NULL;

  g_return_if_fail (TESSERA_IS_PREFERENCES_WINDOW (self));

  if (self->chooser != NULL)
    {
      gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
      return;
    }

  self->chooser = gtk_file_chooser_native_new (_("Add PKCS#11 Module"),
                                               GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN,
                                               _("_Add"),
                                               _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);

  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("PKCS#11 modules"));
  gtk_file_filter_add_pattern (filter, "*.so");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);

  /* Where distributions put PKCS#11 modules */
  for (guint i = 0; i < G_N_ELEMENTS (module_folders); i++)
    {
      g_autoptr(GFile) folder = g_file_new_for_path (module_folders[i]);

      if (g_file_query_exists (folder, NULL))
        {
          gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), folder, NULL);
          break;
        }
    }

  g_signal_connect_object (self->chooser, "response",
                           G_CALLBACK (on_chooser_response), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
add_module_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  tessera_preferences_window_choose_module (TESSERA_PREFERENCES_WINDOW (widget));
}

/* General */

static void
update_lifetime_row (TesseraPreferencesWindow *self)
{
  guint seconds = g_settings_get_uint (self->settings, "agent-lifetime");
  guint position = G_MAXUINT;

  for (guint i = 0; i < self->lifetimes->len; i++)
    {
      if (g_array_index (self->lifetimes, guint, i) == seconds)
        position = i;
    }

  /* A value set outside Tessera gets its own entry */
  if (position == G_MAXUINT)
    {
      g_autofree char *label = describe_lifetime (seconds);

      g_array_append_val (self->lifetimes, seconds);
      gtk_string_list_append (self->lifetime_model, label);
      position = self->lifetimes->len - 1;
    }

  self->updating_lifetime = TRUE;
  adw_combo_row_set_selected (self->lifetime_row, position);
  self->updating_lifetime = FALSE;
}

static void
on_lifetime_selected (TesseraPreferencesWindow *self)
{
  guint position = adw_combo_row_get_selected (self->lifetime_row);

  if (self->updating_lifetime || position >= self->lifetimes->len)
    return;

  g_settings_set_uint (self->settings, "agent-lifetime",
                       g_array_index (self->lifetimes, guint, position));
}

static void
on_lifetime_changed (GSettings                *settings,
                     const char               *key,
                     TesseraPreferencesWindow *self)
{
  update_lifetime_row (self);
}

/* GObject */

static void
tessera_preferences_window_constructed (GObject *object)
{
  TesseraPreferencesWindow *self = TESSERA_PREFERENCES_WINDOW (object);

  G_OBJECT_CLASS (tessera_preferences_window_parent_class)->constructed (object);

  g_assert (TESSERA_IS_REGISTRY (self->registry));
  g_assert (G_IS_SETTINGS (self->settings));

  g_settings_bind (self->settings, "remember-pins",
                   self->remember_pins_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "agent-confirm",
                   self->confirm_switch, "active", G_SETTINGS_BIND_DEFAULT);

  for (guint i = 0; i < G_N_ELEMENTS (lifetime_presets); i++)
    {
      g_autofree char *label = describe_lifetime (lifetime_presets[i]);

      g_array_append_val (self->lifetimes, lifetime_presets[i]);
      gtk_string_list_append (self->lifetime_model, label);
    }
  update_lifetime_row (self);

  g_signal_connect_object (self->settings, "changed::agent-lifetime",
                           G_CALLBACK (on_lifetime_changed), self, 0);
  g_signal_connect_object (self->settings, "changed::module-paths",
                           G_CALLBACK (on_module_paths_changed), self, 0);
  g_signal_connect_object (tessera_registry_get_modules (self->registry), "items-changed",
                           G_CALLBACK (on_modules_items_changed), self, 0);

  rebuild_module_rows (self);
}

static gboolean
tessera_preferences_window_close_request (GtkWindow *window)
{
  TesseraPreferencesWindow *self = TESSERA_PREFERENCES_WINDOW (window);

  g_cancellable_cancel (self->cancellable);

  return GTK_WINDOW_CLASS (tessera_preferences_window_parent_class)->close_request (window);
}

static void
tessera_preferences_window_dispose (GObject *object)
{
  TesseraPreferencesWindow *self = TESSERA_PREFERENCES_WINDOW (object);

  g_cancellable_cancel (self->cancellable);

  if (self->chooser != NULL)
    {
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_PREFERENCES_WINDOW);
  g_clear_pointer (&self->module_rows, g_ptr_array_unref);

  G_OBJECT_CLASS (tessera_preferences_window_parent_class)->dispose (object);
}

static void
tessera_preferences_window_finalize (GObject *object)
{
  TesseraPreferencesWindow *self = TESSERA_PREFERENCES_WINDOW (object);

  g_clear_object (&self->registry);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->lifetimes, g_array_unref);

  G_OBJECT_CLASS (tessera_preferences_window_parent_class)->finalize (object);
}

static void
tessera_preferences_window_get_property (GObject    *object,
                                         guint       prop_id,
                                         GValue     *value,
                                         GParamSpec *pspec)
{
  TesseraPreferencesWindow *self = TESSERA_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_REGISTRY:
      g_value_set_object (value, self->registry);
      break;

    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_preferences_window_set_property (GObject      *object,
                                         guint         prop_id,
                                         const GValue *value,
                                         GParamSpec   *pspec)
{
  TesseraPreferencesWindow *self = TESSERA_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_REGISTRY:
      self->registry = g_value_dup_object (value);
      break;

    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_preferences_window_class_init (TesseraPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = tessera_preferences_window_constructed;
  object_class->dispose = tessera_preferences_window_dispose;
  object_class->finalize = tessera_preferences_window_finalize;
  object_class->get_property = tessera_preferences_window_get_property;
  object_class->set_property = tessera_preferences_window_set_property;

  window_class->close_request = tessera_preferences_window_close_request;

  properties[PROP_REGISTRY] =
    g_param_spec_object ("registry", NULL, NULL,
                         TESSERA_TYPE_REGISTRY,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (TESSERA_TYPE_FORGET_PINS_ROW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraPreferencesWindow, user_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraPreferencesWindow, system_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraPreferencesWindow, add_module_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraPreferencesWindow, remember_pins_switch);
  gtk_widget_class_bind_template_child (widget_class, TesseraPreferencesWindow, lifetime_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraPreferencesWindow, lifetime_model);
  gtk_widget_class_bind_template_child (widget_class, TesseraPreferencesWindow, confirm_switch);
  gtk_widget_class_bind_template_callback (widget_class, on_lifetime_selected);

  gtk_widget_class_install_action (widget_class, "prefs.add-module", NULL, add_module_action);
}

static void
tessera_preferences_window_init (TesseraPreferencesWindow *self)
{
  self->cancellable = g_cancellable_new ();
  self->module_rows = g_ptr_array_new ();
  self->lifetimes = g_array_new (FALSE, FALSE, sizeof (guint));

  gtk_widget_init_template (GTK_WIDGET (self));
}

TesseraPreferencesWindow *
tessera_preferences_window_new (TesseraRegistry *registry,
                                GSettings       *settings,
                                GtkWindow       *parent)
{
  g_return_val_if_fail (TESSERA_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);

  return g_object_new (TESSERA_TYPE_PREFERENCES_WINDOW,
                       "registry", registry,
                       "settings", settings,
                       "transient-for", parent,
                       NULL);
}
