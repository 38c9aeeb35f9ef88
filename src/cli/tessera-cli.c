/* tessera-cli.c: Tessera's core on the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-CLI"

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "tessera-core.h"

#include <p11-kit/uri.h>

#include "tessera-cli.h"
#include "tessera-cli-launcher.h"

static void
options_clear (Options *options)
{
  g_clear_pointer (&options->modules, g_strfreev);
  g_clear_pointer (&options->pin_file, g_free);
  g_clear_pointer (&options->hash, g_free);
  g_clear_pointer (&options->label, g_free);
  g_clear_pointer (&options->key_type, g_free);
  g_clear_pointer (&options->so_pin_file, g_free);
  g_clear_pointer (&options->new_pin_file, g_free);
  g_clear_pointer (&options->id, g_free);
  g_clear_pointer (&options->kind, g_free);
  g_clear_pointer (&options->subject, g_free);
  g_clear_pointer (&options->output, g_free);
}

/*
 * Labels are data a token holds, written by any program: a line break or
 * an escape sequence in one must not reach the terminal as such.  Control
 * characters come out as \xNN, bytes that are not UTF-8 as U+FFFD, so
 * ordinary labels print as they are.
 */
char *
escape_text (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  GString *out = g_string_new (NULL);

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\\')
        g_string_append (out, "\\\\");
      else if (c < 0x20 || (c >= 0x7f && c <= 0x9f))
        g_string_append_printf (out, "\\x%02x", c);
      else if (c == 0x2028 || c == 0x2029)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

int
fail (const GError *error)
{
  g_printerr ("tessera-cli: %s\n", error->message);
  return EXIT_FAILURE;
}

/* Running the core's async calls to completion ----------------------------- */

void
on_async_ready (GObject      *source_object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

TesseraRegistry *
load_registry (Options  *options,
               GError  **error)
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  if (options->modules != NULL)
    registry = tessera_registry_new_for_module_paths ((const char * const *) options->modules);
  else
    registry = tessera_registry_new ();

  tessera_registry_load_async (registry, NULL, on_async_ready, &result);
  if (!tessera_registry_load_finish (registry, wait_for (&result), error))
    return NULL;

  return g_steal_pointer (&registry);
}

/* JSON, written by hand: GLib has no JSON writer, and the output is small. */

static void
json_string (GString    *out,
             const char *raw)
{
  g_autofree char *value = NULL;

  if (raw == NULL)
    {
      g_string_append (out, "null");
      return;
    }

  /* Paths and module messages need not be UTF-8; JSON must be. */
  value = g_utf8_make_valid (raw, -1);

  g_string_append_c (out, '"');
  for (const char *p = value; *p != '\0'; p++)
    {
      guchar c = *p;

      switch (c)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (c < 0x20)
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_c (out, c);
        }
    }
  g_string_append_c (out, '"');
}

static void
json_member (GString    *out,
             gboolean   *first,
             const char *name)
{
  if (!*first)
    g_string_append (out, ", ");
  *first = FALSE;
  json_string (out, name);
  g_string_append (out, ": ");
}

static void
json_string_member (GString    *out,
                    gboolean   *first,
                    const char *name,
                    const char *value)
{
  json_member (out, first, name);
  json_string (out, value);
}

static void
json_bool_member (GString    *out,
                  gboolean   *first,
                  const char *name,
                  gboolean    value)
{
  json_member (out, first, name);
  g_string_append (out, value ? "true" : "false");
}

static void
json_uint_member (GString    *out,
                  gboolean   *first,
                  const char *name,
                  guint       value)
{
  json_member (out, first, name);
  g_string_append_printf (out, "%u", value);
}

static void
json_strv_member (GString            *out,
                  gboolean           *first,
                  const char         *name,
                  const char * const *values)
{
  json_member (out, first, name);
  g_string_append_c (out, '[');
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      json_string (out, values[i]);
    }
  g_string_append_c (out, ']');
}

/* tokens -------------------------------------------------------------------- */

static const char *
state_nick (TesseraTokenState state)
{
  GFlagsClass *klass = g_type_class_ref (TESSERA_TYPE_TOKEN_STATE);
  GFlagsValue *value = g_flags_get_first_value (klass, state);
  const char *nick = value ? value->value_nick : NULL;

  g_type_class_unref (klass);
  return nick;
}

static GStrv
state_nicks (TesseraToken *token)
{
  GPtrArray *nicks = g_ptr_array_new ();
  TesseraTokenState state = tessera_token_get_state (token);

  for (guint bit = 0; bit < 32; bit++)
    if (state & (1u << bit))
      g_ptr_array_add (nicks, g_strdup (state_nick (1u << bit)));
  g_ptr_array_add (nicks, NULL);

  return (GStrv) g_ptr_array_free (nicks, FALSE);
}

static void
token_to_json (GString      *out,
               TesseraToken *token)
{
  g_auto(GStrv) states = state_nicks (token);
  g_autofree char *summary = tessera_token_describe_state (token);
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  json_string_member (out, &first, "uri", tessera_token_get_uri (token));
  json_string_member (out, &first, "label", tessera_token_get_label (token));
  json_string_member (out, &first, "manufacturer", tessera_token_get_manufacturer (token));
  json_string_member (out, &first, "model", tessera_token_get_model (token));
  json_string_member (out, &first, "serial", tessera_token_get_serial (token));
  json_uint_member (out, &first, "slot_id", tessera_token_get_slot_id (token));
  json_string_member (out, &first, "hardware_version", tessera_token_get_hardware_version (token));
  json_string_member (out, &first, "firmware_version", tessera_token_get_firmware_version (token));
  json_uint_member (out, &first, "min_pin_length", tessera_token_get_min_pin_length (token));
  json_uint_member (out, &first, "max_pin_length", tessera_token_get_max_pin_length (token));
  json_strv_member (out, &first, "states", (const char * const *) states);
  json_string_member (out, &first, "summary", summary);
  g_string_append_c (out, '}');
}

