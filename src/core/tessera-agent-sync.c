/* tessera-agent-sync.c: keeps the agent in step with the cards
 *
 * When a card whose keys Tessera put in the agent is pulled, the agent
 * would go on offering keys it can no longer sign with.  This removes the
 * card's provider then.  When the card comes back, its keys go back in
 * with the PIN remembered in the keyring, or the app is told, so that it
 * can offer to add them.
 *
 * The agent loads providers, not cards: removing one takes out every card
 * of that module.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <string.h>

#include "tessera-agent-sync.h"
#include "tessera-pin-store.h"
#include "tessera-private.h"

typedef struct
{
  char     *manufacturer;
  char     *model;
  char     *serial;
  char     *label;
  char     *provider;
  guint     lifetime;
  gboolean  confirm;
  gboolean  present;
  gboolean  busy;
} Tracked;

struct _TesseraAgentSync
{
  GObject          parent_instance;

  TesseraRegistry *registry;
  TesseraAgent    *agent;
  GPtrArray       *tracked;
  GCancellable    *cancellable;
  gulong           items_changed_id;
};

G_DEFINE_FINAL_TYPE (TesseraAgentSync, tessera_agent_sync, G_TYPE_OBJECT)

enum {
  CARD_REMOVED,
  CARD_RETURNED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
tracked_free (Tracked *tracked)
{
  g_free (tracked->manufacturer);
  g_free (tracked->model);
  g_free (tracked->serial);
  g_free (tracked->label);
  g_free (tracked->provider);
  g_free (tracked);
}

static gboolean
tracked_is_token (Tracked      *tracked,
                  TesseraToken *token)
{
  return g_strcmp0 (tracked->serial, tessera_token_get_serial (token)) == 0 &&
         g_strcmp0 (tracked->model, tessera_token_get_model (token)) == 0 &&
         g_strcmp0 (tracked->manufacturer, tessera_token_get_manufacturer (token)) == 0;
}

static Tracked *
find_tracked (TesseraAgentSync *self,
              TesseraToken     *token)
{
  for (guint i = 0; i < self->tracked->len; i++)
    {
      Tracked *tracked = g_ptr_array_index (self->tracked, i);

      if (tracked_is_token (tracked, token))
        return tracked;
    }
  return NULL;
}

static TesseraToken *
find_present_token (TesseraAgentSync *self,
                    Tracked          *tracked)
{
  GListModel *tokens = tessera_registry_get_tokens (self->registry);

  for (guint i = 0; i < g_list_model_get_n_items (tokens); i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i);

      if (tracked_is_token (tracked, token) &&
          !tessera_token_has_state (token, TESSERA_TOKEN_STATE_REMOVED))
        return token;
    }
  return NULL;
}

/* A card went ----------------------------------------------------------------- */

typedef struct
{
  TesseraAgentSync *self;
  char             *label;
} Pending;

static void
pending_free (Pending *pending)
{
  g_object_unref (pending->self);
  g_free (pending->label);
  g_free (pending);
}

static void
on_provider_removed (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Pending *pending = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_agent_remove_provider_finish (TESSERA_AGENT (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      pending_free (pending);
      return;
    }

  g_debug ("Card %s removed; its provider %s", pending->label,
           error == NULL ? "left the agent" : error->message);
  g_signal_emit (pending->self, signals[CARD_REMOVED], 0, pending->label, error);
  pending_free (pending);
}

/* A card came back ------------------------------------------------------------- */

typedef struct
{
  TesseraAgentSync *self;
  TesseraToken     *token;
  guint             lifetime;
  gboolean          confirm;
} Return;

static void
return_free (Return *back)
{
  g_object_unref (back->self);
  g_object_unref (back->token);
  g_free (back);
}

static void
on_readded (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Return *back = user_data;
  g_autoptr(GError) error = NULL;
  gboolean readded;
  Tracked *tracked;

  readded = tessera_agent_add_token_remembered_finish (TESSERA_AGENT (source), result, &error) >= 0;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      return_free (back);
      return;
    }

  tracked = find_tracked (back->self, back->token);
  if (tracked != NULL)
    tracked->busy = FALSE;

  g_debug ("Card %s returned; %s", tessera_token_get_display_name (back->token),
           readded ? "its keys are back in the agent" : error->message);
  g_signal_emit (back->self, signals[CARD_RETURNED], 0, back->token, readded, error);
  return_free (back);
}

