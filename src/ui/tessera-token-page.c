/* tessera-token-page.c: everything on one token
 *
 * The page reads the token's public objects when it is first shown, offers
 * to log in, and lists the token's keys, certificates and other objects.
 * The lists are bound to the token's list models, and the rest follows the
 * token's property notifications, so the page stays current as the token
 * changes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-agent-group.h"
#include "tessera-generate-key-dialog.h"
#include "tessera-key-row.h"
#include "tessera-lifecycle-group.h"
#include "tessera-paced-model.h"
#include "tessera-pin-dialog.h"
#include "tessera-problems-group.h"
#include "tessera-property-row.h"
#include "tessera-row-title-layout.h"
#include "tessera-toast.h"
#include "tessera-token-page.h"
#include "tessera-token-page-certificates.h"
#include "tessera-token-page-lifecycle.h"

struct _TesseraTokenPage
{
  AdwPreferencesPage   parent_instance;

  /* template widgets */
  AdwPreferencesGroup *status_group;
  AdwActionRow        *login_row;
  GtkWidget           *login_button;
  GtkWidget           *logout_button;
  GtkWidget           *initialize_button;
  AdwActionRow        *reading_row;
  AdwActionRow        *error_row;
  TesseraProblemsGroup *problems_group;
  AdwPreferencesGroup *keys_group;
  GtkOverlay          *keys_overlay;
  GtkLabel            *keys_placeholder;
  GtkScrolledWindow   *keys_scroller;
  GtkListView         *keys_list;
  GtkWidget           *add_button;
  TesseraAgentGroup   *agent_group;
  AdwPreferencesGroup *certificates_group;
  GtkScrolledWindow   *certificates_scroller;
  GtkListView         *certificates_list;
  GListModel          *lone_certificates;   /* the certificates of no key */
  GtkFilter           *lone_filter;
  GHashTable          *key_certificates;    /* certificates that keys hold */
  AdwPreferencesGroup *other_group;
  GtkScrolledWindow   *other_scroller;
  GtkListView         *other_list;

  /* widgets made in code */

  /* owned references */
  TesseraToken        *token;
  TesseraRegistry     *registry;
  TesseraAgentSync    *agent_sync;
  GSettings           *settings;
  GCancellable        *cancellable;
  GCancellable        *window_cancellable;
  GError              *read_error;

  guint                reading : 1;
};

G_DEFINE_FINAL_TYPE (TesseraTokenPage, tessera_token_page, ADW_TYPE_PREFERENCES_PAGE)

/* The most a list of keys or objects takes before it scrolls: about
 * eight rows */
#define LIST_MAX_HEIGHT 504

/* Rows a list view builds at most in one frame (each takes about 0.7 ms) */
#define ROWS_PER_FRAME 8

enum {
  PROP_0,
  PROP_TOKEN,
  PROP_REGISTRY,
  PROP_AGENT_SYNC,
  PROP_SETTINGS,
  PROP_CANCELLABLE,
  N_PROPS
};

enum {
  SHOW_DETAILS,
  SET_UP_FOR_SSH,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static gboolean
is_blank (const char *s)
{
  return s == NULL || s[0] == '\0';
}

/* Rows for keys and objects */

/* Rows of certificates and other objects, in list views like the keys:
 * a title, a subtitle and an arrow to the details.  The arrow is a real
 * button, so that assistive technologies get an action to perform, not
 * just a clickable row. */

typedef struct
{
  GtkLabel  *title;
  GtkLabel  *subtitle;
  GtkWidget *details_button;
} ItemRow;

static void
on_details_button_clicked (GtkButton   *button,
                           GtkListItem *list_item)
{
  GtkWidget *page = gtk_widget_get_ancestor (GTK_WIDGET (button), TESSERA_TYPE_TOKEN_PAGE);
  GObject *item = gtk_list_item_get_item (list_item);

  if (page != NULL && item != NULL)
    tessera_token_page_show_details (TESSERA_TOKEN_PAGE (page), item);
}

/* One line, cut short: no wrapping in a row */
static GtkLabel *
new_row_label (GtkWidget  *box,
               const char *css_class)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_single_line_mode (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, css_class);
  gtk_box_append (GTK_BOX (box), label);

  return GTK_LABEL (label);
}