static int
print_tokens (TesseraRegistry *registry,
              gboolean         json,
              gboolean         named_modules)
{
  GListModel *modules = tessera_registry_get_modules (registry);
  GListModel *tokens = tessera_registry_get_tokens (registry);
  g_autoptr(GString) out = g_string_new (NULL);
  guint n_modules = g_list_model_get_n_items (modules);
  guint n_tokens = g_list_model_get_n_items (tokens);

  if (json)
    g_string_append (out, "{\"modules\": [");

  for (guint m = 0; m < n_modules; m++)
    {
      g_autoptr(TesseraModule) module = g_list_model_get_item (modules, m);
      const GError *error = tessera_module_get_error (module);
      gboolean first_token = TRUE;

      if (json)
        {
          gboolean first = TRUE;

          g_string_append (out, m > 0 ? ", {" : "{");
          json_string_member (out, &first, "name", tessera_module_get_name (module));
          json_string_member (out, &first, "path", tessera_module_get_path (module));
          json_string_member (out, &first, "description", tessera_module_get_description (module));
          json_bool_member (out, &first, "registered", tessera_module_get_registered (module));
          json_string_member (out, &first, "error", error ? error->message : NULL);
          json_string_member (out, &first, "unavailable", tessera_module_get_unavailable_reason (module));
          json_member (out, &first, "tokens");
          g_string_append_c (out, '[');
        }
      else
        {
          g_string_append_printf (out, "%s: %s\n", _("Module"), tessera_module_get_name (module));
          if (tessera_module_get_path (module) != NULL)
            g_string_append_printf (out, "  %s: %s\n", _("Path"), tessera_module_get_path (module));
          else
            g_string_append_printf (out, "  %s: %s\n", _("Path"),
                                    _("none (p11-kit runs it through its “remote:” setting)"));
          if (error != NULL)
            g_string_append_printf (out, "  %s: %s\n", _("Error"), error->message);
          if (tessera_module_get_unavailable_reason (module) != NULL)
            g_string_append_printf (out, "  %s: %s\n", _("Not available"),
                                    tessera_module_get_unavailable_reason (module));
        }

      for (guint t = 0; t < n_tokens; t++)
        {
          g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, t);

          if (tessera_token_get_module (token) != module)
            continue;

          if (json)
            {
              if (!first_token)
                g_string_append (out, ", ");
              token_to_json (out, token);
            }
          else
            {
              g_autofree char *summary = tessera_token_describe_state (token);
              /* Only what asks for action; --json keeps every flag */
              g_auto(GStrv) descriptions = tessera_token_list_attention_descriptions (token);

              g_autofree char *name = escape_text (tessera_token_get_display_name (token));

              g_string_append_printf (out, "  %s: %s\n", _("Token"), name);
              g_string_append_printf (out, "    URI: %s\n", tessera_token_get_uri (token));
              g_string_append_printf (out, "    %s: %s\n", _("Manufacturer"), tessera_token_get_manufacturer (token));
              g_string_append_printf (out, "    %s: %s\n", _("Model"), tessera_token_get_model (token));
              g_string_append_printf (out, "    %s: %s\n", _("Serial"), tessera_token_get_serial (token));
              g_string_append_printf (out, "    %s: %s / %s\n", _("Hardware / firmware"),
                                      tessera_token_get_hardware_version (token),
                                      tessera_token_get_firmware_version (token));
              g_string_append_printf (out, "    %s: %u–%u\n", _("PIN length"),
                                      tessera_token_get_min_pin_length (token),
                                      tessera_token_get_max_pin_length (token));
              g_string_append_printf (out, "    %s: %s\n", _("State"), summary);
              for (guint i = 0; descriptions[i] != NULL; i++)
                g_string_append_printf (out, "      %s\n", descriptions[i]);
            }
          first_token = FALSE;
        }

      if (json)
        g_string_append (out, "]}");
    }

  if (json)
    g_string_append (out, "]}\n");

  fputs (out->str, stdout);

  /* In a Flatpak with no p11-kit server on the host: how to start it */
  if (tessera_registry_get_host_server_hint (registry) != NULL)
    g_printerr ("tessera-cli: %s\n", tessera_registry_get_host_server_hint (registry));

  /* Modules named with --module are what was asked for: one that failed
   * fails the command, after the others are listed. */
  if (named_modules)
    {
      int status = EXIT_SUCCESS;

      for (guint m = 0; m < n_modules; m++)
        {
          g_autoptr(TesseraModule) module = g_list_model_get_item (modules, m);
          const GError *error = tessera_module_get_error (module);
          g_autofree char *path = NULL;
          g_autofree char *message = NULL;

          if (error == NULL)
            continue;
          /* Paths and module messages need not be UTF-8; the terminal's text must be. */
          path = g_filename_display_name (tessera_module_get_path (module));
          message = g_utf8_make_valid (error->message, -1);
          g_printerr ("tessera-cli: ");
          g_printerr (_("The module %s failed: %s"), path, message);
          g_printerr ("\n");
          status = EXIT_FAILURE;
        }
      return status;
    }
  return EXIT_SUCCESS;
}

/* PINs ---------------------------------------------------------------------- */

/* Reads a PIN from a file: the first line, without its newline.  The
 * buffer is wiped on the way. */
char *
read_pin_file (const char  *path,
               GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0, line = 0;
  char *pin;

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;

  /* The first line, by its length: a NUL inside it must not cut it short
   * into something that looks like a PIN. */
  while (line < length && contents[line] != '\n' && contents[line] != '\r')
    line++;
  pin = g_strndup (contents, line);
  /* A NUL is a control character too: check what the line holds */
  if (memchr (contents, '\0', line) != NULL)
    pin[0] = '\x01';
  explicit_bzero (contents, length);
  if (!tessera_check_pin_text (pin, error))
    {
      g_autofree char *name = g_filename_display_name (path);

      g_prefix_error (error, "%s: ", name);
      explicit_bzero (pin, line);
      g_free (pin);
      return NULL;
    }
  return pin;
}

static struct termios saved_termios;
static int saved_termios_fd = -1;

/* Puts the terminal's echo back when the prompt is interrupted. */
static void
on_prompt_signal (int signum)
{
  if (saved_termios_fd >= 0)
    tcsetattr (saved_termios_fd, TCSAFLUSH, &saved_termios);
  signal (signum, SIG_DFL);
  raise (signum);
}

static char *
prompt_pin (const char  *prompt,
            GError     **error)
{
  struct termios saved, quiet;
  char buffer[256];
  FILE *tty = fopen ("/dev/tty", "r+");
  char *pin = NULL;

  if (tty == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("A PIN is needed, and there is no terminal to ask for it. Use --pin-file."));
      return NULL;
    }

  /* No stdio buffer of ours keeps a copy of the PIN. */
  setvbuf (tty, NULL, _IONBF, 0);
  fprintf (tty, "%s", prompt);
  tcgetattr (fileno (tty), &saved);
  saved_termios = saved;
  saved_termios_fd = fileno (tty);
  signal (SIGINT, on_prompt_signal);
  signal (SIGTERM, on_prompt_signal);
  signal (SIGTSTP, on_prompt_signal);
  quiet = saved;
  quiet.c_lflag &= ~ECHO;
  tcsetattr (fileno (tty), TCSAFLUSH, &quiet);

  if (fgets (buffer, sizeof buffer, tty) != NULL)
    pin = g_strndup (buffer, strcspn (buffer, "\r\n"));

  tcsetattr (fileno (tty), TCSAFLUSH, &saved);
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  signal (SIGTSTP, SIG_DFL);
  saved_termios_fd = -1;
  fputc ('\n', tty);
  fclose (tty);
  explicit_bzero (buffer, sizeof buffer);

  if (pin == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("No PIN was entered."));
  return pin;
}

void
wipe_pin (char *pin)
{
  if (pin != NULL)
    {
      explicit_bzero (pin, strlen (pin));
      g_free (pin);
    }
}

/* objects ------------------------------------------------------------------- */

