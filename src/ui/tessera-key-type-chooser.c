/* tessera-key-type-chooser.c: the kinds of key a token can make, one to choose
 *
 * Generate Key… and the Set Up assistant both ask which kind of key to
 * make.  The chooser lists what the token offers as check rows named
 * "RSA 3072", "ECDSA P-256"…, chooses the one the core recommends, and
 * says so.  Kinds that do not serve SSH (see tessera_key_spec_check_ssh())
 * are either left out, or offered with a warning that says why: a person
 * may want such a key for a newer OpenSSH elsewhere.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-key-type-chooser.h"

struct _TesseraKeyTypeChooser
{
  AdwPreferencesGroup  parent_instance;

  /* template widgets */
  GtkWidget           *loading_row;

  /* widgets made in code */
  GPtrArray           *rows;      /* the choices, or the row that says why there are none */
  GPtrArray           *checks;    /* one per spec offered, as in offered */

  /* owned references */
  GArray              *specs;     /* what the token can make */
  GArray              *offered;

  gboolean             show_unusable;
  gboolean             filling;
};

enum {
  PROP_0,
  PROP_SHOW_UNUSABLE,
  N_PROPS
};

enum {
  CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TesseraKeyTypeChooser, tessera_key_type_chooser, ADW_TYPE_PREFERENCES_GROUP)

static void
on_check_toggled (GtkCheckButton        *check,
                  TesseraKeyTypeChooser *self)
{
  /* Of the two toggles a new choice makes, only the one that turns on */
  if (!self->filling && gtk_check_button_get_active (check))
    g_signal_emit (self, signals[CHANGED], 0);
}

static GtkWidget *
add_row (TesseraKeyTypeChooser *self,
         const char            *title,
         const char            *subtitle,
         gboolean               warning)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  if (warning)
    {
      gtk_widget_add_css_class (row, "ssh-problem");
      adw_action_row_set_icon_name (ADW_ACTION_ROW (row), "dialog-warning-symbolic");
    }
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), row);
  g_ptr_array_add (self->rows, row);

  return row;
}

static GtkWidget *
add_choice (TesseraKeyTypeChooser *self,
            const TesseraKeySpec  *spec,
            gboolean               recommended)
{
  g_autoptr(GError) problem = NULL;
  g_autofree char *title = tessera_key_spec_describe (spec);
  gboolean usable = tessera_key_spec_check_ssh (spec, &problem);
  const char *subtitle = !usable ? problem->message : recommended ? _("Recommended") : NULL;
  GtkWidget *row = add_row (self, title, subtitle, !usable);
  GtkWidget *check = gtk_check_button_new ();

  if (subtitle != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (check),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle,
                                    -1);
  gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
  if (self->checks->len > 0)
    gtk_check_button_set_group (GTK_CHECK_BUTTON (check), g_ptr_array_index (self->checks, 0));
  g_signal_connect_object (check, "toggled", G_CALLBACK (on_check_toggled), self, 0);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
  g_ptr_array_add (self->checks, check);

  return check;
}

static void
clear_rows (TesseraKeyTypeChooser *self)
{
  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (ADW_PREFERENCES_GROUP (self),
                                  g_ptr_array_index (self->rows, i));
  g_ptr_array_set_size (self->rows, 0);
  g_ptr_array_set_size (self->checks, 0);
  g_array_set_size (self->offered, 0);
}

