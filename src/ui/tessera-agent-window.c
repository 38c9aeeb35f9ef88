/* tessera-agent-window.c: the keys the SSH agent holds
 *
 * One row per identity in the agent, with its comment, type and SHA-256
 * fingerprint; a key that belongs to a token in the registry says which.
 * The list is read again on Refresh and whenever the window becomes
 * active, since other programs (ssh-add) change the agent too.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-agent-window.h"

struct _TesseraAgentWindow
{
  AdwWindow        parent_instance;

  /* template widgets */
  GtkStack        *stack;
  GtkListBox      *keys_list;
  AdwStatusPage   *status_page;

  /* owned references */
  TesseraAgent    *agent;
  TesseraRegistry *registry;
  GCancellable    *cancellable;
  GPtrArray       *rows;

  guint            loading : 1;
};

G_DEFINE_FINAL_TYPE (TesseraAgentWindow, tessera_agent_window, ADW_TYPE_WINDOW)

/* The token that holds a key with this blob, if Tessera knows it */
static TesseraToken *
find_token_for_blob (TesseraAgentWindow *self,
                     GBytes             *blob)
{
  GListModel *tokens = tessera_registry_get_tokens (self->registry);
  guint n_tokens = g_list_model_get_n_items (tokens);

  for (guint i = 0; i < n_tokens; i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i);
      GListModel *keys = tessera_token_get_keys (token);
      guint n_keys = g_list_model_get_n_items (keys);

      for (guint j = 0; j < n_keys; j++)
        {
          g_autoptr(TesseraKey) key = g_list_model_get_item (keys, j);
          GBytes *key_blob = tessera_key_get_ssh_blob (key);

          if (key_blob != NULL && g_bytes_equal (key_blob, blob))
            return g_steal_pointer (&token);
        }
    }

  return NULL;
}

static GtkWidget *
create_identity_row (TesseraAgentWindow   *self,
                     TesseraAgentIdentity *identity)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *fingerprint = tessera_ssh_fingerprint_sha256 (identity->blob);
  g_autoptr(TesseraToken) token = find_token_for_blob (self, identity->blob);
  const char *type = tessera_ssh_blob_get_type_label (identity->blob);
  guint bits = tessera_ssh_blob_get_bits (identity->blob);
  g_autofree char *kind = NULL;
  g_autofree char *origin = NULL;
  g_autofree char *subtitle = NULL;
  const char *title;

  if (type == NULL)
    type = tessera_ssh_blob_get_type (identity->blob);
  if (bits > 0)
    /* Translators: a key type and size, e.g. "RSA 2048" */
    kind = g_strdup_printf (_("%s %u"), type ? type : _("Unknown type"), bits);
  else
    kind = g_strdup (type ? type : _("Unknown type"));

  if (token != NULL)
    /* Translators: %s is a token's name */
    origin = g_strdup_printf (_("On “%s” — added by Tessera"), tessera_token_get_display_name (token));

  /* Translators: a key's type and fingerprint, then where it comes from */
  subtitle = origin
    ? g_strdup_printf (_("%s · %s\n%s"), kind, fingerprint ? fingerprint : "", origin)
    : g_strdup_printf (_("%s · %s"), kind, fingerprint ? fingerprint : "");

  title = identity->comment && identity->comment[0] ? identity->comment : C_("agent key", "No comment");

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 0);
  adw_action_row_set_icon_name (ADW_ACTION_ROW (row),
                                token ? "media-flash-symbolic" : "dialog-password-symbolic");
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle,
                                  -1);
  return row;
}

static void
clear_rows (TesseraAgentWindow *self)
{
  for (guint i = 0; i < self->rows->len; i++)
    gtk_list_box_remove (self->keys_list, g_ptr_array_index (self->rows, i));
  g_ptr_array_set_size (self->rows, 0);
}

