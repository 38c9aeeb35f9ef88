/* tessera-window.c: the main window
 *
 * A sidebar lists the tokens, grouped under the module that provides
 * them, and the modules that failed to load; the content shows the chosen
 * token, or explains why there is none.  On a narrow screen the leaflet
 * folds and shows one at a time.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-agent-dialog.h"
#include "tessera-key-details.h"
#include "tessera-software-token-dialog.h"
#include "tessera-token-details.h"
#include "tessera-setup-assistant.h"
#include "tessera-token-page.h"
#include "tessera-token-row.h"
#include "tessera-window.h"

struct _TesseraWindow
{
  AdwApplicationWindow  parent_instance;

  /* template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar_pane;
  GtkWidget            *sidebar_separator;
  GtkListBox           *sidebar_list;
  AdwLeaflet           *content_leaflet;
  AdwHeaderBar         *content_header;
  AdwWindowTitle       *content_title;
  GtkWidget            *back_button;
  GtkWidget            *content_menu_button;
  GtkStack             *content_stack;
  GtkSpinner           *loading_spinner;
  AdwStatusPage        *error_page;
  AdwStatusPage        *empty_page;
  char                 *empty_description;  /* the template's */
  AdwStatusPage        *module_error_page;
  AdwBin               *token_bin;
  AdwWindowTitle       *details_title;
  AdwBin               *details_bin;

  /* owned references */
  TesseraRegistry      *registry;
  TesseraAgentSync     *agent_sync;
  GSettings            *settings;
  GCancellable         *cancellable;
  GtkFilter            *failed_filter;
  GtkSorter            *module_sorter;
  GListModel           *sidebar_model;
  TesseraToken         *token;
  TesseraModule        *module;
  GBinding             *title_binding;

  guint                 sync_selection_id;
  guint                 sidebar_visible : 1;
  guint                 disposed : 1;
};

G_DEFINE_FINAL_TYPE (TesseraWindow, tessera_window, ADW_TYPE_APPLICATION_WINDOW)

static void update_content (TesseraWindow *self);
static void select_token (TesseraWindow *self,
                          TesseraToken  *token);
static void present_setup_assistant (TesseraWindow *self,
                                     TesseraToken  *token);

static TesseraApplication *
get_application (TesseraWindow *self)
{
  return TESSERA_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
}

static const char *
module_display_name (TesseraModule *module)
{
  return tessera_module_get_display_name (module);
}

/* What the sidebar calls a module that failed */
static const char *
module_failure_title (const GError *error)
{
  if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_CRASHED))
    return _("Module stopped working");
  if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_NOT_RESPONDING))
    return _("Module not responding");
  if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID))
    return _("Module gave invalid answers");
  return _("Module failed to load");
}

/* The sidebar model: tokens and failed modules, in module order */

static gboolean
module_failed (gpointer item,
               gpointer user_data)
{
  return tessera_module_get_error (TESSERA_MODULE (item)) != NULL;
}

static TesseraModule *
item_module (gpointer item)
{
  if (TESSERA_IS_TOKEN (item))
    return tessera_token_get_module (TESSERA_TOKEN (item));

  return TESSERA_MODULE (item);
}

static guint
module_position (TesseraWindow *self,
                 TesseraModule *module)
{
  GListModel *modules = tessera_registry_get_modules (self->registry);
  guint n = g_list_model_get_n_items (modules);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraModule) item = g_list_model_get_item (modules, i);

      if (item == module)
        return i;
    }

  return G_MAXUINT;
}

static int
compare_by_module (gconstpointer a,
                   gconstpointer b,
                   gpointer      user_data)
{
  TesseraWindow *self = user_data;
  guint pa = module_position (self, item_module ((gpointer) a));
  guint pb = module_position (self, item_module ((gpointer) b));

  if (pa != pb)
    return pa < pb ? -1 : 1;

  /* A failed module has no tokens; the sort is stable otherwise */
  return 0;
}

static void
on_token_row_set_up_for_ssh (TesseraTokenRow *row,
                             TesseraWindow   *self)
{
  present_setup_assistant (self, tessera_token_row_get_token (row));
}

