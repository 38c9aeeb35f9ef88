/* tessera-cli-keys.c: tessera-cli's commands for keys and certificates
 *
 * generate, certificate create|import|export, rename, delete and doctor.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-CLI"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "tessera-cli.h"

#define EXIT_PROBLEMS 11

/* Logs in when the token wants it, then reads its objects. */
static gboolean
log_in (Options       *options,
        TesseraToken  *token,
        GError       **error)
{
  g_autoptr(TesseraPinText) pin = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  if (!tessera_token_has_state (token, TESSERA_TOKEN_STATE_LOGIN_REQUIRED) ||
      tessera_token_get_logged_in (token))
    return read_token (token, error);

  if (!get_user_pin (options, token, &pin, error))
    return FALSE;
  tessera_token_login_async (token, pin, NULL, on_async_ready, &result);
  return tessera_token_login_finish (token, wait_for (&result), error);
}

/* Hex IDs as people type them: any case, with or without colons. */
static gboolean
id_matches (const char *id_hex,
            const char *wanted)
{
  g_autoptr(GString) plain = g_string_new (NULL);

  for (const char *c = wanted; *c != '\0'; c++)
    if (*c != ':')
      g_string_append_c (plain, g_ascii_tolower (*c));
  return g_ascii_strcasecmp (id_hex, plain->str) == 0;
}

static TesseraKey *
find_key (TesseraToken *token,
          const char   *id)
{
  GListModel *keys = tessera_token_get_keys (token);

  for (guint i = 0; i < g_list_model_get_n_items (keys); i++)
    {
      g_autoptr(TesseraKey) key = g_list_model_get_item (keys, i);

      if (id_matches (tessera_key_get_id_hex (key), id))
        return key;   /* the model keeps it alive */
    }
  return NULL;
}

static const struct {
  const char        *nick;
  TesseraObjectKind  kind;
} kinds[] = {
  { "private", TESSERA_OBJECT_KIND_PRIVATE_KEY },
  { "public", TESSERA_OBJECT_KIND_PUBLIC_KEY },
  { "certificate", TESSERA_OBJECT_KIND_CERTIFICATE },
};

/* The objects with an ID, of one kind or of the three key kinds, private
 * key first: the order to delete them in. */
static GPtrArray *
find_objects (TesseraToken  *token,
              Options       *options,
              GError       **error)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_object_unref);
  GListModel *objects = tessera_token_get_objects (token);
  int wanted = -1;

  if (options->id == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Give the objects’ ID with --id."));
      return NULL;
    }
  for (guint k = 0; options->kind != NULL && k < G_N_ELEMENTS (kinds); k++)
    if (g_str_equal (options->kind, kinds[k].nick))
      wanted = kinds[k].kind;
  if (options->kind != NULL && wanted < 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("--kind is private, public or certificate."));
      return NULL;
    }

  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    for (guint i = 0; i < g_list_model_get_n_items (objects); i++)
      {
        g_autoptr(TesseraObject) object = g_list_model_get_item (objects, i);

        if (tessera_object_get_kind (object) == kinds[k].kind &&
            (wanted < 0 || (int) kinds[k].kind == wanted) &&
            id_matches (tessera_object_get_id_hex (object), options->id))
          g_ptr_array_add (found, g_steal_pointer (&object));
      }

  if (found->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("No key or certificate on the token has the ID %s."), options->id);
      return NULL;
    }
  return g_steal_pointer (&found);
}

static gboolean
create_certificate (Options       *options,
                    TesseraToken  *token,
                    TesseraKey    *key,
                    GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tessera_token_create_certificate_async (token, key, options->subject,
                                          options->days > 0 ? (guint) options->days
                                                            : TESSERA_CERTIFICATE_DEFAULT_DAYS,
                                          NULL, on_async_ready, &result);
  return tessera_token_create_certificate_finish (token, wait_for (&result), error);
}

