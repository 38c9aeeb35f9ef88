/* tessera-key-details.c: every object of a key, with all its attributes
 *
 * The token page speaks of keys; this page shows what a key is made of on
 * the token: its private key, public key and certificate objects, each with
 * the attributes Tessera reads.  It shows a single object too, for
 * certificates and other objects that belong to no key.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-key-details.h"
#include "tessera-property-row.h"
#include "tessera-toast.h"

struct _TesseraKeyDetails
{
  AdwPreferencesPage   parent_instance;

  /* template widgets */
  AdwPreferencesGroup *key_group;
  TesseraPropertyRow  *key_label_row;
  TesseraPropertyRow  *key_type_row;
  TesseraPropertyRow  *key_parts_row;
  TesseraPropertyRow  *key_id_row;
  AdwPreferencesGroup *problem_group;
  AdwPreferencesGroup *ssh_group;
  TesseraPropertyRow  *ssh_verdict_row;
  GtkWidget           *ssh_line_row;
  GtkLabel            *ssh_line_label;
  GtkWidget           *ssh_line_copy_button;
  TesseraPropertyRow  *ssh_fingerprint_row;

  /* widgets made in code */
  GtkWidget           *problem_row;

  /* owned references */
  GObject             *item;
  TesseraProblem      *problem;
  char                *title;
};

G_DEFINE_FINAL_TYPE (TesseraKeyDetails, tessera_key_details, ADW_TYPE_PREFERENCES_PAGE)

