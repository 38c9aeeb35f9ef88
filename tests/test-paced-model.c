/* test-paced-model.c: TesseraPacedModel passes every change on, in order
 *
 * A shadow list is kept from the paced model's items-changed signals
 * alone, as a list view keeps its rows; after every step it must equal
 * the paced model, and once settled, the model it paces.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <gio/gio.h>

#include "tessera-paced-model.h"

typedef struct
{
  GPtrArray *rows;      /* what a list view would show */
  guint      signals;
  guint      largest;   /* the most items one signal added */
} Shadow;

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Shadow     *shadow)
{
  g_assert_cmpuint (position + removed, <=, shadow->rows->len);
  g_ptr_array_remove_range (shadow->rows, position, removed);
  for (guint i = 0; i < added; i++)
    g_ptr_array_insert (shadow->rows, position + i, g_list_model_get_item (model, position + i));
  shadow->signals++;
  shadow->largest = MAX (shadow->largest, added);
}

static void
assert_same (GListModel *model,
             GPtrArray  *rows)
{
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, rows->len);
  for (guint i = 0; i < rows->len; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (model, i);

      g_assert_true (item == g_ptr_array_index (rows, i));
    }
}

static GObject *
make_item (guint n)
{
  GObject *item = g_object_new (G_TYPE_OBJECT, NULL);

  g_object_set_data (item, "n", GUINT_TO_POINTER (n));
  return item;
}

static void
splice_new (GListStore *store,
            guint       position,
            guint       removed,
            guint       added,
            guint      *serial)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < added; i++)
    g_ptr_array_add (items, make_item ((*serial)++));
  g_list_store_splice (store, position, removed, items->pdata, added);
}

static void
settle (TesseraPacedModel *paced,
        Shadow            *shadow)
{
  while (!tessera_paced_model_is_settled (paced))
    {
      g_main_context_iteration (NULL, TRUE);
      assert_same (G_LIST_MODEL (paced), shadow->rows);
    }
}

static void
test_large_change_in_steps (void)
{
  g_autoptr(GListStore) store = g_list_store_new (G_TYPE_OBJECT);
  g_autoptr(TesseraPacedModel) paced = NULL;
  Shadow shadow = { g_ptr_array_new_with_free_func (g_object_unref), 0, 0 };
  guint serial = 0;

  splice_new (store, 0, 0, 20, &serial);
  paced = tessera_paced_model_new (G_LIST_MODEL (store), 8);
  /* The first step at once */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (paced)), ==, 8);
  for (guint i = 0; i < 8; i++)
    g_ptr_array_add (shadow.rows, g_list_model_get_item (G_LIST_MODEL (paced), i));
  g_signal_connect (paced, "items-changed", G_CALLBACK (on_items_changed), &shadow);

  settle (paced, &shadow);
  assert_same (G_LIST_MODEL (store), shadow.rows);
  g_assert_cmpuint (shadow.largest, <=, 8);

  /* A small change with nothing waiting passes at once */
  shadow.signals = 0;
  splice_new (store, 3, 2, 5, &serial);
  g_assert_true (tessera_paced_model_is_settled (paced));
  g_assert_cmpuint (shadow.signals, ==, 1);
  assert_same (G_LIST_MODEL (store), shadow.rows);

  /* Replacing everything (a login) goes in steps too */
  splice_new (store, 0, g_list_model_get_n_items (G_LIST_MODEL (store)), 100, &serial);
  g_assert_false (tessera_paced_model_is_settled (paced));
  settle (paced, &shadow);
  assert_same (G_LIST_MODEL (store), shadow.rows);
  g_assert_cmpuint (shadow.largest, <=, 8);

  g_ptr_array_unref (shadow.rows);
}

/* Changes that come while others wait keep their order and positions */
static void
test_changes_while_waiting (void)
{
  g_autoptr(GListStore) store = g_list_store_new (G_TYPE_OBJECT);
  g_autoptr(TesseraPacedModel) paced = tessera_paced_model_new (G_LIST_MODEL (store), 4);
  Shadow shadow = { g_ptr_array_new_with_free_func (g_object_unref), 0, 0 };
  guint serial = 0;
  guint32 seed = 7;

  g_signal_connect (paced, "items-changed", G_CALLBACK (on_items_changed), &shadow);

  for (guint round = 0; round < 200; round++)
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (store));
      guint position, removed, added;

      seed = seed * 1103515245u + 12345u;
      position = n > 0 ? (seed >> 8) % (n + 1) : 0;
      removed = n > position ? (seed >> 16) % MIN (n - position + 1, 6) : 0;
      added = (seed >> 4) % 13;
      splice_new (store, position, removed, added, &serial);
      assert_same (G_LIST_MODEL (paced), shadow.rows);

      /* Now and then let a step or two pass */
      if ((seed >> 20) % 3 == 0)
        g_main_context_iteration (NULL, FALSE);
    }

  settle (paced, &shadow);
  assert_same (G_LIST_MODEL (store), shadow.rows);
  g_assert_cmpuint (shadow.largest, <=, 4);

  g_ptr_array_unref (shadow.rows);
}

/* Going away with changes waiting leaves nothing behind */
static void
test_dispose_while_waiting (void)
{
  g_autoptr(GListStore) store = g_list_store_new (G_TYPE_OBJECT);
  TesseraPacedModel *paced;
  guint serial = 0;

  splice_new (store, 0, 0, 50, &serial);
  paced = tessera_paced_model_new (G_LIST_MODEL (store), 5);
  g_assert_false (tessera_paced_model_is_settled (paced));
  g_object_unref (paced);

  /* The store changes on, and no step runs for the model that went */
  splice_new (store, 0, 10, 10, &serial);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ui/paced-model/large-change-in-steps", test_large_change_in_steps);
  g_test_add_func ("/ui/paced-model/changes-while-waiting", test_changes_while_waiting);
  g_test_add_func ("/ui/paced-model/dispose-while-waiting", test_dispose_while_waiting);

  return g_test_run ();
}
