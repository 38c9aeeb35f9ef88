/* test-merge.c: reads merge into a token's lists, on real SoftHSM tokens
 *
 * A login reads only the private objects it reveals.  A refresh changes
 * the object and key lists by what changed on the token, and an object
 * or key that did not change keeps its instance, which the window's rows
 * are bound to.  PKCS#11 calls are counted with OpenSC's pkcs11-spy.
 *
 * TESSERA_TEST_MERGE_PAIRS sets the size of the token whose login is
 * counted (key pairs, each with a certificate; 8 when unset).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include <gio/gio.h>

#include "tessera-test-core.h"
#include "tessera-test-softhsm.h"

#define SPY_MODULE "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so"
#define TOKEN_LABEL "Merge"

typedef struct
{
  guint position;
  guint removed;
  guint added;
} Change;

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  GArray     *changes)
{
  Change change = { position, removed, added };

  g_array_append_val (changes, change);
}

/* The changes each of a token's lists reports */
typedef struct
{
  GListModel *models[4];
  GArray     *changes[4];
  GPtrArray  *keys;          /* the keys when the watch started */
  GHashTable *key_changes;   /* key -> how many ::changed it emitted */
} Watch;

static void
on_key_changed (TesseraKey *key,
                GHashTable *key_changes)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (key_changes, key));

  g_hash_table_insert (key_changes, key, GUINT_TO_POINTER (n + 1));
}

enum { OBJECTS, KEYS, CERTIFICATES, OTHERS };

static void
watch_start (Watch        *watch,
             TesseraToken *token)
{
  watch->models[OBJECTS] = tessera_token_get_objects (token);
  watch->models[KEYS] = tessera_token_get_keys (token);
  watch->models[CERTIFICATES] = tessera_token_get_certificates (token);
  watch->models[OTHERS] = tessera_token_get_other_objects (token);

  for (guint i = 0; i < G_N_ELEMENTS (watch->models); i++)
    {
      watch->changes[i] = g_array_new (FALSE, FALSE, sizeof (Change));
      g_signal_connect (watch->models[i], "items-changed", G_CALLBACK (on_items_changed),
                        watch->changes[i]);
    }

  watch->key_changes = g_hash_table_new (NULL, NULL);
  watch->keys = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < g_list_model_get_n_items (watch->models[KEYS]); i++)
    {
      TesseraKey *key = g_list_model_get_item (watch->models[KEYS], i);

      g_ptr_array_add (watch->keys, key);
      g_signal_connect (key, "changed", G_CALLBACK (on_key_changed), watch->key_changes);
    }
}

static void
watch_stop (Watch *watch)
{
  for (guint i = 0; i < G_N_ELEMENTS (watch->models); i++)
    {
      g_signal_handlers_disconnect_by_data (watch->models[i], watch->changes[i]);
      g_clear_pointer (&watch->changes[i], g_array_unref);
    }
  for (guint i = 0; i < watch->keys->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (watch->keys, i), watch->key_changes);
  g_clear_pointer (&watch->keys, g_ptr_array_unref);
  g_clear_pointer (&watch->key_changes, g_hash_table_unref);
}

static void
watch_restart (Watch        *watch,
               TesseraToken *token)
{
  watch_stop (watch);
  watch_start (watch, token);
}

static Change *
change_at (Watch *watch,
           guint  model,
           guint  index)
{
  return &g_array_index (watch->changes[model], Change, index);
}

/* The items of @model, referenced */
static GPtrArray *
snapshot (GListModel *model)
{
  guint n = g_list_model_get_n_items (model);
  GPtrArray *items = g_ptr_array_new_full (n, g_object_unref);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (items, g_list_model_get_item (model, i));
  return items;
}

static gboolean
snapshot_contains (GPtrArray *items,
                   gpointer   item)
{
  return g_ptr_array_find (items, item, NULL);
}

static void
assert_same_items (GListModel *model,
                   GPtrArray  *items)
{
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, items->len);
  for (guint i = 0; i < items->len; i++)
    {
      g_autoptr(GObject) item = g_list_model_get_item (model, i);

      g_assert_true (item == g_ptr_array_index (items, i));
    }
}

/* How many PKCS#11 calls pkcs11-spy logged so far, and of them how many
 * were C_GetAttributeValue */