static void
on_item_setup (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               gpointer                  user_data)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  ItemRow *parts = g_new0 (ItemRow, 1);

  gtk_widget_add_css_class (row, "item-row");
  gtk_widget_set_hexpand (texts, TRUE);
  gtk_widget_set_valign (texts, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (texts, "title");
  gtk_box_append (GTK_BOX (row), texts);

  parts->title = new_row_label (texts, "title");
  parts->subtitle = new_row_label (texts, "subtitle");

  /* Set before the row is in the window: a tooltip set after asks the X
   * server where the pointer is */
  parts->details_button = gtk_button_new_from_icon_name ("go-next-symbolic");
  gtk_widget_set_valign (parts->details_button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (parts->details_button, _("Show Details"));
  gtk_widget_add_css_class (parts->details_button, "flat");
  g_signal_connect (parts->details_button, "clicked",
                    G_CALLBACK (on_details_button_clicked), list_item);
  gtk_box_append (GTK_BOX (row), parts->details_button);

  g_object_set_data_full (G_OBJECT (row), "tessera-item-row", parts, g_free);
  gtk_list_item_set_child (list_item, row);
}

static void
bind_item_row (GtkListItem *list_item,
               const char  *title,
               const char  *subtitle)
{
  GtkWidget *row = gtk_list_item_get_child (list_item);
  ItemRow *parts = g_object_get_data (G_OBJECT (row), "tessera-item-row");
  g_autofree char *label = NULL;

  gtk_label_set_text (parts->title, title);
  gtk_label_set_text (parts->subtitle, subtitle);
  gtk_widget_set_visible (GTK_WIDGET (parts->subtitle), !is_blank (subtitle));

  /* The list item is what a screen reader calls the row */
  gtk_accessible_update_property (GTK_ACCESSIBLE (gtk_widget_get_parent (row)),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle ? subtitle : "",
                                  -1);
  /* Translators: accessible label of a button, %s is a key's or an object's name */
  label = g_strdup_printf (_("Details of %s"), title);
  gtk_accessible_update_property (GTK_ACCESSIBLE (parts->details_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
}

/* The details of the key or object a row shows, on a click or Enter */
static void
on_items_list_activate (GtkListView      *list,
                        guint             position,
                        TesseraTokenPage *self)
{
  g_autoptr(GObject) item =
    g_list_model_get_item (G_LIST_MODEL (gtk_list_view_get_model (list)), position);

  if (item != NULL)
    tessera_token_page_show_details (self, item);
}

/* The key list: a GtkListView makes a TesseraKeyRow for each key near
 * its viewport, and binds it to one key at a time */

static void
on_key_row_fix_problem (TesseraKeyRow    *row,
                        TesseraProblem   *problem,
                        TesseraTokenPage *self)
{
  tessera_token_page_fix_problem (self, problem);
}

static void
on_key_row_show_details (TesseraKeyRow    *row,
                         TesseraKey       *key,
                         TesseraTokenPage *self)
{
  tessera_token_page_show_details (self, G_OBJECT (key));
}

static void
on_key_item_setup (GtkSignalListItemFactory *factory,
                   GtkListItem              *item,
                   TesseraTokenPage         *self)
{
  GtkWidget *row = tessera_key_row_new (self->window_cancellable, self->cancellable);

  g_signal_connect_object (row, "fix-problem", G_CALLBACK (on_key_row_fix_problem), self, 0);
  g_signal_connect_object (row, "show-details", G_CALLBACK (on_key_row_show_details), self, 0);
  gtk_list_item_set_child (item, row);
}

static void
on_key_item_bind (GtkSignalListItemFactory *factory,
                  GtkListItem              *item,
                  TesseraTokenPage         *self)
{
  TesseraKey *key = gtk_list_item_get_item (item);

  tessera_key_row_bind (TESSERA_KEY_ROW (gtk_list_item_get_child (item)), key, self->token,
                        tessera_problems_group_lookup (self->problems_group, key));
}

static void
on_key_item_unbind (GtkSignalListItemFactory *factory,
                    GtkListItem              *item,
                    TesseraTokenPage         *self)
{
  tessera_key_row_unbind (TESSERA_KEY_ROW (gtk_list_item_get_child (item)));
}

/* The doctor looked again: mark the keys it found wrong, in the rows
 * there are (the others look when they are bound) */
static void
on_problems_changed (TesseraProblemsGroup *group,
                     TesseraTokenPage     *self)
{
  for (GtkWidget *item = gtk_widget_get_first_child (GTK_WIDGET (self->keys_list));
       item != NULL;
       item = gtk_widget_get_next_sibling (item))
    {
      GtkWidget *row = gtk_widget_get_first_child (item);
      TesseraKey *key;

      if (!TESSERA_IS_KEY_ROW (row))
        continue;

      key = tessera_key_row_get_key (TESSERA_KEY_ROW (row));
      if (key != NULL)
        tessera_key_row_set_problem (TESSERA_KEY_ROW (row),
                                     tessera_problems_group_lookup (group, key));
    }
}

static char *
format_date (GDateTime *date_time)
{
  g_autoptr(GDateTime) local = g_date_time_to_local (date_time);

  /* Translators: a date with the month in words, never as ambiguous as
   * 12/02/27: see the strftime manual, e.g. "%-d %B %Y" */
  return g_date_time_format (local, _("%B %-d, %Y"));
}

static char *
describe_validity (TesseraObject *certificate)
{
  GDateTime *not_before = tessera_object_get_not_before (certificate);
  GDateTime *not_after = tessera_object_get_not_after (certificate);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = NULL;

  if (not_after != NULL && g_date_time_compare (now, not_after) > 0)
    {
      date = format_date (not_after);
      return g_strdup_printf (_("Expired on %s"), date);
    }

  if (not_before != NULL && g_date_time_compare (now, not_before) < 0)
    {
      date = format_date (not_before);
      return g_strdup_printf (_("Not valid before %s"), date);
    }

  if (not_after != NULL)
    {
      date = format_date (not_after);
      return g_strdup_printf (_("Valid until %s"), date);
    }

  return NULL;
}

static void
on_certificate_item_bind (GtkSignalListItemFactory *factory,
                          GtkListItem              *list_item,
                          gpointer                  user_data)
{
  TesseraObject *certificate = gtk_list_item_get_item (list_item);
  const char *label = tessera_object_get_display_label (certificate);
  const char *subject = tessera_object_get_subject (certificate);
  const GError *parse_error = tessera_object_get_parse_error (certificate);
  g_autofree char *validity = NULL;
  g_autofree char *subtitle = NULL;
  const char *title;

  if (!is_blank (label))
    title = label;
  else if (!is_blank (subject))
    title = subject;
  else
    title = C_("certificate", "Unnamed certificate");

  if (parse_error != NULL)
    subtitle = g_strdup_printf (_("Could not read this certificate: %s"), parse_error->message);
  else
    {
      GString *s = g_string_new (NULL);

      validity = describe_validity (certificate);
      if (!is_blank (subject) && title != subject)
        g_string_append (s, subject);
      if (validity != NULL)
        {
          if (s->len > 0)
            g_string_append (s, " · ");
          g_string_append (s, validity);
        }
      subtitle = g_string_free (s, FALSE);
    }

  bind_item_row (list_item, title, subtitle);
}

static void
on_object_item_bind (GtkSignalListItemFactory *factory,
                     GtkListItem              *list_item,
                     gpointer                  user_data)
{
  TesseraObject *object = gtk_list_item_get_item (list_item);
  const char *label = tessera_object_get_display_label (object);
  const char *kind = tessera_object_get_kind_name (object);
  const char *id = tessera_object_get_id_hex (object);
  g_autofree char *subtitle = NULL;

  if (!is_blank (id))
    /* Translators: an object's kind and ID, e.g. "Data · ID 02" */
    subtitle = g_strdup_printf (_("%s · ID %s"), kind, id);
  else
    subtitle = g_strdup (kind);

  bind_item_row (list_item, is_blank (label) ? kind : label, subtitle);
}

/* Keeping the page current */

static void
update_login_row (TesseraTokenPage *self)
{
  TesseraToken *token = self->token;
  const char *title = NULL;
  const char *subtitle = NULL;
  const char *icon_name = "system-lock-screen-symbolic";
  gboolean visible = TRUE;
  gboolean can_log_in = FALSE;
  gboolean can_log_out = FALSE;

  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_REMOVED))
    {
      title = _("The token was removed");
      icon_name = "dialog-warning-symbolic";
    }
  else if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
    {
      title = _("This token is not initialized");
      subtitle = _("It holds no keys until it is initialized with a label and an SO PIN");
      icon_name = "dialog-information-symbolic";
    }
  else if (tessera_token_get_logged_in (token))
    {
      title = _("Logged in");
      subtitle = _("Private keys are shown");
      icon_name = "changes-allow-symbolic";
      can_log_out = TRUE;
    }
  else if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_LOCKED_OUT))
    {
      title = _("The TPM is locked out");
      subtitle = _("Too many wrong PINs on its tokens. It clears by itself after the TPM’s "
                   "recovery time; no SO PIN ends it");
      icon_name = "dialog-warning-symbolic";
      /* The dialog explains; a PIN tried while locked out is not counted */
      can_log_in = TRUE;
    }
  else if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_LOCKED))
    {
      title = _("The PIN is locked");
      subtitle = _("Unblock it with the SO PIN to log in again");
      icon_name = "dialog-warning-symbolic";
      /* The dialog explains what to do; it never tries a login */
      can_log_in = TRUE;
    }
  else if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_NOT_SET))
    {
      title = _("The user PIN is not set");
      subtitle = _("Set it with the SO PIN before you log in");
      icon_name = "dialog-information-symbolic";
    }
  else if (!tessera_token_has_state (token, TESSERA_TOKEN_STATE_LOGIN_REQUIRED))
    {
      visible = FALSE;
    }
  else
    {
      title = _("Private keys are hidden until you log in");
      if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY))
        subtitle = _("One PIN try is left before the PIN is locked");
      else if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW))
        subtitle = _("A wrong PIN was entered recently");
      else if (tessera_token_is_tpm (token))
        subtitle = _("Wrong PINs on any of this TPM’s tokens count toward its lockout");
      can_log_in = TRUE;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->login_row), visible);
  if (visible)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->login_row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->login_row), subtitle ? subtitle : "");
      adw_action_row_set_icon_name (self->login_row, icon_name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->login_row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle ? subtitle : "",
                                      -1);
    }

  gtk_widget_set_visible (self->login_button, can_log_in);
  gtk_widget_set_visible (self->logout_button, can_log_out);
  gtk_widget_set_visible (self->initialize_button,
                          tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "token.log-in", can_log_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "token.log-out", can_log_out);
}

