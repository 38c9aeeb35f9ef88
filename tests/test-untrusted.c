/* test-untrusted.c: modules that lie, beside a token that does not
 *
 * Every value a module returns is checked before Tessera uses it: a
 * length against the room it was given, a count against what was asked
 * for, a string for what it holds.  The test module tells each lie (see
 * tests/testmod/tessera-testmod.c) in front of its own copy of SoftHSM,
 * while SoftHSM itself shows the same token honestly.  Each case runs in
 * a subprocess, so that a crash fails that case alone.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "tessera-core.h"
#include "tessera-private.h"
#include "tessera-test-core.h"
#include "tessera-test-softhsm.h"

#define U_FFFD "\xEF\xBF\xBD"

/* Strings a person can read: valid UTF-8, one line, no escapes */
static void
assert_printable (const char *text)
{
  g_assert_nonnull (text);
  g_assert_true (g_utf8_validate (text, -1, NULL));
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    g_assert_false (g_unichar_iscntrl (g_utf8_get_char (p)));
}

/* A registry of SoftHSM and of the test module lying in front of a copy
 * of SoftHSM: two instances in one process, one token directory. */

typedef struct
{
  TesseraTestSoftHsm *softhsm;
  char               *control;
  TesseraRegistry    *registry;
  TesseraModule      *honest_module;
  TesseraModule      *lying_module;
  TesseraToken       *honest;
  TesseraToken       *lying;
} Liar;

static TesseraToken *
find_initialized_token (TesseraRegistry *registry,
                        TesseraModule   *module)
{
  GListModel *tokens = tessera_registry_get_tokens (registry);

  for (guint i = 0; i < g_list_model_get_n_items (tokens); i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i);

      if (tessera_token_get_module (token) == module &&
          !tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
        return token;
    }
  return NULL;
}

static void
liar_setup (Liar       *liar,
            const char *control)
{
  g_autoptr(GFile) softhsm_file = g_file_new_for_path (TESSERA_TEST_SOFTHSM_MODULE);
  g_autoptr(GFile) copy_file = NULL;
  g_autofree char *copy = NULL;
  g_autoptr(GError) error = NULL;
  const char *paths[] = { TESSERA_TEST_SOFTHSM_MODULE, g_getenv ("TESSERA_TESTMOD"), NULL };
  GListModel *modules;

  g_assert_nonnull (paths[1]);
  liar->softhsm = tessera_test_softhsm_new ();
  tessera_test_softhsm_init_token (liar->softhsm, "Card");
  tessera_test_softhsm_keypair (liar->softhsm, "Card", "EC:prime256v1", "01", "card key");
  tessera_test_softhsm_certificate (liar->softhsm, "Card", "01", "card cert", "Card");

  /* A copy of its own, or dlopen() would hand the test module the
   * instance the registry initialises */
  copy = g_build_filename (liar->softhsm->dir, "libsofthsm2-copy.so", NULL);
  copy_file = g_file_new_for_path (copy);
  g_file_copy (softhsm_file, copy_file, G_FILE_COPY_NONE, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_setenv ("TESSERA_TESTMOD_TARGET", copy, TRUE);

  liar->control = g_build_filename (liar->softhsm->dir, "control", NULL);
  g_file_set_contents (liar->control, control, -1, &error);
  g_assert_no_error (error);
  g_setenv ("TESSERA_TESTMOD_CONTROL", liar->control, TRUE);

  liar->registry = tessera_test_load_paths (paths);
  modules = tessera_registry_get_modules (liar->registry);
  g_assert_cmpuint (g_list_model_get_n_items (modules), ==, 2);
  liar->honest_module = g_list_model_get_item (modules, 0);
  liar->lying_module = g_list_model_get_item (modules, 1);
  g_assert_cmpstr (tessera_module_get_path (liar->lying_module), ==, paths[1]);
  g_assert_false (tessera_module_get_isolated (liar->lying_module));

  /* Whatever the liar did, the honest token is there and lists */
  liar->honest = find_initialized_token (liar->registry, liar->honest_module);
  g_assert_nonnull (liar->honest);
  g_assert_cmpstr (tessera_token_get_label (liar->honest), ==, "Card");
  liar->lying = find_initialized_token (liar->registry, liar->lying_module);
}

static void
assert_honest_token_lists (Liar *liar)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TesseraObject) certificate = NULL;
  TesseraKey *key;

  tessera_test_read_objects (liar->honest, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (liar->honest)), ==, 2);
  key = tessera_test_find_key (liar->honest, "01");
  g_assert_nonnull (key);
  g_assert_cmpstr (tessera_key_get_label (key), ==, "card key");
  certificate = g_list_model_get_item (tessera_token_get_certificates (liar->honest), 0);
  g_assert_nonnull (certificate);
  g_assert_null (tessera_object_get_parse_error (certificate));
  g_assert_cmpstr (tessera_object_get_subject (certificate), ==, "CN=Card");
}