static guint
spy_calls (const char *log,
           guint      *get_attribute_value)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  *get_attribute_value = 0;
  if (!g_file_get_contents (log, &contents, NULL, NULL))
    return 0;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *p = lines[i];

      if (!g_ascii_isdigit (*p))
        continue;
      while (g_ascii_isdigit (*p))
        p++;
      if (!g_str_has_prefix (p, ": C_"))
        continue;
      n++;
      if (g_str_has_prefix (p, ": C_GetAttributeValue"))
        (*get_attribute_value)++;
    }
  return n;
}

static void
make_token (TesseraTestSoftHsm *softhsm,
            guint               n_pairs,
            guint               n_certificates)
{
  tessera_test_softhsm_init_token (softhsm, TOKEN_LABEL);
  for (guint i = 0; i < n_pairs; i++)
    {
      g_autofree char *id = g_strdup_printf ("%04x", i + 1);
      g_autofree char *label = g_strdup_printf ("key %u", i + 1);

      tessera_test_softhsm_keypair (softhsm, TOKEN_LABEL, "EC:prime256v1", id, label);
      if (i < n_certificates)
        {
          g_autofree char *cert_label = g_strdup_printf ("cert %u", i + 1);

          tessera_test_softhsm_certificate (softhsm, TOKEN_LABEL, id, cert_label, cert_label);
        }
    }
}

static void
delete_object (const char *type,
               const char *id)
{
  const char *argv[] = {
    "pkcs11-tool", "--module", TESSERA_TEST_SOFTHSM_MODULE, "--token-label", TOKEN_LABEL,
    "--login", "--pin", TESSERA_TEST_PIN, "--delete-object", "--type", type, "--id", id, NULL
  };

  tessera_test_run_ok (argv);
}

/* Tests --------------------------------------------------------------------- */

static void
test_login_reads_private_objects (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autofree char *log = g_build_filename (softhsm->dir, "spy.log", NULL);
  const char *paths[] = { SPY_MODULE, NULL };
  const char *pairs_text = g_getenv ("TESSERA_TEST_MERGE_PAIRS");
  guint n_pairs = pairs_text != NULL ? (guint) g_ascii_strtoull (pairs_text, NULL, 10) : 8;
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GPtrArray) public_objects = NULL;
  g_autoptr(GPtrArray) certificates = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  g_autoptr(GError) error = NULL;
  guint before, after, attributes_before, attributes_after, changed = 0;
  TesseraToken *token;
  Watch watch;

  if (!g_file_test (SPY_MODULE, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("OpenSC's pkcs11-spy is not installed");
      return;
    }

  g_assert_cmpuint (n_pairs, >, 0);
  make_token (softhsm, n_pairs, n_pairs);

  g_setenv ("PKCS11SPY", TESSERA_TEST_SOFTHSM_MODULE, TRUE);
  g_setenv ("PKCS11SPY_OUTPUT", log, TRUE);
  registry = tessera_test_load_paths (paths);
  token = tessera_test_find_token (registry, TOKEN_LABEL);
  g_assert_nonnull (token);

  /* Before login: the public keys and the certificates */
  tessera_test_read_objects (token, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (token)), ==, 2 * n_pairs);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_keys (token)), ==, n_pairs);
  public_objects = snapshot (tessera_token_get_objects (token));
  certificates = snapshot (tessera_token_get_certificates (token));
  keys = snapshot (tessera_token_get_keys (token));

  watch_start (&watch, token);
  before = spy_calls (log, &attributes_before);
  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);
  after = spy_calls (log, &attributes_after);

  g_test_message ("login on %u key pairs with certificates (%u objects): %u PKCS#11 calls, "
                  "%u of them C_GetAttributeValue",
                  n_pairs, 3 * n_pairs, after - before, attributes_after - attributes_before);
  g_assert_cmpuint (after - before, <=, n_pairs + 10);
  g_assert_cmpuint (attributes_after - attributes_before, ==, n_pairs);

  /* The private keys joined the list; the public objects stayed, in place */
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (token)), ==, 3 * n_pairs);
  for (guint i = 0; i < public_objects->len; i++)
    {
      g_autoptr(TesseraObject) object = g_list_model_get_item (tessera_token_get_objects (token), i);

      g_assert_true (object == g_ptr_array_index (public_objects, i));
    }
  g_assert_cmpuint (watch.changes[OBJECTS]->len, ==, 1);
  g_assert_cmpuint (change_at (&watch, OBJECTS, 0)->position, ==, 2 * n_pairs);
  g_assert_cmpuint (change_at (&watch, OBJECTS, 0)->removed, ==, 0);
  g_assert_cmpuint (change_at (&watch, OBJECTS, 0)->added, ==, n_pairs);
  g_assert_cmpuint (watch.changes[CERTIFICATES]->len, ==, 0);
  assert_same_items (tessera_token_get_certificates (token), certificates);

  /* Every key gained its private key in place: the same instance, at the
   * same position, one ::changed each, and no change to the list */
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_keys (token)), ==, n_pairs);
  g_assert_cmpuint (watch.changes[KEYS]->len, ==, 0);
  for (guint i = 0; i < n_pairs; i++)
    {
      g_autoptr(TesseraKey) key = g_list_model_get_item (tessera_token_get_keys (token), i);
      TesseraKey *was = g_ptr_array_index (keys, i);

      g_assert_true (key == was);
      g_assert_nonnull (tessera_key_get_private_key (key));
      g_assert_true (g_ptr_array_find (public_objects, tessera_key_get_public_key (key), NULL));
      g_assert_true (g_ptr_array_find (certificates, tessera_key_get_certificate (key), NULL));
      g_assert_cmpint (tessera_key_get_ssh_verdict (key), ==, TESSERA_SSH_VERDICT_READY);
      changed += GPOINTER_TO_UINT (g_hash_table_lookup (watch.key_changes, key));
    }
  g_assert_cmpuint (changed, ==, n_pairs);

  /* What the merge made is what a full read finds: it changes nothing */
  watch_restart (&watch, token);
  tessera_test_read_objects (token, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (watch.changes); i++)
    g_assert_cmpuint (watch.changes[i]->len, ==, 0);

  watch_stop (&watch);
  g_unsetenv ("PKCS11SPY");
  g_unsetenv ("PKCS11SPY_OUTPUT");
}