static void
object_to_json (GString       *out,
                TesseraObject *object)
{
  g_autofree char *usage = tessera_object_describe_usage (object);
  const GError *parse_error = tessera_object_get_parse_error (object);
  static const char *kinds[] = { "private-key", "public-key", "certificate", "data", "secret-key", "other" };
  static const char *key_types[] = { NULL, "rsa", "ec", "ed25519", "other" };
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  json_string_member (out, &first, "kind", kinds[tessera_object_get_kind (object)]);
  json_string_member (out, &first, "label", tessera_object_get_label (object));
  json_string_member (out, &first, "id", tessera_object_get_id_hex (object));
  json_string_member (out, &first, "uri", tessera_object_get_uri (object));
  json_bool_member (out, &first, "private", tessera_object_get_private (object));

  switch (tessera_object_get_kind (object))
    {
    case TESSERA_OBJECT_KIND_PRIVATE_KEY:
    case TESSERA_OBJECT_KIND_PUBLIC_KEY:
    case TESSERA_OBJECT_KIND_SECRET_KEY:
      json_string_member (out, &first, "key_type", key_types[tessera_object_get_key_type (object)]);
      json_uint_member (out, &first, "bits", tessera_object_get_key_bits (object));
      json_string_member (out, &first, "curve", tessera_object_get_curve (object));
      json_string_member (out, &first, "usage", usage);
      json_bool_member (out, &first, "sensitive", tessera_object_get_sensitive (object));
      json_bool_member (out, &first, "extractable", tessera_object_get_extractable (object));
      break;

    case TESSERA_OBJECT_KIND_CERTIFICATE:
      {
        g_autofree char *not_before = NULL;
        g_autofree char *not_after = NULL;

        if (tessera_object_get_not_before (object))
          not_before = g_date_time_format_iso8601 (tessera_object_get_not_before (object));
        if (tessera_object_get_not_after (object))
          not_after = g_date_time_format_iso8601 (tessera_object_get_not_after (object));

        json_string_member (out, &first, "key_type", key_types[tessera_object_get_key_type (object)]);
        json_uint_member (out, &first, "bits", tessera_object_get_key_bits (object));
        json_string_member (out, &first, "subject", tessera_object_get_subject (object));
        json_string_member (out, &first, "issuer", tessera_object_get_issuer (object));
        json_string_member (out, &first, "serial", tessera_object_get_serial (object));
        json_string_member (out, &first, "not_before", not_before);
        json_string_member (out, &first, "not_after", not_after);
        json_string_member (out, &first, "fingerprint_sha256", tessera_object_get_fingerprint_sha256 (object));
        json_string_member (out, &first, "error", parse_error ? parse_error->message : NULL);
      }
      break;

    case TESSERA_OBJECT_KIND_DATA:
      json_string_member (out, &first, "application", tessera_object_get_application (object));
      break;

    case TESSERA_OBJECT_KIND_OTHER:
    default:
      /* An object the module gave impossible answers about */
      json_string_member (out, &first, "error", parse_error ? parse_error->message : NULL);
      break;
    }

  g_string_append_c (out, '}');
}

static void
object_to_text (GString       *out,
                TesseraObject *object)
{
  g_autofree char *type = tessera_object_describe_key_type (object);
  g_autofree char *label = escape_text (tessera_object_get_label (object));

  g_string_append_printf (out, "%s\n", tessera_object_get_kind_name (object));
  g_string_append_printf (out, "  %s: %s\n", _("Label"), label);
  g_string_append_printf (out, "  ID: %s\n", tessera_object_get_id_hex (object));
  if (type != NULL)
    g_string_append_printf (out, "  %s: %s\n", _("Type"), type);

  switch (tessera_object_get_kind (object))
    {
    case TESSERA_OBJECT_KIND_PRIVATE_KEY:
    case TESSERA_OBJECT_KIND_PUBLIC_KEY:
    case TESSERA_OBJECT_KIND_SECRET_KEY:
      {
        g_autofree char *usage = tessera_object_describe_usage (object);

        g_string_append_printf (out, "  %s: %s\n", _("Usage"), usage);
        g_string_append_printf (out, "  %s: %s\n", _("Sensitive"),
                                tessera_object_get_sensitive (object) ? _("yes") : _("no"));
        g_string_append_printf (out, "  %s: %s\n", _("Extractable"),
                                tessera_object_get_extractable (object) ? _("yes") : _("no"));
      }
      break;

    case TESSERA_OBJECT_KIND_CERTIFICATE:
      if (tessera_object_get_parse_error (object) != NULL)
        {
          g_string_append_printf (out, "  %s: %s\n", _("Error"),
                                  tessera_object_get_parse_error (object)->message);
        }
      else
        {
          g_autofree char *not_before = g_date_time_format_iso8601 (tessera_object_get_not_before (object));
          g_autofree char *not_after = g_date_time_format_iso8601 (tessera_object_get_not_after (object));

          g_string_append_printf (out, "  %s: %s\n", _("Subject"), tessera_object_get_subject (object));
          g_string_append_printf (out, "  %s: %s\n", _("Issuer"), tessera_object_get_issuer (object));
          g_string_append_printf (out, "  %s: %s\n", _("Serial"), tessera_object_get_serial (object));
          g_string_append_printf (out, "  %s: %s – %s\n", _("Valid"), not_before, not_after);
          g_string_append_printf (out, "  SHA-256: %s\n", tessera_object_get_fingerprint_sha256 (object));
        }
      break;

    default:
      /* An object the module gave impossible answers about */
      if (tessera_object_get_parse_error (object) != NULL)
        g_string_append_printf (out, "  %s: %s\n", _("Error"),
                                tessera_object_get_parse_error (object)->message);
      break;
    }

  g_string_append_printf (out, "  URI: %s\n", tessera_object_get_uri (object));
}

static void
key_to_json (GString    *out,
             TesseraKey *key)
{
  g_autofree char *type = tessera_key_describe_type (key);
  TesseraObject *parts[3] = {
    tessera_key_get_private_key (key),
    tessera_key_get_public_key (key),
    tessera_key_get_certificate (key),
  };
  const char *names[3] = { "private_key", "public_key", "certificate" };
  static const char *verdicts[] = {
    "ready", "login-needed", "no-public-object", "id-mismatch", "no-private-key",
    "unsupported-type", "cannot-sign", "token-not-initialized",
  };
  g_autofree char *line = tessera_key_get_ssh_line (key);
  g_autofree char *fingerprint = tessera_key_get_ssh_fingerprint (key);
  g_autofree char *reason = tessera_key_describe_ssh_verdict (key);
  gboolean first = TRUE;

  g_string_append_c (out, '{');
  json_string_member (out, &first, "label", tessera_key_get_label (key));
  json_string_member (out, &first, "id", tessera_key_get_id_hex (key));
  json_string_member (out, &first, "type", type);
  for (guint i = 0; i < 3; i++)
    json_string_member (out, &first, names[i], parts[i] ? tessera_object_get_uri (parts[i]) : NULL);
  json_string_member (out, &first, "ssh_line", line);
  json_string_member (out, &first, "ssh_fingerprint", fingerprint);
  json_string_member (out, &first, "ssh_verdict", verdicts[tessera_key_get_ssh_verdict (key)]);
  json_string_member (out, &first, "ssh_reason", reason);
  g_string_append_c (out, '}');
}

