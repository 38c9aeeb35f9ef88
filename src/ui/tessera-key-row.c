/* tessera-key-row.c: a key on the token page
 *
 * A key as the user thinks of it: its name, type and parts, its SSH
 * fingerprint and whether OpenSSH can use it (and in one sentence why not
 * when it cannot), with what a person wants to do with it: copy the
 * OpenSSH public key, save it as a .pub file, copy a Host block for
 * ~/.ssh/config, or look at its details.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tessera-key-row.h"
#include "tessera-token-page.h"
#include "tessera-window.h"

/* The host name in a copied Host block, for the user to replace */
#define PLACEHOLDER_HOST "server.example.com"

struct _TesseraKeyRow
{
  GtkListBoxRow  parent_instance;

  /* template widgets */
  GtkImage      *status_icon;
  GtkLabel      *title_label;
  GtkLabel      *description_label;
  GtkLabel      *fingerprint_label;
  GtkLabel      *verdict_label;
  GtkWidget     *copy_button;
  GtkWidget     *menu_button;
  GtkWidget     *details_button;

  /* owned references */
  TesseraKey    *key;
  TesseraToken  *token;
  char          *title;
};

G_DEFINE_FINAL_TYPE (TesseraKeyRow, tessera_key_row, GTK_TYPE_LIST_BOX_ROW)

enum {
  PROP_0,
  PROP_KEY,
  PROP_TOKEN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
is_blank (const char *s)
{
  return s == NULL || s[0] == '\0';
}

static void
add_toast (TesseraKeyRow *self,
           const char    *text)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (TESSERA_IS_WINDOW (root))
    tessera_window_add_toast (TESSERA_WINDOW (root), adw_toast_new (text));
}

/* Names the key across token pages and re-reads for this session: the
 * token, the key's ID and the public key itself, so that a key replaced
 * under the same ID does not inherit the old key's .pub file */
static char *
dup_key_identity (TesseraKey   *key,
                  TesseraToken *token)
{
  g_autofree char *fingerprint = tessera_key_get_ssh_fingerprint (key);

  return g_strdup_printf ("%s\n%s\n%s",
                          tessera_token_get_uri (token),
                          tessera_key_get_id_hex (key) ? tessera_key_get_id_hex (key) : "",
                          fingerprint ? fingerprint : "");
}

static const char *
get_module_path (TesseraKeyRow *self)
{
  TesseraModule *module = tessera_token_get_module (self->token);

  return module != NULL ? tessera_module_get_path (module) : NULL;
}

/* Showing the key */

static void
update_status (TesseraKeyRow *self)
{
  TesseraSshVerdict verdict = tessera_key_get_ssh_verdict (self->key);
  g_autofree char *sentence = tessera_key_describe_ssh_verdict (self->key);
  const char *icon_name;
  const char *status;

  gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), "ssh-ready");
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_icon), "ssh-problem");

  switch (verdict)
    {
    case TESSERA_SSH_VERDICT_READY:
      icon_name = "emblem-ok-symbolic";
      status = _("Ready for SSH");
      gtk_widget_add_css_class (GTK_WIDGET (self->status_icon), "ssh-ready");
      break;

    case TESSERA_SSH_VERDICT_LOGIN_NEEDED:
      /* Not a problem yet: every key looks like this before login */
      icon_name = "system-lock-screen-symbolic";
      status = _("Log in to check SSH readiness");
      break;

    case TESSERA_SSH_VERDICT_NO_PUBLIC_OBJECT:
    case TESSERA_SSH_VERDICT_ID_MISMATCH:
    case TESSERA_SSH_VERDICT_NO_PRIVATE_KEY:
    case TESSERA_SSH_VERDICT_UNSUPPORTED_TYPE:
    case TESSERA_SSH_VERDICT_CANNOT_SIGN:
    case TESSERA_SSH_VERDICT_TOKEN_NOT_INITIALIZED:
    default:
      icon_name = "dialog-warning-symbolic";
      status = _("Not usable by SSH");
      gtk_widget_add_css_class (GTK_WIDGET (self->status_icon), "ssh-problem");
      break;
    }

  gtk_image_set_from_icon_name (self->status_icon, icon_name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_icon),
                               verdict == TESSERA_SSH_VERDICT_READY ? status : sentence);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->status_icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, status,
                                  -1);

  /* A ready key says so with its icon; any other says why in words */
  gtk_label_set_text (self->verdict_label, verdict == TESSERA_SSH_VERDICT_READY ? "" : sentence);
  gtk_widget_set_visible (GTK_WIDGET (self->verdict_label), verdict != TESSERA_SSH_VERDICT_READY);
}

