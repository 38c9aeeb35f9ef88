/* tessera-agent-group.c: a token's "Add to SSH Agent" switch
 *
 * The switch shows what the agent really holds: the group asks the agent
 * for its identities when it is shown, when its window becomes active,
 * when the token's keys change and after every change it makes, and
 * compares them with the token's keys.  Turning the switch on runs the
 * add flow (remembered PIN, or the PIN dialog); its state follows only
 * once the agent has the keys, so a failed add leaves it off.  Turning it
 * off removes the token's module from the agent.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-agent-dialog.h"
#include "tessera-agent-group.h"
#include "tessera-agent-window.h"
#include "tessera-toast.h"

struct _TesseraAgentGroup
{
  AdwPreferencesGroup  parent_instance;

  /* template widgets */
  AdwActionRow        *switch_row;
  GtkSwitch           *agent_switch;
  GtkSpinner          *spinner;
  GtkWidget           *keys_button;

  /* owned references */
  TesseraToken        *token;
  TesseraAgentSync    *sync;
  GSettings           *settings;
  GCancellable        *window_cancellable;
  GCancellable        *cancellable;
  GCancellable        *refresh_cancellable;
  GError              *agent_error;

  /* weak */
  GtkWidget           *root;

  guint                busy : 1;
  guint                updating : 1;
};

G_DEFINE_FINAL_TYPE (TesseraAgentGroup, tessera_agent_group, ADW_TYPE_PREFERENCES_GROUP)

static GtkWindow *
get_window (TesseraAgentGroup *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

/* Moves the switch without running the add or remove flow */
static void
set_switch (TesseraAgentGroup *self,
            gboolean           on)
{
  self->updating = TRUE;
  gtk_switch_set_active (self->agent_switch, on);
  gtk_switch_set_state (self->agent_switch, on);
  self->updating = FALSE;
}

static void
set_busy (TesseraAgentGroup *self,
          gboolean           busy)
{
  self->busy = busy;
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_spinner_set_spinning (self->spinner, busy);
}

static void
set_subtitle (TesseraAgentGroup *self,
              const char        *subtitle)
{
  adw_action_row_set_subtitle (self->switch_row, subtitle);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->switch_row),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle,
                                  -1);
}

/* Reading the agent's state */

static void
on_identities_listed (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(TesseraAgentGroup) self = user_data;
  g_autoptr(GPtrArray) identities = NULL;
  g_autoptr(GError) error = NULL;
  TesseraAgentState state;

  identities = tessera_agent_list_identities_finish (TESSERA_AGENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (self->cancellable)
      || self->token == NULL)
    return;

  /* The add or remove in progress will refresh again when it is done */
  if (self->busy)
    return;

  g_clear_error (&self->agent_error);

  if (identities == NULL)
    {
      self->agent_error = g_error_copy (error);
      set_subtitle (self, error->message);
      set_switch (self, FALSE);
      return;
    }

  state = tessera_agent_state_for_token (identities, self->token);
  switch (state)
    {
    case TESSERA_AGENT_STATE_ALL:
      set_subtitle (self, _("All keys are in the agent"));
      break;
    case TESSERA_AGENT_STATE_SOME:
      set_subtitle (self, _("Some keys are in the agent"));
      break;
    case TESSERA_AGENT_STATE_NONE:
    default:
      set_subtitle (self, _("Not in the agent"));
      break;
    }

  set_switch (self, state != TESSERA_AGENT_STATE_NONE);
}

/**
 * tessera_agent_group_refresh:
 * @self: a #TesseraAgentGroup
 *
 * Asks the agent again what it holds.
 */
void
tessera_agent_group_refresh (TesseraAgentGroup *self)
{
  g_return_if_fail (TESSERA_IS_AGENT_GROUP (self));

  if (self->token == NULL)
    return;

  g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);
  self->refresh_cancellable = g_cancellable_new ();
  g_signal_connect_object (self->cancellable, "cancelled",
                           G_CALLBACK (g_cancellable_cancel), self->refresh_cancellable,
                           G_CONNECT_SWAPPED);

  tessera_agent_list_identities_async (tessera_agent_sync_get_agent (self->sync),
                                       self->refresh_cancellable,
                                       on_identities_listed, g_object_ref (self));
}

/* Turning the switch on and off */