static GtkWidget *
create_sidebar_row (gpointer item,
                    gpointer user_data)
{
  GtkWidget *row;
  TesseraModule *module;

  if (TESSERA_IS_TOKEN (item))
    {
      row = tessera_token_row_new (TESSERA_TOKEN (item));
      module = tessera_token_get_module (TESSERA_TOKEN (item));
      g_signal_connect_object (row, "set-up-for-ssh",
                               G_CALLBACK (on_token_row_set_up_for_ssh), user_data, 0);
    }
  else
    {
      const GError *error;
      GtkWidget *icon;

      module = TESSERA_MODULE (item);
      error = tessera_module_get_error (module);

      row = adw_action_row_new ();
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), module_failure_title (error));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), error ? error->message : "");
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 2);
      gtk_widget_add_css_class (row, "module-error");

      icon = gtk_image_new_from_icon_name ("dialog-error-symbolic");
      gtk_widget_add_css_class (icon, "module-error-icon");
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Error"),
                                      -1);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);

      gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                      error ? error->message : "",
                                      -1);
      g_object_set_data_full (G_OBJECT (row), "tessera-failed-module",
                              g_object_ref (module), g_object_unref);
    }

  g_object_set_data (G_OBJECT (row), "tessera-module", module);

  return row;
}

static void
update_sidebar_header (GtkListBoxRow *row,
                       GtkListBoxRow *before,
                       gpointer       user_data)
{
  TesseraModule *module = g_object_get_data (G_OBJECT (row), "tessera-module");
  TesseraModule *before_module = NULL;
  GtkWidget *header;

  if (before != NULL)
    before_module = g_object_get_data (G_OBJECT (before), "tessera-module");

  if (before != NULL && module == before_module)
    {
      gtk_list_box_row_set_header (row, NULL);
      return;
    }

  header = gtk_label_new (module ? module_display_name (module) : NULL);
  gtk_label_set_xalign (GTK_LABEL (header), 0);
  gtk_label_set_ellipsize (GTK_LABEL (header), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (header, "sidebar-module-header");
  if (before == NULL)
    gtk_widget_add_css_class (header, "first");

  gtk_list_box_row_set_header (row, header);
}

static GtkListBoxRow *
find_row_for_item (TesseraWindow *self,
                   gpointer       item)
{
  guint n = g_list_model_get_n_items (self->sidebar_model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) object = g_list_model_get_item (self->sidebar_model, i);

      if (object == item)
        return gtk_list_box_get_row_at_index (self->sidebar_list, i);
    }

  return NULL;
}

/* What the content shows */

static void close_details (TesseraWindow *self);

/* Fix on the details: the page repairs it and says so; the details, a
 * picture of the key before, go */
static void
on_details_fix_problem (TesseraKeyDetails *details,
                        TesseraProblem    *problem,
                        TesseraWindow     *self)
{
  GtkWidget *page = adw_bin_get_child (self->token_bin);

  if (TESSERA_IS_TOKEN_PAGE (page))
    tessera_token_page_fix_problem (TESSERA_TOKEN_PAGE (page), problem);
  close_details (self);
}

static void
show_details (TesseraTokenPage *page,
              GObject          *item,
              TesseraWindow    *self)
{
  TesseraToken *token = tessera_token_page_get_token (page);
  GtkWidget *details;
  const char *title;
  const char *subtitle;

  if (TESSERA_IS_TOKEN (item))
    {
      details = tessera_token_details_new (TESSERA_TOKEN (item), GTK_WIDGET (page));
      title = _("Token Details");
      subtitle = tessera_token_get_display_name (token);
    }
  else
    {
      details = tessera_key_details_new (item);
      if (TESSERA_IS_KEY (item))
        {
          tessera_key_details_set_problem (TESSERA_KEY_DETAILS (details),
                                           tessera_token_page_lookup_problem (page, TESSERA_KEY (item)));
          g_signal_connect_object (details, "fix-problem",
                                   G_CALLBACK (on_details_fix_problem), self, 0);
        }
      title = tessera_key_details_get_title (TESSERA_KEY_DETAILS (details));
      subtitle = tessera_token_get_display_name (token);
    }

  adw_bin_set_child (self->details_bin, details);
  adw_window_title_set_title (self->details_title, title);
  adw_window_title_set_subtitle (self->details_title, subtitle);
  adw_leaflet_set_visible_child_name (self->content_leaflet, "details");
}

static void
close_details (TesseraWindow *self)
{
  adw_leaflet_set_visible_child_name (self->content_leaflet, "token");
}

static void
on_page_set_up_for_ssh (TesseraTokenPage *page,
                        TesseraWindow    *self)
{
  present_setup_assistant (self, tessera_token_page_get_token (page));
}

