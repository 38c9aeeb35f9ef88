/* fuzz-uri.c: PKCS#11 URIs, matched and made
 *
 * The input is a URI, then a newline and a token's information: label (32
 * bytes), manufacturer (32), model (16), serial (16), a flags byte and a
 * slot byte, zeros where it ends early.  The URI is looked up with
 * tessera_registry_lookup_token() among the four tokens of
 * fuzz-token-module.so; the token is made with _tessera_token_new(), and
 * the URI it is given must match it again: by Tessera's matching always,
 * and by p11-kit's when no field holds a NUL.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stddef.h>
#include <string.h>

#include "tessera-test-core.h"
#include "fuzz-module.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static TesseraRegistry *registry;
static TesseraModule *module;

static void
load_tokens (void)
{
  const char *paths[] = { FUZZ_TOKEN_MODULE, NULL };
  GListModel *tokens;

  registry = tessera_test_load_paths (paths);
  tokens = tessera_registry_get_tokens (registry);
  for (guint i = 0; i < g_list_model_get_n_items (tessera_registry_get_modules (registry)); i++)
    {
      g_autoptr(TesseraModule) loaded = g_list_model_get_item (tessera_registry_get_modules (registry), i);

      if (tessera_module_get_error (loaded) != NULL)
        g_printerr ("%s: %s\n", FUZZ_TOKEN_MODULE, tessera_module_get_error (loaded)->message);
    }
  g_assert_cmpuint (g_list_model_get_n_items (tokens), ==, 4);

  /* Each token's own URI finds it */
  for (guint i = 0; i < g_list_model_get_n_items (tokens); i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i);

      g_assert_true (tessera_registry_lookup_token (registry, tessera_token_get_uri (token)) == token);
    }

  module = _tessera_module_new ("fuzz", FUZZ_TOKEN_MODULE, FALSE);
}

static void
take_field (CK_UTF8CHAR    *field,
            gsize           size,
            const uint8_t **data,
            size_t         *left)
{
  gsize n = MIN (size, *left);

  memset (field, ' ', size);
  memcpy (field, *data, n);
  *data += n;
  *left -= n;
}

static void
make_token (const uint8_t *data,
            size_t         size)
{
  CK_TOKEN_INFO info = { 0 };
  CK_SLOT_ID slot = 0;
  g_autoptr(TesseraToken) token = NULL;
  P11KitUri *parsed = p11_kit_uri_new ();

  take_field (info.label, sizeof info.label, &data, &size);
  take_field (info.manufacturerID, sizeof info.manufacturerID, &data, &size);
  take_field (info.model, sizeof info.model, &data, &size);
  take_field ((CK_UTF8CHAR *) info.serialNumber, sizeof info.serialNumber, &data, &size);
  if (size > 0)
    info.flags = (data[0] & 1) ? CKF_TOKEN_INITIALIZED : 0, data++, size--;
  if (size > 0)
    slot = data[0];

  token = _tessera_token_new (module, slot, &info);
  g_assert_true (_tessera_token_same_identity (token, &info));
  tessera_token_get_label (token);
  tessera_token_get_display_name (token);
  tessera_token_get_kind (token);

  g_assert_cmpint (p11_kit_uri_parse (tessera_token_get_uri (token), P11_KIT_URI_FOR_ANY, parsed),
                   ==, P11_KIT_URI_OK);
  g_assert_true (_tessera_uri_matches_token_info (parsed, &info));
  /* p11-kit compares the padded bytes: it agrees unless a field holds NULs */
  if (memchr (&info, '\0', offsetof (CK_TOKEN_INFO, flags)) == NULL)
    g_assert_true (p11_kit_uri_match_token_info (parsed, &info));
  p11_kit_uri_free (parsed);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const uint8_t *newline = memchr (data, '\n', size);
  size_t uri_len = newline != NULL ? (size_t) (newline - data) : size;
  g_autofree char *uri = g_strndup ((const char *) data, uri_len);

  fuzz_init ();
  if (registry == NULL)
    load_tokens ();

  tessera_registry_lookup_token (registry, uri);

  if (newline != NULL)
    make_token (newline + 1, size - uri_len - 1);
  return 0;
}
