/* tessera-problems-group.c: what is wrong with a token's objects, and the fixes
 *
 * Each time the token's objects are read, while it is logged in or needs
 * no login, the core's doctor looks for what makes OpenSSH and other
 * programs miss a key: a certificate under another ID than its private
 * key, a private key with no public part, IDs shared or empty.  The group
 * lists what it finds, one row per problem, with a Fix button where the
 * core can repair it; it hides itself when there is nothing to show.
 * The token page marks the key rows the problems are about, and their Fix
 * buttons come here too.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-error-dialog.h"
#include "tessera-problems-group.h"
#include "tessera-row-title-layout.h"
#include "tessera-toast.h"

struct _TesseraProblemsGroup
{
  AdwPreferencesGroup  parent_instance;

  /* widgets made in code */
  GtkListBox          *list;
  GPtrArray           *fix_buttons;

  /* owned references */
  TesseraToken        *token;
  GCancellable        *cancellable;     /* the page's: it goes away, or its window closes */
  GCancellable        *diagnosis;       /* the diagnosis in progress */
  GPtrArray           *problems;

  char                *fixing_title;

  guint                fixing : 1;
};

G_DEFINE_FINAL_TYPE (TesseraProblemsGroup, tessera_problems_group, ADW_TYPE_PREFERENCES_GROUP)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
is_cancelled (TesseraProblemsGroup *self,
              const GError         *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || self->cancellable == NULL
      || g_cancellable_is_cancelled (self->cancellable);
}

/* The rows */

static void
on_fix_clicked (GtkButton            *button,
                TesseraProblemsGroup *self)
{
  TesseraProblem *problem = g_object_get_data (G_OBJECT (button), "tessera-problem");

  if (problem != NULL)
    tessera_problems_group_fix (self, problem);
}

static GtkWidget *
create_problem_row (TesseraProblemsGroup *self,
                    TesseraProblem       *problem)
{
  GtkWidget *row = adw_action_row_new ();
  const char *description = tessera_problem_get_description (problem);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), tessera_problem_get_title (problem));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), description ? description : "");
  adw_action_row_set_icon_name (ADW_ACTION_ROW (row), "dialog-warning-symbolic");
  gtk_widget_add_css_class (row, "token-problem");
  tessera_row_title_layout_install (ADW_ACTION_ROW (row));
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description ? description : "",
                                  -1);

  if (tessera_problem_get_fixable (problem))
    {
      GtkWidget *button = gtk_button_new_with_mnemonic (_("_Fix"));
      const char *fix = tessera_problem_get_fix_description (problem);

      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (button, fix);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, fix ? fix : "",
                                      -1);
      gtk_widget_set_sensitive (button, !self->fixing && self->diagnosis == NULL);
      g_object_set_data_full (G_OBJECT (button), "tessera-problem",
                              g_object_ref (problem), g_object_unref);
      g_signal_connect_object (button, "clicked", G_CALLBACK (on_fix_clicked), self, 0);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      g_ptr_array_add (self->fix_buttons, button);
    }

  return row;
}

static void
set_problems (TesseraProblemsGroup *self,
              GPtrArray            *problems)
{
  GtkWidget *child;

  if (self->fix_buttons == NULL)
    return;

  if (problems == NULL && (self->problems == NULL || self->problems->len == 0))
    return;

  g_clear_pointer (&self->problems, g_ptr_array_unref);
  if (problems != NULL)
    self->problems = g_ptr_array_ref (problems);

  g_ptr_array_set_size (self->fix_buttons, 0);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);

  for (guint i = 0; self->problems != NULL && i < self->problems->len; i++)
    gtk_list_box_append (self->list,
                         create_problem_row (self, g_ptr_array_index (self->problems, i)));

  gtk_widget_set_visible (GTK_WIDGET (self), self->problems != NULL && self->problems->len > 0);

  g_signal_emit (self, signals[CHANGED], 0);
}

/* One fix at a time, and none while the doctor looks again: the
 * problems shown may be gone by then */
static void
update_fix_buttons (TesseraProblemsGroup *self)
{
  gboolean sensitive = !self->fixing && self->diagnosis == NULL;

  for (guint i = 0; self->fix_buttons != NULL && i < self->fix_buttons->len; i++)
    gtk_widget_set_sensitive (g_ptr_array_index (self->fix_buttons, i), sensitive);
}

static void
set_fixing (TesseraProblemsGroup *self,
            gboolean              fixing)
{
  self->fixing = fixing;
  update_fix_buttons (self);
}

/* Diagnosing */

static gboolean
can_diagnose (TesseraToken *token)
{
  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED)
      || tessera_token_has_state (token, TESSERA_TOKEN_STATE_REMOVED)
      || !tessera_token_get_objects_loaded (token))
    return FALSE;

  /* Before login the private keys are hidden, and every key would look
   * like one without its private half */
  return tessera_token_get_logged_in (token)
      || !tessera_token_has_state (token, TESSERA_TOKEN_STATE_LOGIN_REQUIRED);
}

