/* tessera-copy-ssh-config.c: the block Copy SSH Config puts on the
 * clipboard for a token's first key, made by the window's own code
 * (tessera_ssh_export_dup_config) without a window, so that the sandbox
 * test can run it where no display is.
 *
 * Usage: tessera-copy-ssh-config URI
 *
 * On stderr, afterwards: P11_KIT_SERVER_ADDRESS as Tessera left it, and
 * the model of the tokens a new p11-kit client instance reaches there
 * (in a Flatpak, its trust-only server: Tessera must not have moved it).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <dlfcn.h>
#include <stdlib.h>

#include <p11-kit/pkcs11.h>

#include "tessera-core.h"
#include "tessera-ssh-export.h"

static void
on_ready (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* What a p11-kit client made now, from the environment as it is, serves */
static void
print_default_server (void)
{
  g_autofree char *client = g_build_filename (P11_MODULE_PATH, "p11-kit-client.so", NULL);
  void *handle = dlopen (client, RTLD_NOW | RTLD_LOCAL);
  CK_C_GetFunctionList get_function_list = handle ? (CK_C_GetFunctionList) dlsym (handle, "C_GetFunctionList") : NULL;
  CK_FUNCTION_LIST *functions = NULL;
  CK_SLOT_ID slots[16];
  CK_ULONG n_slots = G_N_ELEMENTS (slots);

  g_printerr ("P11_KIT_SERVER_ADDRESS=%s\n", g_getenv ("P11_KIT_SERVER_ADDRESS"));
  if (get_function_list == NULL || get_function_list (&functions) != CKR_OK ||
      functions->C_Initialize (NULL) != CKR_OK ||
      functions->C_GetSlotList (CK_TRUE, slots, &n_slots) != CKR_OK)
    {
      g_printerr ("trust server serves: (no answer)\n");
      return;
    }
  for (CK_ULONG i = 0; i < n_slots; i++)
    {
      CK_TOKEN_INFO info;
      g_autofree char *model = NULL;

      if (functions->C_GetTokenInfo (slots[i], &info) != CKR_OK)
        continue;
      model = g_strndup ((const char *) info.model, sizeof info.model);
      g_printerr ("trust server serves: %s\n", g_strchomp (model));
    }
  functions->C_Finalize (NULL);
}

static GAsyncResult *
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *result;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GAsyncResult) loaded = NULL;
  g_autoptr(GAsyncResult) read = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TesseraKey) key = NULL;
  g_autofree char *config = NULL;
  TesseraToken *token;

  if (argc != 2)
    {
      g_printerr ("Usage: %s URI\n", argv[0]);
      return 2;
    }

  registry = tessera_registry_new ();
  tessera_registry_load_async (registry, NULL, on_ready, &loaded);
  if (!tessera_registry_load_finish (registry, wait_for (&loaded), &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  token = tessera_registry_lookup_token (registry, argv[1]);
  if (token == NULL)
    {
      g_printerr ("No token matches %s\n", argv[1]);
      return 1;
    }

  tessera_token_read_objects_async (token, NULL, on_ready, &read);
  if (!tessera_token_read_objects_finish (token, wait_for (&read), &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (g_list_model_get_n_items (tessera_token_get_keys (token)) == 0)
    {
      g_printerr ("The token has no key\n");
      return 1;
    }

  key = g_list_model_get_item (tessera_token_get_keys (token), 0);
  config = tessera_ssh_export_dup_config (key, token);
  if (config == NULL)
    {
      g_printerr ("No SSH config: the token's module has no path on the host\n");
      return 1;
    }
  fputs (config, stdout);
  print_default_server ();
  return 0;
}