enum {
  PROP_0,
  PROP_ITEM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  FIX_PROBLEM,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
is_blank (const char *s)
{
  return s == NULL || s[0] == '\0';
}

static const char *
yes_no (gboolean value)
{
  return value ? C_("attribute value", "Yes") : C_("attribute value", "No");
}

static TesseraPropertyRow *
add_row (AdwPreferencesGroup *group,
         const char          *title,
         const char          *value)
{
  GtkWidget *row = tessera_property_row_new (title, value);

  adw_preferences_group_add (group, row);

  return TESSERA_PROPERTY_ROW (row);
}

static void
add_date_row (AdwPreferencesGroup *group,
              const char          *title,
              GDateTime           *date_time)
{
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *text = NULL;

  if (date_time != NULL)
    {
      local = g_date_time_to_local (date_time);
      /* ISO 8601 in the details, in local time with its offset */
      text = g_date_time_format (local, "%Y-%m-%d %H:%M:%S %z");
    }

  add_row (group, title, text);
}

static void
add_key_attribute_rows (AdwPreferencesGroup *group,
                        TesseraObject       *object)
{
  TesseraObjectKind kind = tessera_object_get_kind (object);
  g_autofree char *key_type = tessera_object_describe_key_type (object);
  g_autofree char *usage = tessera_object_describe_usage (object);

  add_row (group, C_("object attribute", "Key type"), key_type);
  add_row (group, C_("object attribute", "Allowed uses"), usage);

  if (kind == TESSERA_OBJECT_KIND_PRIVATE_KEY || kind == TESSERA_OBJECT_KIND_SECRET_KEY)
    {
      add_row (group, C_("object attribute", "Sensitive"),
               yes_no (tessera_object_get_sensitive (object)));
      add_row (group, C_("object attribute", "Extractable"),
               yes_no (tessera_object_get_extractable (object)));
      add_row (group, C_("object attribute", "PIN for every use"),
               yes_no (tessera_object_get_always_authenticate (object)));
      add_row (group, C_("object attribute", "Generated on the token"),
               yes_no (tessera_object_get_local (object)));
    }
}

static void
add_certificate_rows (AdwPreferencesGroup *group,
                      TesseraObject       *object)
{
  const GError *parse_error = tessera_object_get_parse_error (object);
  const char *usage;
  TesseraPropertyRow *row;

  if (parse_error != NULL)
    {
      row = add_row (group, C_("certificate attribute", "Problem"), parse_error->message);
      adw_action_row_set_icon_name (ADW_ACTION_ROW (row), "dialog-warning-symbolic");
    }

  row = add_row (group, C_("certificate attribute", "Subject"),
                 tessera_object_get_subject (object));
  tessera_property_row_set_copyable (row, tessera_object_get_subject (object) != NULL);
  row = add_row (group, C_("certificate attribute", "Issuer"),
                 tessera_object_get_issuer (object));
  tessera_property_row_set_copyable (row, tessera_object_get_issuer (object) != NULL);
  row = add_row (group, C_("certificate attribute", "Serial number"),
                 tessera_object_get_serial (object));
  tessera_property_row_set_copyable (row, tessera_object_get_serial (object) != NULL);
  add_date_row (group, C_("certificate attribute", "Valid from"),
                tessera_object_get_not_before (object));
  add_date_row (group, C_("certificate attribute", "Valid until"),
                tessera_object_get_not_after (object));

  usage = tessera_object_get_certificate_usage (object);
  /* A certificate without the key usage extension limits nothing */
  add_row (group, C_("certificate attribute", "Key usage"),
           !is_blank (usage) ? usage : C_("certificate key usage", "None"));

  row = add_row (group, C_("certificate attribute", "SHA-1 fingerprint"),
                 tessera_object_get_fingerprint_sha1 (object));
  tessera_property_row_set_copyable (row, tessera_object_get_fingerprint_sha1 (object) != NULL);
  row = add_row (group, C_("certificate attribute", "SHA-256 fingerprint"),
                 tessera_object_get_fingerprint_sha256 (object));
  tessera_property_row_set_copyable (row, tessera_object_get_fingerprint_sha256 (object) != NULL);
}

static void
add_object_group (TesseraKeyDetails *self,
                  TesseraObject     *object,
                  const char        *title)
{
  AdwPreferencesGroup *group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  TesseraObjectKind kind = tessera_object_get_kind (object);
  TesseraPropertyRow *row;

  adw_preferences_group_set_title (group, title);

  add_row (group, C_("object attribute", "Label"), tessera_object_get_display_label (object));
  add_row (group, C_("object attribute", "Kind"), tessera_object_get_kind_name (object));
  add_row (group, C_("object attribute", "ID"), tessera_object_get_id_hex (object));

  switch (kind)
    {
    case TESSERA_OBJECT_KIND_PRIVATE_KEY:
    case TESSERA_OBJECT_KIND_PUBLIC_KEY:
    case TESSERA_OBJECT_KIND_SECRET_KEY:
      add_key_attribute_rows (group, object);
      break;

    case TESSERA_OBJECT_KIND_CERTIFICATE:
      add_certificate_rows (group, object);
      break;

    case TESSERA_OBJECT_KIND_DATA:
      add_row (group, C_("object attribute", "Application"),
               tessera_object_get_application (object));
      break;

    case TESSERA_OBJECT_KIND_OTHER:
    default:
      break;
    }

  add_row (group, C_("object attribute", "Needs login"),
           yes_no (tessera_object_get_private (object)));
  add_row (group, C_("object attribute", "Modifiable"),
           yes_no (tessera_object_get_modifiable (object)));

  row = add_row (group, C_("object attribute", "URI"), tessera_object_get_uri (object));
  tessera_property_row_set_copyable (row, TRUE);

  adw_preferences_page_add (ADW_PREFERENCES_PAGE (self), group);
}

static void
on_ssh_line_copy_clicked (TesseraKeyDetails *self)
{
  const char *line = gtk_label_get_text (self->ssh_line_label);
  g_autofree char *text = NULL;

  if (line == NULL || line[0] == '\0')
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), line);

  /* Translators: a notification, %s is a key's name */
  text = g_strdup_printf (_("SSH key “%s” copied"), self->title);
  tessera_toast_show (GTK_WIDGET (self), text);
}