static gboolean
parse_key_spec (const char     *text,
                TesseraKeySpec *spec)
{
  static const struct { const char *name; TesseraKeyType type; guint bits; } names[] = {
    { "rsa:2048", TESSERA_KEY_TYPE_RSA, 2048 },
    { "rsa:3072", TESSERA_KEY_TYPE_RSA, 3072 },
    { "rsa:4096", TESSERA_KEY_TYPE_RSA, 4096 },
    { "ec:p256", TESSERA_KEY_TYPE_EC, 256 },
    { "ec:p384", TESSERA_KEY_TYPE_EC, 384 },
    { "ec:p521", TESSERA_KEY_TYPE_EC, 521 },
    { "ed25519", TESSERA_KEY_TYPE_ED25519, 255 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (text, names[i].name) == 0)
      {
        spec->type = names[i].type;
        spec->bits = names[i].bits;
        return TRUE;
      }
  return FALSE;
}

/* generate: a key pair on the token, after a login. */
int
run_generate (Options    *options,
              const char *uri)
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) specs = NULL;
  g_autoptr(TesseraPinText) pin = NULL;
  g_autoptr(GBytes) id = NULL;
  g_autofree char *id_hex = NULL;
  TesseraKeySpec spec;
  gboolean supported = FALSE;
  TesseraToken *token;

  if (options->key_type == NULL || !parse_key_spec (options->key_type, &spec))
    {
      g_printerr ("tessera-cli: %s\n",
                  _("Give --type rsa:2048, rsa:3072, rsa:4096, ec:p256, ec:p384, ec:p521 or ed25519."));
      return EXIT_USAGE;
    }

  token = open_token (options, uri, &registry, &error);
  if (token == NULL)
    return fail (error);

  tessera_token_list_key_specs_async (token, NULL, on_async_ready, &result);
  specs = tessera_token_list_key_specs_finish (token, wait_for (&result), &error);
  if (specs == NULL)
    return fail (error);
  for (guint i = 0; i < specs->len; i++)
    {
      TesseraKeySpec *offered = &g_array_index (specs, TesseraKeySpec, i);
      supported |= offered->type == spec.type && offered->bits == spec.bits;
    }
  if (!supported)
    {
      g_autofree char *name = tessera_key_spec_describe (&spec);
      g_printerr ("tessera-cli: ");
      g_printerr (_("The token cannot make %s keys."), name);
      g_printerr ("\n");
      return EXIT_FAILURE;
    }
  if (!tessera_openssh_supports (spec.type))
    g_printerr ("%s\n", _("Note: the installed OpenSSH cannot use this key type from a token (Ed25519 needs OpenSSH 10.1)."));

  if (!get_user_pin (options, token, &pin, &error))
    return fail (error);

  g_clear_object (&result);
  tessera_token_login_async (token, pin, NULL, on_async_ready, &result);
  if (!tessera_token_login_finish (token, wait_for (&result), &error))
    return fail (error);

  g_clear_object (&result);
  tessera_token_generate_key_async (token, &spec, options->label ? options->label : "", NULL,
                                    on_async_ready, &result);
  id = tessera_token_generate_key_finish (token, wait_for (&result), &error);
  if (id == NULL)
    return fail (error);

  id_hex = tessera_bytes_to_hex (id, 0);

  if (options->certificate)
    {
      TesseraKey *key;

      if (!read_token (token, &error))
        return fail (error);
      key = find_key (token, id_hex);
      if (key == NULL)
        {
          g_printerr ("tessera-cli: %s\n", _("The new key is not on the token."));
          return EXIT_FAILURE;
        }
      if (!create_certificate (options, token, key, &error))
        return fail (error);
    }

  g_print ("%s\n", id_hex);
  return EXIT_SUCCESS;
}


/* certificate create|import|export --------------------------------------------- */