/* A certificate is imported only onto a token that may be written to,
 * once its objects are read: the core pairs it with a private key */
static void
update_import_certificate (TesseraTokenPage *self)
{
  TesseraToken *token = self->token;
  gboolean writable = !tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED)
    && !tessera_token_has_state (token, TESSERA_TOKEN_STATE_WRITE_PROTECTED);

  gtk_widget_set_visible (self->add_button, writable);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "token.import-certificate",
                                 writable && !self->reading
                                 && tessera_token_get_objects_loaded (token)
                                 && !tessera_token_has_state (token, TESSERA_TOKEN_STATE_REMOVED));
}

static void
update_reading (TesseraTokenPage *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->reading_row), self->reading);
  gtk_widget_set_visible (GTK_WIDGET (self->error_row),
                          !self->reading && self->read_error != NULL);
  if (self->read_error != NULL)
    adw_action_row_set_subtitle (self->error_row, self->read_error->message);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "token.reload", !self->reading);
  update_import_certificate (self);
}

/* A list view has no placeholder: a label lies over the empty list */
static void
update_keys_placeholder (TesseraTokenPage *self)
{
  TesseraToken *token = self->token;
  gboolean empty = g_list_model_get_n_items (tessera_token_get_keys (token)) == 0;
  const char *text;

  gtk_widget_set_visible (GTK_WIDGET (self->keys_placeholder), empty);
  if (!empty)
    return;

  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
    text = _("No keys: the token is not initialized");
  else if (!tessera_token_get_objects_loaded (token))
    text = self->reading ? _("Reading keys…") : _("The keys have not been read");
  else if (!tessera_token_get_logged_in (token)
           && tessera_token_has_state (token, TESSERA_TOKEN_STATE_LOGIN_REQUIRED))
    text = _("No public keys. Log in to see private keys.");
  else
    text = _("No keys on this token");

  gtk_label_set_text (self->keys_placeholder, text);
}