static void
build_ssh_group (TesseraKeyDetails *self,
                 TesseraKey        *key)
{
  g_autofree char *sentence = tessera_key_describe_ssh_verdict (key);
  g_autofree char *line = tessera_key_get_ssh_line (key);
  g_autofree char *fingerprint = tessera_key_get_ssh_fingerprint (key);
  TesseraSshVerdict verdict = tessera_key_get_ssh_verdict (key);

  tessera_property_row_set_value (self->ssh_verdict_row, sentence);
  if (verdict == TESSERA_SSH_VERDICT_READY)
    {
      adw_action_row_set_icon_name (ADW_ACTION_ROW (self->ssh_verdict_row), "emblem-ok-symbolic");
      gtk_widget_add_css_class (GTK_WIDGET (self->ssh_verdict_row), "ssh-ready");
    }
  else if (verdict == TESSERA_SSH_VERDICT_LOGIN_NEEDED)
    {
      adw_action_row_set_icon_name (ADW_ACTION_ROW (self->ssh_verdict_row), "system-lock-screen-symbolic");
    }
  else
    {
      adw_action_row_set_icon_name (ADW_ACTION_ROW (self->ssh_verdict_row), "dialog-warning-symbolic");
      gtk_widget_add_css_class (GTK_WIDGET (self->ssh_verdict_row), "ssh-problem");
    }

  gtk_widget_set_visible (self->ssh_line_row, line != NULL);
  gtk_label_set_text (self->ssh_line_label, line ? line : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->ssh_line_row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("OpenSSH public key"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, line ? line : "",
                                  -1);

  tessera_property_row_set_value (self->ssh_fingerprint_row, fingerprint);
  tessera_property_row_set_copyable (self->ssh_fingerprint_row, fingerprint != NULL);
}

static void
build_for_key (TesseraKeyDetails *self,
               TesseraKey        *key)
{
  g_autofree char *type = tessera_key_describe_type (key);
  g_autofree char *parts = tessera_key_describe_parts (key);
  TesseraObject *object;

  self->title = g_strdup (is_blank (tessera_key_get_display_label (key))
                          ? C_("key", "Unnamed key")
                          : tessera_key_get_display_label (key));

  tessera_property_row_set_value (self->key_label_row, tessera_key_get_display_label (key));
  tessera_property_row_set_value (self->key_type_row, type);
  tessera_property_row_set_value (self->key_parts_row, parts);
  tessera_property_row_set_value (self->key_id_row, tessera_key_get_id_hex (key));
  build_ssh_group (self, key);

  if ((object = tessera_key_get_private_key (key)) != NULL)
    add_object_group (self, object, _("Private Key"));
  if ((object = tessera_key_get_public_key (key)) != NULL)
    add_object_group (self, object, _("Public Key"));
  if ((object = tessera_key_get_certificate (key)) != NULL)
    add_object_group (self, object, _("Certificate"));
}

static void
build_for_object (TesseraKeyDetails *self,
                  TesseraObject     *object)
{
  const char *label = tessera_object_get_display_label (object);
  const char *kind = tessera_object_get_kind_name (object);

  gtk_widget_set_visible (GTK_WIDGET (self->key_group), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->ssh_group), FALSE);

  if (!is_blank (label))
    self->title = g_strdup (label);
  else if (tessera_object_get_kind (object) == TESSERA_OBJECT_KIND_CERTIFICATE
           && !is_blank (tessera_object_get_subject (object)))
    self->title = g_strdup (tessera_object_get_subject (object));
  else
    self->title = g_strdup (kind);

  add_object_group (self, object, kind);
}

static void
tessera_key_details_constructed (GObject *object)
{
  TesseraKeyDetails *self = TESSERA_KEY_DETAILS (object);

  G_OBJECT_CLASS (tessera_key_details_parent_class)->constructed (object);

  if (TESSERA_IS_KEY (self->item))
    build_for_key (self, TESSERA_KEY (self->item));
  else if (TESSERA_IS_OBJECT (self->item))
    build_for_object (self, TESSERA_OBJECT (self->item));
  else
    g_critical ("TesseraKeyDetails needs a TesseraKey or a TesseraObject");

  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (self), self->title);
}

static void
tessera_key_details_dispose (GObject *object)
{
  TesseraKeyDetails *self = TESSERA_KEY_DETAILS (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_KEY_DETAILS);
  g_clear_object (&self->item);
  g_clear_object (&self->problem);

  G_OBJECT_CLASS (tessera_key_details_parent_class)->dispose (object);
}

static void
tessera_key_details_finalize (GObject *object)
{
  TesseraKeyDetails *self = TESSERA_KEY_DETAILS (object);

  g_clear_pointer (&self->title, g_free);

  G_OBJECT_CLASS (tessera_key_details_parent_class)->finalize (object);
}