static void
show_token (TesseraWindow *self,
            TesseraToken  *token)
{
  GtkWidget *page;

  if (token == self->token && adw_bin_get_child (self->token_bin) != NULL)
    {
      update_content (self);
      return;
    }

  g_clear_object (&self->module);
  g_set_object (&self->token, token);
  g_clear_pointer (&self->title_binding, g_binding_unbind);

  close_details (self);

  if (token != NULL)
    {
      page = tessera_token_page_new (token, self->registry, self->agent_sync, self->settings,
                                     self->cancellable);
      g_signal_connect_object (page, "show-details", G_CALLBACK (show_details), self, 0);
      g_signal_connect_object (page, "set-up-for-ssh", G_CALLBACK (on_page_set_up_for_ssh),
                               self, 0);
      adw_bin_set_child (self->token_bin, page);

      self->title_binding = g_object_bind_property (page, "title",
                                                    self->content_title, "title",
                                                    G_BINDING_SYNC_CREATE);
      adw_window_title_set_subtitle (self->content_title,
                                     module_display_name (tessera_token_get_module (token)));
    }
  else
    {
      adw_bin_set_child (self->token_bin, NULL);
    }

  update_content (self);
}

static void
show_failed_module (TesseraWindow *self,
                    TesseraModule *module)
{
  const GError *error = tessera_module_get_error (module);
  g_autofree char *title = NULL;
  g_autofree char *description = NULL;

  show_token (self, NULL);
  g_set_object (&self->module, module);

  if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_CRASHED))
    /* Translators: %s is the name of a PKCS#11 module */
    title = g_strdup_printf (_("“%s” Stopped Working"), module_display_name (module));
  else if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_NOT_RESPONDING))
    /* Translators: %s is the name of a PKCS#11 module */
    title = g_strdup_printf (_("“%s” Is Not Responding"), module_display_name (module));
  else
    /* Translators: %s is the name of a PKCS#11 module */
    title = g_strdup_printf (_("“%s” Could Not Be Loaded"), module_display_name (module));
  description = g_strdup_printf ("%s\n%s",
                                 error ? error->message : "",
                                 tessera_module_get_path (module));
  adw_status_page_set_title (self->module_error_page, title);
  adw_status_page_set_description (self->module_error_page, description);

  update_content (self);
}

static void
update_chrome (TesseraWindow *self)
{
  gboolean folded = adw_leaflet_get_folded (self->leaflet);

  adw_header_bar_set_show_start_title_buttons (self->content_header,
                                               folded || !self->sidebar_visible);
  gtk_widget_set_visible (self->back_button, folded && self->sidebar_visible);
  gtk_widget_set_visible (self->content_menu_button, !self->sidebar_visible);
}

static void
update_content (TesseraWindow *self)
{
  TesseraApplication *app = get_application (self);
  gboolean loading = app == NULL || tessera_application_get_loading (app);
  const GError *load_error = app ? tessera_application_get_load_error (app) : NULL;
  guint n_items = g_list_model_get_n_items (self->sidebar_model);
  /* Modules load side by side: the first tokens show while a slow module
   * is still loading, so the spinner is only for an empty list. */
  gboolean waiting = loading && n_items == 0;
  gboolean sidebar_visible = !waiting && load_error == NULL && n_items > 0;
  gboolean token_shown = FALSE;
  gboolean selecting = FALSE;
  const char *page;

  if (waiting)
    page = "loading";
  else if (load_error != NULL)
    {
      adw_status_page_set_description (self->error_page, load_error->message);
      page = "error";
    }
  else if (self->token != NULL)
    {
      page = "token";
      token_shown = TRUE;
    }
  else if (self->module != NULL)
    page = "module-error";
  else if (loading)
    page = "loading";
  else if (n_items > 0 && self->sync_selection_id != 0)
    {
      /* There are tokens and one is about to be selected: the empty
       * page would show for a frame, and lay out its text, before the
       * token's.  Stay on the page shown until then, with the spinner
       * still: with a slow renderer its frames would keep the selection's
       * idle from running. */
      page = gtk_stack_get_visible_child_name (self->content_stack);
      if (page == NULL)
        page = "loading";
      selecting = TRUE;
    }
  else
    {
      /* In a Flatpak without the host's p11-kit server, say how to start it */
      const char *hint = self->registry != NULL
                         ? tessera_registry_get_host_server_hint (self->registry) : NULL;

      if (self->empty_description == NULL)
        self->empty_description = g_strdup (adw_status_page_get_description (self->empty_page));
      adw_status_page_set_description (self->empty_page,
                                       hint != NULL ? hint : self->empty_description);
      page = "empty";
    }

  gtk_spinner_set_spinning (self->loading_spinner, g_str_equal (page, "loading") && !selecting);
  if (g_strcmp0 (page, gtk_stack_get_visible_child_name (self->content_stack)) != 0)
    g_debug ("Content: %s", page);
  gtk_stack_set_visible_child_name (self->content_stack, page);


  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.refresh", token_shown);

  if (sidebar_visible != self->sidebar_visible)
    {
      self->sidebar_visible = sidebar_visible;
      gtk_widget_set_visible (self->sidebar_pane, sidebar_visible);
      gtk_widget_set_visible (self->sidebar_separator, sidebar_visible);
      adw_leaflet_set_visible_child_name (self->leaflet,
                                          sidebar_visible && adw_leaflet_get_folded (self->leaflet)
                                          ? "sidebar" : "content");
    }

  /* Without the sidebar, the content's header bar names the app */
  if (!token_shown)
    {
      adw_window_title_set_title (self->content_title, sidebar_visible ? "" : _("Tessera"));
      adw_window_title_set_subtitle (self->content_title, NULL);
    }

  update_chrome (self);
}

