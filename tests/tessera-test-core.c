/* tessera-test-core.c: helpers for tests that drive the core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <dlfcn.h>

#include "tessera-test-core.h"
#include "tessera-test-softhsm.h"

/* Helpers ------------------------------------------------------------------- */

void
tessera_test_on_ready (GObject      *source_object,
          GAsyncResult *result,
          gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

GAsyncResult *
tessera_test_wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

/* Spins the main context until @condition holds, at most @seconds. */
gboolean
tessera_test_wait_until (TesseraTestCondition condition,
            gpointer  data,
            double    seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!condition (data))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10 * 1000);
    }
  return TRUE;
}

/* Like g_assert_finalize_object(), but lets worker threads drop the
 * references their finished GTasks still hold. */
void
tessera_test_assert_finalized (gpointer object)
{
  gpointer weak = object;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_object_add_weak_pointer (object, &weak);
  g_object_unref (object);
  while (weak != NULL && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_null (weak);
}

TesseraRegistry *
tessera_test_load_paths (const char * const *paths)
{
  TesseraRegistry *registry = tessera_registry_new_for_module_paths (paths);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  tessera_registry_load_async (registry, NULL, tessera_test_on_ready, &result);
  tessera_registry_load_finish (registry, tessera_test_wait_result (&result), &error);
  g_assert_no_error (error);

  return registry;
}

TesseraRegistry *
tessera_test_load_softhsm (void)
{
  const char *paths[] = { TESSERA_TEST_SOFTHSM_MODULE, NULL };
  return tessera_test_load_paths (paths);
}

/* SoftHSM loaded into the test's own process, for tests that change its
 * state from here: SoftHSM shows no other process's changes. */
TesseraRegistry *
tessera_test_load_softhsm_in_process (void)
{
  const char *paths[] = { TESSERA_TEST_SOFTHSM_MODULE, NULL };
  TesseraRegistry *registry = tessera_registry_new_for_module_paths (paths);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  tessera_registry_set_in_process (registry, TRUE);
  tessera_registry_load_async (registry, NULL, tessera_test_on_ready, &result);
  tessera_registry_load_finish (registry, tessera_test_wait_result (&result), &error);
  g_assert_no_error (error);

  return registry;
}

TesseraToken *
tessera_test_find_token (TesseraRegistry *registry,
            const char      *label)
{
  GListModel *tokens = tessera_registry_get_tokens (registry);

  for (guint i = 0; i < g_list_model_get_n_items (tokens); i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i);

      if (g_strcmp0 (tessera_token_get_label (token), label) == 0)
        return token;
    }
  return NULL;
}

void
tessera_test_login (TesseraToken *token,
       const char   *pin,
       GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tessera_token_login_async (token, pin, NULL, tessera_test_on_ready, &result);
  tessera_token_login_finish (token, tessera_test_wait_result (&result), error);
}

void
tessera_test_read_objects (TesseraToken *token,
              GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tessera_token_read_objects_async (token, NULL, tessera_test_on_ready, &result);
  tessera_token_read_objects_finish (token, tessera_test_wait_result (&result), error);
}

TesseraKey *
tessera_test_find_key (TesseraToken *token,
          const char   *id_hex)
{
  GListModel *keys = tessera_token_get_keys (token);

  for (guint i = 0; i < g_list_model_get_n_items (keys); i++)
    {
      g_autoptr(TesseraKey) key = g_list_model_get_item (keys, i);

      if (g_strcmp0 (tessera_key_get_id_hex (key), id_hex) == 0)
        return key;
    }
  return NULL;
}

/* The module's function list, for the few things a test does to a token
 * behind Tessera's back.  dlopen() returns the copy Tessera loaded. */
CK_FUNCTION_LIST *
tessera_test_softhsm_functions (void)
{
  void *handle = dlopen (TESSERA_TEST_SOFTHSM_MODULE, RTLD_NOW);
  CK_C_GetFunctionList get_function_list;
  CK_FUNCTION_LIST *functions = NULL;
  CK_RV rv;

  g_assert_nonnull (handle);
  get_function_list = (CK_C_GetFunctionList) dlsym (handle, "C_GetFunctionList");
  g_assert_cmpuint (get_function_list (&functions), ==, CKR_OK);
  rv = functions->C_Initialize (NULL);
  g_assert_true (rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED);

  return functions;
}