static int
print_objects (TesseraToken *token,
               gboolean      json)
{
  GListModel *objects = tessera_token_get_objects (token);
  GListModel *keys = tessera_token_get_keys (token);
  g_autoptr(GString) out = g_string_new (NULL);
  guint n = g_list_model_get_n_items (objects);

  if (json)
    {
      gboolean first = TRUE;

      g_string_append_c (out, '{');
      json_string_member (out, &first, "token", tessera_token_get_uri (token));
      json_bool_member (out, &first, "logged_in", tessera_token_get_logged_in (token));
      json_member (out, &first, "objects");
      g_string_append_c (out, '[');
      for (guint i = 0; i < n; i++)
        {
          g_autoptr(TesseraObject) object = g_list_model_get_item (objects, i);

          if (i > 0)
            g_string_append (out, ", ");
          object_to_json (out, object);
        }
      g_string_append (out, "], \"keys\": [");
      for (guint i = 0; i < g_list_model_get_n_items (keys); i++)
        {
          g_autoptr(TesseraKey) key = g_list_model_get_item (keys, i);

          if (i > 0)
            g_string_append (out, ", ");
          key_to_json (out, key);
        }
      g_string_append (out, "]}\n");
    }
  else
    {
      for (guint i = 0; i < n; i++)
        {
          g_autoptr(TesseraObject) object = g_list_model_get_item (objects, i);
          object_to_text (out, object);
        }
    }

  fputs (out->str, stdout);
  return EXIT_SUCCESS;
}

/* The token a URI names, or an error that says why there is none: the
 * URI is not one, or no token matches (and which modules failed, since
 * their tokens could not be looked at). */
static TesseraToken *
find_token (TesseraRegistry  *registry,
            const char       *uri,
            GError          **error)
{
  P11KitUri *parsed = p11_kit_uri_new ();
  int parse_status = p11_kit_uri_parse (uri, P11_KIT_URI_FOR_ANY, parsed);
  GListModel *modules = tessera_registry_get_modules (registry);
  g_autoptr(GString) message = NULL;
  g_autoptr(GPtrArray) matches = NULL;

  p11_kit_uri_free (parsed);
  if (parse_status != P11_KIT_URI_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("This is not a PKCS#11 URI: %s (%s)"), uri, p11_kit_uri_message (parse_status));
      return NULL;
    }

  matches = tessera_registry_match_tokens (registry, uri);
  if (matches->len == 1)
    return g_ptr_array_index (matches, 0);

  /* Acting on the first of several would be acting on an arbitrary one */
  if (matches->len > 1)
    {
      message = g_string_new (NULL);
      g_string_append_printf (message,
                              g_dngettext (GETTEXT_PACKAGE,
                                           "This URI matches %u token; name one of them:",
                                           "This URI matches %u tokens; name one of them:",
                                           matches->len),
                              matches->len);
      for (guint i = 0; i < matches->len; i++)
        {
          TesseraToken *match = g_ptr_array_index (matches, i);
          const char *match_uri = tessera_token_get_uri (match);
          gboolean shared = FALSE;

          /* Tokens with one identity (a TPM's) differ only by slot */
          for (guint j = 0; j < matches->len; j++)
            shared |= j != i && g_str_equal (match_uri, tessera_token_get_uri (g_ptr_array_index (matches, j)));

          g_string_append_printf (message, "\n  %s", match_uri);
          if (shared && strstr (match_uri, "slot-id=") == NULL)
            g_string_append_printf (message, ";slot-id=%lu", (unsigned long) tessera_token_get_slot_id (match));
          g_string_append_printf (message, "  (%s, %s)", tessera_token_get_display_name (match),
                                  tessera_module_get_name (tessera_token_get_module (match)));
        }
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, message->str);
      return NULL;
    }

  message = g_string_new (_("No token matches this URI."));
  for (guint i = 0; i < g_list_model_get_n_items (modules); i++)
    {
      g_autoptr(TesseraModule) module = g_list_model_get_item (modules, i);
      const GError *module_error = tessera_module_get_error (module);

      if (module_error != NULL)
        {
          g_string_append_c (message, '\n');
          g_string_append_printf (message, _("The module “%s” failed, so its tokens could not be looked at: %s"),
                                  tessera_module_get_name (module), module_error->message);
        }
    }
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, message->str);
  return NULL;
}

/* The registry, loaded, and the token a URI names in it. */
TesseraToken *
open_token (Options          *options,
            const char       *uri,
            TesseraRegistry **registry_out,
            GError          **error)
{
  *registry_out = load_registry (options, error);
  if (*registry_out == NULL)
    return NULL;
  return find_token (*registry_out, uri, error);
}

/*
 * The user PIN for a login, from --pin-file or the terminal; none with a
 * PIN pad.  A locked PIN is never tried, and the last try only with
 * --final-try: both fail with TESSERA_PKCS11_ERROR_PIN_LOCKED.
 */
gboolean
get_user_pin (Options       *options,
              TesseraToken  *token,
              char         **pin_out,
              GError       **error)
{
  g_autofree char *prompt = NULL;

  *pin_out = NULL;

  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_LOCKED))
    {
      g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED,
                           _("The PIN is locked. It must be unblocked with the SO PIN."));
      return FALSE;
    }
  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY) && !options->final_try)
    {
      g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED,
                           _("One PIN try is left before the PIN locks. Check the PIN, then run again with --final-try."));
      return FALSE;
    }
  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH))
    {
      g_printerr ("%s\n", _("Enter the PIN on the reader’s PIN pad."));
      return TRUE;
    }

  if (options->pin_file != NULL)
    *pin_out = read_pin_file (options->pin_file, error);
  else
    {
      prompt = g_strdup_printf (_("PIN for %s: "), tessera_token_get_display_name (token));
      *pin_out = prompt_pin (prompt, error);
    }
  return *pin_out != NULL;
}

static int
run_objects (Options    *options,
             const char *uri)
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  token = open_token (options, uri, &registry, &error);
  if (token == NULL)
    return fail (error);

  if (options->login)
    {
      g_autoptr(TesseraPinText) pin = NULL;

      if (!get_user_pin (options, token, &pin, &error))
        return fail (error);

      tessera_token_login_async (token, pin, NULL, on_async_ready, &result);
      if (!tessera_token_login_finish (token, wait_for (&result), &error))
        return fail (error);
    }
  else
    {
      tessera_token_read_objects_async (token, NULL, on_async_ready, &result);
      if (!tessera_token_read_objects_finish (token, wait_for (&result), &error))
        return fail (error);
    }

  return print_objects (token, options->json);
}

/* ssh-keys ------------------------------------------------------------------ */

gboolean
read_token (TesseraToken  *token,
            GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tessera_token_read_objects_async (token, NULL, on_async_ready, &result);
  return tessera_token_read_objects_finish (token, wait_for (&result), error);
}

/* Prints the keys OpenSSH finds, the way `ssh-keygen -D` prints them:
 * without login, token after token, each key once per module. */
