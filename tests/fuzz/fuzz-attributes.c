/* fuzz-attributes.c: reading objects from a module that lies
 *
 * The input scripts a hostile module (see fuzz-module.c): return values,
 * object counts beyond the room given, attribute lengths beyond the room
 * or the limits.  The first byte picks _tessera_object_read_one() on a
 * certificate or another object, or _tessera_object_read_all().  What is
 * read then goes through everything the core does with objects.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "fuzz-module.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GPtrArray) objects = NULL;
  CK_FUNCTION_LIST *functions;
  guint mode;

  fuzz_init ();
  if (size < 1)
    return 0;

  mode = data[0] % 3;
  functions = fuzz_module_scripted (data + 1, size - 1);

  if (mode == 2)
    {
      g_autoptr(GError) error = NULL;
      CK_RV rv = CKR_OK;

      objects = _tessera_object_read_all (functions, 1, &fuzz_token_info, NULL, &rv, &error);
      g_assert ((objects == NULL) == (error != NULL));
    }
  else
    {
      TesseraObject *object = _tessera_object_read_one (functions, 1, 1, mode == 1, &fuzz_token_info);

      objects = g_ptr_array_new_with_free_func (g_object_unref);
      if (object != NULL)
        g_ptr_array_add (objects, object);
    }

  if (objects != NULL)
    fuzz_use_objects (objects);
  return 0;
}