static void
liar_teardown (Liar *liar)
{
  g_clear_object (&liar->honest_module);
  g_clear_object (&liar->lying_module);
  tessera_test_assert_finalized (g_steal_pointer (&liar->registry));
  g_free (liar->control);
  tessera_test_softhsm_free (liar->softhsm);
  g_unsetenv ("TESSERA_TESTMOD_CONTROL");
  g_unsetenv ("TESSERA_TESTMOD_TARGET");
}

/* Every object the lying token shows is unreadable, with @message in
 * its error, and nothing else of it is believed. */
static void
assert_all_unreadable (TesseraToken *token,
                       guint         n_objects,
                       const char   *message)
{
  GListModel *objects = tessera_token_get_objects (token);

  g_assert_cmpuint (g_list_model_get_n_items (objects), ==, n_objects);
  for (guint i = 0; i < n_objects; i++)
    {
      g_autoptr(TesseraObject) object = g_list_model_get_item (objects, i);
      const GError *error = tessera_object_get_parse_error (object);

      g_assert_cmpint (tessera_object_get_kind (object), ==, TESSERA_OBJECT_KIND_OTHER);
      g_assert_cmpstr (tessera_object_get_label (object), ==, "");
      g_assert_cmpuint (g_bytes_get_size (tessera_object_get_id (object)), ==, 0);
      g_assert_false (tessera_object_get_modifiable (object));
      g_assert_nonnull (tessera_object_get_uri (object));
      g_assert_error ((GError *) error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID);
      g_assert_cmpstr (error->message, ==, message);
    }
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_keys (token)), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_certificates (token)), ==, 0);
}

static void
test_lie_length (void)
{
  Liar liar = { 0 };
  g_autoptr(GError) error = NULL;
  const char *message =
    "The token’s module gave an impossible length for this object’s CKA_CLASS: "
    "4294967280 bytes, in room for 8. The object was not read.";

  liar_setup (&liar, "lie_length=1\n");
  g_assert_nonnull (liar.lying);

  /* Public objects, then private ones too */
  tessera_test_read_objects (liar.lying, &error);
  g_assert_no_error (error);
  assert_all_unreadable (liar.lying, 2, message);
  tessera_test_login (liar.lying, TESSERA_TEST_PIN, &error);
  g_assert_no_error (error);
  assert_all_unreadable (liar.lying, 3, message);

  assert_honest_token_lists (&liar);
  liar_teardown (&liar);
}

static void
test_unavailable_length (void)
{
  Liar liar = { 0 };
  g_autoptr(GError) error = NULL;

  liar_setup (&liar, "unavailable_length=1\n");
  g_assert_nonnull (liar.lying);

  tessera_test_read_objects (liar.lying, &error);
  g_assert_no_error (error);
  assert_all_unreadable (liar.lying, 2,
                         "The token’s module did not say what kind of object this is "
                         "(CKA_CLASS). The object was not read.");

  assert_honest_token_lists (&liar);
  liar_teardown (&liar);
}

