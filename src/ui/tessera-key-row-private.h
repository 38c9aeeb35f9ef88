/* tessera-key-row-private.h: what the key row and its actions share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tessera-key-row.h"

G_BEGIN_DECLS

struct _TesseraKeyRow
{
  GtkWidget       parent_instance;

  /* template widgets */
  GtkImage       *status_icon;
  GtkLabel       *title_label;
  GtkLabel       *subtitle_label;
  GtkWidget      *fix_button;
  GtkWidget      *copy_button;
  AdwSqueezer    *copy_squeezer;
  GtkLabel       *copy_label;
  GtkWidget      *menu_button;

  /* owned references: the key bound, or none between two keys */
  TesseraKey     *key;
  TesseraToken   *token;
  TesseraProblem *problem;
  char           *title;

  /* owned, or NULL: the window's, for work that outlives the row, and
   * the page's, for the login that work may need first */
  GCancellable   *cancellable;
  GCancellable   *page_cancellable;

  gulong          key_notify_id;
  gulong          token_notify_id;
};

void tessera_key_row_install_actions (GtkWidgetClass *widget_class);
void tessera_key_row_update_actions  (TesseraKeyRow  *self);

G_END_DECLS
