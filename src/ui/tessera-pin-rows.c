/* tessera-pin-rows.c: what the PIN dialogs share
 *
 * Masked entries named for assistive technologies, the sentence that
 * states the PIN length, and the one that states the tries left, from the
 * token's flags only: PKCS#11 does not tell how many tries are left, so
 * neither do we.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-pin-rows.h"

/* A caption above the entry, which names it for assistive technologies */
static GtkWidget *
add_field (GtkWidget  *box,
           GtkWidget  *entry,
           const char *title)
{
  GtkWidget *label = gtk_label_new (title);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "caption-heading");
  gtk_widget_set_margin_top (label, 6);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                  -1);
  g_object_set_data_full (G_OBJECT (entry), "tessera-title", g_strdup (title), g_free);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), entry);

  return entry;
}

GtkWidget *
tessera_pin_rows_new_list (void)
{
  return gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
}

GtkWidget *
tessera_pin_rows_add_password (GtkWidget  *list,
                               const char *title)
{
  GtkWidget *entry = gtk_password_entry_new ();

  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (entry), TRUE);
  g_object_set (entry, "activates-default", TRUE, NULL);

  return add_field (list, entry, title);
}

GtkWidget *
tessera_pin_rows_add_entry (GtkWidget  *list,
                            const char *title)
{
  GtkWidget *entry = gtk_entry_new ();

  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);

  return add_field (list, entry, title);
}

const char *
tessera_pin_rows_get_title (GtkWidget *entry)
{
  return g_object_get_data (G_OBJECT (entry), "tessera-title");
}

GtkWidget *
tessera_pin_rows_new_label (const char *css_class)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_justify (GTK_LABEL (label), GTK_JUSTIFY_CENTER);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 40);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  gtk_widget_set_visible (label, FALSE);

  return label;
}

/* Forgets what was typed.  GTK keeps no copy of an entry's old text. */
void
tessera_pin_rows_wipe (GtkWidget *row)
{
  if (row != NULL)
    gtk_editable_set_text (GTK_EDITABLE (row), "");
}

/**
 * tessera_pin_rows_check_new:
 *
 * Checks a new PIN and its repetition before anything is sent to the token.
 */
gboolean
tessera_pin_rows_check_new (TesseraToken  *token,
                            GtkWidget     *new_row,
                            GtkWidget     *repeat_row,
                            GError       **error)
{
  const char *pin = gtk_editable_get_text (GTK_EDITABLE (new_row));
  const char *repeat = gtk_editable_get_text (GTK_EDITABLE (repeat_row));

  if (!tessera_token_check_pin_length (token, pin, error))
    return FALSE;

  if (g_strcmp0 (pin, repeat) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The two “%s” entries differ. Nothing was sent to the token."),
                   tessera_pin_rows_get_title (new_row));
      return FALSE;
    }

  return TRUE;
}

char *
tessera_pin_rows_describe_length (TesseraToken *token)
{
  guint min = tessera_token_get_min_pin_length (token);
  guint max = tessera_token_get_max_pin_length (token);

  if (min == 0 && max == 0)
    return NULL;

  if (min == max)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "PINs are %u character long.",
                                         "PINs are %u characters long.", max), max);

  /* Translators: the PIN length limits, "PINs are 4–8 characters long." */
  return g_strdup_printf (_("PINs are %u–%u characters long."), min, max);
}

char *
tessera_pin_rows_describe_tries (TesseraToken *token,
                                 gboolean      so_pin)
{
  TesseraTokenState locked = so_pin ? TESSERA_TOKEN_STATE_SO_PIN_LOCKED
                                    : TESSERA_TOKEN_STATE_USER_PIN_LOCKED;
  TesseraTokenState final = so_pin ? TESSERA_TOKEN_STATE_SO_PIN_FINAL_TRY
                                   : TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY;
  TesseraTokenState low = so_pin ? TESSERA_TOKEN_STATE_SO_PIN_COUNT_LOW
                                 : TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW;

  if (tessera_token_has_state (token, locked))
    return g_strdup (so_pin ? _("The SO PIN is locked.") : _("The PIN is locked."));
  if (tessera_token_has_state (token, final))
    return g_strdup (so_pin ? _("The SO PIN has 1 try left.") : _("The PIN has 1 try left."));
  if (tessera_token_has_state (token, low))
    return g_strdup (so_pin ? _("A wrong SO PIN was entered: a few tries are left.")
                            : _("A wrong PIN was entered: a few tries are left."));

  /* A TPM tells no tries left, but its lockout is known */
  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_LOCKED_OUT))
    return g_strdup (_("The TPM is locked out and refuses every PIN until its recovery time has passed."));
  if (tessera_token_is_tpm (token))
    return g_strdup (_("The TPM locks out after a few wrong PINs, counted for all its tokens together."));

  return NULL;
}