static void
update_group_visibility (TesseraTokenPage *self)
{
  GListModel *others = tessera_token_get_other_objects (self->token);

  gtk_widget_set_visible (GTK_WIDGET (self->certificates_group),
                          g_list_model_get_n_items (self->lone_certificates) > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->other_group),
                          g_list_model_get_n_items (others) > 0);
}

/* A key is made only on a token that may be written to */
static void
update_generate_key (TesseraTokenPage *self)
{
  TesseraToken *token = self->token;
  gboolean writable = !tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED)
    && !tessera_token_has_state (token, TESSERA_TOKEN_STATE_WRITE_PROTECTED);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "token.generate-key",
                                 writable
                                 && !tessera_token_has_state (token, TESSERA_TOKEN_STATE_REMOVED));
}

static void
update_all (TesseraTokenPage *self)
{
  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (self),
                                  tessera_token_get_display_name (self->token));
  update_login_row (self);
  update_reading (self);
  update_generate_key (self);
  update_keys_placeholder (self);
  update_group_visibility (self);
}

static void
on_token_notify (TesseraToken     *token,
                 GParamSpec       *pspec,
                 TesseraTokenPage *self)
{
  update_all (self);
}

/* The page's viewport gives each group its minimum height when the page
 * scrolls, and a scrolled window's minimum is a scrollbar's: a list asks
 * for the height of its rows, up to LIST_MAX_HEIGHT, and scrolls beyond.
 * Its rows are one height: the first one tells. */
static void
update_list_height (GtkScrolledWindow *scroller,
                    GtkListView       *list)
{
  GtkWidget *first = gtk_widget_get_first_child (GTK_WIDGET (list));
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (gtk_list_view_get_model (list)));
  int row_height;

  if (n_items == 0)
    {
      gtk_scrolled_window_set_min_content_height (scroller, 0);
      return;
    }
  if (first == NULL)
    return;

  gtk_widget_measure (first, GTK_ORIENTATION_VERTICAL, -1, NULL, &row_height, NULL, NULL);
  gtk_scrolled_window_set_min_content_height (scroller,
                                              (int) MIN ((gint64) n_items * row_height,
                                                         LIST_MAX_HEIGHT));
}

static void
update_keys_height (TesseraTokenPage *self)
{
  update_list_height (self->keys_scroller, self->keys_list);
}

static void
update_objects_height (TesseraTokenPage *self)
{
  update_list_height (self->certificates_scroller, self->certificates_list);
  update_list_height (self->other_scroller, self->other_list);
}

