/* tessera-key-row.c: a key in the token page's list
 *
 * A key as the user thinks of it, in two lines: its name, then its type
 * and whether OpenSSH can use it (or what the doctor found wrong with it),
 * with Copy SSH Key, Fix when there is something to fix, and the key
 * menu (tessera-key-row-actions.c).  The fingerprint, the parts, the ID
 * and the full sentences are on the key's details page.
 *
 * The page's GtkListView makes rows only for the keys near the screen and
 * binds each to one key at a time: tessera_key_row_bind() and
 * tessera_key_row_unbind().  A bound row follows its key's and its
 * token's notifications, and its actions act on the key bound when they
 * run.  No tooltip is set on a row that is in the window (each asks the X
 * server where the pointer is).
 *
 * The row lays out its children itself, in a line as a box would, with
 * the room left to the key's name: on a narrow row (a 360 pixel wide
 * phone) Copy SSH Key is an icon with a tooltip, and a name too long for
 * its line wraps rather than being cut short.  Every row of a list is as
 * wide, so all choose alike, and each measures only its own few
 * children.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-key-row-private.h"

G_DEFINE_FINAL_TYPE (TesseraKeyRow, tessera_key_row, GTK_TYPE_WIDGET)

static gboolean
is_blank (const char *s)
{
  return s == NULL || s[0] == '\0';
}

/* One menu model for every row, given to a row's menu button when it
 * first opens: a GtkPopoverMenu built per row would cost more than the
 * rest of the row */
static GMenuModel *
get_key_menu (void)
{
  static GMenuModel *key_menu = NULL;

  if (key_menu == NULL)
    {
      g_autoptr(GtkBuilder) builder =
        gtk_builder_new_from_resource (RESOURCE_BASE_PATH "/tessera-key-menu.ui");

      key_menu = g_object_ref (G_MENU_MODEL (gtk_builder_get_object (builder, "key_menu")));
    }

  return key_menu;
}

static void
create_key_menu (GtkMenuButton *menu_button,
                 gpointer       user_data)
{
  gtk_menu_button_set_menu_model (menu_button, get_key_menu ());
}

/* Showing the key */

static const char *
describe_status (TesseraKeyRow *self,
                 const char   **icon_name,
                 const char   **css_class)
{
  TesseraSshVerdict verdict = tessera_key_get_ssh_verdict (self->key);

  /* A key OpenSSH can use may still have a problem the doctor found; one
   * it cannot use says so already */
  if (self->problem != NULL
      && (verdict == TESSERA_SSH_VERDICT_READY || verdict == TESSERA_SSH_VERDICT_LOGIN_NEEDED))
    {
      *icon_name = "dialog-warning-symbolic";
      *css_class = "ssh-problem";
      return _("Has a problem");
    }

  switch (verdict)
    {
    case TESSERA_SSH_VERDICT_READY:
      *icon_name = "emblem-ok-symbolic";
      *css_class = "ssh-ready";
      return _("Ready for SSH");

    case TESSERA_SSH_VERDICT_LOGIN_NEEDED:
      /* Not a problem yet: every key looks like this before login */
      *icon_name = "system-lock-screen-symbolic";
      *css_class = NULL;
      return _("Log in to check SSH readiness");

    case TESSERA_SSH_VERDICT_NO_PUBLIC_OBJECT:
    case TESSERA_SSH_VERDICT_ID_MISMATCH:
    case TESSERA_SSH_VERDICT_NO_PRIVATE_KEY:
    case TESSERA_SSH_VERDICT_UNSUPPORTED_TYPE:
    case TESSERA_SSH_VERDICT_CANNOT_SIGN:
    case TESSERA_SSH_VERDICT_TOKEN_NOT_INITIALIZED:
    default:
      *icon_name = "dialog-warning-symbolic";
      *css_class = "ssh-problem";
      return _("Not usable by SSH");
    }
}

static void
set_status_class (TesseraKeyRow *self,
                  const char    *css_class)
{
  GtkWidget *icon = GTK_WIDGET (self->status_icon);

  if (g_strcmp0 (css_class, "ssh-ready") != 0)
    gtk_widget_remove_css_class (icon, "ssh-ready");
  if (g_strcmp0 (css_class, "ssh-problem") != 0)
    gtk_widget_remove_css_class (icon, "ssh-problem");
  if (css_class != NULL)
    gtk_widget_add_css_class (icon, css_class);
}

