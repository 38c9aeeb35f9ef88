/* tessera-paced-model.c: a list model that passes large changes on in steps
 *
 * A list view builds a row for each item it is given, up to a couple of
 * hundred in GTK 4.8 whatever is on screen, and builds them all in the one
 * frame after the change.  A token read or a login changes a hundred keys
 * at once: a stall the person sees.  This model shows what its model
 * shows, but hands a large change on a few items at a time, one step per
 * frame, so that no frame builds more than a few rows.  A small change,
 * with nothing waiting, passes at once.
 *
 * While a change waits, this model shows the model as it was a moment
 * before, and what is still to pass on is one change: from what it shows
 * to what the model holds now.  A later change folds into it, so that
 * items the model added and took away again while they waited never
 * reach the view (a read briefly lists every certificate among the
 * certificates of no key, before the keys claim theirs: a hundred rows
 * built for nothing, a few a frame, beside the key rows).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "tessera-paced-model.h"

/* About a frame: the list view lays out and paints in between */
#define STEP_INTERVAL_MS 16

typedef struct
{
  guint      position;
  guint      removed;
  GPtrArray *added;        /* the items the change added, in order */
  guint      next;         /* the first of them not passed on yet */
} Change;

struct _TesseraPacedModel
{
  GObject     parent_instance;

  GListModel *model;
  GPtrArray  *items;       /* what this model shows */
  GQueue      changes;     /* Change *, the oldest first */
  guint       step;        /* items passed on at most per step */
  guint       step_id;
};

static void tessera_paced_model_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TesseraPacedModel, tessera_paced_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      tessera_paced_model_list_model_init))

static void
change_free (Change *change)
{
  g_ptr_array_unref (change->added);
  g_free (change);
}

/* Passes on up to @budget added items of the waiting changes (a removal
 * alone counts as one), and returns whether any still wait. */
static gboolean
pass_on (TesseraPacedModel *self,
         guint              budget)
{
  while (budget > 0 && !g_queue_is_empty (&self->changes))
    {
      Change *change = g_queue_peek_head (&self->changes);
      guint position = change->position;
      guint removed = change->removed;
      guint n = MIN (change->added->len - change->next, budget);

      g_ptr_array_remove_range (self->items, position, removed);
      for (guint i = 0; i < n; i++)
        g_ptr_array_insert (self->items, position + i,
                            g_object_ref (g_ptr_array_index (change->added, change->next + i)));

      change->removed = 0;
      change->next += n;
      change->position += n;
      budget -= MAX (n, 1);
      if (change->next == change->added->len)
        change_free (g_queue_pop_head (&self->changes));

      if (removed > 0 || n > 0)
        g_list_model_items_changed (G_LIST_MODEL (self), position, removed, n);
    }

  return !g_queue_is_empty (&self->changes);
}

static gboolean
step_cb (gpointer user_data)
{
  TesseraPacedModel *self = user_data;

  if (pass_on (self, self->step))
    return G_SOURCE_CONTINUE;

  self->step_id = 0;
  return G_SOURCE_REMOVE;
}

static void
queue_change (TesseraPacedModel *self,
              guint              position,
              guint              removed,
              guint              added)
{
  Change *change = g_new0 (Change, 1);

  change->position = position;
  change->removed = removed;
  change->added = g_ptr_array_new_full (added, g_object_unref);
  for (guint i = 0; i < added; i++)
    g_ptr_array_add (change->added, g_list_model_get_item (self->model, position + i));
  g_queue_push_tail (&self->changes, change);
}

static gboolean
same_item (TesseraPacedModel *self,
           guint              shown,
           guint              position)
{
  g_autoptr(GObject) item = g_list_model_get_item (self->model, position);

  return item == g_ptr_array_index (self->items, shown);
}

/* What waits becomes one change: the items between the longest run
 * this model shows that the model still begins with and the longest it
 * still ends with, replaced by what the model has there now */
static void
fold_changes (TesseraPacedModel *self)
{
  guint shown = self->items->len;
  guint n = g_list_model_get_n_items (self->model);
  guint head = 0, tail = 0;

  while (head < MIN (shown, n) && same_item (self, head, head))
    head++;
  while (tail < MIN (shown, n) - head && same_item (self, shown - 1 - tail, n - 1 - tail))
    tail++;

  g_queue_clear_full (&self->changes, (GDestroyNotify) change_free);
  if (shown - head - tail > 0 || n - head - tail > 0)
    queue_change (self, head, shown - head - tail, n - head - tail);
}