static void
on_keys_changed (GListModel       *model,
                 guint             position,
                 guint             removed,
                 guint             added,
                 TesseraTokenPage *self)
{
  update_keys_placeholder (self);
  update_keys_height (self);
}

static void
on_objects_changed (GListModel       *model,
                    guint             position,
                    guint             removed,
                    guint             added,
                    TesseraTokenPage *self)
{
  update_group_visibility (self);
  update_objects_height (self);
}

/* Reading objects, logging in and out */

static gboolean
token_is_readable (TesseraToken *token)
{
  return !tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED)
      && !tessera_token_has_state (token, TESSERA_TOKEN_STATE_REMOVED);
}

static void
on_objects_read (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(TesseraTokenPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_token_read_objects_finish (TESSERA_TOKEN (object), result, &error))
    {
      /* The page or its window is gone: touch nothing */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      if (g_cancellable_is_cancelled (self->cancellable))
        return;

      g_debug ("Could not read objects: %s", error->message);
      g_clear_error (&self->read_error);
      self->read_error = g_steal_pointer (&error);
    }

  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  self->reading = FALSE;
  update_all (self);
}

/**
 * tessera_token_page_reload:
 * @self: a #TesseraTokenPage
 *
 * Reads the token's objects again.
 */
void
tessera_token_page_reload (TesseraTokenPage *self)
{
  g_return_if_fail (TESSERA_IS_TOKEN_PAGE (self));

  if (self->reading || !token_is_readable (self->token))
    return;

  g_clear_error (&self->read_error);
  self->reading = TRUE;
  update_all (self);

  tessera_token_read_objects_async (self->token, self->cancellable,
                                    on_objects_read, g_object_ref (self));
}

/**
 * tessera_token_page_log_in:
 * @self: a #TesseraTokenPage
 *
 * Asks for the PIN and logs in.
 */
void
tessera_token_page_log_in (TesseraTokenPage *self)
{
  GtkRoot *root;
  GtkWidget *dialog;

  g_return_if_fail (TESSERA_IS_TOKEN_PAGE (self));

  root = gtk_widget_get_root (GTK_WIDGET (self));
  dialog = tessera_pin_dialog_new (self->token, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   self->cancellable);
  gtk_window_present (GTK_WINDOW (dialog));
}

/**
 * tessera_token_page_when_logged_in:
 * @self: a #TesseraTokenPage
 * @func: what to do once logged in
 * @user_data: passed to @func
 * @destroy: (nullable): frees @user_data, whether @func ran or not
 *
 * Runs @func once logged in, with the page's PIN dialog when the token
 * asks for a login (see tessera_pin_dialog_when_logged_in()).
 */
void
tessera_token_page_when_logged_in (TesseraTokenPage    *self,
                                   TesseraLoggedInFunc  func,
                                   gpointer             user_data,
                                   GDestroyNotify       destroy)
{
  GtkRoot *root;

  g_return_if_fail (TESSERA_IS_TOKEN_PAGE (self));
  g_return_if_fail (func != NULL);

  root = gtk_widget_get_root (GTK_WIDGET (self));
  tessera_pin_dialog_when_logged_in (self->token, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                     self->cancellable, func, user_data, destroy);
}

/**
 * tessera_token_page_fix_problem:
 * @self: a #TesseraTokenPage
 * @problem: a fixable problem the page shows
 *
 * Repairs the problem, reads the objects and looks for problems again.
 */
void
tessera_token_page_fix_problem (TesseraTokenPage *self,
                                TesseraProblem   *problem)
{
  g_return_if_fail (TESSERA_IS_TOKEN_PAGE (self));
  g_return_if_fail (TESSERA_IS_PROBLEM (problem));

  tessera_problems_group_fix (self->problems_group, problem);
}

/**
 * tessera_token_page_lookup_problem:
 * @self: a #TesseraTokenPage
 * @key: a key of the page's token
 *
 * Returns: (transfer none) (nullable): what the doctor found wrong with
 *   @key, a problem that can be fixed if there is one
 */
TesseraProblem *
tessera_token_page_lookup_problem (TesseraTokenPage *self,
                                   TesseraKey       *key)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN_PAGE (self), NULL);
  g_return_val_if_fail (TESSERA_IS_KEY (key), NULL);

  return tessera_problems_group_lookup (self->problems_group, key);
}

static void
on_logged_out (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(TesseraTokenPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_token_logout_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          || g_cancellable_is_cancelled (self->cancellable))
        return;

      tessera_toast_show (GTK_WIDGET (self), error->message);
    }

  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  update_all (self);
}

static void
generate_key_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  TesseraTokenPage *self = TESSERA_TOKEN_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *dialog;

  dialog = tessera_generate_key_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                            self->token, self->cancellable);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
set_up_for_ssh_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  g_signal_emit (widget, signals[SET_UP_FOR_SSH], 0);
}

