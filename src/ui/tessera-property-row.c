/* tessera-property-row.c: a row showing one named value
 *
 * The title names the value ("Serial number") and the subtitle shows it.
 * Long values such as URIs and fingerprints can be copied with a button,
 * since libadwaita 1.2 cannot make a subtitle selectable.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-property-row.h"
#include "tessera-toast.h"

struct _TesseraPropertyRow
{
  AdwActionRow  parent_instance;

  /* owned */
  char         *value;

  /* children */
  GtkWidget    *copy_button;
};

G_DEFINE_FINAL_TYPE (TesseraPropertyRow, tessera_property_row, ADW_TYPE_ACTION_ROW)

static void
update_accessible (TesseraPropertyRow *self)
{
  const char *title = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (self));
  const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (self));
  g_autofree char *copy_label = NULL;

  /* The row is labelled by its title already */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle,
                                  -1);

  if (self->copy_button != NULL)
    {
      /* Translators: an accessible label, %s is what is copied, e.g. "URI" */
      copy_label = g_strdup_printf (_("Copy %s"), title);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->copy_button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, copy_label,
                                      -1);
    }
}

static void
on_copy_button_clicked (GtkButton          *button,
                        TesseraPropertyRow *self)
{
  g_autofree char *text = NULL;

  if (self->value == NULL)
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), self->value);

  /* Translators: a notification, %s names the value, e.g. "Fingerprint copied" */
  text = g_strdup_printf (_("%s copied"), adw_preferences_row_get_title (ADW_PREFERENCES_ROW (self)));
  tessera_toast_show (GTK_WIDGET (self), text);
}

/* Identifiers (URIs, paths, fingerprints, serial numbers) in monospace,
 * and broken where they must be without a hyphen that is not part of
 * them: Pango would print "s-erial=" for a URI broken inside a word.
 * AdwActionRow 1.2 has no way to style its subtitle label, so the label
 * is found among the row's descendants (the one with the "subtitle"
 * class). */
static GtkWidget *
find_subtitle_label (GtkWidget *widget)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (GTK_IS_LABEL (child) && gtk_widget_has_css_class (child, "subtitle"))
        return child;
      found = find_subtitle_label (child);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
set_identifier_style (TesseraPropertyRow *self,
                      gboolean            identifier)
{
  GtkWidget *label = find_subtitle_label (GTK_WIDGET (self));

  if (identifier)
    gtk_widget_add_css_class (GTK_WIDGET (self), "identifier");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "identifier");

  if (label != NULL)
    {
      PangoAttrList *attributes = NULL;

      if (identifier)
        {
          attributes = pango_attr_list_new ();
          pango_attr_list_insert (attributes, pango_attr_insert_hyphens_new (FALSE));
        }
      gtk_label_set_attributes (GTK_LABEL (label), attributes);
      gtk_label_set_wrap_mode (GTK_LABEL (label),
                               identifier ? PANGO_WRAP_CHAR : PANGO_WRAP_WORD_CHAR);
      g_clear_pointer (&attributes, pango_attr_list_unref);
    }
}

static void
tessera_property_row_finalize (GObject *object)
{
  TesseraPropertyRow *self = TESSERA_PROPERTY_ROW (object);

  g_clear_pointer (&self->value, g_free);

  G_OBJECT_CLASS (tessera_property_row_parent_class)->finalize (object);
}

static void
tessera_property_row_class_init (TesseraPropertyRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tessera_property_row_finalize;
}

static void
tessera_property_row_init (TesseraPropertyRow *self)
{
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (self), FALSE);
  gtk_widget_add_css_class (GTK_WIDGET (self), "tessera-property");
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (self), FALSE);
}

/**
 * tessera_property_row_new:
 * @title: what the value is, already translated
 * @value: (nullable): the value
 *
 * Returns: (transfer floating): a new row
 */
GtkWidget *
tessera_property_row_new (const char *title,
                          const char *value)
{
  TesseraPropertyRow *self = g_object_new (TESSERA_TYPE_PROPERTY_ROW,
                                           "title", title,
                                           NULL);

  tessera_property_row_set_value (self, value);

  return GTK_WIDGET (self);
}

const char *
tessera_property_row_get_value (TesseraPropertyRow *self)
{
  g_return_val_if_fail (TESSERA_IS_PROPERTY_ROW (self), NULL);

  return self->value;
}

void
tessera_property_row_set_value (TesseraPropertyRow *self,
                                const char         *value)
{
  g_return_if_fail (TESSERA_IS_PROPERTY_ROW (self));

  if (value != NULL && value[0] == '\0')
    value = NULL;

  g_free (self->value);
  self->value = g_strdup (value);

  adw_action_row_set_subtitle (ADW_ACTION_ROW (self),
                               value != NULL ? value : C_("property value", "Not set"));
  if (self->copy_button != NULL)
    gtk_widget_set_sensitive (self->copy_button, value != NULL);

  update_accessible (self);
}

void
tessera_property_row_set_copyable (TesseraPropertyRow *self,
                                   gboolean            copyable)
{
  g_return_if_fail (TESSERA_IS_PROPERTY_ROW (self));

  if (copyable == (self->copy_button != NULL))
    return;

  if (copyable)
    {
      self->copy_button = gtk_button_new_from_icon_name ("edit-copy-symbolic");
      gtk_widget_set_valign (self->copy_button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (self->copy_button, "flat");
      gtk_widget_set_tooltip_text (self->copy_button, _("Copy"));
      gtk_widget_set_sensitive (self->copy_button, self->value != NULL);
      g_signal_connect_object (self->copy_button, "clicked",
                               G_CALLBACK (on_copy_button_clicked), self, 0);
      adw_action_row_add_suffix (ADW_ACTION_ROW (self), self->copy_button);
    }
  else
    {
      adw_action_row_remove (ADW_ACTION_ROW (self), self->copy_button);
      self->copy_button = NULL;
    }

  /* What is worth copying is an identifier */
  set_identifier_style (self, copyable);

  update_accessible (self);
}