static void
on_added (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(TesseraAgentGroup) self = user_data;
  g_autoptr(GError) error = NULL;
  int state;

  state = tessera_agent_dialog_add_token_finish (result, &error);
  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  set_busy (self, FALSE);

  if (state >= 0)
    {
      g_autofree char *text =
        g_strdup_printf (_("Keys of “%s” added to the SSH agent"),
                         tessera_token_get_display_name (self->token));

      set_switch (self, TRUE);
      tessera_toast_show (GTK_WIDGET (self), text);
    }
  else
    {
      set_switch (self, FALSE);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        tessera_agent_dialog_show_error (get_window (self), self->token, error);
    }

  tessera_agent_group_refresh (self);
}

static void
on_removed (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(TesseraAgentGroup) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_agent_remove_token_finish (TESSERA_AGENT (object), result, &error))
    {
      if (g_cancellable_is_cancelled (self->cancellable))
        return;

      set_busy (self, FALSE);
      set_switch (self, TRUE);
      tessera_agent_dialog_show_error (get_window (self), self->token, error);
    }
  else
    {
      g_autofree char *text = NULL;

      if (g_cancellable_is_cancelled (self->cancellable))
        return;

      text = g_strdup_printf (_("Keys of “%s” removed from the SSH agent"),
                              tessera_token_get_display_name (self->token));
      set_busy (self, FALSE);
      set_switch (self, FALSE);
      tessera_toast_show (GTK_WIDGET (self), text);
    }

  tessera_agent_group_refresh (self);
}

static gboolean
switch_off_idle (gpointer user_data)
{
  g_autoptr(TesseraAgentGroup) self = user_data;

  set_switch (self, FALSE);

  return G_SOURCE_REMOVE;
}

/* Whether the last look at the agent showed it cannot take a token at
 * all: then say so at once, rather than ask for a PIN (perhaps the last
 * try) that cannot help */
static gboolean
agent_unusable (TesseraAgentGroup *self)
{
  return g_error_matches (self->agent_error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_NO_AGENT)
      || g_error_matches (self->agent_error, TESSERA_AGENT_ERROR, TESSERA_AGENT_ERROR_NOT_SUPPORTED);
}

static gboolean
on_agent_switch_state_set (GtkSwitch         *agent_switch,
                           gboolean           on,
                           TesseraAgentGroup *self)
{
  GtkWindow *window;

  /* Our own update: let GTK set the state */
  if (self->updating)
    return FALSE;

  if (self->busy || self->token == NULL)
    return TRUE;

  if (on == gtk_switch_get_state (agent_switch))
    return FALSE;

  window = get_window (self);

  if (on && agent_unusable (self))
    {
      tessera_agent_dialog_show_error (window, self->token, self->agent_error);
      g_idle_add (switch_off_idle, g_object_ref (self));
      tessera_agent_group_refresh (self);
      return TRUE;
    }

  set_busy (self, TRUE);

  if (on)
    {
      /* The window's: the dialog belongs to it, not to this page */
      tessera_agent_dialog_add_token_async (window, self->sync, self->settings, self->token,
                                            self->window_cancellable != NULL
                                            ? self->window_cancellable : self->cancellable,
                                            on_added, g_object_ref (self));
    }
  else
    {
      tessera_agent_sync_untrack (self->sync, self->token);
      tessera_agent_remove_token_async (tessera_agent_sync_get_agent (self->sync), self->token,
                                        self->cancellable, on_removed, g_object_ref (self));
    }

  /* The state follows when the agent has answered */
  return TRUE;
}

static void
on_keys_button_clicked (TesseraAgentGroup *self)
{
  GtkWidget *window;

  if (self->sync == NULL)
    return;

  window = tessera_agent_window_new (get_window (self), self->sync);
  gtk_window_present (GTK_WINDOW (window));
}

/* When to look again */

static void
on_root_is_active (GtkWindow         *window,
                   GParamSpec        *pspec,
                   TesseraAgentGroup *self)
{
  if (gtk_window_is_active (window))
    tessera_agent_group_refresh (self);
}

static void
on_objects_changed (GListModel        *objects,
                 guint              position,
                 guint              removed,
                 guint              added,
                 TesseraAgentGroup *self)
{
  tessera_agent_group_refresh (self);
}

static void
on_card_returned (TesseraAgentSync  *sync,
                  TesseraToken      *token,
                  gboolean           readded,
                  GError            *error,
                  TesseraAgentGroup *self)
{
  if (token == self->token)
    tessera_agent_group_refresh (self);
}

/* A blank token has no keys to add */
static void
on_token_state (TesseraToken      *token,
                GParamSpec        *pspec,
                TesseraAgentGroup *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self),
                          !tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED));
}