static void
on_items_changed (GListModel        *model,
                  guint              position,
                  guint              removed,
                  guint              added,
                  TesseraPacedModel *self)
{
  gboolean waiting = !g_queue_is_empty (&self->changes);

  if (waiting)
    {
      Change *change;

      fold_changes (self);
      /* What only takes items away passes at once: it builds no row */
      change = g_queue_peek_head (&self->changes);
      if (change != NULL && change->added->len == 0)
        pass_on (self, G_MAXUINT);
      return;
    }

  queue_change (self, position, removed, added);

  /* Nothing waits and the change is small: at once, as if not paced */
  if (added <= self->step)
    {
      pass_on (self, G_MAXUINT);
      return;
    }

  /* The first step now, so the first rows come with the next frame */
  pass_on (self, self->step);
  if (!g_queue_is_empty (&self->changes) && self->step_id == 0)
    self->step_id = g_timeout_add (STEP_INTERVAL_MS, step_cb, self);
}

/* GListModel */

static GType
tessera_paced_model_get_item_type (GListModel *list)
{
  TesseraPacedModel *self = TESSERA_PACED_MODEL (list);

  return g_list_model_get_item_type (self->model);
}

static guint
tessera_paced_model_get_n_items (GListModel *list)
{
  TesseraPacedModel *self = TESSERA_PACED_MODEL (list);

  return self->items->len;
}

static gpointer
tessera_paced_model_get_item (GListModel *list,
                              guint       position)
{
  TesseraPacedModel *self = TESSERA_PACED_MODEL (list);

  if (position >= self->items->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->items, position));
}

static void
tessera_paced_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = tessera_paced_model_get_item_type;
  iface->get_n_items = tessera_paced_model_get_n_items;
  iface->get_item = tessera_paced_model_get_item;
}

/* GObject */

static void
tessera_paced_model_dispose (GObject *object)
{
  TesseraPacedModel *self = TESSERA_PACED_MODEL (object);

  g_clear_handle_id (&self->step_id, g_source_remove);
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  g_clear_object (&self->model);
  g_queue_clear_full (&self->changes, (GDestroyNotify) change_free);

  G_OBJECT_CLASS (tessera_paced_model_parent_class)->dispose (object);
}

static void
tessera_paced_model_finalize (GObject *object)
{
  TesseraPacedModel *self = TESSERA_PACED_MODEL (object);

  g_ptr_array_unref (self->items);

  G_OBJECT_CLASS (tessera_paced_model_parent_class)->finalize (object);
}

static void
tessera_paced_model_class_init (TesseraPacedModelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tessera_paced_model_dispose;
  object_class->finalize = tessera_paced_model_finalize;
}

static void
tessera_paced_model_init (TesseraPacedModel *self)
{
  self->items = g_ptr_array_new_with_free_func (g_object_unref);
  g_queue_init (&self->changes);
}

/**
 * tessera_paced_model_new:
 * @model: the model to show
 * @step: how many added items to pass on at most per frame
 *
 * Starts with the first @step items of @model; the others follow a step
 * a frame.
 *
 * Returns: (transfer full): a new #TesseraPacedModel
 */
TesseraPacedModel *
tessera_paced_model_new (GListModel *model,
                         guint       step)
{
  TesseraPacedModel *self;

  g_return_val_if_fail (G_IS_LIST_MODEL (model), NULL);
  g_return_val_if_fail (step > 0, NULL);

  self = g_object_new (TESSERA_TYPE_PACED_MODEL, NULL);
  self->model = g_object_ref (model);
  self->step = step;
  g_signal_connect (model, "items-changed", G_CALLBACK (on_items_changed), self);

  on_items_changed (model, 0, 0, g_list_model_get_n_items (model), self);
  return self;
}

/**
 * tessera_paced_model_is_settled:
 *
 * Returns: %TRUE when this model shows what its model shows
 */
gboolean
tessera_paced_model_is_settled (TesseraPacedModel *self)
{
  g_return_val_if_fail (TESSERA_IS_PACED_MODEL (self), TRUE);

  return g_queue_is_empty (&self->changes);
}