static int
run_ssh_keys (Options    *options,
              const char *uri)
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) listed = g_ptr_array_new_with_free_func ((GDestroyNotify) tessera_ssh_identity_free);
  g_autoptr(GString) out = g_string_new (NULL);
  GListModel *tokens;
  TesseraModule *module = NULL;
  TesseraToken *chosen = NULL;
  gboolean md5 = FALSE;
  int status = EXIT_SUCCESS;

  if (options->hash != NULL)
    {
      if (g_str_equal (options->hash, "md5"))
        md5 = TRUE;
      else if (!g_str_equal (options->hash, "sha256"))
        {
          g_printerr ("tessera-cli: %s\n", _("The fingerprint hash must be sha256 or md5."));
          return EXIT_USAGE;
        }
    }

  registry = load_registry (options, &error);
  if (registry == NULL)
    return fail (error);

  tokens = tessera_registry_get_tokens (registry);
  if (uri != NULL && (chosen = find_token (registry, uri, &error)) == NULL)
    return fail (error);

  for (guint i = 0; i < g_list_model_get_n_items (tokens); i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i);
      g_autoptr(GPtrArray) identities = NULL;

      if (chosen != NULL && chosen != token)
        continue;
      if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
        continue;

      /* OpenSSH forgets the keys it listed when it moves to another module. */
      if (tessera_token_get_module (token) != module)
        {
          module = tessera_token_get_module (token);
          g_ptr_array_set_size (listed, 0);
        }

      if (!read_token (token, &error))
        {
          g_printerr ("tessera-cli: %s: %s\n", tessera_token_get_display_name (token), error->message);
          g_clear_error (&error);
          status = EXIT_FAILURE;
          continue;
        }

      identities = tessera_ssh_list_identities (tessera_token_get_objects (token), listed);
      for (guint k = 0; k < identities->len; k++)
        {
          TesseraSshIdentity *identity = g_ptr_array_index (identities, k);
          g_autofree char *line = NULL;

          if (!identity->supported && !options->all)
            continue;

          if (options->fingerprints)
            line = tessera_ssh_format_fingerprint_line (identity->blob, identity->comment, md5);
          else
            line = tessera_ssh_format_line (identity->blob, identity->comment);
          g_string_append_printf (out, "%s\n", line);
        }

      while (identities->len > 0)
        g_ptr_array_add (listed, g_ptr_array_steal_index (identities, 0));
    }

  fputs (out->str, stdout);
  return status;
}

/* agent --------------------------------------------------------------------- */

/* Exit statuses of `agent`, one per cause a script may want to tell apart. */
enum {
  EXIT_NO_AGENT = 3,
  EXIT_AGENT_TIMEOUT = 4,
  EXIT_WRONG_PIN = 5,
  EXIT_PIN_LOCKED = 6,
  EXIT_PROVIDER_NOT_ALLOWED = 7,
  EXIT_NO_USABLE_KEY = 8,
  EXIT_AGENT_REFUSED = 9,
  EXIT_AGENT_NOT_SUPPORTED = 10,
};

static int
agent_fail (const GError *error)
{
  g_printerr ("tessera-cli: %s\n", error->message);

  if (error->domain == TESSERA_AGENT_ERROR)
    switch (error->code)
      {
      case TESSERA_AGENT_ERROR_NO_AGENT:
        return EXIT_NO_AGENT;
      case TESSERA_AGENT_ERROR_TIMEOUT:
        return EXIT_AGENT_TIMEOUT;
      case TESSERA_AGENT_ERROR_PROVIDER_NOT_ALLOWED:
        return EXIT_PROVIDER_NOT_ALLOWED;
      case TESSERA_AGENT_ERROR_NO_USABLE_KEY:
        return EXIT_NO_USABLE_KEY;
      case TESSERA_AGENT_ERROR_NOT_SUPPORTED:
        return EXIT_AGENT_NOT_SUPPORTED;
      default:
        return EXIT_AGENT_REFUSED;
      }

  if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT) ||
      g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INVALID))
    return EXIT_WRONG_PIN;
  if (g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED))
    return EXIT_PIN_LOCKED;
  return EXIT_FAILURE;
}

static GPtrArray *
agent_identities (TesseraAgent  *agent,
                  GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tessera_agent_list_identities_async (agent, NULL, on_async_ready, &result);
  return tessera_agent_list_identities_finish (agent, wait_for (&result), error);
}

static void
print_agent_state (TesseraToken *token,
                   TesseraAgent *agent,
                   GPtrArray    *identities)
{
  static const char *words[] = { "none", "some", "all" };
  TesseraAgentState state = tessera_agent_state_for_token (identities, token);

  g_print ("%s\n", words[state]);
  switch (state)
    {
    case TESSERA_AGENT_STATE_ALL:
      g_printerr (_("All SSH keys of “%s” are in the agent at %s.\n"),
                  tessera_token_get_display_name (token), tessera_agent_get_socket_path (agent));
      break;
    case TESSERA_AGENT_STATE_SOME:
      g_printerr (_("Some SSH keys of “%s” are in the agent at %s.\n"),
                  tessera_token_get_display_name (token), tessera_agent_get_socket_path (agent));
      break;
    case TESSERA_AGENT_STATE_NONE:
    default:
      g_printerr (_("No SSH key of “%s” is in the agent at %s.\n"),
                  tessera_token_get_display_name (token), tessera_agent_get_socket_path (agent));
      break;
    }
}