static void
update_row (TesseraKeyRow *self)
{
  TesseraKey *key = self->key;
  const char *id = tessera_key_get_id_hex (key);
  g_autofree char *type = tessera_key_describe_type (key);
  g_autofree char *parts = tessera_key_describe_parts (key);
  g_autofree char *description = NULL;
  g_autofree char *fingerprint = tessera_key_get_ssh_fingerprint (key);
  g_autofree char *line = tessera_key_get_ssh_line (key);
  g_autofree char *copy_description = NULL;
  g_autofree char *details_label = NULL;
  GString *accessible_description;

  g_free (self->title);
  self->title = g_strdup (is_blank (tessera_key_get_label (key))
                          ? C_("key", "Unnamed key")
                          : tessera_key_get_label (key));

  if (!is_blank (id))
    /* Translators: a key's type, parts and ID, e.g.
     * "RSA 2048 · Private key, public key and certificate · ID 01" */
    description = g_strdup_printf (_("%s · %s · ID %s"), type, parts, id);
  else
    /* Translators: a key's type and parts, e.g. "ECDSA P-256 · Public key" */
    description = g_strdup_printf (_("%s · %s"), type, parts);

  gtk_label_set_text (self->title_label, self->title);
  gtk_label_set_text (self->description_label, description);
  gtk_label_set_text (self->fingerprint_label, fingerprint ? fingerprint : "");
  gtk_widget_set_visible (GTK_WIDGET (self->fingerprint_label), fingerprint != NULL);
  update_status (self);

  /* The row reads as one sentence: name, then what it is and its state */
  accessible_description = g_string_new (description);
  if (fingerprint != NULL)
    g_string_append_printf (accessible_description, "\n%s", fingerprint);
  if (gtk_widget_get_visible (GTK_WIDGET (self->verdict_label)))
    g_string_append_printf (accessible_description, "\n%s",
                            gtk_label_get_text (self->verdict_label));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, self->title,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, accessible_description->str,
                                  -1);
  g_string_free (accessible_description, TRUE);

  /* Actions */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "key.copy-ssh-key", line != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "key.save-public-key", line != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "key.copy-ssh-config",
                                 !is_blank (get_module_path (self)));

  if (line != NULL)
    {
      gtk_widget_set_tooltip_text (self->copy_button,
                                   _("Copy the public key in OpenSSH format, for authorized_keys"));
      /* Translators: accessible description of the Copy SSH Key button */
      copy_description = g_strdup_printf (_("Copies the OpenSSH public key of “%s”"), self->title);
    }
  else
    {
      /* Insensitive, but its tooltip still says why */
      copy_description = g_strdup (_("The token does not show this key’s public key, so there is no SSH key to copy"));
      gtk_widget_set_tooltip_text (self->copy_button, copy_description);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->copy_button),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, copy_description,
                                  -1);

  /* Translators: accessible label of a button, %s is a key's name */
  details_label = g_strdup_printf (_("Details of %s"), self->title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->details_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, details_label,
                                  -1);
}

/* Copy SSH Key */

static void
copy_ssh_key_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  g_autofree char *line = tessera_key_get_ssh_line (self->key);
  g_autofree char *text = NULL;

  if (line == NULL)
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), line);

  /* Translators: a notification, %s is a key's name */
  text = g_strdup_printf (_("SSH key “%s” copied"), self->title);
  add_toast (self, text);
}

/* Save Public Key… */

typedef struct
{
  GtkFileChooserNative *chooser;
  GtkWindow            *window;
  GCancellable         *cancellable;
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
  g_clear_object (&save->cancellable);
  g_clear_pointer (&save->contents, g_bytes_unref);
  g_clear_pointer (&save->identity, g_free);
  g_clear_object (&save->file);
  g_free (save);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SavePublicKey, save_public_key_free)

/* "SSH key" → "ssh-key.pub" */
static char *
suggest_file_name (const char *label)
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

  g_string_append (name, ".pub");

  return g_string_free (name, FALSE);
}