static void
on_diagnosed (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TesseraProblemsGroup) self = user_data;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(GError) error = NULL;
  GCancellable *diagnosis = g_task_get_cancellable (G_TASK (result));

  problems = tessera_token_diagnose_finish (TESSERA_TOKEN (object), result, &error);

  /* The page went away, or a newer diagnosis replaced this one */
  if (is_cancelled (self, error)
      || (diagnosis != NULL && g_cancellable_is_cancelled (diagnosis))
      || TESSERA_TOKEN (object) != self->token)
    return;

  if (diagnosis == self->diagnosis)
    g_clear_object (&self->diagnosis);
  update_fix_buttons (self);

  if (problems == NULL)
    {
      /* Not worth more than a line in the log: the keys are listed anyway */
      g_debug ("Could not look for problems: %s", error->message);
      set_problems (self, NULL);
      return;
    }

  g_debug ("%u problems on %s", problems->len, tessera_token_get_uri (self->token));
  set_problems (self, problems);
}

static void
diagnose (TesseraProblemsGroup *self)
{
  if (self->diagnosis != NULL)
    {
      g_cancellable_cancel (self->diagnosis);
      g_clear_object (&self->diagnosis);
    }

  if (self->token == NULL || self->cancellable == NULL
      || g_cancellable_is_cancelled (self->cancellable))
    return;

  if (!can_diagnose (self->token))
    {
      set_problems (self, NULL);
      return;
    }

  self->diagnosis = g_cancellable_new ();
  update_fix_buttons (self);
  tessera_token_diagnose_async (self->token, self->diagnosis,
                                on_diagnosed, g_object_ref (self));
}

static void
on_objects_changed (GListModel           *model,
                    guint                 position,
                    guint                 removed,
                    guint                 added,
                    TesseraProblemsGroup *self)
{
  diagnose (self);
}

static void
on_token_notify (TesseraToken         *token,
                 GParamSpec           *pspec,
                 TesseraProblemsGroup *self)
{
  /* Logged out or removed: what was found no longer shows */
  if (!can_diagnose (token))
    diagnose (self);
}

/* Fixing */

static void
on_fixed_objects_read (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(TesseraProblemsGroup) self = user_data;
  g_autoptr(GError) error = NULL;

  /* Reading the objects again runs the doctor again */
  if (!tessera_token_read_objects_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;

      tessera_toast_show (GTK_WIDGET (self), error->message);
    }

  if (is_cancelled (self, NULL))
    return;

  set_fixing (self, FALSE);
}

static void
on_problem_fixed (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TesseraProblemsGroup) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (!tessera_token_fix_problem_finish (TESSERA_TOKEN (object), result, &error))
    {
      GtkRoot *root;

      if (is_cancelled (self, error))
        return;

      set_fixing (self, FALSE);

      root = gtk_widget_get_root (GTK_WIDGET (self));
      tessera_error_dialog_show (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                 _("Could Not Fix the Problem"), error->message, "pairing");

      /* Whatever was done, the token may have changed */
      tessera_token_read_objects_async (self->token, self->cancellable,
                                        on_fixed_objects_read, g_object_ref (self));
      return;
    }

  if (is_cancelled (self, NULL))
    return;

  /* Translators: a notification, %s is the problem, e.g. "Fixed: Certificate under another ID" */
  text = g_strdup_printf (_("Fixed: %s"), self->fixing_title ? self->fixing_title : "");
  tessera_toast_show (GTK_WIDGET (self), text);
  tessera_token_read_objects_async (self->token, self->cancellable,
                                    on_fixed_objects_read, g_object_ref (self));
}

/**
 * tessera_problems_group_fix:
 * @self: a #TesseraProblemsGroup
 * @problem: a fixable #TesseraProblem the group found
 *
 * Repairs the problem on the token, then reads the objects again, which
 * looks for problems again.  One fix at a time.
 */
void
tessera_problems_group_fix (TesseraProblemsGroup *self,
                            TesseraProblem       *problem)
{
  g_return_if_fail (TESSERA_IS_PROBLEMS_GROUP (self));
  g_return_if_fail (TESSERA_IS_PROBLEM (problem));

  if (self->fixing || self->diagnosis != NULL || self->token == NULL
      || self->cancellable == NULL || !tessera_problem_get_fixable (problem))
    return;

  g_debug ("Fixing a problem: %s", tessera_problem_get_kind_nick (problem));

  set_fixing (self, TRUE);
  g_free (self->fixing_title);
  self->fixing_title = g_strdup (tessera_problem_get_title (problem));
  tessera_token_fix_problem_async (self->token, problem, self->cancellable,
                                   on_problem_fixed, g_object_ref (self));
}

/* Looking up a key's problem */