static void
update_row (TesseraKeyRow *self)
{
  TesseraKey *key = self->key;
  TesseraSshVerdict verdict;
  const char *id;
  const char *icon_name;
  const char *css_class;
  const char *status;
  const char *readiness;
  g_autofree char *type = NULL;
  g_autofree char *parts = NULL;
  g_autofree char *sentence = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *line = NULL;
  g_autofree char *copy_label = NULL;
  g_autofree char *copy_description = NULL;
  g_autofree char *menu_label = NULL;
  GString *description;
  GtkWidget *list_item;
  gboolean fixable;
  const char *fix;

  if (key == NULL)
    {
      tessera_key_row_update_actions (self);
      return;
    }

  verdict = tessera_key_get_ssh_verdict (key);
  id = tessera_key_get_id_hex (key);
  type = tessera_key_describe_type (key);
  parts = tessera_key_describe_parts (key);
  sentence = tessera_key_describe_ssh_verdict (key);
  line = tessera_key_get_ssh_line (key);
  status = describe_status (self, &icon_name, &css_class);

  g_free (self->title);
  self->title = g_strdup (is_blank (tessera_key_get_display_label (key))
                          ? C_("key", "Unnamed key")
                          : tessera_key_get_display_label (key));

  /* One line: the type, then what stands between the key and SSH: a
   * problem the Fix beside it repairs, or else why OpenSSH cannot use the
   * key, or else what the doctor found, or else that it can (the details
   * and the accessible description say it all) */
  if (self->problem != NULL && tessera_problem_get_fixable (self->problem))
    readiness = tessera_problem_get_title (self->problem);
  else if (verdict != TESSERA_SSH_VERDICT_READY && verdict != TESSERA_SSH_VERDICT_LOGIN_NEEDED)
    readiness = sentence;
  else if (self->problem != NULL)
    readiness = tessera_problem_get_title (self->problem);
  else
    readiness = status;
  /* Translators: a key row's subtitle, a key's type and its SSH readiness,
   * e.g. "ECDSA P-256 · Ready for SSH" */
  subtitle = g_strdup_printf (_("%s · %s"), type, readiness);

  gtk_label_set_text (self->title_label, self->title);
  gtk_label_set_text (self->subtitle_label, subtitle);
  gtk_image_set_from_icon_name (self->status_icon, icon_name);
  set_status_class (self, css_class);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->status_icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, status,
                                  -1);

  fixable = self->problem != NULL && tessera_problem_get_fixable (self->problem);
  fix = fixable ? tessera_problem_get_fix_description (self->problem) : NULL;
  gtk_widget_set_visible (self->fix_button, fixable);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->fix_button),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, fix ? fix : "",
                                  -1);

  /* Several rows have these buttons: each names its key */
  /* Translators: accessible label of a key's Copy SSH Key button, %s is the key's name */
  copy_label = g_strdup_printf (_("Copy SSH Key of %s"), self->title);
  if (line != NULL)
    /* Translators: accessible description of the Copy SSH Key button */
    copy_description = g_strdup (_("Copies the public key in OpenSSH format, for authorized_keys"));
  else
    copy_description = g_strdup (_("The token does not show this key’s public key, so there is no SSH key to copy"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->copy_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, copy_label,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, copy_description,
                                  -1);
  /* Translators: accessible label of a key's menu button, %s is the key's name */
  menu_label = g_strdup_printf (_("Key Menu of %s"), self->title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->menu_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, menu_label,
                                  -1);

  /* What the row said before it was made compact, for a screen reader:
   * the type, parts and ID, the whole sentence, and the problem */
  description = g_string_new (NULL);
  if (!is_blank (id))
    /* Translators: a key's type, parts and ID, e.g.
     * "RSA 2048 · Private key, public key and certificate · ID 01" */
    g_string_printf (description, _("%s · %s · ID %s"), type, parts, id);
  else
    /* Translators: a key's type and parts, e.g. "ECDSA P-256 · Public key" */
    g_string_printf (description, _("%s · %s"), type, parts);
  g_string_append_printf (description, "\n%s", sentence);
  if (self->problem != NULL)
    g_string_append_printf (description, "\n%s", tessera_problem_get_title (self->problem));

  /* The list item that holds the row is what a screen reader calls the
   * row: it carries the name */
  list_item = gtk_widget_get_parent (GTK_WIDGET (self));
  if (list_item != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (list_item),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, self->title,
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description->str,
                                    -1);
  g_string_free (description, TRUE);

  tessera_key_row_update_actions (self);
}

static void
on_key_changed (TesseraKey    *key,
                TesseraKeyRow *self)
{
  update_row (self);
}

static void
on_token_notify_state (TesseraToken  *token,
                       GParamSpec    *pspec,
                       TesseraKeyRow *self)
{
  update_row (self);
}

/* Layout: a line of children, as a GtkBoxLayout would lay them out, except
 * for how the room left beside the icon, Fix and the menu is shared */

#define ROW_SPACING 6

/* The narrowest row whose Copy SSH Key shows its label: it leaves a name
 * of some 25 characters its line (a 360 pixel window's rows are 312) */