static int
run_agent (Options    *options,
           const char *verb,
           const char *uri)
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(TesseraAgent) agent = tessera_agent_new (NULL);
  g_autoptr(GPtrArray) identities = NULL;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  if (!g_str_equal (verb, "status") && !g_str_equal (verb, "add") && !g_str_equal (verb, "remove"))
    {
      g_printerr ("tessera-cli: %s\n", _("Use agent status, agent add or agent remove."));
      return EXIT_USAGE;
    }
  if (options->lifetime < 0)
    {
      g_printerr ("tessera-cli: %s\n", _("The lifetime is a number of seconds."));
      return EXIT_USAGE;
    }

  token = open_token (options, uri, &registry, &error);
  if (token == NULL)
    return fail (error);

  /* The token's public keys, to know them again in the agent. */
  if (!read_token (token, &error))
    return fail (error);

  if (g_str_equal (verb, "status"))
    {
      identities = agent_identities (agent, &error);
      if (identities == NULL)
        return agent_fail (error);
      print_agent_state (token, agent, identities);
      return EXIT_SUCCESS;
    }

  if (g_str_equal (verb, "remove"))
    {
      g_autoptr(GAsyncResult) result = NULL;

      identities = agent_identities (agent, &error);
      if (identities == NULL)
        return agent_fail (error);

      tessera_agent_remove_token_async (agent, token, NULL, on_async_ready, &result);
      if (!tessera_agent_remove_token_finish (agent, wait_for (&result), &error) &&
          tessera_agent_state_for_token (identities, token) != TESSERA_AGENT_STATE_NONE)
        return agent_fail (error);

      g_clear_pointer (&identities, g_ptr_array_unref);
      identities = agent_identities (agent, &error);
      if (identities == NULL)
        return agent_fail (error);
      print_agent_state (token, agent, identities);
      return tessera_agent_state_for_token (identities, token) == TESSERA_AGENT_STATE_NONE
             ? EXIT_SUCCESS : EXIT_AGENT_REFUSED;
    }

  /* add */
  {
    g_autoptr(TesseraPinText) pin = NULL;
    g_autoptr(GAsyncResult) result = NULL;

    /* A remembered PIN first, when no PIN file is given: at most once,
     * and never on the last try or a locked PIN. */
    if (options->pin_file == NULL &&
        !tessera_token_has_state (token, TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH))
      {
        tessera_agent_add_token_remembered_async (agent, token, options->lifetime, options->confirm,
                                                  NULL, on_async_ready, &result);
        if (tessera_agent_add_token_remembered_finish (agent, wait_for (&result), &error) >= 0)
          {
            g_printerr ("%s\n", _("Used the PIN remembered in the keyring."));
            goto added;
          }
        if (g_error_matches (error, TESSERA_PIN_STORE_ERROR, TESSERA_PIN_STORE_ERROR_WRONG_AND_FORGOTTEN))
          g_printerr ("tessera-cli: %s\n", error->message);
        /* libsecret's own errors: the domain it registers, once loaded */
        else if (error->domain != TESSERA_PIN_STORE_ERROR && error->domain != G_DBUS_ERROR &&
                 error->domain != G_IO_ERROR && error->domain != g_quark_try_string ("secret-error"))
          return agent_fail (error);
        g_clear_error (&error);
        g_clear_object (&result);
      }

    if (!get_user_pin (options, token, &pin, &error))
      return agent_fail (error);

    tessera_agent_add_token_async (agent, token, pin, options->lifetime, options->confirm,
                                   NULL, on_async_ready, &result);
    if (tessera_agent_add_token_finish (agent, wait_for (&result), &error) < 0)
      return agent_fail (error);

    if (options->remember_pin && pin != NULL)
      {
        g_clear_object (&result);
        tessera_pin_store_save_async (token, pin, NULL, on_async_ready, &result);
        if (!tessera_pin_store_save_finish (wait_for (&result), &error))
          {
            g_printerr ("tessera-cli: %s: %s\n", _("The PIN could not be remembered"), error->message);
            g_clear_error (&error);
          }
      }

  added:
    g_clear_pointer (&identities, g_ptr_array_unref);
    identities = agent_identities (agent, &error);
    if (identities == NULL)
      return agent_fail (error);
    print_agent_state (token, agent, identities);
    return EXIT_SUCCESS;
  }
}

/* init, set-pin, unblock ------------------------------------------------------- */

/* A PIN from its file, or asked for; a new one is asked for twice. */
static char *
get_pin (const char  *file,
         const char  *prompt,
         gboolean     twice,
         GError     **error)
{
  char *pin;
  g_autoptr(TesseraPinText) again = NULL;
  g_autofree char *again_prompt = NULL;

  if (file != NULL)
    return read_pin_file (file, error);

  pin = prompt_pin (prompt, error);
  if (pin == NULL || !twice)
    return pin;

  again_prompt = g_strdup_printf (_("%s (again): "), prompt);
  again = prompt_pin (again_prompt, error);
  if (again == NULL)
    {
      wipe_pin (pin);
      return NULL;
    }
  if (!g_str_equal (pin, again))
    {
      wipe_pin (pin);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The two PINs differ."));
      return NULL;
    }
  return pin;
}

/* Destroying keys needs a yes: the label typed at the terminal, or --yes. */
static gboolean
confirm_initialize (TesseraToken  *token,
                    gboolean       yes,
                    GError       **error)
{
  GListModel *objects = tessera_token_get_objects (token);
  guint n = g_list_model_get_n_items (objects);
  g_autoptr(GError) read_error = NULL;
  char answer[128];
  FILE *tty;

  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
    return TRUE;

  if (!read_token (token, &read_error))
    g_printerr ("tessera-cli: %s\n", read_error->message);
  n = g_list_model_get_n_items (objects);

  g_printerr (_("Initializing “%s” destroys every key and certificate on it."), tessera_token_get_display_name (token));
  g_printerr ("\n");
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraObject) object = g_list_model_get_item (objects, i);
      g_autofree char *label = escape_text (tessera_object_get_label (object));

      g_printerr ("  %s “%s” (ID %s)\n", tessera_object_get_kind_name (object),
                  label, tessera_object_get_id_hex (object));
    }
  if (!tessera_token_get_logged_in (token))
    g_printerr ("%s\n", _("Private objects, hidden without login, are destroyed too."));

  if (yes)
    return TRUE;

  tty = fopen ("/dev/tty", "r+");
  if (tty == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _("Nothing was changed. Confirm at a terminal, or give --yes."));
      return FALSE;
    }
  fprintf (tty, _("Type the token’s label, “%s”, to go on: "), tessera_token_get_label (token));
  fflush (tty);
  if (fgets (answer, sizeof answer, tty) == NULL)
    answer[0] = '\0';
  fclose (tty);
  answer[strcspn (answer, "\r\n")] = '\0';

  if (!g_str_equal (answer, tessera_token_get_label (token)))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Nothing was changed."));
      return FALSE;
    }
  return TRUE;
}

static int
run_lifecycle (Options    *options,
               const char *command,
               const char *uri)
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TesseraPinText) old_pin = NULL;
  g_autoptr(TesseraPinText) new_pin = NULL;
  TesseraToken *token;
  gboolean pin_pad;

  token = open_token (options, uri, &registry, &error);
  if (token == NULL)
    return fail (error);
  pin_pad = tessera_token_has_state (token, TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH);
  if (pin_pad)
    g_printerr ("%s\n", _("Enter the PINs on the reader’s PIN pad when it asks."));

  if (g_str_equal (command, "init"))
    {
      g_autofree char *new_uri = NULL;
      gboolean blank = tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED);

      if (options->label == NULL)
        {
          g_printerr ("tessera-cli: %s\n", _("Give the new label with --label."));
          return EXIT_USAGE;
        }
      if (!confirm_initialize (token, options->yes, &error))
        return fail (error);

      if (!pin_pad)
        {
          old_pin = get_pin (options->so_pin_file, blank ? _("New SO PIN") : _("SO PIN"), blank, &error);
          if (old_pin == NULL)
            return fail (error);
          new_pin = get_pin (options->new_pin_file, _("New user PIN"), TRUE, &error);
          if (new_pin == NULL)
            return fail (error);
        }

      tessera_token_initialize_async (token, old_pin, options->label, new_pin, NULL, on_async_ready, &result);
      if (!tessera_token_initialize_finish (token, wait_for (&result), &error))
        return fail (error);

      g_clear_object (&result);
      tessera_registry_refresh_async (registry, NULL, on_async_ready, &result);
      tessera_registry_refresh_finish (registry, wait_for (&result), NULL);
      {
        g_autofree char *escaped = g_uri_escape_string (options->label, NULL, FALSE);
        g_autofree char *query = g_strdup_printf ("pkcs11:token=%s", escaped);
        TesseraToken *initialized = tessera_registry_lookup_token (registry, query);

        g_print ("%s\n", initialized ? tessera_token_get_uri (initialized) : query);
      }
      return EXIT_SUCCESS;
    }

  if (g_str_equal (command, "set-pin"))
    {
      TesseraPinKind kind = options->so ? TESSERA_PIN_SO : TESSERA_PIN_USER;

      if (!pin_pad)
        {
          old_pin = get_pin (options->so ? options->so_pin_file : options->pin_file,
                             options->so ? _("Current SO PIN") : _("Current PIN"), FALSE, &error);
          if (old_pin == NULL)
            return fail (error);
          new_pin = get_pin (options->new_pin_file, options->so ? _("New SO PIN") : _("New PIN"), TRUE, &error);
          if (new_pin == NULL)
            return fail (error);
        }

      tessera_token_change_pin_async (token, kind, old_pin, new_pin, NULL, on_async_ready, &result);
      if (!tessera_token_change_pin_finish (token, wait_for (&result), &error))
        return agent_fail (error);
      g_printerr ("%s\n", options->so ? _("The SO PIN was changed.") : _("The PIN was changed."));
      return EXIT_SUCCESS;
    }

  /* unblock */
  if (!pin_pad)
    {
      old_pin = get_pin (options->so_pin_file, _("SO PIN"), FALSE, &error);
      if (old_pin == NULL)
        return fail (error);
      new_pin = get_pin (options->new_pin_file, _("New user PIN"), TRUE, &error);
      if (new_pin == NULL)
        return fail (error);
    }

  tessera_token_unblock_pin_async (token, old_pin, new_pin, NULL, on_async_ready, &result);
  if (!tessera_token_unblock_pin_finish (token, wait_for (&result), &error))
    return agent_fail (error);
  g_printerr ("%s\n", _("The user PIN was set; the PIN is unblocked."));
  return EXIT_SUCCESS;
}