int
run_certificate (Options    *options,
                 const char *action,
                 const char *uri,
                 const char *file)
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  if (!g_str_equal (action, "create") && !g_str_equal (action, "import") && !g_str_equal (action, "export"))
    {
      g_printerr ("tessera-cli: %s\n", _("certificate takes create, import or export."));
      return EXIT_USAGE;
    }
  if (g_str_equal (action, "import") != (file != NULL))
    {
      g_printerr ("tessera-cli: %s\n", _("certificate import takes a URI and a file; create and export take a URI."));
      return EXIT_USAGE;
    }

  token = open_token (options, uri, &registry, &error);
  if (token == NULL)
    return fail (error);

  if (g_str_equal (action, "export"))
    {
      g_autoptr(GPtrArray) objects = NULL;
      g_autoptr(GBytes) data = NULL;
      TesseraObject *certificate = NULL;

      g_clear_pointer (&options->kind, g_free);
      options->kind = g_strdup ("certificate");
      if (!read_token (token, &error) || (objects = find_objects (token, options, &error)) == NULL)
        return fail (error);
      certificate = g_ptr_array_index (objects, 0);
      data = tessera_certificate_export (certificate, options->der ? TESSERA_CERTIFICATE_FORMAT_DER
                                                                   : TESSERA_CERTIFICATE_FORMAT_PEM, &error);
      if (data == NULL)
        return fail (error);
      if (options->output != NULL)
        {
          if (!g_file_set_contents (options->output, g_bytes_get_data (data, NULL), g_bytes_get_size (data), &error))
            return fail (error);
        }
      else
        fwrite (g_bytes_get_data (data, NULL), 1, g_bytes_get_size (data), stdout);
      return EXIT_SUCCESS;
    }

  if (!log_in (options, token, &error))
    return fail (error);

  if (g_str_equal (action, "create"))
    {
      TesseraKey *key;

      if (options->id == NULL)
        {
          g_printerr ("tessera-cli: %s\n", _("Give the key’s ID with --id."));
          return EXIT_USAGE;
        }
      key = find_key (token, options->id);
      if (key == NULL)
        {
          g_printerr ("tessera-cli: ");
          g_printerr (_("No key on the token has the ID %s."), options->id);
          g_printerr ("\n");
          return EXIT_FAILURE;
        }
      if (!create_certificate (options, token, key, &error))
        return fail (error);
      g_print ("%s\n", tessera_key_get_id_hex (key));
      return EXIT_SUCCESS;
    }
  else
    {
      g_autofree char *contents = NULL;
      g_autoptr(GBytes) data = NULL;
      g_autoptr(GPtrArray) outcomes = NULL;
      gsize length;

      if (!g_file_get_contents (file, &contents, &length, &error))
        return fail (error);
      data = g_bytes_new_take (g_steal_pointer (&contents), length);
      tessera_token_import_certificates_async (token, data, options->label, NULL, on_async_ready, &result);
      outcomes = tessera_token_import_certificates_finish (token, wait_for (&result), &error);
      if (outcomes == NULL)
        return fail (error);

      /* The IDs written on stdout, one a line; what was skipped, and why,
       * on stderr.  Some imported is success: the exit status is 0. */
      for (guint i = 0; i < outcomes->len; i++)
        {
          TesseraCertificateOutcome *outcome = g_ptr_array_index (outcomes, i);

          if (tessera_certificate_outcome_get_imported (outcome))
            {
              g_autofree char *id_hex = tessera_bytes_to_hex (tessera_certificate_outcome_get_id (outcome), 0);

              g_print ("%s\n", id_hex);
            }
          else
            {
              /* The core shows control characters in a subject as symbols */
              g_autofree char *line = tessera_certificate_outcome_describe (outcome);

              g_printerr ("tessera-cli: ");
              /* Translators: %s says which certificate and why, e.g.
               * “CN=alice” (position 2): matches no key on this token */
              g_printerr (_("Not imported: %s"), line);
              g_printerr ("\n");
            }
        }
      return EXIT_SUCCESS;
    }
}

/* rename, delete ------------------------------------------------------------------ */

int
run_rename (Options    *options,
            const char *uri)
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) objects = NULL;
  TesseraToken *token;

  if (options->label == NULL)
    {
      g_printerr ("tessera-cli: %s\n", _("Give the new label with --label."));
      return EXIT_USAGE;
    }

  token = open_token (options, uri, &registry, &error);
  if (token == NULL)
    return fail (error);

  if (!log_in (options, token, &error) || (objects = find_objects (token, options, &error)) == NULL)
    return fail (error);

  tessera_token_set_label_async (token, objects, options->label, NULL, on_async_ready, &result);
  if (!tessera_token_set_label_finish (token, wait_for (&result), &error))
    return fail (error);
  return EXIT_SUCCESS;
}

static gboolean
confirm_delete (GPtrArray  *objects,
                gboolean    yes,
                GError    **error)
{
  char answer[16];
  FILE *tty;

  g_printerr ("%s\n", _("This deletes, for good:"));
  for (guint i = 0; i < objects->len; i++)
    {
      TesseraObject *object = g_ptr_array_index (objects, i);
      g_autofree char *label = escape_text (tessera_object_get_label (object));

      g_printerr ("  %s “%s” (ID %s)\n", tessera_object_get_kind_name (object),
                  label, tessera_object_get_id_hex (object));
    }
  if (yes)
    return TRUE;

  tty = fopen ("/dev/tty", "r+");
  if (tty == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _("Nothing was deleted. Confirm at a terminal, or give --yes."));
      return FALSE;
    }
  /* Translators: the word to type stays "delete" in every language */
  fputs (_("Type “delete” to go on: "), tty);
  fflush (tty);
  if (fgets (answer, sizeof answer, tty) == NULL)
    answer[0] = '\0';
  fclose (tty);
  answer[strcspn (answer, "\r\n")] = '\0';
  if (!g_str_equal (answer, "delete"))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Nothing was deleted."));
      return FALSE;
    }
  return TRUE;
}