/* Selects and shows the first token; FALSE when there is none */
static gboolean
select_first_token (TesseraWindow *self)
{
  GtkListBoxRow *row;

  for (guint i = 0; (row = gtk_list_box_get_row_at_index (self->sidebar_list, i)) != NULL; i++)
    {
      if (TESSERA_IS_TOKEN_ROW (row))
        {
          gtk_list_box_select_row (self->sidebar_list, row);
          show_token (self, tessera_token_row_get_token (TESSERA_TOKEN_ROW (row)));
          return TRUE;
        }
    }
  return FALSE;
}

/* Rows come and go as the models change, and a rebuilt row is a new row:
 * after every change, select again what is shown, or pick another token
 * when it went away. */
static gboolean
sync_selection (gpointer user_data)
{
  TesseraWindow *self = user_data;
  GtkListBoxRow *row = NULL;

  self->sync_selection_id = 0;

  if (self->token != NULL)
    row = find_row_for_item (self, self->token);
  else if (self->module != NULL)
    row = find_row_for_item (self, self->module);

  if (row != NULL)
    {
      if (gtk_list_box_get_selected_row (self->sidebar_list) != row)
        gtk_list_box_select_row (self->sidebar_list, row);
    }
  else if (adw_leaflet_get_folded (self->leaflet) || !select_first_token (self))
    {
      /* Only now to no token: on the way to the first token, the content
       * stack would cross-fade from the empty page, laying it out */
      show_token (self, NULL);

      if (adw_leaflet_get_folded (self->leaflet))
        adw_leaflet_set_visible_child_name (self->leaflet, "sidebar");
    }

  update_content (self);

  return G_SOURCE_REMOVE;
}

static void
queue_sync_selection (TesseraWindow *self)
{
  if (self->sync_selection_id == 0 && !self->disposed)
    self->sync_selection_id = g_idle_add (sync_selection, self);
}

static void
on_sidebar_row_selected (GtkListBox    *list,
                         GtkListBoxRow *row,
                         TesseraWindow *self)
{
  GObject *module;

  if (self->disposed)
    return;

  if (row == NULL)
    {
      queue_sync_selection (self);
      return;
    }

  if (TESSERA_IS_TOKEN_ROW (row))
    show_token (self, tessera_token_row_get_token (TESSERA_TOKEN_ROW (row)));
  else if ((module = g_object_get_data (G_OBJECT (row), "tessera-failed-module")) != NULL)
    show_failed_module (self, TESSERA_MODULE (module));
}

static void
on_sidebar_row_activated (GtkListBox    *list,
                          GtkListBoxRow *row,
                          TesseraWindow *self)
{
  adw_leaflet_set_visible_child_name (self->leaflet, "content");
}

static void
on_leaflet_folded_changed (TesseraWindow *self)
{
  update_chrome (self);
}

static void
on_content_leaflet_visible_child_changed (TesseraWindow *self)
{
  const char *name = adw_leaflet_get_visible_child_name (self->content_leaflet);
  gboolean details = g_strcmp0 (name, "details") == 0;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.close-details", details);

  /* Drop the details once they are out of sight: they show a snapshot
   * of the key, which a re-read or a logout makes stale */
  if (!details && !adw_leaflet_get_child_transition_running (self->content_leaflet))
    adw_bin_set_child (self->details_bin, NULL);
}