#define LABELED_COPY_MIN_WIDTH 400

typedef struct
{
  int title;   /* the width of the name and subtitle */
  int copy;    /* the width of Copy SSH Key */
} RowWidths;

static GtkWidget *
get_title_box (TesseraKeyRow *self)
{
  return gtk_widget_get_parent (GTK_WIDGET (self->title_label));
}

static RowWidths
share_width (TesseraKeyRow *self,
             int            width)
{
  GtkWidget *title_box = get_title_box (self);
  RowWidths widths = { 0, 0 };
  int title_min;
  int copy_min, copy_nat;
  int rest = width;
  int n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      int child_nat;

      if (!gtk_widget_should_layout (child))
        continue;
      n++;
      if (child == title_box || child == self->copy_button)
        continue;
      gtk_widget_measure (child, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &child_nat, NULL, NULL);
      rest -= child_nat;
    }
  rest -= MAX (n - 1, 0) * ROW_SPACING;

  gtk_widget_measure (title_box, GTK_ORIENTATION_HORIZONTAL, -1,
                      &title_min, NULL, NULL, NULL);
  gtk_widget_measure (self->copy_button, GTK_ORIENTATION_HORIZONTAL, -1,
                      &copy_min, &copy_nat, NULL, NULL);

  /* The button's squeezer shows the label at its natural width, else the icon */
  widths.copy = width >= LABELED_COPY_MIN_WIDTH && rest - copy_nat >= title_min ? copy_nat : copy_min;
  widths.title = MAX (rest - widths.copy, title_min);

  return widths;
}

static GtkSizeRequestMode
tessera_key_row_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
tessera_key_row_measure (GtkWidget      *widget,
                         GtkOrientation  orientation,
                         int             for_size,
                         int            *minimum,
                         int            *natural,
                         int            *minimum_baseline,
                         int            *natural_baseline)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  GtkWidget *title_box = get_title_box (self);
  RowWidths widths = { -1, -1 };
  int n = 0;

  *minimum = *natural = 0;

  if (orientation == GTK_ORIENTATION_VERTICAL && for_size >= 0)
    widths = share_width (self, for_size);

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      int child_min, child_nat;

      if (!gtk_widget_should_layout (child))
        continue;

      if (orientation == GTK_ORIENTATION_HORIZONTAL)
        {
          gtk_widget_measure (child, orientation, -1, &child_min, &child_nat, NULL, NULL);
          *minimum += child_min;
          *natural += child_nat;
          n++;
        }
      else
        {
          /* Only the name wraps: the others are as tall at any width */
          gtk_widget_measure (child, orientation, child == title_box ? widths.title : -1,
                              &child_min, &child_nat, NULL, NULL);
          *minimum = MAX (*minimum, child_min);
          *natural = MAX (*natural, child_nat);
        }
    }

  if (n > 1)
    {
      *minimum += (n - 1) * ROW_SPACING;
      *natural += (n - 1) * ROW_SPACING;
    }
}

static void
tessera_key_row_size_allocate (GtkWidget *widget,
                               int        width,
                               int        height,
                               int        baseline)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (widget);
  GtkWidget *title_box = get_title_box (self);
  gboolean rtl = gtk_widget_get_direction (widget) == GTK_TEXT_DIR_RTL;
  RowWidths widths = share_width (self, width);
  int x = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      int child_width;

      if (!gtk_widget_should_layout (child))
        continue;

      if (child == title_box)
        child_width = widths.title;
      else if (child == self->copy_button)
        child_width = widths.copy;
      else
        gtk_widget_measure (child, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &child_width, NULL, NULL);

      gtk_widget_size_allocate (child,
                                &(GtkAllocation) {
                                  rtl ? width - x - child_width : x, 0, child_width, height
                                },
                                -1);
      x += child_width + ROW_SPACING;
    }
}

/* The icon alone says less than the label: say it in a tooltip.  A
 * handler, not a tooltip text set on size allocation, which would ask the
 * X server where the pointer is */
static gboolean
on_copy_button_query_tooltip (GtkWidget     *button,
                              int            x,
                              int            y,
                              gboolean       keyboard_mode,
                              GtkTooltip    *tooltip,
                              TesseraKeyRow *self)
{
  if (adw_squeezer_get_visible_child (self->copy_squeezer) == GTK_WIDGET (self->copy_label))
    return FALSE;

  gtk_tooltip_set_text (tooltip, gtk_label_get_text (self->copy_label));
  return TRUE;
}

/* GObject */

static void
tessera_key_row_dispose (GObject *object)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (object);

  GtkWidget *child;

  tessera_key_row_unbind (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_KEY_ROW);
  /* A plain GtkWidget parent: the unnamed children are left to us */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (tessera_key_row_parent_class)->dispose (object);
}