static void
on_public_key_saved (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(SavePublicKey) save = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *basename = NULL;

  if (!g_file_replace_contents_finish (G_FILE (object), result, NULL, &error))
    {
      g_autofree char *name = NULL;
      g_autofree char *body = NULL;
      GtkWidget *dialog;

      /* The window closed */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          || g_cancellable_is_cancelled (save->cancellable))
        return;

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
      return;
    }

  if (g_cancellable_is_cancelled (save->cancellable))
    return;

  if (TESSERA_IS_WINDOW (save->window))
    tessera_window_remember_public_key_file (TESSERA_WINDOW (save->window),
                                             save->identity, save->file);

  /* Short: a toast is one line, and cut short on a phone */
  basename = g_file_get_basename (save->file);
  /* Translators: a notification, %s is a file name, e.g. “ssh-key.pub” */
  text = g_strdup_printf (_("Saved “%s”"), basename);
  if (TESSERA_IS_WINDOW (save->window))
    tessera_window_add_toast (TESSERA_WINDOW (save->window), adw_toast_new (text));
}

static void
on_save_chooser_response (GtkNativeDialog *chooser,
                          int              response,
                          gpointer         user_data)
{
  g_autoptr(SavePublicKey) save = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    save->file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

  gtk_native_dialog_destroy (chooser);
  g_clear_object (&save->chooser);

  if (save->file == NULL)
    return;

  g_debug ("Saving a public key to %s", g_file_peek_path (save->file));

  g_file_replace_contents_bytes_async (save->file, save->contents, NULL, FALSE,
                                       G_FILE_CREATE_NONE, save->cancellable,
                                       on_public_key_saved, save);
  /* The operation owns it now.  Not g_steal_pointer() in the call above:
   * C leaves the order of evaluating arguments open. */
  save = NULL;
}

static void
save_public_key_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  g_autofree char *line = tessera_key_get_ssh_line (self->key);
  g_autofree char *file_name = NULL;
  g_autofree char *ssh_dir = NULL;
  GtkRoot *root = gtk_widget_get_root (widget);
  SavePublicKey *save;

  if (line == NULL || !GTK_IS_WINDOW (root))
    return;

  save = g_new0 (SavePublicKey, 1);
  save->window = g_object_ref (GTK_WINDOW (root));
  save->cancellable = TESSERA_IS_WINDOW (root)
    ? g_object_ref (tessera_window_get_cancellable (TESSERA_WINDOW (root)))
    : g_cancellable_new ();
  save->contents = g_bytes_new_take (g_strconcat (line, "\n", NULL), strlen (line) + 1);
  save->identity = dup_key_identity (self->key, self->token);

  save->chooser = gtk_file_chooser_native_new (_("Save Public Key"),
                                               GTK_WINDOW (root),
                                               GTK_FILE_CHOOSER_ACTION_SAVE,
                                               _("_Save"),
                                               _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (save->chooser), TRUE);

  file_name = suggest_file_name (tessera_key_get_label (self->key));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (save->chooser), file_name);

  /* Where OpenSSH keeps keys, when the user has it */
  ssh_dir = g_build_filename (g_get_home_dir (), ".ssh", NULL);
  if (g_file_test (ssh_dir, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GFile) folder = g_file_new_for_path (ssh_dir);

      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (save->chooser), folder, NULL);
    }

  g_signal_connect (save->chooser, "response", G_CALLBACK (on_save_chooser_response), save);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (save->chooser));
}

/* Copy SSH Config */

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

static char *
format_ssh_config (const char *host,
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

static void
copy_ssh_config_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  const char *module_path = get_module_path (self);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autofree char *identity = NULL;
  g_autofree char *config = NULL;
  GFile *identity_file = NULL;

  if (is_blank (module_path))
    return;

  identity = dup_key_identity (self->key, self->token);
  if (TESSERA_IS_WINDOW (root))
    identity_file = tessera_window_lookup_public_key_file (TESSERA_WINDOW (root), identity);

  config = format_ssh_config (PLACEHOLDER_HOST, module_path, identity_file);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), config);

  /* Translators: a notification after Copy SSH Config.  The copied Host
   * block names server.example.com, which the user replaces with their
   * server's name.  Keep it short: a toast is one line, cut short on a phone. */
  add_toast (self, _("Copied — replace the host name"));
}

/* Details and the menu */

