/* tessera-ssh-export.c: a key's public key file and ssh_config Host block
 *
 * What the key row and the "Set Up for SSH" assistant share: saving a
 * key's OpenSSH public key as a .pub file (remembered for as long as
 * Tessera runs), and the Host block for ~/.ssh/config that names the
 * token's module as PKCS11Provider and, once the .pub file is saved, that
 * file as the only IdentityFile.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tessera-ssh-export.h"

/* Where each key's .pub file was saved, by key identity: one table for
 * the process, since a key is the same key in every window.  Only the
 * main thread uses it. */
static GHashTable *
public_key_files (void)
{
  static GHashTable *files = NULL;

  if (files == NULL)
    files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);

  return files;
}

/**
 * tessera_ssh_export_key_identity:
 *
 * Names the key across token pages and re-reads for this session: the
 * token, the key's ID and the public key itself, so that a key replaced
 * under the same ID does not inherit the old key's .pub file.
 */
char *
tessera_ssh_export_key_identity (TesseraKey   *key,
                                 TesseraToken *token)
{
  g_autofree char *fingerprint = tessera_key_get_ssh_fingerprint (key);

  return g_strdup_printf ("%s\n%s\n%s",
                          tessera_token_get_uri (token),
                          tessera_key_get_id_hex (key) ? tessera_key_get_id_hex (key) : "",
                          fingerprint ? fingerprint : "");
}

/* "SSH key", ".pub" → "ssh-key.pub" */
char *
tessera_ssh_export_suggest_file_name (const char *label,
                                      const char *extension)
{
  g_autofree char *lower = g_utf8_strdown (label != NULL ? label : "", -1);
  GString *name = g_string_new (NULL);

  for (const char *p = lower; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isalnum (c) || c == '_')
        g_string_append_unichar (name, c);
      else if (name->len > 0 && name->str[name->len - 1] != '-')
        g_string_append_c (name, '-');
    }

  while (name->len > 0 && name->str[name->len - 1] == '-')
    g_string_truncate (name, name->len - 1);

  if (name->len == 0)
    g_string_append (name, "key");

  g_string_append (name, extension);

  return g_string_free (name, FALSE);
}

/* ssh_config(5) splits arguments at spaces unless they are quoted, and
 * expands %-tokens in IdentityFile */
static void
append_config_argument (GString    *config,
                        const char *value,
                        gboolean    expands_tokens)
{
  gboolean quote = strpbrk (value, " \t") != NULL;

  if (quote)
    g_string_append_c (config, '"');

  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '%' && expands_tokens)
        g_string_append (config, "%%");
      else
        g_string_append_c (config, *p);
    }

  if (quote)
    g_string_append_c (config, '"');
}

char *
tessera_ssh_export_format_config (const char *host,
                                  const char *module_path,
                                  GFile      *identity_file)
{
  GString *config = g_string_new (NULL);

  g_string_append_printf (config, "Host %s\n", host);
  g_string_append (config, "    PKCS11Provider ");
  append_config_argument (config, module_path, FALSE);
  g_string_append_c (config, '\n');

  /* With the .pub file, ssh offers this key only, not every key on the
   * token: servers count each offered key as a failed attempt */
  if (identity_file != NULL && g_file_peek_path (identity_file) != NULL)
    {
      g_string_append (config, "    IdentityFile ");
      append_config_argument (config, g_file_peek_path (identity_file), TRUE);
      g_string_append (config, "\n    IdentitiesOnly yes\n");
    }

  return g_string_free (config, FALSE);
}

/**
 * tessera_ssh_export_lookup_public_key_file:
 *
 * Returns: (transfer none) (nullable): where the key's .pub file was
 *   saved since Tessera started
 */
GFile *
tessera_ssh_export_lookup_public_key_file (TesseraKey   *key,
                                           TesseraToken *token)
{
  g_autofree char *identity = tessera_ssh_export_key_identity (key, token);

  return g_hash_table_lookup (public_key_files (), identity);
}

/**
 * tessera_ssh_export_dup_config:
 *
 * Returns: (transfer full) (nullable): the Host block for the key, for a
 *   host the user replaces; %NULL when the token's module has no path
 */
char *
tessera_ssh_export_dup_config (TesseraKey   *key,
                               TesseraToken *token)
{
  TesseraModule *module = tessera_token_get_module (token);
  /* ssh runs outside any sandbox: the host's path of the module */
  const char *module_path = module != NULL ? tessera_module_get_host_path (module) : NULL;

  if (module_path == NULL || module_path[0] == '\0')
    return NULL;

  return tessera_ssh_export_format_config (TESSERA_SSH_EXPORT_PLACEHOLDER_HOST, module_path,
                                           tessera_ssh_export_lookup_public_key_file (key, token));
}

/* Save Public Key… */

typedef struct
{
  GtkFileChooserNative *chooser;
  GtkWindow            *window;
  GBytes               *contents;
  char                 *identity;
  GFile                *file;
} SavePublicKey;