static int
run_create_software_token (Options *options)
{
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(TesseraToken) token = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TesseraPinText) so_pin = NULL;
  g_autoptr(TesseraPinText) user_pin = NULL;
  g_autofree char *config = tessera_software_token_config_path ();

  if (options->label == NULL)
    {
      g_printerr ("tessera-cli: %s\n", _("Give the new token's label with --label."));
      return EXIT_USAGE;
    }

  so_pin = get_pin (options->so_pin_file, _("New SO PIN"), TRUE, &error);
  if (so_pin == NULL)
    return fail (error);
  user_pin = get_pin (options->new_pin_file, _("New user PIN"), TRUE, &error);
  if (user_pin == NULL)
    return fail (error);

  registry = load_registry (options, &error);
  if (registry == NULL)
    return fail (error);

  tessera_software_token_create_async (registry, options->label, so_pin, user_pin, NULL,
                                       on_async_ready, &result);
  token = tessera_software_token_create_finish (registry, wait_for (&result), &error);
  if (token == NULL)
    return fail (error);

  g_printerr (_("Software token “%s” created; SoftHSM config: %s\n"),
              tessera_token_get_label (token), config);
  g_print ("%s\n", tessera_token_get_uri (token));
  return EXIT_SUCCESS;
}

/* main ---------------------------------------------------------------------- */

static const char *summary_text =
  N_("Commands:\n"
     "  tokens [--module PATH] [--json]\n"
     "      List every token, grouped by module.\n"
     "  objects [--module PATH] URI [--login [--pin-file FILE] [--final-try]] [--json]\n"
     "      List the objects and keys on the token that URI names.\n"
     "  ssh-keys [--module PATH | URI] [--all] [--fingerprints [--hash md5]]\n"
     "      Print each key's OpenSSH public key line, as ssh-keygen -D does.\n"
     "      --all adds the keys the installed OpenSSH cannot use.\n"
     "  agent status|add|remove [--module PATH] URI [--lifetime SECONDS] [--confirm]\n"
     "        [--pin-file FILE] [--remember-pin] [--final-try]\n"
     "      add uses a PIN remembered in the keyring first, once; a wrong one is forgotten.\n"
     "      The token's keys in the running ssh-agent ($SSH_AUTH_SOCK). status prints\n"
     "      all, some or none. Exit status: 0 done, 3 no agent, 4 agent did not answer,\n"
     "      5 wrong PIN, 6 PIN locked or final try, 7 module not allowed by ssh-agent,\n"
     "      8 no key SSH can use, 9 agent refused, 10 agent takes no tokens.\n"
     "  init [--module PATH] URI --label LABEL [--so-pin-file F] [--new-pin-file F] [--yes]\n"
     "      Erase the token, give it a label and a user PIN. Lists what is destroyed;\n"
     "      asks for the label to be typed, unless --yes.\n"
     "  set-pin [--module PATH] URI [--so] [--pin-file F | --so-pin-file F] [--new-pin-file F]\n"
     "      Change the user PIN, or the SO PIN. Exit status 5 wrong PIN, 6 PIN locked.\n"
     "  unblock [--module PATH] URI [--so-pin-file F] [--new-pin-file F]\n"
     "      Set a new user PIN with the SO PIN: unblocks a locked PIN. Exit status 5 wrong\n"
     "      SO PIN, 6 SO PIN locked.\n"
     "  generate [--module PATH] URI --type TYPE [--label LABEL] [--pin-file F] [--final-try]\n"
     "        [--certificate [--subject CN] [--days N]]\n"
     "      Make a key pair on the token; prints its ID (the GnuTLS key ID).\n"
     "      --certificate adds a self-signed certificate, signed on the token.\n"
     "  certificate create [--module PATH] URI --id ID [--subject CN] [--days N]\n"
     "        [--pin-file F] [--final-try]\n"
     "      A self-signed certificate for the key with this ID (default CN \"SSH key\", 365 days).\n"
     "  certificate import [--module PATH] URI FILE [--label LABEL] [--pin-file F] [--final-try]\n"
     "      Write each certificate of a PEM or DER file with the ID of the private key it\n"
     "      belongs to; prints each ID written. Certificates already on the token, for no\n"
     "      key on it, or unreadable are skipped and named on stderr. Exit status 0 when\n"
     "      at least one was imported, 1 when none was.\n"
     "  certificate export [--module PATH] URI --id ID [--der] [--output FILE]\n"
     "      Print or save the certificate with this ID, PEM unless --der.\n"
     "  rename [--module PATH] URI --id ID [--kind KIND] --label LABEL [--pin-file F] [--final-try]\n"
     "      Relabel the key's objects (or one --kind: private, public, certificate).\n"
     "  delete [--module PATH] URI --id ID [--kind KIND] [--yes] [--pin-file F] [--final-try]\n"
     "      Delete the key's objects; names them and asks, unless --yes.\n"
     "  doctor [--module PATH] URI [--fix] [--pin-file F] [--final-try]\n"
     "      Find objects SSH cannot pair (wrong IDs, keys without a public part, shared or\n"
     "      empty IDs) and with --fix repair them. Exit status 0 when the token is clean,\n"
     "      11 when problems remain.\n"
     "  test-sign [--module PATH] URI --id ID [--pin-file F] [--final-try]\n"
     "      Sign a random challenge on the token and verify it with the key's public key.\n"
     "  create-software-token --label LABEL [--so-pin-file F] [--new-pin-file F]\n"
     "      A new SoftHSM token, in $SOFTHSM2_CONF's token directory when it is set; else\n"
     "      writes ~/.config/softhsm2/softhsm2.conf if it is missing.");

static int
run (int      argc,
     char   **argv,
     Options *options_out);

