/* tessera-row-title-layout.c: an action row's title and subtitle, laid out
 * without GtkBoxLayout's width-for-height searches
 *
 * An AdwActionRow is a horizontal GtkBox (icon, title box, suffixes) whose
 * title box is a vertical GtkBox of two wrapping labels.  GTK 4.8's
 * GtkBoxLayout asks that title box for its width at a given height, both
 * when the row is measured for a width (distribute_remaining_size(): a
 * search over heights, from the smallest up, doubling) and when it is
 * allocated (each child's width for the row's height).  A vertical box
 * answers a width for a height with a search of its own, over its labels'
 * heights at widths doubling from the narrowest up, and a wrapping
 * GtkLabel answers a width for a height with a third, a binary search that
 * lays its text out once per step.  Each step misses GTK's size cache: on
 * the token page's first layout, a few rows with long subtitles took
 * 15-25 ms each, in Pango.
 *
 * The title box's width does not depend on its height in any way the row
 * can use: it expands, and takes what the icon and the suffixes leave it.
 * So this layout answers a width for any height with its width for no
 * height (the longest word, the text on one line), which GTK caches once,
 * and leaves everything else to the GtkBoxLayout it replaces: the heights
 * for a width and the allocation are GtkBoxLayout's own, and the row looks
 * the same.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "tessera-row-title-layout.h"

struct _TesseraRowTitleLayout
{
  GtkLayoutManager  parent_instance;

  /* owned references */
  GtkLayoutManager *box_layout;
};

G_DEFINE_FINAL_TYPE (TesseraRowTitleLayout, tessera_row_title_layout, GTK_TYPE_LAYOUT_MANAGER)

static GtkSizeRequestMode
tessera_row_title_layout_get_request_mode (GtkLayoutManager *manager,
                                           GtkWidget        *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
tessera_row_title_layout_measure (GtkLayoutManager *manager,
                                  GtkWidget        *widget,
                                  GtkOrientation    orientation,
                                  int               for_size,
                                  int              *minimum,
                                  int              *natural,
                                  int              *minimum_baseline,
                                  int              *natural_baseline)
{
  TesseraRowTitleLayout *self = TESSERA_ROW_TITLE_LAYOUT (manager);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    for_size = -1;

  gtk_layout_manager_measure (self->box_layout, widget, orientation, for_size,
                              minimum, natural, minimum_baseline, natural_baseline);
}

static void
tessera_row_title_layout_allocate (GtkLayoutManager *manager,
                                   GtkWidget        *widget,
                                   int               width,
                                   int               height,
                                   int               baseline)
{
  TesseraRowTitleLayout *self = TESSERA_ROW_TITLE_LAYOUT (manager);

  gtk_layout_manager_allocate (self->box_layout, widget, width, height, baseline);
}

static void
tessera_row_title_layout_finalize (GObject *object)
{
  TesseraRowTitleLayout *self = TESSERA_ROW_TITLE_LAYOUT (object);

  g_clear_object (&self->box_layout);

  G_OBJECT_CLASS (tessera_row_title_layout_parent_class)->finalize (object);
}

static void
tessera_row_title_layout_class_init (TesseraRowTitleLayoutClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkLayoutManagerClass *layout_class = GTK_LAYOUT_MANAGER_CLASS (klass);

  object_class->finalize = tessera_row_title_layout_finalize;

  layout_class->get_request_mode = tessera_row_title_layout_get_request_mode;
  layout_class->measure = tessera_row_title_layout_measure;
  layout_class->allocate = tessera_row_title_layout_allocate;
}

static void
tessera_row_title_layout_init (TesseraRowTitleLayout *self)
{
}

/* The vertical box of class "title" in the row's header: libadwaita's
 * template, looked for rather than assumed, so that a libadwaita laid out
 * otherwise is left alone */
static GtkWidget *
find_title_box (AdwActionRow *row)
{
  GtkWidget *header = gtk_list_box_row_get_child (GTK_LIST_BOX_ROW (row));

  if (!GTK_IS_BOX (header) || !gtk_widget_has_css_class (header, "header"))
    return NULL;

  for (GtkWidget *child = gtk_widget_get_first_child (header);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_BOX (child) &&
          gtk_widget_has_css_class (child, "title") &&
          GTK_IS_BOX_LAYOUT (gtk_widget_get_layout_manager (child)) &&
          gtk_orientable_get_orientation (GTK_ORIENTABLE (child)) == GTK_ORIENTATION_VERTICAL)
        return child;
    }

  return NULL;
}

/**
 * tessera_row_title_layout_install:
 * @row: an action row
 *
 * Lays out @row's title and subtitle with a #TesseraRowTitleLayout: the
 * same layout, without the searches that a width for a height costs.
 * Does nothing when @row's title box is not libadwaita 1.2's.
 */
void
tessera_row_title_layout_install (AdwActionRow *row)
{
  TesseraRowTitleLayout *layout;
  GtkWidget *title_box;

  g_return_if_fail (ADW_IS_ACTION_ROW (row));

  title_box = find_title_box (row);
  if (title_box == NULL)
    return;

  layout = g_object_new (TESSERA_TYPE_ROW_TITLE_LAYOUT, NULL);
  layout->box_layout = g_object_ref (gtk_widget_get_layout_manager (title_box));
  gtk_widget_set_layout_manager (title_box, GTK_LAYOUT_MANAGER (layout));
}

/**
 * tessera_row_title_layout_install_all:
 * @root: a widget
 *
 * Calls tessera_row_title_layout_install() on each action row in @root,
 * @root included.
 */
void
tessera_row_title_layout_install_all (GtkWidget *root)
{
  g_return_if_fail (GTK_IS_WIDGET (root));

  if (ADW_IS_ACTION_ROW (root))
    {
      tessera_row_title_layout_install (ADW_ACTION_ROW (root));
      return;
    }

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    tessera_row_title_layout_install_all (child);
}