/* The rows for the specs, the recommended one chosen */
static void
fill (TesseraKeyTypeChooser *self)
{
  guint recommended;

  clear_rows (self);
  if (self->specs == NULL)
    return;

  gtk_widget_set_visible (self->loading_row, FALSE);

  if (self->specs->len == 0)
    {
      add_row (self, _("This token cannot make keys"),
               _("Its module offers no way to make an RSA, ECDSA or Ed25519 key pair."), TRUE);
      return;
    }

  self->filling = TRUE;
  recommended = tessera_key_spec_recommend (self->specs);
  for (guint i = 0; i < self->specs->len; i++)
    {
      const TesseraKeySpec *spec = &g_array_index (self->specs, TesseraKeySpec, i);
      GtkWidget *check;

      if (!self->show_unusable && !tessera_key_spec_check_ssh (spec, NULL))
        continue;

      check = add_choice (self, spec, i == recommended);
      g_array_append_val (self->offered, *spec);
      if (i == recommended)
        gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
    }
  self->filling = FALSE;

  if (self->offered->len == 0)
    add_row (self, _("This token cannot make any kind of key the installed OpenSSH can use."),
             NULL, TRUE);
}

/* Listing what the token can make */

static void
on_specs_listed (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TesseraKeyTypeChooser *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) specs = NULL;

  specs = tessera_token_list_key_specs_finish (TESSERA_TOKEN (object), result, &error);
  if (specs == NULL)
    {
      gtk_widget_set_visible (self->loading_row, FALSE);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  tessera_key_type_chooser_set_specs (self, specs);
  g_task_return_boolean (task, TRUE);
}

/**
 * tessera_key_type_chooser_list_specs_async:
 * @self: a chooser
 * @token: the token that is to make the key
 * @cancellable: (nullable): stops waiting for the token
 * @callback: called once the chooser shows what @token can make
 * @user_data: for @callback
 *
 * Asks @token which kinds of key it can make, and offers them.
 */
void
tessera_key_type_chooser_list_specs_async (TesseraKeyTypeChooser *self,
                                           TesseraToken          *token,
                                           GCancellable          *cancellable,
                                           GAsyncReadyCallback    callback,
                                           gpointer               user_data)
{
  GTask *task;

  g_return_if_fail (TESSERA_IS_KEY_TYPE_CHOOSER (self));
  g_return_if_fail (TESSERA_IS_TOKEN (token));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tessera_key_type_chooser_list_specs_async);

  gtk_widget_set_visible (self->loading_row, TRUE);
  tessera_token_list_key_specs_async (token, cancellable, on_specs_listed, task);
}

/**
 * tessera_key_type_chooser_list_specs_finish:
 *
 * Returns: whether the token said what it can make
 */
gboolean
tessera_key_type_chooser_list_specs_finish (TesseraKeyTypeChooser  *self,
                                            GAsyncResult           *result,
                                            GError                **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* What is chosen */

/**
 * tessera_key_type_chooser_set_specs:
 * @self: a chooser
 * @specs: (element-type TesseraKeySpec): what the token can make
 *
 * Offers @specs, and chooses the recommended one.
 */
void
tessera_key_type_chooser_set_specs (TesseraKeyTypeChooser *self,
                                    GArray                *specs)
{
  g_return_if_fail (TESSERA_IS_KEY_TYPE_CHOOSER (self));
  g_return_if_fail (specs != NULL);

  g_array_ref (specs);
  g_clear_pointer (&self->specs, g_array_unref);
  self->specs = specs;
  fill (self);
  g_signal_emit (self, signals[CHANGED], 0);
}

/**
 * tessera_key_type_chooser_get_specs:
 *
 * Returns: (transfer none) (nullable) (element-type TesseraKeySpec): what the
 *   token can make, or %NULL until it has said
 */
GArray *
tessera_key_type_chooser_get_specs (TesseraKeyTypeChooser *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY_TYPE_CHOOSER (self), NULL);

  return self->specs;
}

/**
 * tessera_key_type_chooser_get_selected:
 *
 * Returns: (transfer none) (nullable): the kind of key chosen
 */
const TesseraKeySpec *
tessera_key_type_chooser_get_selected (TesseraKeyTypeChooser *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY_TYPE_CHOOSER (self), NULL);

  for (guint i = 0; i < self->checks->len; i++)
    if (gtk_check_button_get_active (g_ptr_array_index (self->checks, i)))
      return &g_array_index (self->offered, TesseraKeySpec, i);

  return NULL;
}