static void
on_identities_listed (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(TesseraAgentWindow) self = user_data;
  g_autoptr(GPtrArray) identities = NULL;
  g_autoptr(GError) error = NULL;

  identities = tessera_agent_list_identities_finish (TESSERA_AGENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (self->cancellable))
    return;

  self->loading = FALSE;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "agent.refresh", TRUE);
  clear_rows (self);

  if (identities == NULL)
    {
      adw_status_page_set_icon_name (self->status_page, "dialog-warning-symbolic");
      adw_status_page_set_title (self->status_page, _("No SSH Agent"));
      adw_status_page_set_description (self->status_page, error->message);
      gtk_stack_set_visible_child_name (self->stack, "status");
      return;
    }

  if (identities->len == 0)
    {
      adw_status_page_set_icon_name (self->status_page, "dialog-password-symbolic");
      adw_status_page_set_title (self->status_page, _("The Agent Has No Keys"));
      adw_status_page_set_description (self->status_page,
                                       _("Turn on “Add to SSH Agent” on a token, or add a key "
                                         "with ssh-add."));
      gtk_stack_set_visible_child_name (self->stack, "status");
      return;
    }

  for (guint i = 0; i < identities->len; i++)
    {
      GtkWidget *row = create_identity_row (self, g_ptr_array_index (identities, i));

      gtk_list_box_append (self->keys_list, row);
      g_ptr_array_add (self->rows, row);
    }
  gtk_stack_set_visible_child_name (self->stack, "keys");
}

/**
 * tessera_agent_window_refresh:
 * @self: a #TesseraAgentWindow
 *
 * Reads the agent's keys again.
 */
void
tessera_agent_window_refresh (TesseraAgentWindow *self)
{
  g_return_if_fail (TESSERA_IS_AGENT_WINDOW (self));

  self->loading = TRUE;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "agent.refresh", FALSE);
  tessera_agent_list_identities_async (self->agent,
                                       self->cancellable,
                                       on_identities_listed, g_object_ref (self));
}

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  tessera_agent_window_refresh (TESSERA_AGENT_WINDOW (widget));
}

static void
on_is_active (TesseraAgentWindow *self)
{
  if (gtk_window_is_active (GTK_WINDOW (self))
      && !self->loading)
    tessera_agent_window_refresh (self);
}

static void
tessera_agent_window_dispose (GObject *object)
{
  TesseraAgentWindow *self = TESSERA_AGENT_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_pointer (&self->rows, g_ptr_array_unref);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_AGENT_WINDOW);

  G_OBJECT_CLASS (tessera_agent_window_parent_class)->dispose (object);
}

static void
tessera_agent_window_finalize (GObject *object)
{
  TesseraAgentWindow *self = TESSERA_AGENT_WINDOW (object);

  g_clear_object (&self->agent);
  g_clear_object (&self->registry);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (tessera_agent_window_parent_class)->finalize (object);
}

static void
tessera_agent_window_class_init (TesseraAgentWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tessera_agent_window_dispose;
  object_class->finalize = tessera_agent_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-agent-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentWindow, keys_list);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentWindow, status_page);

  gtk_widget_class_install_action (widget_class, "agent.refresh", NULL, refresh_action);
}

static void
tessera_agent_window_init (TesseraAgentWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->rows = g_ptr_array_new ();

  g_signal_connect (self, "notify::is-active", G_CALLBACK (on_is_active), NULL);
}

/**
 * tessera_agent_window_new:
 * @parent: (nullable): the main window
 * @sync: the app's agent sync: its agent, and the registry whose tokens
 *   hold the agent's keys
 *
 * Returns: (transfer none): a new window listing the agent's keys; present it
 */
GtkWidget *
tessera_agent_window_new (GtkWindow        *parent,
                          TesseraAgentSync *sync)
{
  TesseraAgentWindow *self;

  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (TESSERA_IS_AGENT_SYNC (sync), NULL);

  self = g_object_new (TESSERA_TYPE_AGENT_WINDOW,
                       "transient-for", parent,
                       "application", parent ? gtk_window_get_application (parent) : NULL,
                       NULL);
  self->agent = g_object_ref (tessera_agent_sync_get_agent (sync));
  self->registry = g_object_ref (tessera_agent_sync_get_registry (sync));
  tessera_agent_window_refresh (self);

  return GTK_WIDGET (self);
}