static void
test_lie_find_count (void)
{
  Liar liar = { 0 };
  g_autoptr(GError) error = NULL;

  liar_setup (&liar, "lie_find_count=1\n");
  g_assert_nonnull (liar.lying);

  tessera_test_read_objects (liar.lying, &error);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "Could not list the token’s objects: "
                                                   "The module gave an answer that cannot be right"));
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (liar.lying)), ==, 0);

  assert_honest_token_lists (&liar);
  liar_teardown (&liar);
}

static void
test_lie_slot_count (void)
{
  Liar liar = { 0 };
  const GError *error;

  liar_setup (&liar, "lie_slot_count=1\n");

  /* No token from a module whose slot list cannot be right */
  g_assert_null (liar.lying);
  error = tessera_module_get_error (liar.lying_module);
  g_assert_error ((GError *) error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "Could not list the module’s slots"));

  assert_honest_token_lists (&liar);
  liar_teardown (&liar);
}

static void
test_garbage_strings (void)
{
  Liar liar = { 0 };
  g_autoptr(GError) error = NULL;
  const char *fields[4];

  liar_setup (&liar, "garbage_strings=1\n");
  g_assert_nonnull (liar.lying);

  /* NUL, ESC, newline, 0xff and 0xfe each become one U+FFFD */
  g_assert_cmpstr (tessera_token_get_label (liar.lying), ==,
                   "Card" U_FFFD U_FFFD "[31m" U_FFFD U_FFFD U_FFFD);
  g_assert_cmpstr (tessera_token_get_display_name (liar.lying), ==,
                   tessera_token_get_label (liar.lying));
  g_assert_cmpstr (tessera_token_get_model (liar.lying), ==,
                   "SoftHSM" U_FFFD U_FFFD "[31m" U_FFFD U_FFFD U_FFFD);

  fields[0] = tessera_token_get_label (liar.lying);
  fields[1] = tessera_token_get_manufacturer (liar.lying);
  fields[2] = tessera_token_get_model (liar.lying);
  fields[3] = tessera_token_get_serial (liar.lying);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    assert_printable (fields[i]);
  assert_printable (tessera_module_get_description (liar.lying_module));
  assert_printable (tessera_module_get_manufacturer (liar.lying_module));
  g_assert_true (g_str_has_prefix (tessera_token_get_uri (liar.lying), "pkcs11:"));

  /* The flags were the real ones, and the objects list as usual */
  g_assert_false (tessera_token_has_state (liar.lying, TESSERA_TOKEN_STATE_USER_PIN_NOT_SET));
  tessera_test_read_objects (liar.lying, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (tessera_token_get_objects (liar.lying)), ==, 2);

  assert_honest_token_lists (&liar);
  liar_teardown (&liar);
}

/* The string helper itself */

