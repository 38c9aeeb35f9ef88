/* tessera-token-details.c: what a token is, apart from its keys
 *
 * The token page answers "which keys, ready for SSH, in the agent?" and
 * shows only the token states that ask for something to be done.  This
 * page, opened from the page's Token Details row as Seahorse and Yubico
 * Authenticator separate a device from its keys, holds the rest: every
 * state flag the token reports, in words, and what the token says of
 * itself (maker, model, serial number, PIN lengths, its module and URI),
 * and the PIN operations (change, unblock, initialize again).  It follows
 * the token while it is shown.  The PIN operations are the token page's
 * token.* actions: this page passes them on to the page it came from.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-token-details.h"
#include "tessera-lifecycle-group.h"
#include "tessera-property-row.h"

struct _TesseraTokenDetails
{
  AdwPreferencesPage   parent_instance;

  /* template widgets */
  AdwPreferencesGroup *state_group;
  TesseraLifecycleGroup *lifecycle_group;
  TesseraPropertyRow  *label_row;
  TesseraPropertyRow  *kind_row;
  GtkImage            *kind_icon;
  TesseraPropertyRow  *manufacturer_row;
  TesseraPropertyRow  *model_row;
  TesseraPropertyRow  *serial_row;
  TesseraPropertyRow  *hardware_version_row;
  TesseraPropertyRow  *firmware_version_row;
  TesseraPropertyRow  *pin_length_row;
  TesseraPropertyRow  *module_row;
  TesseraPropertyRow  *module_path_row;
  TesseraPropertyRow  *uri_row;

  /* widgets made in code */
  GPtrArray           *state_rows;

  /* owned references */
  TesseraToken        *token;
  GWeakRef             page;     /* the TesseraTokenPage that opened it */
};

G_DEFINE_FINAL_TYPE (TesseraTokenDetails, tessera_token_details, ADW_TYPE_PREFERENCES_PAGE)

enum {
  PROP_0,
  PROP_TOKEN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static char *
describe_pin_length (TesseraToken *token)
{
  guint min = tessera_token_get_min_pin_length (token);
  guint max = tessera_token_get_max_pin_length (token);

  if (min == 0 && max == 0)
    return NULL;

  if (min == max)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u character", "%u characters", max), max);

  if (max == 0 || max == G_MAXUINT)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "At least %u character",
                                         "At least %u characters", min), min);

  /* Translators: a range of PIN lengths, e.g. "4–8 characters" */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u–%u character", "%u–%u characters", max),
                          min, max);
}

static void
update_state_rows (TesseraTokenDetails *self)
{
  g_auto(GStrv) descriptions = tessera_token_list_state_descriptions (self->token);

  for (guint i = 0; i < self->state_rows->len; i++)
    adw_preferences_group_remove (self->state_group, g_ptr_array_index (self->state_rows, i));
  g_ptr_array_set_size (self->state_rows, 0);

  for (guint i = 0; descriptions != NULL && descriptions[i] != NULL; i++)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), descriptions[i]);
      adw_preferences_group_add (self->state_group, row);
      g_ptr_array_add (self->state_rows, row);
    }

  gtk_widget_set_visible (GTK_WIDGET (self->state_group), self->state_rows->len > 0);
}

static void
update_info (TesseraTokenDetails *self)
{
  TesseraToken *token = self->token;
  TesseraModule *module = tessera_token_get_module (token);
  g_autofree char *pin_length = describe_pin_length (token);
  g_autoptr(GIcon) icon = tessera_token_get_icon (token);

  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (self), tessera_token_get_display_name (token));
  tessera_property_row_set_value (self->label_row, tessera_token_get_label (token));
  tessera_property_row_set_value (self->kind_row, tessera_token_get_kind_name (token));
  gtk_image_set_from_gicon (self->kind_icon, icon);
  tessera_property_row_set_value (self->manufacturer_row, tessera_token_get_manufacturer (token));
  tessera_property_row_set_value (self->model_row, tessera_token_get_model (token));
  tessera_property_row_set_value (self->serial_row, tessera_token_get_serial (token));
  tessera_property_row_set_value (self->hardware_version_row,
                                  tessera_token_get_hardware_version (token));
  tessera_property_row_set_value (self->firmware_version_row,
                                  tessera_token_get_firmware_version (token));
  tessera_property_row_set_value (self->pin_length_row, pin_length);
  tessera_property_row_set_value (self->module_row,
                                  module ? tessera_module_get_display_name (module) : NULL);
  tessera_property_row_set_value (self->module_path_row,
                                  module ? tessera_module_get_path (module) : NULL);
  tessera_property_row_set_value (self->uri_row, tessera_token_get_uri (token));
}