/* Called by the launcher, tessera-cli-launcher.c */
int
tessera_cli_main (int                          argc,
                  char                       **argv,
                  const char                  *socket_dir,
                  const TesseraCliStartedHost *hosts,
                  int                          n_hosts)
{
  Options options = { 0 };
  int status;
  /* an install under a DESTDIR, in tests: its catalogs are not in LOCALEDIR */
  const char *localedir = g_getenv ("TESSERA_LOCALEDIR");

  for (int i = 0; i < n_hosts; i++)
    tessera_registry_take_started_host (hosts[i].module_path, socket_dir,
                                        hosts[i].socket_path, &hosts[i].process);

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  status = run (argc, argv, &options);
  options_clear (&options);

  return status;
}

static int
run (int      argc,
     char   **argv,
     Options *options_out)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  const char *command;
  GOptionEntry entries[] = {
    { "module", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &options_out->modules,
      N_("Load this module file directly instead of the p11-kit modules (repeatable)"), N_("PATH") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &options_out->json, N_("Print JSON"), NULL },
    { "login", 'l', 0, G_OPTION_ARG_NONE, &options_out->login, N_("Log in with the user PIN first"), NULL },
    { "pin-file", 0, 0, G_OPTION_ARG_FILENAME, &options_out->pin_file,
      N_("Read the PIN from the first line of FILE"), N_("FILE") },
    { "final-try", 0, 0, G_OPTION_ARG_NONE, &options_out->final_try,
      N_("Log in even though one PIN try is left"), NULL },
    { "lifetime", 't', 0, G_OPTION_ARG_INT, &options_out->lifetime,
      N_("agent add: remove the keys from the agent after SECONDS"), N_("SECONDS") },
    { "confirm", 'c', 0, G_OPTION_ARG_NONE, &options_out->confirm,
      N_("agent add: the agent asks before each use of a key"), NULL },
    { "label", 0, 0, G_OPTION_ARG_STRING, &options_out->label,
      N_("init, generate, rename, certificate import, create-software-token: the label"), N_("LABEL") },
    { "so-pin-file", 0, 0, G_OPTION_ARG_FILENAME, &options_out->so_pin_file,
      N_("Read the SO PIN from the first line of FILE"), N_("FILE") },
    { "new-pin-file", 0, 0, G_OPTION_ARG_FILENAME, &options_out->new_pin_file,
      N_("Read the new PIN from the first line of FILE"), N_("FILE") },
    { "type", 0, 0, G_OPTION_ARG_STRING, &options_out->key_type,
      N_("generate: rsa:2048, rsa:3072, rsa:4096, ec:p256, ec:p384, ec:p521 or ed25519"), N_("TYPE") },
    { "so", 0, 0, G_OPTION_ARG_NONE, &options_out->so,
      N_("set-pin: change the SO PIN"), NULL },
    { "yes", 'y', 0, G_OPTION_ARG_NONE, &options_out->yes,
      N_("init, delete: destroy without asking"), NULL },
    { "remember-pin", 0, 0, G_OPTION_ARG_NONE, &options_out->remember_pin,
      N_("agent add: remember the PIN in the keyring once it worked"), NULL },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &options_out->all,
      N_("ssh-keys: also list keys the installed OpenSSH cannot use"), NULL },
    { "fingerprints", 'f', 0, G_OPTION_ARG_NONE, &options_out->fingerprints,
      N_("ssh-keys: print fingerprints as ssh-keygen -l does"), NULL },
    { "id", 0, 0, G_OPTION_ARG_STRING, &options_out->id,
      N_("The CKA_ID of the key or object, in hex"), N_("ID") },
    { "kind", 0, 0, G_OPTION_ARG_STRING, &options_out->kind,
      N_("rename, delete: only the private, public or certificate object"), N_("KIND") },
    { "certificate", 0, 0, G_OPTION_ARG_NONE, &options_out->certificate,
      N_("generate: also make a self-signed certificate"), NULL },
    { "subject", 0, 0, G_OPTION_ARG_STRING, &options_out->subject,
      N_("The certificate's subject CN (default \"SSH key\")"), N_("CN") },
    { "days", 0, 0, G_OPTION_ARG_INT, &options_out->days,
      N_("How many days the certificate is valid (default 365)"), N_("DAYS") },
    { "der", 0, 0, G_OPTION_ARG_NONE, &options_out->der,
      N_("certificate export: DER instead of PEM"), NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &options_out->output,
      N_("certificate export: write to FILE"), N_("FILE") },
    { "fix", 0, 0, G_OPTION_ARG_NONE, &options_out->fix,
      N_("doctor: repair what can be repaired"), NULL },
    { "hash", 'E', 0, G_OPTION_ARG_STRING, &options_out->hash,
      N_("ssh-keys: the fingerprint hash, sha256 (default) or md5"), N_("HASH") },
    { NULL }
  };

  context = g_option_context_new (_("COMMAND [URI]"));
  g_option_context_set_summary (context, _("Manage PKCS#11 tokens for SSH."));
  g_option_context_set_description (context, _(summary_text));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("tessera-cli: %s\n", error->message);
      return EXIT_USAGE;
    }

  if (argc < 2)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
      g_printerr ("%s", help);
      return EXIT_USAGE;
    }

  command = argv[1];


  /* A label to be written is checked before anything else, PINs included */
  if (options_out->label != NULL && !tessera_check_label_text (options_out->label, &error))
    return fail (error);

  if (g_str_equal (command, "tokens") && argc == 2)
    {
      g_autoptr(TesseraRegistry) registry = load_registry (options_out, &error);

      if (registry == NULL)
        return fail (error);
      return print_tokens (registry, options_out->json, options_out->modules != NULL);
    }

  if (g_str_equal (command, "objects") && argc == 3)
    return run_objects (options_out, argv[2]);

  if (g_str_equal (command, "generate") && argc == 3)
    return run_generate (options_out, argv[2]);

  if (g_str_equal (command, "certificate") && (argc == 4 || argc == 5))
    return run_certificate (options_out, argv[2], argv[3], argc == 5 ? argv[4] : NULL);

  if (g_str_equal (command, "rename") && argc == 3)
    return run_rename (options_out, argv[2]);

  if (g_str_equal (command, "delete") && argc == 3)
    return run_delete (options_out, argv[2]);

  if (g_str_equal (command, "doctor") && argc == 3)
    return run_doctor (options_out, argv[2]);

  if (g_str_equal (command, "test-sign") && argc == 3)
    return run_test_sign (options_out, argv[2]);

  if (g_str_equal (command, "create-software-token") && argc == 2)
    return run_create_software_token (options_out);

  if ((g_str_equal (command, "init") || g_str_equal (command, "set-pin") ||
       g_str_equal (command, "unblock")) && argc == 3)
    return run_lifecycle (options_out, command, argv[2]);

  if (g_str_equal (command, "agent") && argc == 4)
    return run_agent (options_out, argv[2], argv[3]);

  if (g_str_equal (command, "ssh-keys") && argc <= 3)
    return run_ssh_keys (options_out, argc == 3 ? argv[2] : NULL);

  g_printerr ("tessera-cli: %s\n", _("Unknown command or wrong arguments. See --help."));
  return EXIT_USAGE;
}