gboolean
tessera_key_type_chooser_get_show_unusable (TesseraKeyTypeChooser *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY_TYPE_CHOOSER (self), FALSE);

  return self->show_unusable;
}

/**
 * tessera_key_type_chooser_set_show_unusable:
 * @self: a chooser
 * @show_unusable: whether to offer kinds that do not serve SSH, with why
 */
void
tessera_key_type_chooser_set_show_unusable (TesseraKeyTypeChooser *self,
                                            gboolean               show_unusable)
{
  g_return_if_fail (TESSERA_IS_KEY_TYPE_CHOOSER (self));

  show_unusable = !!show_unusable;
  if (self->show_unusable == show_unusable)
    return;

  self->show_unusable = show_unusable;
  if (self->specs != NULL)
    {
      fill (self);
      g_signal_emit (self, signals[CHANGED], 0);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_UNUSABLE]);
}

/* GObject */

static void
tessera_key_type_chooser_get_property (GObject    *object,
                                       guint       prop_id,
                                       GValue     *value,
                                       GParamSpec *pspec)
{
  TesseraKeyTypeChooser *self = TESSERA_KEY_TYPE_CHOOSER (object);

  switch (prop_id)
    {
    case PROP_SHOW_UNUSABLE:
      g_value_set_boolean (value, self->show_unusable);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_key_type_chooser_set_property (GObject      *object,
                                       guint         prop_id,
                                       const GValue *value,
                                       GParamSpec   *pspec)
{
  TesseraKeyTypeChooser *self = TESSERA_KEY_TYPE_CHOOSER (object);

  switch (prop_id)
    {
    case PROP_SHOW_UNUSABLE:
      tessera_key_type_chooser_set_show_unusable (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_key_type_chooser_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), TESSERA_TYPE_KEY_TYPE_CHOOSER);

  G_OBJECT_CLASS (tessera_key_type_chooser_parent_class)->dispose (object);
}

static void
tessera_key_type_chooser_finalize (GObject *object)
{
  TesseraKeyTypeChooser *self = TESSERA_KEY_TYPE_CHOOSER (object);

  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_pointer (&self->checks, g_ptr_array_unref);
  g_clear_pointer (&self->specs, g_array_unref);
  g_clear_pointer (&self->offered, g_array_unref);

  G_OBJECT_CLASS (tessera_key_type_chooser_parent_class)->finalize (object);
}

static void
tessera_key_type_chooser_class_init (TesseraKeyTypeChooserClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = tessera_key_type_chooser_get_property;
  object_class->set_property = tessera_key_type_chooser_set_property;
  object_class->dispose = tessera_key_type_chooser_dispose;
  object_class->finalize = tessera_key_type_chooser_finalize;

  /**
   * TesseraKeyTypeChooser:show-unusable:
   *
   * Whether kinds of key that do not serve SSH are offered too, each with
   * a warning that says why, or left out.
   */
  properties[PROP_SHOW_UNUSABLE] =
    g_param_spec_boolean ("show-unusable", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TesseraKeyTypeChooser::changed:
   *
   * The chosen kind of key changed, or the kinds offered did.
   */
  signals[CHANGED] = g_signal_new ("changed",
                                   G_TYPE_FROM_CLASS (klass),
                                   G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL,
                                   G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-key-type-chooser.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyTypeChooser, loading_row);
}

static void
tessera_key_type_chooser_init (TesseraKeyTypeChooser *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->rows = g_ptr_array_new ();
  self->checks = g_ptr_array_new ();
  self->offered = g_array_new (FALSE, FALSE, sizeof (TesseraKeySpec));
}

GtkWidget *
tessera_key_type_chooser_new (void)
{
  return g_object_new (TESSERA_TYPE_KEY_TYPE_CHOOSER, NULL);
}