static void
check_refresh_changes_nothing (TesseraToken *token)
{
  g_autoptr(GPtrArray) objects = snapshot (tessera_token_get_objects (token));
  g_autoptr(GPtrArray) keys = snapshot (tessera_token_get_keys (token));
  g_autoptr(GPtrArray) certificates = snapshot (tessera_token_get_certificates (token));
  g_autoptr(GError) error = NULL;
  Watch watch;

  watch_start (&watch, token);
  tessera_test_read_objects (token, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (watch.changes); i++)
    g_assert_cmpuint (watch.changes[i]->len, ==, 0);
  assert_same_items (tessera_token_get_objects (token), objects);
  assert_same_items (tessera_token_get_keys (token), keys);
  assert_same_items (tessera_token_get_certificates (token), certificates);
  watch_stop (&watch);
}

static void
test_refresh_unchanged (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  make_token (softhsm, 4, 2);
  registry = tessera_test_load_softhsm ();
  token = tessera_test_find_token (registry, TOKEN_LABEL);

  tessera_test_read_objects (token, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (token)), ==, 6);
  check_refresh_changes_nothing (token);

  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (token)), ==, 10);
  check_refresh_changes_nothing (token);
  check_refresh_changes_nothing (token);
}

static void
test_refresh_adds_one_key (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;
  TesseraKey *added;
  Change *change;
  Watch watch;

  make_token (softhsm, 4, 2);
  registry = tessera_test_load_softhsm ();
  token = tessera_test_find_token (registry, TOKEN_LABEL);
  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);
  objects = snapshot (tessera_token_get_objects (token));
  keys = snapshot (tessera_token_get_keys (token));
  g_assert_cmpuint (keys->len, ==, 4);

  /* Another program adds a key pair; it sorts between keys 2 and 3 */
  tessera_test_softhsm_keypair (softhsm, TOKEN_LABEL, "EC:prime256v1", "00aa", "key 2a");

  watch_start (&watch, token);
  tessera_test_read_objects (token, &error);
  g_assert_no_error (error);

  /* The objects list gains the two at its end */
  g_assert_cmpuint (watch.changes[OBJECTS]->len, ==, 1);
  change = change_at (&watch, OBJECTS, 0);
  g_assert_cmpuint (change->position, ==, objects->len);
  g_assert_cmpuint (change->removed, ==, 0);
  g_assert_cmpuint (change->added, ==, 2);
  for (guint i = 0; i < objects->len; i++)
    {
      g_autoptr(TesseraObject) object = g_list_model_get_item (tessera_token_get_objects (token), i);

      g_assert_true (object == g_ptr_array_index (objects, i));
    }

  /* The keys list gains that key, in its place; the others stay */
  g_assert_cmpuint (watch.changes[KEYS]->len, ==, 1);
  change = change_at (&watch, KEYS, 0);
  g_assert_cmpuint (change->position, ==, 2);
  g_assert_cmpuint (change->removed, ==, 0);
  g_assert_cmpuint (change->added, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_keys (token)), ==, 5);
  added = tessera_test_find_key (token, "00aa");
  g_assert_nonnull (added);
  g_assert_false (snapshot_contains (keys, added));
  g_assert_nonnull (tessera_key_get_private_key (added));
  g_assert_nonnull (tessera_key_get_public_key (added));
  for (guint i = 0; i < keys->len; i++)
    {
      g_autoptr(TesseraKey) key = g_list_model_get_item (tessera_token_get_keys (token), i < 2 ? i : i + 1);

      g_assert_true (key == g_ptr_array_index (keys, i));
    }
  g_assert_cmpuint (watch.changes[CERTIFICATES]->len, ==, 0);
  g_assert_cmpuint (watch.changes[OTHERS]->len, ==, 0);

  watch_stop (&watch);
}

