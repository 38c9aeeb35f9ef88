/* tessera-token-row.c: a token in the sidebar
 *
 * Shows the token's icon, name and state ("2 PIN tries left"), and follows
 * the token as it changes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-row-title-layout.h"
#include "tessera-token-row.h"

struct _TesseraTokenRow
{
  AdwActionRow  parent_instance;

  /* template widgets */
  GtkImage     *icon;
  GtkImage     *logged_in_icon;
  GtkWidget    *set_up_button;

  /* owned references */
  TesseraToken *token;
};

G_DEFINE_FINAL_TYPE (TesseraTokenRow, tessera_token_row, ADW_TYPE_ACTION_ROW)

enum {
  PROP_0,
  PROP_TOKEN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SET_UP_FOR_SSH,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
tessera_token_row_update (TesseraTokenRow *self)
{
  const char *name = tessera_token_get_display_name (self->token);
  g_autofree char *state = tessera_token_describe_state (self->token);
  gboolean logged_in = tessera_token_get_logged_in (self->token);
  g_autoptr(GIcon) icon = tessera_token_get_icon (self->token);
  g_autofree char *set_up_label = NULL;

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), name);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), state);
  gtk_image_set_from_gicon (self->icon, icon);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->icon), tessera_token_get_kind_name (self->token));
  gtk_widget_set_visible (GTK_WIDGET (self->logged_in_icon), logged_in);
  /* A blank token: the one thing to do with it */
  gtk_widget_set_visible (self->set_up_button,
                          tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_NOT_INITIALIZED));
  /* Translators: accessible name of a button in a token's row, %s is the token */
  set_up_label = g_strdup_printf (_("Set Up “%s” for SSH…"), name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->set_up_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, set_up_label,
                                  -1);

  /* The row is labelled by its title; the state describes it */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, state,
                                  -1);
}

static void
on_set_up_button_clicked (TesseraTokenRow *self)
{
  g_signal_emit (self, signals[SET_UP_FOR_SSH], 0);
}

static void
on_token_notify (TesseraToken    *token,
                 GParamSpec      *pspec,
                 TesseraTokenRow *self)
{
  tessera_token_row_update (self);
}

static void
tessera_token_row_constructed (GObject *object)
{
  TesseraTokenRow *self = TESSERA_TOKEN_ROW (object);

  G_OBJECT_CLASS (tessera_token_row_parent_class)->constructed (object);

  g_assert (TESSERA_IS_TOKEN (self->token));

  g_signal_connect_object (self->token, "notify::label",
                           G_CALLBACK (on_token_notify), self, 0);
  g_signal_connect_object (self->token, "notify::state",
                           G_CALLBACK (on_token_notify), self, 0);
  g_signal_connect_object (self->token, "notify::logged-in",
                           G_CALLBACK (on_token_notify), self, 0);

  tessera_token_row_update (self);
}

static void
tessera_token_row_dispose (GObject *object)
{
  TesseraTokenRow *self = TESSERA_TOKEN_ROW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_TOKEN_ROW);
  g_clear_object (&self->token);

  G_OBJECT_CLASS (tessera_token_row_parent_class)->dispose (object);
}

static void
tessera_token_row_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  TesseraTokenRow *self = TESSERA_TOKEN_ROW (object);

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
tessera_token_row_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  TesseraTokenRow *self = TESSERA_TOKEN_ROW (object);

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
tessera_token_row_class_init (TesseraTokenRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = tessera_token_row_constructed;
  object_class->dispose = tessera_token_row_dispose;
  object_class->get_property = tessera_token_row_get_property;
  object_class->set_property = tessera_token_row_set_property;

  properties[PROP_TOKEN] =
    g_param_spec_object ("token", NULL, NULL,
                         TESSERA_TYPE_TOKEN,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TesseraTokenRow::set-up-for-ssh:
   * @self: the row
   *
   * Asks to open the Set Up for SSH assistant for the row's token.
   */
  signals[SET_UP_FOR_SSH] =
    g_signal_new ("set-up-for-ssh",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-token-row.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenRow, icon);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenRow, logged_in_icon);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenRow, set_up_button);
  gtk_widget_class_bind_template_callback (widget_class, on_set_up_button_clicked);
}

static void
tessera_token_row_init (TesseraTokenRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* The sidebar's rows wrap too (tessera-row-title-layout.c) */
  tessera_row_title_layout_install (ADW_ACTION_ROW (self));
}

GtkWidget *
tessera_token_row_new (TesseraToken *token)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);

  return g_object_new (TESSERA_TYPE_TOKEN_ROW,
                       "token", token,
                       NULL);
}

TesseraToken *
tessera_token_row_get_token (TesseraTokenRow *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN_ROW (self), NULL);

  return self->token;
}