static void
tessera_key_details_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  TesseraKeyDetails *self = TESSERA_KEY_DETAILS (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      g_value_set_object (value, self->item);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_key_details_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  TesseraKeyDetails *self = TESSERA_KEY_DETAILS (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      self->item = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_key_details_class_init (TesseraKeyDetailsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = tessera_key_details_constructed;
  object_class->dispose = tessera_key_details_dispose;
  object_class->finalize = tessera_key_details_finalize;
  object_class->get_property = tessera_key_details_get_property;
  object_class->set_property = tessera_key_details_set_property;

  /**
   * TesseraKeyDetails:item:
   *
   * The #TesseraKey or #TesseraObject shown.
   */
  properties[PROP_ITEM] =
    g_param_spec_object ("item", NULL, NULL,
                         G_TYPE_OBJECT,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TesseraKeyDetails::fix-problem:
   * @self: the details
   * @problem: the #TesseraProblem shown
   *
   * Asks to repair the problem the details show.
   */
  signals[FIX_PROBLEM] =
    g_signal_new ("fix-problem",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, TESSERA_TYPE_PROBLEM);

  g_type_ensure (TESSERA_TYPE_PROPERTY_ROW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-key-details.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyDetails, key_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyDetails, key_label_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyDetails, key_type_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyDetails, key_parts_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyDetails, key_id_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyDetails, problem_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyDetails, ssh_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyDetails, ssh_verdict_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyDetails, ssh_line_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyDetails, ssh_line_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyDetails, ssh_line_copy_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyDetails, ssh_fingerprint_row);
  gtk_widget_class_bind_template_callback (widget_class, on_ssh_line_copy_clicked);
}

static void
tessera_key_details_init (TesseraKeyDetails *self)
{
  PangoAttrList *attributes = pango_attr_list_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  /* A hyphen where the line wraps would read as part of the key */
  pango_attr_list_insert (attributes, pango_attr_insert_hyphens_new (FALSE));
  gtk_label_set_attributes (self->ssh_line_label, attributes);
  pango_attr_list_unref (attributes);
}

/**
 * tessera_key_details_new:
 * @item: a #TesseraKey or a #TesseraObject
 *
 * Returns: (transfer floating): a new page
 */
GtkWidget *
tessera_key_details_new (GObject *item)
{
  g_return_val_if_fail (TESSERA_IS_KEY (item) || TESSERA_IS_OBJECT (item), NULL);

  return g_object_new (TESSERA_TYPE_KEY_DETAILS,
                       "item", item,
                       NULL);
}

GObject *
tessera_key_details_get_item (TesseraKeyDetails *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY_DETAILS (self), NULL);

  return self->item;
}

const char *
tessera_key_details_get_title (TesseraKeyDetails *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY_DETAILS (self), NULL);

  return self->title;
}

static void
on_fix_clicked (GtkButton         *button,
                TesseraKeyDetails *self)
{
  if (self->problem != NULL)
    g_signal_emit (self, signals[FIX_PROBLEM], 0, self->problem);
}

/**
 * tessera_key_details_set_problem:
 * @self: a #TesseraKeyDetails of a key
 * @problem: (nullable): what the token's doctor found wrong with the key
 *
 * Shows the problem above the SSH group, with its fix when it has one:
 * the key row says it in one line, the details in full.
 */
void
tessera_key_details_set_problem (TesseraKeyDetails *self,
                                 TesseraProblem    *problem)
{
  const char *fix;
  GtkWidget *button;

  g_return_if_fail (TESSERA_IS_KEY_DETAILS (self));
  g_return_if_fail (problem == NULL || TESSERA_IS_PROBLEM (problem));

  if (!g_set_object (&self->problem, problem))
    return;

  if (self->problem_row != NULL)
    {
      adw_preferences_group_remove (self->problem_group, self->problem_row);
      self->problem_row = NULL;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->problem_group), problem != NULL);
  if (problem == NULL)
    return;

  fix = tessera_problem_get_fixable (problem) ? tessera_problem_get_fix_description (problem) : NULL;
  self->problem_row = adw_action_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (self->problem_row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->problem_row),
                                 tessera_problem_get_title (problem));
  adw_action_row_set_title_lines (ADW_ACTION_ROW (self->problem_row), 0);
  adw_action_row_set_icon_name (ADW_ACTION_ROW (self->problem_row), "dialog-warning-symbolic");
  gtk_widget_add_css_class (self->problem_row, "ssh-problem");
  if (fix != NULL)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->problem_row), fix);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->problem_row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, fix,
                                      -1);

      button = gtk_button_new_with_mnemonic (_("_Fix"));
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, fix,
                                      -1);
      g_signal_connect (button, "clicked", G_CALLBACK (on_fix_clicked), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (self->problem_row), button);
    }

  adw_preferences_group_add (self->problem_group, self->problem_row);
}