static void
test_refresh_removes_one_key (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GPtrArray) keys = NULL;
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;
  TesseraKey *gone;
  guint removed = 0;
  Change *change;
  Watch watch;

  make_token (softhsm, 4, 2);
  registry = tessera_test_load_softhsm ();
  token = tessera_test_find_token (registry, TOKEN_LABEL);
  tessera_test_login (token, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);
  objects = snapshot (tessera_token_get_objects (token));
  keys = snapshot (tessera_token_get_keys (token));
  gone = g_ptr_array_index (keys, 2);
  g_assert_cmpstr (tessera_key_get_id_hex (gone), ==, "0003");

  /* Another program deletes key 3, which has no certificate */
  delete_object ("privkey", "0003");
  delete_object ("pubkey", "0003");

  watch_start (&watch, token);
  tessera_test_read_objects (token, &error);
  g_assert_no_error (error);

  /* Only that key leaves, and only its two objects */
  g_assert_cmpuint (watch.changes[KEYS]->len, ==, 1);
  change = change_at (&watch, KEYS, 0);
  g_assert_cmpuint (change->position, ==, 2);
  g_assert_cmpuint (change->removed, ==, 1);
  g_assert_cmpuint (change->added, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_keys (token)), ==, 3);
  g_assert_null (tessera_test_find_key (token, "0003"));
  for (guint i = 0, j = 0; i < keys->len; i++)
    {
      g_autoptr(TesseraKey) key = NULL;

      if (g_ptr_array_index (keys, i) == gone)
        continue;
      key = g_list_model_get_item (tessera_token_get_keys (token), j++);
      g_assert_true (key == g_ptr_array_index (keys, i));
    }

  for (guint i = 0; i < watch.changes[OBJECTS]->len; i++)
    {
      g_assert_cmpuint (change_at (&watch, OBJECTS, i)->added, ==, 0);
      removed += change_at (&watch, OBJECTS, i)->removed;
    }
  g_assert_cmpuint (removed, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (token)), ==, objects->len - 2);
  for (guint i = 0; i < g_list_model_get_n_items (tessera_token_get_objects (token)); i++)
    {
      g_autoptr(TesseraObject) object = g_list_model_get_item (tessera_token_get_objects (token), i);

      g_assert_true (snapshot_contains (objects, object));
      g_assert_cmpstr (tessera_object_get_id_hex (object), !=, "0003");
    }
  g_assert_cmpuint (watch.changes[CERTIFICATES]->len, ==, 0);

  watch_stop (&watch);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/merge/login-reads-private-objects-only", test_login_reads_private_objects);
  g_test_add_func ("/core/merge/refresh-unchanged-keeps-instances", test_refresh_unchanged);
  g_test_add_func ("/core/merge/refresh-adds-one-key", test_refresh_adds_one_key);
  g_test_add_func ("/core/merge/refresh-removes-one-key", test_refresh_removes_one_key);

  return g_test_run ();
}