static void
on_sidebar_items_changed (GListModel    *model,
                          guint          position,
                          guint          removed,
                          guint          added,
                          TesseraWindow *self)
{
  g_debug ("Sidebar: %u removed, %u added at %u; %u items",
           removed, added, position, g_list_model_get_n_items (model));
  update_content (self);
  queue_sync_selection (self);
}

/* A module can fail (its process crashed) or recover (reloaded) at any
 * time: the sidebar lists it, or its tokens, again. */
static void
on_module_error_changed (TesseraModule *module,
                         GParamSpec    *pspec,
                         TesseraWindow *self)
{
  gtk_filter_changed (self->failed_filter, GTK_FILTER_CHANGE_DIFFERENT);
  gtk_sorter_changed (self->module_sorter, GTK_SORTER_CHANGE_DIFFERENT);

  if (module == self->module && tessera_module_get_error (module) != NULL)
    show_failed_module (self, module);
  queue_sync_selection (self);
}

static void
watch_modules (TesseraWindow *self,
               GListModel    *modules,
               guint          position,
               guint          added)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(TesseraModule) module = g_list_model_get_item (modules, i);

      g_signal_connect_object (module, "notify::error",
                               G_CALLBACK (on_module_error_changed), self, 0);
    }
}

static void
on_modules_items_changed (GListModel    *model,
                          guint          position,
                          guint          removed,
                          guint          added,
                          TesseraWindow *self)
{
  watch_modules (self, model, position, added);
  gtk_filter_changed (self->failed_filter, GTK_FILTER_CHANGE_DIFFERENT);
  gtk_sorter_changed (self->module_sorter, GTK_SORTER_CHANGE_DIFFERENT);
}

static void
on_application_loading_changed (TesseraApplication *app,
                                GParamSpec         *pspec,
                                TesseraWindow      *self)
{
  /* Module errors are known now */
  gtk_filter_changed (self->failed_filter, GTK_FILTER_CHANGE_DIFFERENT);
  gtk_sorter_changed (self->module_sorter, GTK_SORTER_CHANGE_DIFFERENT);

  update_content (self);
  queue_sync_selection (self);
}

/* Actions */

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  TesseraWindow *self = TESSERA_WINDOW (widget);
  GtkWidget *page = adw_bin_get_child (self->token_bin);

  if (TESSERA_IS_TOKEN_PAGE (page))
    tessera_token_page_reload (TESSERA_TOKEN_PAGE (page));
}

static void
on_module_reloaded (GObject      *source_object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(TesseraWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  /* A module that fails again keeps its error, which the page shows. */
  if (!tessera_registry_reload_module_finish (TESSERA_REGISTRY (source_object), result, &error))
    g_debug ("Reloading the module failed: %s", error->message);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.reload-module", TRUE);
  if (self->module != NULL && tessera_module_get_error (self->module) != NULL)
    show_failed_module (self, self->module);
}

/* The failed module on screen, loaded again: after a crash or a deadline
 * it gets a new process. */
static void
reload_module_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  TesseraWindow *self = TESSERA_WINDOW (widget);

  if (self->module == NULL)
    return;
  gtk_widget_action_set_enabled (widget, "win.reload-module", FALSE);
  tessera_registry_reload_module_async (self->registry, self->module, NULL,
                                        on_module_reloaded, g_object_ref (self));
}