static void
test_ck_string (void)
{
  static const struct {
    const char *field;
    gsize       length;
    const char *expected;
  } cases[] = {
    { "Card                            ", 32, "Card" },
    { "                ", 16, "" },
    { "abc\0\0\0\0\0", 8, "abc" },                       /* padded the C way */
    { "Karte f\xC3\xBCr Anna   ", 19, "Karte f\xC3\xBCr Anna" },
    { "a\0b  ", 5, "a" U_FFFD "b" },
    { "\033[2Jx\ty\r\x7F ", 10, U_FFFD "[2Jx" U_FFFD "y" U_FFFD U_FFFD },
    { "C1\xC2\x85 ", 5, "C1" U_FFFD },                   /* U+0085, NEXT LINE */
    { "\xFF\xFE ok", 5, U_FFFD U_FFFD " ok" },
    { "cut \xE2\x82", 6, "cut " U_FFFD U_FFFD },          /* a character cut short */
    { "\xE2\x82\xAC 5", 5, "\xE2\x82\xAC 5" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *string = _tessera_ck_string ((const CK_UTF8CHAR *) cases[i].field,
                                                    cases[i].length);

      g_assert_cmpstr (string, ==, cases[i].expected);
      assert_printable (string);
    }
}

/* A module of a few functions, for the lies the test module does not
 * tell: a length in a second look, a signature, a list without end. */

typedef enum
{
  FAKE_GROWN_LENGTH,
  FAKE_TOO_LONG,
  FAKE_ENDLESS,
  FAKE_SIGNATURE_QUERY,
  FAKE_SIGNATURE_FILL,
} FakeLie;

static FakeLie fake_lie;
static CK_ULONG fake_found;

static CK_RV
fake_find_objects_init (CK_SESSION_HANDLE session,
                        CK_ATTRIBUTE_PTR  template,
                        CK_ULONG          count)
{
  fake_found = 0;
  return CKR_OK;
}

/* One data object, or a list that never ends */
static CK_RV
fake_find_objects (CK_SESSION_HANDLE    session,
                   CK_OBJECT_HANDLE_PTR objects,
                   CK_ULONG             max_count,
                   CK_ULONG_PTR         count)
{
  *count = 0;
  if (fake_lie == FAKE_ENDLESS)
    *count = max_count;
  else if (fake_found == 0 && max_count > 0)
    *count = 1;
  for (CK_ULONG i = 0; i < *count; i++)
    objects[i] = 1 + fake_found++;
  return CKR_OK;
}

static CK_RV
fake_find_objects_final (CK_SESSION_HANDLE session)
{
  return CKR_OK;
}

/* The label does not fit at first; the second look lies */
static CK_RV
fake_get_attribute_value (CK_SESSION_HANDLE session,
                          CK_OBJECT_HANDLE  object,
                          CK_ATTRIBUTE_PTR  template,
                          CK_ULONG          count)
{
  CK_RV rv = CKR_OK;

  for (CK_ULONG i = 0; i < count; i++)
    {
      if (template[i].type == CKA_CLASS && template[i].pValue != NULL)
        {
          *(CK_OBJECT_CLASS *) template[i].pValue = CKO_DATA;
          template[i].ulValueLen = sizeof (CK_OBJECT_CLASS);
        }
      else if (template[i].type == CKA_LABEL && count > 1)
        {
          template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
          rv = CKR_BUFFER_TOO_SMALL;
        }
      else if (template[i].type == CKA_LABEL && template[i].pValue == NULL)
        template[i].ulValueLen = fake_lie == FAKE_TOO_LONG ? 0x7FFFFFFF : 300;
      else if (template[i].type == CKA_LABEL)
        template[i].ulValueLen = 0xFFFFFFF0;
      else
        {
          template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
          if (rv == CKR_OK)
            rv = CKR_ATTRIBUTE_TYPE_INVALID;
        }
    }
  return rv;
}

static CK_RV
fake_sign_init (CK_SESSION_HANDLE session,
                CK_MECHANISM_PTR  mechanism,
                CK_OBJECT_HANDLE  key)
{
  return CKR_OK;
}

static CK_RV
fake_sign (CK_SESSION_HANDLE session,
           CK_BYTE_PTR       data,
           CK_ULONG          data_len,
           CK_BYTE_PTR       signature,
           CK_ULONG_PTR      signature_len)
{
  if (fake_lie == FAKE_SIGNATURE_QUERY)
    *signature_len = 0xFFFFFFF0;
  else if (signature == NULL)
    *signature_len = 64;
  else
    *signature_len = 0xFFFFFFF0;
  return CKR_OK;
}

static CK_FUNCTION_LIST fake_module = {
  .version = { 2, 40 },
  .C_FindObjectsInit = fake_find_objects_init,
  .C_FindObjects = fake_find_objects,
  .C_FindObjectsFinal = fake_find_objects_final,
  .C_GetAttributeValue = fake_get_attribute_value,
  .C_SignInit = fake_sign_init,
  .C_Sign = fake_sign,
};

static GPtrArray *
fake_read_all (GError **error)
{
  CK_TOKEN_INFO token_info;
  CK_RV rv;

  memset (&token_info, ' ', sizeof token_info);
  token_info.flags = CKF_TOKEN_INITIALIZED;
  return _tessera_object_read_all (&fake_module, 1, &token_info, NULL, &rv, error);
}

static void
test_fake_grown_length (void)
{
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;
  const GError *unreadable;

  fake_lie = FAKE_GROWN_LENGTH;
  objects = fake_read_all (&error);
  g_assert_no_error (error);
  g_assert_cmpuint (objects->len, ==, 1);
  unreadable = tessera_object_get_parse_error (g_ptr_array_index (objects, 0));
  g_assert_nonnull (unreadable);
  g_assert_cmpstr (unreadable->message, ==,
                   "The token’s module gave an impossible length for this object’s CKA_LABEL: "
                   "4294967280 bytes, in room for 300. The object was not read.");
}

static void
test_fake_too_long (void)
{
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;
  const GError *unreadable;

  fake_lie = FAKE_TOO_LONG;
  objects = fake_read_all (&error);
  g_assert_no_error (error);
  g_assert_cmpuint (objects->len, ==, 1);
  unreadable = tessera_object_get_parse_error (g_ptr_array_index (objects, 0));
  g_assert_nonnull (unreadable);
  g_assert_cmpstr (unreadable->message, ==,
                   "The token’s module says this object’s CKA_LABEL is 2147483647 bytes long, "
                   "more than the 65536 bytes Tessera accepts. The object was not read.");
}

static void
test_fake_endless (void)
{
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;

  fake_lie = FAKE_ENDLESS;
  objects = fake_read_all (&error);
  g_assert_null (objects);
  g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "Could not list the token’s objects: its module listed more than 100000.");
}