static gboolean
problem_is_about (TesseraProblem *problem,
                  TesseraKey     *key)
{
  GBytes *problem_id = tessera_problem_get_key_id (problem);
  GBytes *key_id = tessera_key_get_id (key);
  GPtrArray *objects = tessera_problem_get_objects (problem);
  g_autoptr(GPtrArray) key_objects = NULL;

  if (problem_id != NULL && key_id != NULL
      && g_bytes_get_size (problem_id) > 0 && g_bytes_equal (problem_id, key_id))
    return TRUE;

  /* An object the problem names may sit in another key: a certificate
   * under the wrong ID is a key of its own */
  if (objects == NULL)
    return FALSE;

  key_objects = tessera_key_list_objects (key);
  for (guint i = 0; i < objects->len; i++)
    for (guint j = 0; j < key_objects->len; j++)
      if (tessera_object_get_handle (g_ptr_array_index (objects, i))
          == tessera_object_get_handle (g_ptr_array_index (key_objects, j)))
        return TRUE;

  return FALSE;
}

/**
 * tessera_problems_group_lookup:
 * @self: a #TesseraProblemsGroup
 * @key: a key of the group's token
 *
 * Returns: (transfer none) (nullable): a problem the key has, one that can
 *   be fixed if there is one
 */
TesseraProblem *
tessera_problems_group_lookup (TesseraProblemsGroup *self,
                               TesseraKey           *key)
{
  TesseraProblem *found = NULL;

  g_return_val_if_fail (TESSERA_IS_PROBLEMS_GROUP (self), NULL);
  g_return_val_if_fail (TESSERA_IS_KEY (key), NULL);

  for (guint i = 0; self->problems != NULL && i < self->problems->len; i++)
    {
      TesseraProblem *problem = g_ptr_array_index (self->problems, i);

      if (!problem_is_about (problem, key))
        continue;

      if (tessera_problem_get_fixable (problem))
        return problem;

      if (found == NULL)
        found = problem;
    }

  return found;
}

/**
 * tessera_problems_group_set_token:
 * @self: a #TesseraProblemsGroup
 * @token: the token whose objects are examined
 * @cancellable: cancelled when the page goes away
 *
 * Sets the token, and looks for problems each time its objects are read.
 */
void
tessera_problems_group_set_token (TesseraProblemsGroup *self,
                                  TesseraToken         *token,
                                  GCancellable         *cancellable)
{
  g_return_if_fail (TESSERA_IS_PROBLEMS_GROUP (self));
  g_return_if_fail (TESSERA_IS_TOKEN (token));
  g_return_if_fail (G_IS_CANCELLABLE (cancellable));

  if (self->token != NULL)
    {
      g_signal_handlers_disconnect_by_data (tessera_token_get_objects (self->token), self);
      g_signal_handlers_disconnect_by_data (self->token, self);
      g_clear_object (&self->token);
    }
  if (self->diagnosis != NULL)
    {
      g_cancellable_cancel (self->diagnosis);
      g_clear_object (&self->diagnosis);
    }
  g_set_object (&self->cancellable, cancellable);
  set_fixing (self, FALSE);
  set_problems (self, NULL);

  self->token = g_object_ref (token);

  g_signal_connect_object (tessera_token_get_objects (token), "items-changed",
                           G_CALLBACK (on_objects_changed), self, 0);
  g_signal_connect_object (token, "notify::logged-in",
                           G_CALLBACK (on_token_notify), self, 0);
  g_signal_connect_object (token, "notify::state",
                           G_CALLBACK (on_token_notify), self, 0);

  diagnose (self);
}

/* GObject */

static void
tessera_problems_group_dispose (GObject *object)
{
  TesseraProblemsGroup *self = TESSERA_PROBLEMS_GROUP (object);

  if (self->diagnosis != NULL)
    g_cancellable_cancel (self->diagnosis);
  g_clear_object (&self->diagnosis);
  g_clear_pointer (&self->fix_buttons, g_ptr_array_unref);
  g_clear_pointer (&self->problems, g_ptr_array_unref);
  g_clear_object (&self->token);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (tessera_problems_group_parent_class)->dispose (object);
}

static void
tessera_problems_group_finalize (GObject *object)
{
  TesseraProblemsGroup *self = TESSERA_PROBLEMS_GROUP (object);

  g_clear_pointer (&self->fixing_title, g_free);

  G_OBJECT_CLASS (tessera_problems_group_parent_class)->finalize (object);
}

static void
tessera_problems_group_class_init (TesseraProblemsGroupClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tessera_problems_group_dispose;
  object_class->finalize = tessera_problems_group_finalize;

  /**
   * TesseraProblemsGroup::changed:
   *
   * The problems were found again: the key rows may need marking.
   */
  signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
tessera_problems_group_init (TesseraProblemsGroup *self)
{
  self->fix_buttons = g_ptr_array_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self), _("Problems"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self),
                                         _("Objects that OpenSSH and other programs cannot pair "
                                           "into keys"));

  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Problems"),
                                  -1);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), GTK_WIDGET (self->list));

  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}