static void
on_returned_read (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Return *back = user_data;
  g_autoptr(GError) error = NULL;

  /* The public keys, to see them arrive in the agent. */
  if (!tessera_token_read_objects_finish (back->token, result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      return_free (back);
      return;
    }

  tessera_agent_add_token_remembered_async (back->self->agent, back->token, back->lifetime,
                                            back->confirm, back->self->cancellable,
                                            on_readded, back);
}

static void
on_tokens_changed (GListModel       *tokens,
                   guint             position,
                   guint             removed,
                   guint             added,
                   TesseraAgentSync *self)
{
  for (guint i = 0; i < self->tracked->len; i++)
    {
      Tracked *tracked = g_ptr_array_index (self->tracked, i);
      TesseraToken *token = find_present_token (self, tracked);

      if (tracked->present && token == NULL)
        {
          Pending *pending = g_new0 (Pending, 1);

          tracked->present = FALSE;
          pending->self = g_object_ref (self);
          pending->label = g_strdup (tracked->label);
          tessera_agent_remove_provider_async (self->agent, tracked->provider, self->cancellable,
                                               on_provider_removed, pending);
        }
      else if (!tracked->present && token != NULL && !tracked->busy)
        {
          Return *back = g_new0 (Return, 1);

          tracked->present = TRUE;
          tracked->busy = TRUE;
          back->self = g_object_ref (self);
          back->token = g_object_ref (token);
          back->lifetime = tracked->lifetime;
          back->confirm = tracked->confirm;
          tessera_token_read_objects_async (token, self->cancellable, on_returned_read, back);
        }
    }
}

/* The object --------------------------------------------------------------------- */

static void
tessera_agent_sync_dispose (GObject *object)
{
  TesseraAgentSync *self = (TesseraAgentSync *) object;

  g_cancellable_cancel (self->cancellable);
  if (self->registry != NULL)
    g_clear_signal_handler (&self->items_changed_id, tessera_registry_get_tokens (self->registry));
  g_clear_object (&self->registry);
  g_clear_object (&self->agent);

  G_OBJECT_CLASS (tessera_agent_sync_parent_class)->dispose (object);
}

static void
tessera_agent_sync_finalize (GObject *object)
{
  TesseraAgentSync *self = (TesseraAgentSync *) object;

  g_clear_pointer (&self->tracked, g_ptr_array_unref);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (tessera_agent_sync_parent_class)->finalize (object);
}

static void
tessera_agent_sync_class_init (TesseraAgentSyncClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tessera_agent_sync_dispose;
  object_class->finalize = tessera_agent_sync_finalize;

  /**
   * TesseraAgentSync::card-removed:
   * @label: the card's label
   * @error: (nullable): why its provider could not be removed
   *
   * A card whose keys were in the agent was pulled, and its provider was
   * removed from the agent (or could not be, with @error).
   */
  signals[CARD_REMOVED] =
    g_signal_new ("card-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_ERROR);

  /**
   * TesseraAgentSync::card-returned:
   * @token: the card's token
   * @readded: whether its keys are back in the agent
   * @error: (nullable): why not: no remembered PIN, or a wrong one
   *   (which is then forgotten); the app offers to add it
   */
  signals[CARD_RETURNED] =
    g_signal_new ("card-returned", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 3, TESSERA_TYPE_TOKEN, G_TYPE_BOOLEAN, G_TYPE_ERROR);
}

static void
tessera_agent_sync_init (TesseraAgentSync *self)
{
  self->tracked = g_ptr_array_new_with_free_func ((GDestroyNotify) tracked_free);
  self->cancellable = g_cancellable_new ();
}

/**
 * tessera_agent_sync_new:
 *
 * Returns: (transfer full): a watcher of @registry's tokens for @agent
 */
TesseraAgentSync *
tessera_agent_sync_new (TesseraRegistry *registry,
                        TesseraAgent    *agent)
{
  TesseraAgentSync *self = g_object_new (TESSERA_TYPE_AGENT_SYNC, NULL);

  self->registry = g_object_ref (registry);
  self->agent = g_object_ref (agent);
  self->items_changed_id = g_signal_connect (tessera_registry_get_tokens (registry), "items-changed",
                                             G_CALLBACK (on_tokens_changed), self);
  return self;
}

/**
 * tessera_agent_sync_track:
 *
 * Follows a token whose keys were just added to the agent, with the
 * constraints to add them again with.
 */
void
tessera_agent_sync_track (TesseraAgentSync *self,
                          TesseraToken     *token,
                          guint             lifetime,
                          gboolean          confirm)
{
  Tracked *tracked;

  g_return_if_fail (TESSERA_IS_AGENT_SYNC (self));
  g_return_if_fail (TESSERA_IS_TOKEN (token));

  tracked = find_tracked (self, token);
  if (tracked == NULL)
    {
      tracked = g_new0 (Tracked, 1);
      tracked->manufacturer = g_strdup (tessera_token_get_manufacturer (token));
      tracked->model = g_strdup (tessera_token_get_model (token));
      tracked->serial = g_strdup (tessera_token_get_serial (token));
      g_ptr_array_add (self->tracked, tracked);
    }

  g_free (tracked->label);
  tracked->label = g_strdup (tessera_token_get_display_name (token));
  g_free (tracked->provider);
  tracked->provider = tessera_agent_get_token_provider (token);
  tracked->lifetime = lifetime;
  tracked->confirm = confirm;
  tracked->present = !tessera_token_has_state (token, TESSERA_TOKEN_STATE_REMOVED);
}

/**
 * tessera_agent_sync_untrack:
 *
 * Stops following a token, when the user took its keys out of the agent.
 */
void
tessera_agent_sync_untrack (TesseraAgentSync *self,
                            TesseraToken     *token)
{
  Tracked *tracked;

  g_return_if_fail (TESSERA_IS_AGENT_SYNC (self));

  tracked = find_tracked (self, token);
  if (tracked != NULL)
    g_ptr_array_remove (self->tracked, tracked);
}

gboolean
tessera_agent_sync_is_tracked (TesseraAgentSync *self,
                               TesseraToken     *token)
{
  g_return_val_if_fail (TESSERA_IS_AGENT_SYNC (self), FALSE);
  return find_tracked (self, token) != NULL;
}

/**
 * tessera_agent_sync_get_agent:
 * @self: a #TesseraAgentSync
 *
 * Returns: (transfer none): the agent it keeps in step with the cards
 */
TesseraAgent *
tessera_agent_sync_get_agent (TesseraAgentSync *self)
{
  g_return_val_if_fail (TESSERA_IS_AGENT_SYNC (self), NULL);
  return self->agent;
}

/**
 * tessera_agent_sync_get_registry:
 * @self: a #TesseraAgentSync
 *
 * Returns: (transfer none): the registry whose tokens it follows
 */
TesseraRegistry *
tessera_agent_sync_get_registry (TesseraAgentSync *self)
{
  g_return_val_if_fail (TESSERA_IS_AGENT_SYNC (self), NULL);
  return self->registry;
}