static void
test_fake_signature (void)
{
  const FakeLie lies[] = { FAKE_SIGNATURE_QUERY, FAKE_SIGNATURE_FILL };

  for (guint i = 0; i < G_N_ELEMENTS (lies); i++)
    {
      guint8 hash[32] = { 0 };
      gnutls_datum_t digest = { hash, sizeof hash };
      gnutls_datum_t signature = { NULL, 0 };
      g_autoptr(GError) error = NULL;

      fake_lie = lies[i];
      g_assert_false (_tessera_sign_hash (&fake_module, 1, 1, TESSERA_KEY_TYPE_EC, &digest,
                                          &signature, &error));
      g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE_INVALID);
      g_assert_cmpstr (error->message, ==,
                       "The token’s module gave an impossible length for a signature: "
                       "4294967280 bytes. Nothing was signed.");
      g_assert_null (signature.data);
    }
}

/* Each case in a subprocess of its own: a crash fails it, not the rest */
static void
run_in_subprocess (gconstpointer data)
{
  GTestFunc func = (GTestFunc) data;

  if (g_test_subprocess ())
    {
      func ();
      return;
    }
  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_set_nonfatal_assertions ();
  g_test_trap_assert_passed ();
}

int
main (int    argc,
      char **argv)
{
  /* What is tested is the core's own checks, with no process between
   * it and the module */
  g_setenv ("TESSERA_IN_PROCESS_MODULES", "1", TRUE);

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add_data_func (path, (gconstpointer) func, run_in_subprocess)

  ADD ("/core/untrusted/lie-length", test_lie_length);
  ADD ("/core/untrusted/unavailable-length", test_unavailable_length);
  ADD ("/core/untrusted/lie-find-count", test_lie_find_count);
  ADD ("/core/untrusted/lie-slot-count", test_lie_slot_count);
  ADD ("/core/untrusted/garbage-strings", test_garbage_strings);
  ADD ("/core/untrusted/ck-string", test_ck_string);
  ADD ("/core/untrusted/grown-length", test_fake_grown_length);
  ADD ("/core/untrusted/too-long", test_fake_too_long);
  ADD ("/core/untrusted/endless-list", test_fake_endless);
  ADD ("/core/untrusted/signature-length", test_fake_signature);

#undef ADD

  return g_test_run ();
}