static void
go_back_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  TesseraWindow *self = TESSERA_WINDOW (widget);

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
close_details_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  TesseraWindow *self = TESSERA_WINDOW (widget);

  adw_leaflet_navigate (self->content_leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* Set Up for SSH… and the software tokens: the window opens them, since
 * what they make is a token to show */

static void
on_setup_token_ready (TesseraSetupAssistant *assistant,
                      TesseraToken          *token,
                      TesseraWindow         *self)
{
  select_token (self, token);
}

static void
present_setup_assistant (TesseraWindow *self,
                         TesseraToken  *token)
{
  GtkWidget *assistant = tessera_setup_assistant_new (GTK_WINDOW (self), token, self->registry,
                                                      self->agent_sync, self->settings,
                                                      self->cancellable);

  g_signal_connect_object (assistant, "token-ready", G_CALLBACK (on_setup_token_ready), self, 0);
  gtk_window_present (GTK_WINDOW (assistant));
}

static void
on_software_token_created_set_up (GtkWidget     *dialog,
                                  TesseraToken  *token,
                                  TesseraWindow *self)
{
  select_token (self, token);
  present_setup_assistant (self, token);
}

/* Creates a software token first (its label and PINs), then sets it up
 * for SSH: the empty state's way in */
static void
set_up_software_token_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *parameter)
{
  TesseraWindow *self = TESSERA_WINDOW (widget);
  GtkWidget *dialog;

  dialog = tessera_software_token_dialog_new (self->registry, GTK_WINDOW (self), self->cancellable);
  g_signal_connect_object (dialog, "created", G_CALLBACK (on_software_token_created_set_up),
                           self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_software_token_created (GtkWidget     *dialog,
                           TesseraToken  *token,
                           TesseraWindow *self)
{
  g_autofree char *text =
    g_strdup_printf (_("“%s” created"), tessera_token_get_display_name (token));

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
  select_token (self, token);
}

/* Asks for a new SoftHSM token's label and PINs, creates it, and selects it */
static void
create_software_token_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *parameter)
{
  TesseraWindow *self = TESSERA_WINDOW (widget);
  GtkWidget *dialog;

  dialog = tessera_software_token_dialog_new (self->registry, GTK_WINDOW (self), self->cancellable);
  g_signal_connect_object (dialog, "created", G_CALLBACK (on_software_token_created), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* What the window's parts ask of it */

static void
toast_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  TesseraWindow *self = TESSERA_WINDOW (widget);

  adw_toast_overlay_add_toast (self->toast_overlay,
                               adw_toast_new (g_variant_get_string (parameter, NULL)));
}

/* The parameter is the token's URI: a dialog that changed a token asks
 * for it to be shown, after its page may have gone (SoftHSM moves an
 * initialized token to a new slot) */
static void
select_token_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  TesseraWindow *self = TESSERA_WINDOW (widget);
  TesseraToken *token = tessera_registry_lookup_token (self->registry,
                                                       g_variant_get_string (parameter, NULL));

  if (token != NULL)
    select_token (self, token);
}

/* The application's agent sync, in toasts: when a card leaves and comes
 * back.  One sync for all windows, and its toast in the active one */

static gboolean
is_active_window (TesseraWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));

  return app != NULL && gtk_application_get_active_window (app) == GTK_WINDOW (self);
}

static void
sync_toast (TesseraWindow *self,
            AdwToast      *toast)
{
  if (is_active_window (self))
    adw_toast_overlay_add_toast (self->toast_overlay, toast);
  else
    g_object_unref (g_object_ref_sink (toast));
}

static void
on_sync_card_removed (TesseraAgentSync *sync,
                      const char       *label,
                      GError           *error,
                      TesseraWindow    *self)
{
  g_autofree char *text = NULL;

  if (error != NULL)
    /* Translators: %s is a token's name */
    text = g_strdup_printf (_("“%s” was removed; its keys could not leave the SSH agent"), label);
  else
    text = g_strdup_printf (_("“%s” was removed; its keys left the SSH agent"), label);

  sync_toast (self, adw_toast_new (text));
}

typedef struct
{
  TesseraWindow *window;
  TesseraToken  *token;
} Readd;

static void
on_readded (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Readd *readd = user_data;
  TesseraWindow *self = readd->window;
  g_autoptr(GError) error = NULL;

  if (tessera_agent_dialog_add_token_finish (result, &error) >= 0)
    {
      g_autofree char *text =
        g_strdup_printf (_("Keys of “%s” added to the SSH agent"),
                         tessera_token_get_display_name (readd->token));
      sync_toast (self, adw_toast_new (text));
    }
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    tessera_agent_dialog_show_error (GTK_WINDOW (self), readd->token, error);

  g_object_unref (readd->window);
  g_object_unref (readd->token);
  g_free (readd);
}

static void
on_returned_toast_button_clicked (AdwToast      *toast,
                                  TesseraWindow *self)
{
  TesseraToken *token = g_object_get_data (G_OBJECT (toast), "tessera-token");
  Readd *readd;

  readd = g_new0 (Readd, 1);
  readd->window = g_object_ref (self);
  readd->token = g_object_ref (token);
  tessera_agent_dialog_add_token_async (GTK_WINDOW (self), self->agent_sync, self->settings,
                                        token, self->cancellable, on_readded, readd);
}