static void
log_in_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  tessera_token_page_log_in (TESSERA_TOKEN_PAGE (widget));
}

static void
log_out_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  TesseraTokenPage *self = TESSERA_TOKEN_PAGE (widget);

  gtk_widget_action_set_enabled (widget, "token.log-out", FALSE);
  tessera_token_logout_async (self->token, self->cancellable,
                              on_logged_out, g_object_ref (self));
}

static void
reload_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  tessera_token_page_reload (TESSERA_TOKEN_PAGE (widget));
}

/* The token itself, apart from its keys, on a page of its own */
static void
show_details_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  TesseraTokenPage *self = TESSERA_TOKEN_PAGE (widget);

  tessera_token_page_show_details (self, G_OBJECT (self->token));
}

/* A list view builds every row it is given in one frame, up to a couple
 * of hundred: a read of a large token comes to it a few rows a frame. */
static GListModel *
paced (GListModel *model)
{
  return G_LIST_MODEL (tessera_paced_model_new (model, ROWS_PER_FRAME));
}

static void
set_up_item_list (TesseraTokenPage *self,
                  GtkListView      *list,
                  GListModel       *model,
                  GCallback         bind)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (on_item_setup), NULL);
  g_signal_connect (factory, "bind", bind, NULL);
  gtk_list_view_set_factory (list, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (list, GTK_SELECTION_MODEL (gtk_no_selection_new (paced (model))));
  g_object_unref (gtk_list_view_get_model (list));
  g_signal_connect_object (list, "activate", G_CALLBACK (on_items_list_activate), self, 0);
  g_signal_connect_object (list, "map", G_CALLBACK (update_objects_height), self, G_CONNECT_SWAPPED);
}

/* The Certificates group: the certificates that belong to no key (an
 * authority's, one whose key is gone).  A key's own certificate is part of
 * its row and its details; listing it twice would also build a second row
 * per key (GTK 4.8's list view builds up to 200, on screen or not). */

static gboolean
is_lone_certificate (gpointer item,
                     gpointer user_data)
{
  TesseraTokenPage *self = user_data;

  return !g_hash_table_contains (self->key_certificates, item);
}

/* The objects list changes last of the token's lists after a read, so the
 * keys are as the read found them */
static void
update_key_certificates (TesseraTokenPage *self)
{
  GListModel *keys = tessera_token_get_keys (self->token);
  guint n = g_list_model_get_n_items (keys);

  g_hash_table_remove_all (self->key_certificates);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraKey) key = g_list_model_get_item (keys, i);
      TesseraObject *certificate = tessera_key_get_certificate (key);

      if (certificate != NULL)
        g_hash_table_add (self->key_certificates, certificate);
    }
  gtk_filter_changed (self->lone_filter, GTK_FILTER_CHANGE_DIFFERENT);
}

/* The group's visibility and height follow the filtered list's own
 * items-changed (on_objects_changed) */
static void
on_token_objects_changed (GListModel       *model,
                          guint             position,
                          guint             removed,
                          guint             added,
                          TesseraTokenPage *self)
{
  update_key_certificates (self);
}

/* GObject */

static void
tessera_token_page_constructed (GObject *object)
{
  TesseraTokenPage *self = TESSERA_TOKEN_PAGE (object);
  GListModel *keys, *certificates, *others;
  GtkListItemFactory *factory;

  G_OBJECT_CLASS (tessera_token_page_parent_class)->constructed (object);

  g_assert (TESSERA_IS_TOKEN (self->token));

  /* Cancelled when the page goes away, and when its window closes */
  if (self->window_cancellable != NULL)
    g_signal_connect_object (self->window_cancellable, "cancelled",
                             G_CALLBACK (g_cancellable_cancel), self->cancellable,
                             G_CONNECT_SWAPPED);

  keys = tessera_token_get_keys (self->token);
  certificates = tessera_token_get_certificates (self->token);
  others = tessera_token_get_other_objects (self->token);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (on_key_item_setup), self);
  g_signal_connect (factory, "bind", G_CALLBACK (on_key_item_bind), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (on_key_item_unbind), self);
  gtk_list_view_set_factory (self->keys_list, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->keys_list,
                           GTK_SELECTION_MODEL (gtk_no_selection_new (paced (keys))));
  g_object_unref (gtk_list_view_get_model (self->keys_list));
  g_signal_connect_object (self->keys_list, "activate",
                           G_CALLBACK (on_items_list_activate), self, 0);
  g_signal_connect_object (keys, "items-changed",
                           G_CALLBACK (on_keys_changed), self, 0);
  /* A row's height depends on the style, known once the list is shown */
  g_signal_connect_object (self->keys_list, "map",
                           G_CALLBACK (update_keys_height), self, G_CONNECT_SWAPPED);
  self->key_certificates = g_hash_table_new (NULL, NULL);
  self->lone_filter = GTK_FILTER (gtk_custom_filter_new (is_lone_certificate, self, NULL));
  self->lone_certificates =
    G_LIST_MODEL (gtk_filter_list_model_new (g_object_ref (certificates),
                                             g_object_ref (self->lone_filter)));
  update_key_certificates (self);
  g_signal_connect_object (tessera_token_get_objects (self->token), "items-changed",
                           G_CALLBACK (on_token_objects_changed), self, 0);
  set_up_item_list (self, self->certificates_list, self->lone_certificates,
                    G_CALLBACK (on_certificate_item_bind));
  set_up_item_list (self, self->other_list, others, G_CALLBACK (on_object_item_bind));

  g_signal_connect_object (self->lone_certificates, "items-changed",
                           G_CALLBACK (on_objects_changed), self, 0);
  g_signal_connect_object (others, "items-changed",
                           G_CALLBACK (on_objects_changed), self, 0);

  g_signal_connect_object (self->token, "notify::label",
                           G_CALLBACK (on_token_notify), self, 0);
  g_signal_connect_object (self->token, "notify::state",
                           G_CALLBACK (on_token_notify), self, 0);
  g_signal_connect_object (self->token, "notify::logged-in",
                           G_CALLBACK (on_token_notify), self, 0);
  g_signal_connect_object (self->token, "notify::objects-loaded",
                           G_CALLBACK (on_token_notify), self, 0);

  tessera_agent_group_set_token (self->agent_group, self->token, self->agent_sync, self->settings,
                                 self->window_cancellable);
  g_signal_connect_object (self->problems_group, "changed",
                           G_CALLBACK (on_problems_changed), self, 0);
  tessera_problems_group_set_token (self->problems_group, self->token, self->cancellable);

  update_all (self);

  if (!tessera_token_get_objects_loaded (self->token))
    tessera_token_page_reload (self);
}

