/* tessera-lifecycle-group.c: a token's PINs and initialization on its page
 *
 * One sits on a token page, one on its Token Details.  The "status" one, on
 * the page, appears only when
 * the token asks for new PINs (opencryptoki's defaults, for example) or its
 * PIN is locked, and leads to the fix; the other one offers the PIN
 * operations and Initialize.  The page's login row offers Initialize for a
 * blank token.  The buttons run the page's token.*
 * actions.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-lifecycle-group.h"
#include "tessera-token-page.h"

struct _TesseraLifecycleGroup
{
  AdwPreferencesGroup  parent_instance;

  /* widgets made in code */
  GtkWidget           *to_be_changed_row;
  GtkWidget           *change_so_pin_now_row;
  GtkWidget           *change_pin_now_row;
  GtkWidget           *unblock_now_row;
  GtkWidget           *change_pin_row;
  GtkWidget           *change_so_pin_row;
  GtkWidget           *initialize_row;

  /* owned references */
  TesseraToken        *token;

  guint                status : 1;
};

G_DEFINE_FINAL_TYPE (TesseraLifecycleGroup, tessera_lifecycle_group, ADW_TYPE_PREFERENCES_GROUP)

enum {
  PROP_0,
  PROP_STATUS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GtkWidget *
add_button (GtkWidget  *row,
            const char *label,
            const char *action,
            const char *css_class,
            gboolean    activatable)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  if (css_class != NULL)
    gtk_widget_add_css_class (button, css_class);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  if (activatable)
    {
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), button);
      /* Keep the button's own name, not the row's title */
      gtk_accessible_reset_relation (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_RELATION_LABELLED_BY);
    }

  return button;
}

static GtkWidget *
add_row (TesseraLifecycleGroup *self,
         const char            *icon_name,
         const char            *title,
         const char            *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle,
                                      -1);
    }
  if (icon_name != NULL)
    adw_action_row_set_icon_name (ADW_ACTION_ROW (row), icon_name);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), row);

  return row;
}

static void
build_status (TesseraLifecycleGroup *self)
{
  self->to_be_changed_row =
    add_row (self, "dialog-warning-symbolic",
             _("This token asks for new PINs"),
             _("Its PINs are the ones it came with, which others may know. "
               "Change them before you put keys on it."));
  /* One row per PIN: two buttons beside the text leave it no room in a
   * narrow window */
  self->change_so_pin_now_row =
    add_row (self, NULL, _("SO PIN"), _("Still the SO PIN the token came with"));
  add_button (self->change_so_pin_now_row, _("Change _SO PIN…"), "token.change-so-pin",
              "suggested-action", TRUE);
  self->change_pin_now_row =
    add_row (self, NULL, _("User PIN"), _("Still the PIN the token came with"));
  add_button (self->change_pin_now_row, _("Change _PIN…"), "token.change-pin",
              "suggested-action", TRUE);

  self->unblock_now_row =
    add_row (self, NULL, _("Locked PIN"), _("The SO PIN unblocks it and sets a new one"));
  add_button (self->unblock_now_row, _("_Unblock PIN…"), "token.unblock-pin",
              "suggested-action", TRUE);
}

static void
build_actions (TesseraLifecycleGroup *self)
{
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self), _("PINs and Initialization"));

  self->change_pin_row =
    add_row (self, NULL, _("User PIN"), _("Unlocks the keys on the token"));
  add_button (self->change_pin_row, _("Change _PIN…"), "token.change-pin", NULL, TRUE);

  self->change_so_pin_row =
    add_row (self, NULL, _("SO PIN"),
             _("The Security Officer PIN unblocks the user PIN and allows initialization"));
  add_button (self->change_so_pin_row, _("Change _SO PIN…"), "token.change-so-pin", NULL, TRUE);

  self->initialize_row =
    add_row (self, NULL, _("Initialization"),
             _("Erases every key and certificate, and sets a new label and PINs"));
  add_button (self->initialize_row, _("_Initialize Token…"), "token.initialize",
              "destructive-action", TRUE);
}