static void
on_sync_card_returned (TesseraAgentSync *sync,
                       TesseraToken     *token,
                       gboolean          readded,
                       GError           *error,
                       TesseraWindow    *self)
{
  const char *name = tessera_token_get_display_name (token);
  g_autofree char *text = NULL;
  AdwToast *toast;

  if (readded)
    {
      text = g_strdup_printf (_("“%s” is back; its keys are back in the SSH agent"), name);
      sync_toast (self, adw_toast_new (text));
      return;
    }

  text = g_strdup_printf (_("“%s” is back; add its keys to the SSH agent again?"), name);
  toast = adw_toast_new (text);
  adw_toast_set_button_label (toast, _("_Add"));
  adw_toast_set_timeout (toast, 0);
  g_object_set_data_full (G_OBJECT (toast), "tessera-token", g_object_ref (token), g_object_unref);
  g_signal_connect_object (toast, "button-clicked",
                           G_CALLBACK (on_returned_toast_button_clicked), self, 0);
  sync_toast (self, toast);
}

/* Window state */

static void
save_window_state (TesseraWindow *self)
{
  int width, height;

  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);

  g_settings_delay (self->settings);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized",
                          gtk_window_is_maximized (GTK_WINDOW (self)));
  g_settings_apply (self->settings);
}

static void
restore_window_state (TesseraWindow *self)
{
  int width = g_settings_get_int (self->settings, "window-width");
  int height = g_settings_get_int (self->settings, "window-height");

  if (width > 0 && height > 0)
    gtk_window_set_default_size (GTK_WINDOW (self), width, height);

  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

/* Closes the windows that belong to this one (Preferences, About), as
 * destroy-with-parent would.  That property is not used: in GTK 4.8 a
 * window destroyed with its parent keeps pointing at it, and crashes if it
 * outlives it. */
static void
close_transient_windows (TesseraWindow *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  GList *windows = NULL;

  if (app == NULL)
    return;

  for (GList *l = gtk_application_get_windows (app); l != NULL; l = l->next)
    {
      if (gtk_window_get_transient_for (l->data) == GTK_WINDOW (self))
        windows = g_list_prepend (windows, g_object_ref (l->data));
    }

  for (GList *l = windows; l != NULL; l = l->next)
    {
      gtk_window_set_transient_for (l->data, NULL);
      gtk_window_close (l->data);
    }

  g_list_free_full (windows, g_object_unref);
}

static gboolean
tessera_window_close_request (GtkWindow *window)
{
  TesseraWindow *self = TESSERA_WINDOW (window);

  save_window_state (self);
  g_cancellable_cancel (self->cancellable);
  close_transient_windows (self);

  return GTK_WINDOW_CLASS (tessera_window_parent_class)->close_request (window);
}

/* GObject */

/* GtkWindow:application is set after constructed(), so the window is set
 * up once it has its application */
static void
tessera_window_setup (TesseraWindow *self)
{
  TesseraApplication *app = get_application (self);
  GListModel *modules;
  GListStore *sources;
  GtkFilterListModel *failed_modules;
  GtkFlattenListModel *flat;

  g_assert (TESSERA_IS_APPLICATION (app));

  self->registry = g_object_ref (tessera_application_get_registry (app));
  self->agent_sync = g_object_ref (tessera_application_get_agent_sync (app));
  self->settings = g_object_ref (tessera_application_get_settings (app));

  restore_window_state (self);

  modules = tessera_registry_get_modules (self->registry);

  watch_modules (self, modules, 0, g_list_model_get_n_items (modules));
  self->failed_filter = GTK_FILTER (gtk_custom_filter_new (module_failed, NULL, NULL));
  failed_modules = gtk_filter_list_model_new (g_object_ref (modules),
                                              g_object_ref (self->failed_filter));

  sources = g_list_store_new (G_TYPE_LIST_MODEL);
  g_list_store_append (sources, tessera_registry_get_tokens (self->registry));
  g_list_store_append (sources, failed_modules);
  g_object_unref (failed_modules);
  flat = gtk_flatten_list_model_new (G_LIST_MODEL (sources));

  self->module_sorter = GTK_SORTER (gtk_custom_sorter_new (compare_by_module, self, NULL));
  self->sidebar_model = G_LIST_MODEL (gtk_sort_list_model_new (G_LIST_MODEL (flat),
                                                               g_object_ref (self->module_sorter)));

  gtk_list_box_bind_model (self->sidebar_list, self->sidebar_model,
                           create_sidebar_row, self, NULL);
  gtk_list_box_set_header_func (self->sidebar_list, update_sidebar_header, self, NULL);

  g_signal_connect_object (self->sidebar_model, "items-changed",
                           G_CALLBACK (on_sidebar_items_changed), self, 0);
  g_signal_connect_object (modules, "items-changed",
                           G_CALLBACK (on_modules_items_changed), self, 0);
  g_signal_connect_object (app, "notify::loading",
                           G_CALLBACK (on_application_loading_changed), self, 0);
  g_signal_connect_object (self->agent_sync, "card-removed",
                           G_CALLBACK (on_sync_card_removed), self, 0);
  g_signal_connect_object (self->agent_sync, "card-returned",
                           G_CALLBACK (on_sync_card_returned), self, 0);

  on_content_leaflet_visible_child_changed (self);
  self->sidebar_visible = TRUE;
  update_content (self);
  queue_sync_selection (self);
}

static void
tessera_window_dispose (GObject *object)
{
  TesseraWindow *self = TESSERA_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  self->disposed = TRUE;

  /* Unbinding removes the rows, which unselects the selected one */
  if (self->sidebar_list != NULL)
    gtk_list_box_bind_model (self->sidebar_list, NULL, NULL, NULL, NULL);

  g_clear_handle_id (&self->sync_selection_id, g_source_remove);
  g_clear_pointer (&self->title_binding, g_binding_unbind);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_WINDOW);

  g_clear_object (&self->sidebar_model);
  g_clear_object (&self->module_sorter);
  g_clear_object (&self->failed_filter);
  g_clear_object (&self->token);
  g_clear_object (&self->module);

  G_OBJECT_CLASS (tessera_window_parent_class)->dispose (object);
}