static void
tessera_token_page_dispose (GObject *object)
{
  TesseraTokenPage *self = TESSERA_TOKEN_PAGE (object);

  g_cancellable_cancel (self->cancellable);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_TOKEN_PAGE);
  /* Let go of the token's certificates: the filter reads this page */
  g_clear_object (&self->lone_certificates);

  G_OBJECT_CLASS (tessera_token_page_parent_class)->dispose (object);
}

static void
tessera_token_page_finalize (GObject *object)
{
  TesseraTokenPage *self = TESSERA_TOKEN_PAGE (object);

  g_clear_object (&self->token);
  g_clear_object (&self->registry);
  g_clear_object (&self->agent_sync);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->window_cancellable);
  g_clear_error (&self->read_error);
  g_clear_object (&self->lone_filter);
  g_clear_pointer (&self->key_certificates, g_hash_table_unref);

  G_OBJECT_CLASS (tessera_token_page_parent_class)->finalize (object);
}

static void
tessera_token_page_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  TesseraTokenPage *self = TESSERA_TOKEN_PAGE (object);

  switch (prop_id)
    {
    case PROP_TOKEN:
      g_value_set_object (value, self->token);
      break;

    case PROP_REGISTRY:
      g_value_set_object (value, self->registry);
      break;

    case PROP_AGENT_SYNC:
      g_value_set_object (value, self->agent_sync);
      break;

    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    case PROP_CANCELLABLE:
      g_value_set_object (value, self->window_cancellable);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_token_page_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  TesseraTokenPage *self = TESSERA_TOKEN_PAGE (object);

  switch (prop_id)
    {
    case PROP_TOKEN:
      self->token = g_value_dup_object (value);
      break;

    case PROP_REGISTRY:
      self->registry = g_value_dup_object (value);
      break;

    case PROP_AGENT_SYNC:
      self->agent_sync = g_value_dup_object (value);
      break;

    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    case PROP_CANCELLABLE:
      self->window_cancellable = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_token_page_class_init (TesseraTokenPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = tessera_token_page_constructed;
  object_class->dispose = tessera_token_page_dispose;
  object_class->finalize = tessera_token_page_finalize;
  object_class->get_property = tessera_token_page_get_property;
  object_class->set_property = tessera_token_page_set_property;

  properties[PROP_TOKEN] =
    g_param_spec_object ("token", NULL, NULL,
                         TESSERA_TYPE_TOKEN,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * TesseraTokenPage:registry:
   *
   * The app's registry, for the dialogs that change a token.
   */
  properties[PROP_REGISTRY] =
    g_param_spec_object ("registry", NULL, NULL,
                         TESSERA_TYPE_REGISTRY,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * TesseraTokenPage:agent-sync:
   *
   * The app's agent sync, with the SSH agent, for the agent switch.
   */
  properties[PROP_AGENT_SYNC] =
    g_param_spec_object ("agent-sync", NULL, NULL,
                         TESSERA_TYPE_AGENT_SYNC,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * TesseraTokenPage:settings:
   *
   * The app's settings.
   */
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         G_TYPE_SETTINGS,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  /**
   * TesseraTokenPage:cancellable:
   *
   * The window's cancellable: cancelling it cancels the page's work, and
   * the work of the rows and dialogs that outlive it.
   */
  properties[PROP_CANCELLABLE] =
    g_param_spec_object ("cancellable", NULL, NULL,
                         G_TYPE_CANCELLABLE,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TesseraTokenPage::show-details:
   * @self: the page
   * @item: the #TesseraKey or #TesseraObject the user chose
   *
   * Asks to show the details of a key or an object.
   */
  signals[SHOW_DETAILS] =
    g_signal_new ("show-details",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_OBJECT);

  /**
   * TesseraTokenPage::set-up-for-ssh:
   * @self: the page
   *
   * Asks to open the Set Up for SSH assistant for the page's token.
   */
  signals[SET_UP_FOR_SSH] =
    g_signal_new ("set-up-for-ssh",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  g_type_ensure (TESSERA_TYPE_LIFECYCLE_GROUP);
  g_type_ensure (TESSERA_TYPE_AGENT_GROUP);
  g_type_ensure (TESSERA_TYPE_PROBLEMS_GROUP);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-token-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, status_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, login_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, login_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, logout_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, initialize_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, reading_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, error_row);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, problems_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, keys_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, add_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, keys_placeholder);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, keys_overlay);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, keys_scroller);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, keys_list);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, agent_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, certificates_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, certificates_scroller);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, certificates_list);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, other_group);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, other_scroller);
  gtk_widget_class_bind_template_child (widget_class, TesseraTokenPage, other_list);

  gtk_widget_class_install_action (widget_class, "token.log-in", NULL, log_in_action);
  gtk_widget_class_install_action (widget_class, "token.log-out", NULL, log_out_action);
  gtk_widget_class_install_action (widget_class, "token.reload", NULL, reload_action);
  gtk_widget_class_install_action (widget_class, "token.show-details", NULL, show_details_action);
  tessera_token_page_install_lifecycle_actions (widget_class);
  tessera_token_page_install_certificate_actions (widget_class);
  gtk_widget_class_install_action (widget_class, "token.generate-key", NULL, generate_key_action);
  gtk_widget_class_install_action (widget_class, "token.set-up-for-ssh", NULL, set_up_for_ssh_action);
}