static void
save_public_key_free (SavePublicKey *save)
{
  if (save->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (save->chooser));
  g_clear_object (&save->chooser);
  g_clear_object (&save->window);
  g_clear_pointer (&save->contents, g_bytes_unref);
  g_clear_pointer (&save->identity, g_free);
  g_clear_object (&save->file);
  g_free (save);
}

static void
on_public_key_saved (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SavePublicKey *save = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (object), result, NULL, &error))
    {
      g_autofree char *name = NULL;
      g_autofree char *body = NULL;
      GtkWidget *dialog;

      /* The window closed */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          || g_cancellable_is_cancelled (g_task_get_cancellable (task)))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }

      /* GIO's message usually names the file already */
      name = g_file_get_parse_name (save->file);
      if (strstr (error->message, name) != NULL)
        body = g_strdup (error->message);
      else
        /* Translators: the first %s is a file, the second why it could not be written */
        body = g_strdup_printf (_("“%s” could not be written: %s"), name, error->message);
      dialog = adw_message_dialog_new (save->window, _("Could Not Save the Public Key"), body);
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
      gtk_window_present (GTK_WINDOW (dialog));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    return;

  g_hash_table_replace (public_key_files (), g_strdup (save->identity), g_object_ref (save->file));

  g_task_return_pointer (task, g_object_ref (save->file), g_object_unref);
}

static void
on_save_chooser_response (GtkNativeDialog *chooser,
                          int              response,
                          gpointer         user_data)
{
  g_autoptr(GTask) task = user_data;
  SavePublicKey *save = g_task_get_task_data (task);

  if (response == GTK_RESPONSE_ACCEPT)
    save->file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

  gtk_native_dialog_destroy (chooser);
  g_clear_object (&save->chooser);

  if (save->file == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "%s", _("No file was chosen."));
      return;
    }

  g_debug ("Saving a public key to %s", g_file_peek_path (save->file));

  g_file_replace_contents_bytes_async (save->file, save->contents, NULL, FALSE,
                                       G_FILE_CREATE_NONE, g_task_get_cancellable (task),
                                       on_public_key_saved, g_object_ref (task));
}

/**
 * tessera_ssh_export_save_public_key_async:
 * @parent: the window the file chooser belongs to
 *
 * Asks where to save the key's OpenSSH public key (in ~/.ssh when there is
 * one), writes it there, and remembers the file for Copy SSH Config.  A write error is shown in a dialog over @parent.
 */
void
tessera_ssh_export_save_public_key_async (GtkWindow           *parent,
                                          TesseraKey          *key,
                                          TesseraToken        *token,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *line = NULL;
  g_autofree char *file_name = NULL;
  g_autofree char *ssh_dir = NULL;
  SavePublicKey *save;

  g_return_if_fail (GTK_IS_WINDOW (parent));
  g_return_if_fail (TESSERA_IS_KEY (key));
  g_return_if_fail (TESSERA_IS_TOKEN (token));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, tessera_ssh_export_save_public_key_async);

  line = tessera_key_get_ssh_line (key);
  if (line == NULL)
    {
      g_task_return_new_error (task, TESSERA_SSH_ERROR, TESSERA_SSH_ERROR_INCOMPLETE,
                               "%s", _("OpenSSH cannot read this key’s public key."));
      return;
    }

  save = g_new0 (SavePublicKey, 1);
  save->window = g_object_ref (parent);
  save->contents = g_bytes_new_take (g_strconcat (line, "\n", NULL), strlen (line) + 1);
  save->identity = tessera_ssh_export_key_identity (key, token);
  g_task_set_task_data (task, save, (GDestroyNotify) save_public_key_free);

  save->chooser = gtk_file_chooser_native_new (_("Save Public Key"),
                                               parent,
                                               GTK_FILE_CHOOSER_ACTION_SAVE,
                                               _("_Save"),
                                               _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (save->chooser), TRUE);

  file_name = tessera_ssh_export_suggest_file_name (tessera_key_get_display_label (key), ".pub");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (save->chooser), file_name);

  /* Where OpenSSH keeps keys, when the user has it */
  ssh_dir = g_build_filename (g_get_home_dir (), ".ssh", NULL);
  if (g_file_test (ssh_dir, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GFile) folder = g_file_new_for_path (ssh_dir);

      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (save->chooser), folder, NULL);
    }

  g_signal_connect (save->chooser, "response", G_CALLBACK (on_save_chooser_response),
                    g_steal_pointer (&task));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (save->chooser));
}

/**
 * tessera_ssh_export_save_public_key_finish:
 *
 * Returns: (transfer full) (nullable): the file written; %NULL with
 *   %G_IO_ERROR_CANCELLED when no file was chosen
 */
GFile *
tessera_ssh_export_save_public_key_finish (GAsyncResult  *result,
                                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