static void
show_details_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  GtkWidget *page = gtk_widget_get_ancestor (widget, TESSERA_TYPE_TOKEN_PAGE);

  if (page != NULL)
    tessera_token_page_show_details (TESSERA_TOKEN_PAGE (page), G_OBJECT (self->key));
}

static gboolean
popup_menu (GtkWidget *widget,
            GVariant  *args,
            gpointer   user_data)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);

  gtk_menu_button_popup (GTK_MENU_BUTTON (self->menu_button));

  return TRUE;
}

/* GObject */

static void
tessera_key_row_constructed (GObject *object)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (object);

  G_OBJECT_CLASS (tessera_key_row_parent_class)->constructed (object);

  g_assert (TESSERA_IS_KEY (self->key));
  g_assert (TESSERA_IS_TOKEN (self->token));

  update_row (self);
}

static void
tessera_key_row_dispose (GObject *object)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_KEY_ROW);

  G_OBJECT_CLASS (tessera_key_row_parent_class)->dispose (object);
}

static void
tessera_key_row_finalize (GObject *object)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (object);

  g_clear_object (&self->key);
  g_clear_object (&self->token);
  g_clear_pointer (&self->title, g_free);

  G_OBJECT_CLASS (tessera_key_row_parent_class)->finalize (object);
}

static void
tessera_key_row_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (object);

  switch (prop_id)
    {
    case PROP_KEY:
      g_value_set_object (value, self->key);
      break;

    case PROP_TOKEN:
      g_value_set_object (value, self->token);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_key_row_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (object);

  switch (prop_id)
    {
    case PROP_KEY:
      self->key = g_value_dup_object (value);
      break;

    case PROP_TOKEN:
      self->token = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_key_row_class_init (TesseraKeyRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = tessera_key_row_constructed;
  object_class->dispose = tessera_key_row_dispose;
  object_class->finalize = tessera_key_row_finalize;
  object_class->get_property = tessera_key_row_get_property;
  object_class->set_property = tessera_key_row_set_property;

  properties[PROP_KEY] =
    g_param_spec_object ("key", NULL, NULL,
                         TESSERA_TYPE_KEY,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * TesseraKeyRow:token:
   *
   * The token that holds the key: its module is the PKCS11Provider.
   */
  properties[PROP_TOKEN] =
    g_param_spec_object ("token", NULL, NULL,
                         TESSERA_TYPE_TOKEN,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-key-row.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, status_icon);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, description_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, verdict_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, copy_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, details_button);

  /* The shortcuts act on the key row that has the focus */
  gtk_widget_class_install_action (widget_class, "key.copy-ssh-key", NULL, copy_ssh_key_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK,
                                       "key.copy-ssh-key", NULL);

  gtk_widget_class_install_action (widget_class, "key.save-public-key", NULL, save_public_key_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK,
                                       "key.save-public-key", NULL);

  gtk_widget_class_install_action (widget_class, "key.copy-ssh-config", NULL, copy_ssh_config_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "key.copy-ssh-config", NULL);

  gtk_widget_class_install_action (widget_class, "key.show-details", NULL, show_details_action);

  gtk_widget_class_add_binding (widget_class, GDK_KEY_F10, GDK_SHIFT_MASK, popup_menu, NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Menu, 0, popup_menu, NULL);
}

static void
tessera_key_row_init (TesseraKeyRow *self)
{
  PangoAttrList *attributes = pango_attr_list_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  /* A hyphen where the fingerprint wraps would read as part of it */
  pango_attr_list_insert (attributes, pango_attr_insert_hyphens_new (FALSE));
  gtk_label_set_attributes (self->fingerprint_label, attributes);
  pango_attr_list_unref (attributes);
}

/**
 * tessera_key_row_new:
 * @key: a #TesseraKey
 * @token: the #TesseraToken that holds it
 *
 * Returns: (transfer floating): a new row
 */
GtkWidget *
tessera_key_row_new (TesseraKey   *key,
                     TesseraToken *token)
{
  g_return_val_if_fail (TESSERA_IS_KEY (key), NULL);
  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);

  return g_object_new (TESSERA_TYPE_KEY_ROW,
                       "key", key,
                       "token", token,
                       NULL);
}

TesseraKey *
tessera_key_row_get_key (TesseraKeyRow *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY_ROW (self), NULL);

  return self->key;
}

TesseraToken *
tessera_key_row_get_token (TesseraKeyRow *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY_ROW (self), NULL);

  return self->token;
}