static void
on_token_notify (TesseraToken        *token,
                 GParamSpec          *pspec,
                 TesseraTokenDetails *self)
{
  update_state_rows (self);
  update_info (self);
}

/* GObject */

static void
tessera_token_details_constructed (GObject *object)
{
  TesseraTokenDetails *self = TESSERA_TOKEN_DETAILS (object);

  G_OBJECT_CLASS (tessera_token_details_parent_class)->constructed (object);

  g_signal_connect_object (self->token, "notify::state", G_CALLBACK (on_token_notify), self, 0);
  g_signal_connect_object (self->token, "notify::label", G_CALLBACK (on_token_notify), self, 0);
  g_signal_connect_object (self->token, "notify::logged-in", G_CALLBACK (on_token_notify), self, 0);
  update_state_rows (self);
  update_info (self);
  tessera_lifecycle_group_set_token (self->lifecycle_group, self->token);
}

/* token.change-pin and the others: the token page's */
static void
forward_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  TesseraTokenDetails *self = TESSERA_TOKEN_DETAILS (widget);
  g_autoptr(GtkWidget) page = g_weak_ref_get (&self->page);

  if (page != NULL)
    gtk_widget_activate_action_variant (page, action_name, parameter);
}

static void
tessera_token_details_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), TESSERA_TYPE_TOKEN_DETAILS);

  G_OBJECT_CLASS (tessera_token_details_parent_class)->dispose (object);
}

static void
tessera_token_details_finalize (GObject *object)
{
  TesseraTokenDetails *self = TESSERA_TOKEN_DETAILS (object);

  g_clear_pointer (&self->state_rows, g_ptr_array_unref);
  g_clear_object (&self->token);
  g_weak_ref_clear (&self->page);

  G_OBJECT_CLASS (tessera_token_details_parent_class)->finalize (object);
}

static void
tessera_token_details_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  TesseraTokenDetails *self = TESSERA_TOKEN_DETAILS (object);

  switch (prop_id)
    {
    case PROP_TOKEN:
      g_value_set_object (value, self->token);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_token_details_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  TesseraTokenDetails *self = TESSERA_TOKEN_DETAILS (object);

  switch (prop_id)
    {
    case PROP_TOKEN:
      self->token = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_token_details_class_init (TesseraTokenDetailsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = tessera_token_details_constructed;
  object_class->dispose = tessera_token_details_dispose;
  object_class->finalize = tessera_token_details_finalize;
  object_class->get_property = tessera_token_details_get_property;
  object_class->set_property = tessera_token_details_set_property;

  properties[PROP_TOKEN] =
    g_param_spec_object ("token", NULL, NULL, TESSERA_TYPE_TOKEN,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (TESSERA_TYPE_PROPERTY_ROW);
  g_type_ensure (TESSERA_TYPE_LIFECYCLE_GROUP);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-token-details.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, state_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, lifecycle_group);

  gtk_widget_class_install_action (widget_class, "token.initialize", NULL, forward_action);
  gtk_widget_class_install_action (widget_class, "token.change-pin", NULL, forward_action);
  gtk_widget_class_install_action (widget_class, "token.change-so-pin", NULL, forward_action);
  gtk_widget_class_install_action (widget_class, "token.unblock-pin", NULL, forward_action);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, label_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, kind_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, kind_icon);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, manufacturer_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, model_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, serial_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, hardware_version_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, firmware_version_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, pin_length_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, module_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, module_path_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenDetails, uri_row);
}

static void
tessera_token_details_init (TesseraTokenDetails *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->state_rows = g_ptr_array_new ();

  tessera_property_row_set_copyable (self->module_path_row, TRUE);
  tessera_property_row_set_copyable (self->uri_row, TRUE);
}

/**
 * tessera_token_details_new:
 * @token: the token to describe
 * @page: the #TesseraTokenPage of @token, which runs its PIN operations
 *
 * Returns: (transfer floating): a page of what @token is and reports
 */
GtkWidget *
tessera_token_details_new (TesseraToken *token,
                           GtkWidget    *page)
{
  TesseraTokenDetails *self;

  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);
  g_return_val_if_fail (GTK_IS_WIDGET (page), NULL);

  self = g_object_new (TESSERA_TYPE_TOKEN_DETAILS, "token", token, NULL);
  g_weak_ref_set (&self->page, page);
  return GTK_WIDGET (self);
}

TesseraToken *
tessera_token_details_get_token (TesseraTokenDetails *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN_DETAILS (self), NULL);

  return self->token;
}