int
run_delete (Options    *options,
            const char *uri)
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) objects = NULL;
  TesseraToken *token;

  token = open_token (options, uri, &registry, &error);
  if (token == NULL)
    return fail (error);

  if (!log_in (options, token, &error) || (objects = find_objects (token, options, &error)) == NULL ||
      !confirm_delete (objects, options->yes, &error))
    return fail (error);

  tessera_token_delete_objects_async (token, objects, NULL, on_async_ready, &result);
  if (!tessera_token_delete_objects_finish (token, wait_for (&result), &error))
    return fail (error);
  return EXIT_SUCCESS;
}

/* test-sign ------------------------------------------------------------------------- */

int
run_test_sign (Options    *options,
               const char *uri)
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;
  TesseraKey *key;

  if (options->id == NULL)
    {
      g_printerr ("tessera-cli: %s\n", _("Give the key’s ID with --id."));
      return EXIT_USAGE;
    }

  token = open_token (options, uri, &registry, &error);
  if (token == NULL)
    return fail (error);
  if (!log_in (options, token, &error))
    return fail (error);

  key = find_key (token, options->id);
  if (key == NULL)
    {
      g_printerr ("tessera-cli: ");
      g_printerr (_("No key on the token has the ID %s."), options->id);
      g_printerr ("\n");
      return EXIT_FAILURE;
    }

  tessera_token_test_key_async (token, key, NULL, on_async_ready, &result);
  if (!tessera_token_test_key_finish (token, wait_for (&result), &error))
    return fail (error);
  g_print ("%s\n", _("The signature made on the token verifies with the key’s public key."));
  return EXIT_SUCCESS;
}

/* doctor -------------------------------------------------------------------------- */

static GPtrArray *
diagnose (TesseraToken  *token,
          GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tessera_token_diagnose_async (token, NULL, on_async_ready, &result);
  return tessera_token_diagnose_finish (token, wait_for (&result), error);
}

static void
print_problem (TesseraProblem *problem)
{
  g_print ("%s: %s\n", tessera_problem_get_kind_nick (problem), tessera_problem_get_title (problem));
  g_print ("  %s\n", tessera_problem_get_description (problem));
  if (tessera_problem_get_fixable (problem))
    g_print ("  %s %s\n", _("Fix:"), tessera_problem_get_fix_description (problem));
}

int
run_doctor (Options    *options,
            const char *uri)
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  TesseraToken *token;
  int status = EXIT_SUCCESS;

  token = open_token (options, uri, &registry, &error);
  if (token == NULL)
    return fail (error);
  if (!log_in (options, token, &error))
    return fail (error);

  problems = diagnose (token, &error);
  if (problems == NULL)
    return fail (error);

  for (guint i = 0; i < problems->len; i++)
    {
      TesseraProblem *problem = g_ptr_array_index (problems, i);

      print_problem (problem);
      if (options->fix && tessera_problem_get_fixable (problem))
        {
          g_autoptr(GAsyncResult) result = NULL;
          g_autoptr(GError) fix_error = NULL;

          tessera_token_fix_problem_async (token, problem, NULL, on_async_ready, &result);
          if (tessera_token_fix_problem_finish (token, wait_for (&result), &fix_error))
            g_print ("  %s\n", _("Fixed, and a test signature proved the pair."));
          else
            {
              g_print ("  %s %s\n", _("Not fixed:"), fix_error->message);
              status = EXIT_FAILURE;
            }
        }
    }

  if (options->fix && problems->len > 0)
    {
      g_clear_pointer (&problems, g_ptr_array_unref);
      if (!read_token (token, &error))
        return fail (error);
      problems = diagnose (token, &error);
      if (problems == NULL)
        return fail (error);
      for (guint i = 0; i < problems->len; i++)
        {
          g_print ("%s ", _("Still:"));
          print_problem (g_ptr_array_index (problems, i));
        }
    }

  if (problems->len == 0)
    {
      if (status == EXIT_SUCCESS)
        g_print ("%s\n", _("No problems found."));
      return status;
    }
  return status == EXIT_SUCCESS ? EXIT_PROBLEMS : status;
}