static void
update (TesseraLifecycleGroup *self)
{
  TesseraToken *token = self->token;
  gboolean blank, so_change, user_change, user_locked;

  if (token == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
      return;
    }

  blank = tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED);
  so_change = !blank && tessera_token_has_state (token, TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED);
  user_change = !blank && tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED);
  user_locked = !blank && tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_LOCKED);

  if (self->status)
    {
      gtk_widget_set_visible (self->to_be_changed_row, so_change || user_change);
      gtk_widget_set_visible (self->change_so_pin_now_row, so_change);
      gtk_widget_set_visible (self->change_pin_now_row, user_change);
      gtk_widget_set_visible (self->unblock_now_row, user_locked);
      gtk_widget_set_visible (GTK_WIDGET (self), so_change || user_change || user_locked);
    }
  else
    {
      /* A blank token has no PINs yet: the login row offers Initialize */
      gtk_widget_set_visible (GTK_WIDGET (self), !blank);
    }
}

static void
on_token_state_changed (TesseraToken          *token,
                        GParamSpec            *pspec,
                        TesseraLifecycleGroup *self)
{
  update (self);
}

void
tessera_lifecycle_group_set_token (TesseraLifecycleGroup *self,
                                   TesseraToken          *token)
{
  g_return_if_fail (TESSERA_IS_LIFECYCLE_GROUP (self));
  g_return_if_fail (!token || TESSERA_IS_TOKEN (token));

  if (self->token != NULL)
    g_signal_handlers_disconnect_by_func (self->token, on_token_state_changed, self);
  g_set_object (&self->token, token);
  if (token != NULL)
    g_signal_connect_object (token, "notify::state",
                             G_CALLBACK (on_token_state_changed), self, 0);

  update (self);
}

/* The group shows its page's token, which the page has by the time the
 * page joins a window */
static void
tessera_lifecycle_group_root (GtkWidget *widget)
{
  TesseraLifecycleGroup *self = TESSERA_LIFECYCLE_GROUP (widget);
  GtkWidget *page;

  GTK_WIDGET_CLASS (tessera_lifecycle_group_parent_class)->root (widget);

  page = gtk_widget_get_ancestor (widget, TESSERA_TYPE_TOKEN_PAGE);
  if (page != NULL && self->token == NULL)
    tessera_lifecycle_group_set_token (self, tessera_token_page_get_token (TESSERA_TOKEN_PAGE (page)));
}

static void
tessera_lifecycle_group_constructed (GObject *object)
{
  TesseraLifecycleGroup *self = TESSERA_LIFECYCLE_GROUP (object);

  G_OBJECT_CLASS (tessera_lifecycle_group_parent_class)->constructed (object);

  if (self->status)
    build_status (self);
  else
    build_actions (self);

  update (self);
}

static void
tessera_lifecycle_group_finalize (GObject *object)
{
  TesseraLifecycleGroup *self = TESSERA_LIFECYCLE_GROUP (object);

  g_clear_object (&self->token);

  G_OBJECT_CLASS (tessera_lifecycle_group_parent_class)->finalize (object);
}

static void
tessera_lifecycle_group_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  TesseraLifecycleGroup *self = TESSERA_LIFECYCLE_GROUP (object);

  switch (prop_id)
    {
    case PROP_STATUS:
      g_value_set_boolean (value, self->status);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_lifecycle_group_set_property (GObject      *object,
                                      guint         prop_id,
                                      const GValue *value,
                                      GParamSpec   *pspec)
{
  TesseraLifecycleGroup *self = TESSERA_LIFECYCLE_GROUP (object);

  switch (prop_id)
    {
    case PROP_STATUS:
      self->status = g_value_get_boolean (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_lifecycle_group_class_init (TesseraLifecycleGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = tessera_lifecycle_group_constructed;
  object_class->finalize = tessera_lifecycle_group_finalize;
  object_class->get_property = tessera_lifecycle_group_get_property;
  object_class->set_property = tessera_lifecycle_group_set_property;

  widget_class->root = tessera_lifecycle_group_root;

  /**
   * TesseraLifecycleGroup:status:
   *
   * Whether this is the group that says what the token needs first,
   * rather than the one that lists the PIN operations.
   */
  properties[PROP_STATUS] =
    g_param_spec_boolean ("status", NULL, NULL, FALSE,
                          (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tessera_lifecycle_group_init (TesseraLifecycleGroup *self)
{
}