static void
tessera_token_page_init (TesseraTokenPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();

  /* The placeholder gives the empty list its height */
  gtk_overlay_set_measure_overlay (self->keys_overlay, GTK_WIDGET (self->keys_placeholder), TRUE);

  /* The first layout of the page measured each row's subtitle dozens of
   * times (tessera-row-title-layout.c) */
  tessera_row_title_layout_install_all (GTK_WIDGET (self));
}

/**
 * tessera_token_page_new:
 * @token: the token to show
 * @registry: the app's registry
 * @agent_sync: the app's agent sync
 * @settings: the app's settings
 * @cancellable: (nullable): the window's cancellable
 *
 * Returns: (transfer floating): a new page for @token
 */
GtkWidget *
tessera_token_page_new (TesseraToken     *token,
                        TesseraRegistry  *registry,
                        TesseraAgentSync *agent_sync,
                        GSettings        *settings,
                        GCancellable     *cancellable)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);
  g_return_val_if_fail (TESSERA_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (TESSERA_IS_AGENT_SYNC (agent_sync), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);

  return g_object_new (TESSERA_TYPE_TOKEN_PAGE,
                       "token", token,
                       "registry", registry,
                       "agent-sync", agent_sync,
                       "settings", settings,
                       "cancellable", cancellable,
                       NULL);
}

TesseraToken *
tessera_token_page_get_token (TesseraTokenPage *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN_PAGE (self), NULL);

  return self->token;
}

TesseraRegistry *
tessera_token_page_get_registry (TesseraTokenPage *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN_PAGE (self), NULL);

  return self->registry;
}

/**
 * tessera_token_page_get_cancellable:
 * @self: a #TesseraTokenPage
 *
 * Returns: (transfer none) (nullable): the window's cancellable, for work
 *   that outlives the page: the dialogs that belong to the window
 */
GCancellable *
tessera_token_page_get_cancellable (TesseraTokenPage *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN_PAGE (self), NULL);

  return self->window_cancellable;
}

/**
 * tessera_token_page_show_details:
 * @self: a #TesseraTokenPage
 * @item: a #TesseraKey or #TesseraObject of the page's token, or the
 *   token itself
 *
 * Asks the window to show the details of a key, an object or the token.
 */
void
tessera_token_page_show_details (TesseraTokenPage *self,
                                 GObject          *item)
{
  g_return_if_fail (TESSERA_IS_TOKEN_PAGE (self));
  g_return_if_fail (TESSERA_IS_KEY (item) || TESSERA_IS_OBJECT (item) || TESSERA_IS_TOKEN (item));

  g_signal_emit (self, signals[SHOW_DETAILS], 0, item);
}