static void
tessera_key_row_finalize (GObject *object)
{
  TesseraKeyRow *self = TESSERA_KEY_ROW (object);

  g_clear_pointer (&self->title, g_free);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->page_cancellable);

  G_OBJECT_CLASS (tessera_key_row_parent_class)->finalize (object);
}

static void
tessera_key_row_class_init (TesseraKeyRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tessera_key_row_dispose;
  object_class->finalize = tessera_key_row_finalize;

  widget_class->get_request_mode = tessera_key_row_get_request_mode;
  widget_class->measure = tessera_key_row_measure;
  widget_class->size_allocate = tessera_key_row_size_allocate;

  gtk_widget_class_set_css_name (widget_class, "keyrow");
  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-key-row.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, status_icon);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, fix_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, copy_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, copy_squeezer);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, copy_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraKeyRow, menu_button);
  gtk_widget_class_bind_template_callback (widget_class, on_copy_button_query_tooltip);

  tessera_key_row_install_actions (widget_class);
}

static void
tessera_key_row_init (TesseraKeyRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_menu_button_set_create_popup_func (GTK_MENU_BUTTON (self->menu_button),
                                         create_key_menu, NULL, NULL);
  tessera_key_row_update_actions (self);
}

/**
 * tessera_key_row_new:
 * @cancellable: (nullable): the window's: cancelling it cancels the work
 *   the row's actions started, and closes their dialogs
 * @page_cancellable: (nullable): the page's: cancelling it closes the PIN
 *   dialog of a login that an action asked for
 *
 * Returns: (transfer floating): a new row, bound to no key
 */
GtkWidget *
tessera_key_row_new (GCancellable *cancellable,
                     GCancellable *page_cancellable)
{
  TesseraKeyRow *self;

  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (!page_cancellable || G_IS_CANCELLABLE (page_cancellable), NULL);

  self = g_object_new (TESSERA_TYPE_KEY_ROW, NULL);
  g_set_object (&self->cancellable, cancellable);
  g_set_object (&self->page_cancellable, page_cancellable);

  return GTK_WIDGET (self);
}

/**
 * tessera_key_row_bind:
 * @self: a #TesseraKeyRow
 * @key: the #TesseraKey to show
 * @token: the #TesseraToken that holds it
 * @problem: (nullable): a problem the token's doctor found with the key
 *
 * Shows @key, and follows it until tessera_key_row_unbind().
 */
void
tessera_key_row_bind (TesseraKeyRow  *self,
                      TesseraKey     *key,
                      TesseraToken   *token,
                      TesseraProblem *problem)
{
  g_return_if_fail (TESSERA_IS_KEY_ROW (self));
  g_return_if_fail (TESSERA_IS_KEY (key));
  g_return_if_fail (TESSERA_IS_TOKEN (token));
  g_return_if_fail (problem == NULL || TESSERA_IS_PROBLEM (problem));

  tessera_key_row_unbind (self);

  self->key = g_object_ref (key);
  self->token = g_object_ref (token);
  g_set_object (&self->problem, problem);
  self->key_notify_id = g_signal_connect (key, "changed", G_CALLBACK (on_key_changed), self);
  self->token_notify_id = g_signal_connect (token, "notify::state",
                                            G_CALLBACK (on_token_notify_state), self);

  update_row (self);
}

/**
 * tessera_key_row_unbind:
 * @self: a #TesseraKeyRow
 *
 * Lets go of the key the row shows; the row acts on nothing until it is
 * bound again.
 */
void
tessera_key_row_unbind (TesseraKeyRow *self)
{
  g_return_if_fail (TESSERA_IS_KEY_ROW (self));

  if (self->key == NULL)
    return;

  g_clear_signal_handler (&self->key_notify_id, self->key);
  g_clear_signal_handler (&self->token_notify_id, self->token);
  g_clear_object (&self->key);
  g_clear_object (&self->token);
  g_clear_object (&self->problem);

  /* An open menu belongs to the key that is gone */
  gtk_menu_button_popdown (GTK_MENU_BUTTON (self->menu_button));
  tessera_key_row_update_actions (self);
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

/**
 * tessera_key_row_set_problem:
 * @self: a #TesseraKeyRow
 * @problem: (nullable): a problem the token's doctor found with the bound key
 *
 * Marks the row with the problem, and offers its fix.
 */
void
tessera_key_row_set_problem (TesseraKeyRow  *self,
                             TesseraProblem *problem)
{
  g_return_if_fail (TESSERA_IS_KEY_ROW (self));
  g_return_if_fail (problem == NULL || TESSERA_IS_PROBLEM (problem));

  if (self->key != NULL && g_set_object (&self->problem, problem))
    update_row (self);
}