static void
tessera_agent_group_root (GtkWidget *widget)
{
  TesseraAgentGroup *self = TESSERA_AGENT_GROUP (widget);
  GtkRoot *root;

  GTK_WIDGET_CLASS (tessera_agent_group_parent_class)->root (widget);

  root = gtk_widget_get_root (widget);
  if (GTK_IS_WINDOW (root))
    {
      g_set_weak_pointer (&self->root, GTK_WIDGET (root));
      g_signal_connect_object (root, "notify::is-active",
                               G_CALLBACK (on_root_is_active), self, 0);
    }
}

static void
tessera_agent_group_unroot (GtkWidget *widget)
{
  TesseraAgentGroup *self = TESSERA_AGENT_GROUP (widget);

  if (self->root != NULL)
    g_signal_handlers_disconnect_by_func (self->root, on_root_is_active, self);
  g_clear_weak_pointer (&self->root);

  GTK_WIDGET_CLASS (tessera_agent_group_parent_class)->unroot (widget);
}

static void
tessera_agent_group_dispose (GObject *object)
{
  TesseraAgentGroup *self = TESSERA_AGENT_GROUP (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_weak_pointer (&self->root);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_AGENT_GROUP);

  G_OBJECT_CLASS (tessera_agent_group_parent_class)->dispose (object);
}

static void
tessera_agent_group_finalize (GObject *object)
{
  TesseraAgentGroup *self = TESSERA_AGENT_GROUP (object);

  g_clear_object (&self->token);
  g_clear_object (&self->sync);
  g_clear_object (&self->settings);
  g_clear_object (&self->window_cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->refresh_cancellable);
  g_clear_error (&self->agent_error);

  G_OBJECT_CLASS (tessera_agent_group_parent_class)->finalize (object);
}

static void
tessera_agent_group_class_init (TesseraAgentGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tessera_agent_group_dispose;
  object_class->finalize = tessera_agent_group_finalize;
  widget_class->root = tessera_agent_group_root;
  widget_class->unroot = tessera_agent_group_unroot;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-agent-group.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentGroup, switch_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentGroup, agent_switch);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentGroup, spinner);
  gtk_widget_class_bind_template_child (widget_class, TesseraAgentGroup, keys_button);
  gtk_widget_class_bind_template_callback (widget_class, on_agent_switch_state_set);
  gtk_widget_class_bind_template_callback (widget_class, on_keys_button_clicked);
}

static void
tessera_agent_group_init (TesseraAgentGroup *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();

  /* The row makes its title the button's name too: keep one clear name */
  gtk_accessible_reset_relation (GTK_ACCESSIBLE (self->keys_button),
                                 GTK_ACCESSIBLE_RELATION_LABELLED_BY);
}

/**
 * tessera_agent_group_set_token:
 * @self: a #TesseraAgentGroup
 * @token: the token whose switch this is
 * @sync: the app's #TesseraAgentSync, with the agent
 * @settings: the app's settings, for the add flow
 * @cancellable: (nullable): the window's: cancelling it closes the PIN
 *   dialog of an add in progress
 *
 * Sets the token, once, and reads the agent's state for it.
 */
void
tessera_agent_group_set_token (TesseraAgentGroup *self,
                               TesseraToken      *token,
                               TesseraAgentSync  *sync,
                               GSettings         *settings,
                               GCancellable      *cancellable)
{
  g_return_if_fail (TESSERA_IS_AGENT_GROUP (self));
  g_return_if_fail (TESSERA_IS_TOKEN (token));
  g_return_if_fail (TESSERA_IS_AGENT_SYNC (sync));
  g_return_if_fail (G_IS_SETTINGS (settings));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (self->token == NULL);

  self->token = g_object_ref (token);
  self->sync = g_object_ref (sync);
  self->settings = g_object_ref (settings);
  g_set_object (&self->window_cancellable, cancellable);

  g_signal_connect_object (token, "notify::state",
                           G_CALLBACK (on_token_state), self, 0);
  on_token_state (token, NULL, self);
  /* The objects, not the keys: a key changes in place when its objects
   * do (a login shows its private key), and keeps its place in the list */
  g_signal_connect_object (tessera_token_get_objects (token), "items-changed",
                           G_CALLBACK (on_objects_changed), self, 0);
  g_signal_connect_object (sync, "card-returned",
                           G_CALLBACK (on_card_returned), self, 0);

  tessera_agent_group_refresh (self);
}