static void
tessera_window_finalize (GObject *object)
{
  TesseraWindow *self = TESSERA_WINDOW (object);

  g_clear_object (&self->registry);
  g_clear_object (&self->agent_sync);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->empty_description, g_free);

  G_OBJECT_CLASS (tessera_window_parent_class)->finalize (object);
}

static void
tessera_window_class_init (TesseraWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = tessera_window_dispose;
  object_class->finalize = tessera_window_finalize;

  window_class->close_request = tessera_window_close_request;

  g_type_ensure (TESSERA_TYPE_TOKEN_PAGE);
  g_type_ensure (TESSERA_TYPE_TOKEN_ROW);
  g_type_ensure (TESSERA_TYPE_KEY_DETAILS);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, sidebar_pane);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, sidebar_separator);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, sidebar_list);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, content_leaflet);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, content_header);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, content_title);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, back_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, content_menu_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, content_stack);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, error_page);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, module_error_page);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, token_bin);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, details_title);
  gtk_widget_class_bind_template_child (widget_class, TesseraWindow, details_bin);
  gtk_widget_class_bind_template_callback (widget_class, on_sidebar_row_selected);
  gtk_widget_class_bind_template_callback (widget_class, on_sidebar_row_activated);
  gtk_widget_class_bind_template_callback (widget_class, on_leaflet_folded_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_content_leaflet_visible_child_changed);

  /* F5 is set with the application's accelerators, so that the shortcuts
   * window and the menus show it */
  gtk_widget_class_install_action (widget_class, "win.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "win.reload-module", NULL, reload_module_action);
  gtk_widget_class_install_action (widget_class, "win.go-back", NULL, go_back_action);
  gtk_widget_class_install_action (widget_class, "win.close-details", NULL, close_details_action);
  gtk_widget_class_install_action (widget_class, "win.set-up-software-token", NULL,
                                   set_up_software_token_action);
  gtk_widget_class_install_action (widget_class, "win.create-software-token", NULL,
                                   create_software_token_action);

  /* What the window's rows, groups and dialogs ask of it (tessera-toast.c) */
  gtk_widget_class_install_action (widget_class, "win.toast", "s", toast_action);
  gtk_widget_class_install_action (widget_class, "win.select-token", "s", select_token_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.close-details", NULL);
}

static void
tessera_window_init (TesseraWindow *self)
{
  self->cancellable = g_cancellable_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

#if DEVELOPMENT_BUILD
  gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
#endif
}

TesseraWindow *
tessera_window_new (TesseraApplication *application)
{
  TesseraWindow *self;

  g_return_val_if_fail (TESSERA_IS_APPLICATION (application), NULL);

  self = g_object_new (TESSERA_TYPE_WINDOW,
                       "application", application,
                       NULL);
  tessera_window_setup (self);

  return self;
}

/* Shows the token and selects it in the sidebar, for example a token that
 * was just created or initialized */
static void
select_token (TesseraWindow *self,
              TesseraToken  *token)
{
  show_token (self, token);
  if (adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_set_visible_child_name (self->leaflet, "content");
  queue_sync_selection (self);
}
