/* tessera-setup-assistant.c: "Set Up for SSH…", from a blank token to an SSH login
 *
 * One window walks through what a token needs before SSH can use it:
 * initialize it (or change the PINs it came with), set the user PIN,
 * choose a key or make one, give it a self-signed certificate, check
 * that its objects pair up, sign a test challenge, and finally copy the
 * key, put it in the agent and copy a Host block.
 *
 * Going forward, every step the token already satisfies is skipped, and
 * the next page says so in a sentence.  Going back shows every step's page,
 * which says what is done or asks again.  Each step's work is one core
 * call (or a short chain of them) that either completes or does not
 * start; Cancel cancels the window's cancellable, and the core undoes a
 * key pair made after the cancel.  The PINs typed in this window are kept
 * only so that they are not asked twice, and wiped when it closes.
 *
 * SoftHSM moves a token to another slot when it is initialized: the
 * registry is refreshed after every PIN operation and the token found
 * again by its label.
 *
 * This file has the window, its pages, the login and the way through the
 * steps; tessera-setup-assistant-steps.c has what each step shows and does.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "tessera-pin-dialog.h"
#include "tessera-setup-assistant-private.h"

G_DEFINE_FINAL_TYPE (TesseraSetupAssistant, tessera_setup_assistant, ADW_TYPE_WINDOW)

enum {
  TOKEN_READY,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Small things */

static const char *
step_title (Step step)
{
  return _(_tessera_setup_get_step (step)->title);
}

static const char *
step_name (Step step)
{
  return _tessera_setup_get_step (step)->name;
}

void
_tessera_setup_forget_pins (TesseraSetupAssistant *self)
{
  tessera_pin_wipe (&self->so_pin);
  tessera_pin_wipe (&self->user_pin);
}

void
_tessera_setup_wipe_rows (TesseraSetupAssistant *self)
{
  if (self->form != NULL)
    tessera_pin_form_wipe (self->form);
}

void
_tessera_setup_toast (TesseraSetupAssistant *self,
                      const char            *text)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

char *
_tessera_setup_dup_entry_text (GtkWidget *entry)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
}

void
_tessera_setup_add_note (TesseraSetupAssistant *self,
                         const char            *note)
{
  g_ptr_array_add (self->pending_notes, g_strdup (note));

  /* Back and forth passes the same steps again: say it once at the end */
  for (guint i = 0; i < self->all_notes->len; i++)
    if (g_str_equal (g_ptr_array_index (self->all_notes, i), note))
      return;
  g_ptr_array_add (self->all_notes, g_strdup (note));
}

/* The token, as the registry knows it now */

static void
set_token (TesseraSetupAssistant *self,
           TesseraToken          *token)
{
  if (token == NULL || token == self->token)
    return;

  g_set_object (&self->token, token);
  g_free (self->old_serial);
  self->old_serial = g_strdup (tessera_token_get_serial (token));
  self->pairing.fresh = FALSE;
}

/* Pages */

static void
update_header (TesseraSetupAssistant *self)
{
  g_autofree char *subtitle = NULL;
  gboolean on_page = g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "working") != 0;

  /* Translators: the assistant's subtitle, "Step 3 of 7: Choose or Create a Key" */
  subtitle = g_strdup_printf (_("Step %u of %u: %s"), self->step + 1, N_STEPS,
                              step_title (self->step));
  adw_window_title_set_subtitle (self->window_title, subtitle);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "assistant.back",
                                 !self->busy && on_page && self->step > STEP_INITIALIZE);
  /* A page with PINs goes on only once its form is right */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "assistant.next",
                                 !self->busy && on_page
                                 && (self->form == NULL || tessera_pin_form_get_valid (self->form)));

  if (on_page)
    gtk_widget_set_sensitive (self->pages[self->step].content, !self->busy);

  /* The last page has nothing to cancel or go back to: only Done */
  gtk_widget_set_visible (self->cancel_button, self->step != STEP_FINISH);
  gtk_widget_set_visible (self->back_button, self->step != STEP_FINISH);
}

static void
on_pin_form_activate (TesseraSetupAssistant *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "assistant.next", NULL);
}

/* The page's PIN form: Next waits for it to be right, Enter in it means
 * Next, and Tab from its last field goes to Next, never to Cancel, which
 * would throw away the PINs typed */
TesseraPinForm *
_tessera_setup_add_pin_form (TesseraSetupAssistant *self,
                             Page                  *page)
{
  TesseraPinForm *form = TESSERA_PIN_FORM (tessera_pin_form_new ());

  tessera_pin_form_set_token (form, self->token);
  tessera_pin_form_set_action (form, self->next_button);
  g_signal_connect_object (form, "notify::valid", G_CALLBACK (update_header), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (form, "activate", G_CALLBACK (on_pin_form_activate), self,
                           G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (page->content), GTK_WIDGET (form));
  g_set_weak_pointer (&self->form, form);

  return form;
}

void
_tessera_setup_set_next_label (TesseraSetupAssistant *self,
                               const char            *label)
{
  gtk_button_set_label (GTK_BUTTON (self->next_button), label);
}

static GtkWidget *
find_first_editable (GtkWidget *widget)
{
  if (GTK_IS_EDITABLE (widget) && gtk_widget_get_visible (widget)
      && gtk_widget_is_sensitive (widget))
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_first_editable (child);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* Enter means Next: the first field of the page has the focus, else the
 * Next button; never Cancel, which a disabled Back would pass it to */
static void
focus_page (TesseraSetupAssistant *self,
            gboolean               always)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));
  GtkWidget *content = self->pages[self->step].content;
  GtkWidget *field;

  if (!always && focus != NULL && gtk_widget_is_sensitive (focus)
      && gtk_widget_is_ancestor (focus, content))
    return;

  field = find_first_editable (content);
  if (field != NULL)
    gtk_widget_grab_focus (field);
  else if (gtk_widget_is_sensitive (self->next_button))
    gtk_widget_grab_focus (self->next_button);
  else
    gtk_window_set_focus (GTK_WINDOW (self), NULL);
}

void
_tessera_setup_set_busy (TesseraSetupAssistant *self,
                         const char            *text)
{
  Page *page = &self->pages[self->step];

  self->busy = text != NULL;
  gtk_widget_set_visible (page->progress_box, self->busy);
  gtk_spinner_set_spinning (GTK_SPINNER (page->spinner), self->busy);
  if (text != NULL)
    {
      gtk_label_set_text (GTK_LABEL (page->progress_label), text);
      gtk_widget_set_visible (page->error, FALSE);
    }
  update_header (self);
  if (!self->busy && !self->dismissed
      && g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "working") != 0)
    focus_page (self, FALSE);
}

void
_tessera_setup_show_error (TesseraSetupAssistant *self,
                           const char            *message)
{
  Page *page = &self->pages[self->step];

  gtk_label_set_text (GTK_LABEL (page->error), message);
  gtk_widget_set_visible (page->error, message != NULL);
}

/* Work in progress between pages, while the next one is worked out */
void
_tessera_setup_show_working (TesseraSetupAssistant *self,
                             const char            *title)
{
  adw_status_page_set_title (self->working_page, title);
  gtk_spinner_set_spinning (self->working_spinner, TRUE);
  gtk_stack_set_visible_child_name (self->stack, "working");
  update_header (self);
}

/* A step that cannot go on: its page, with why */
void
_tessera_setup_fail_step (TesseraSetupAssistant *self,
                          Step                   step,
                          const char            *message)
{
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), step_name (step)) != 0)
    _tessera_setup_show_step (self, step);
  _tessera_setup_set_busy (self, NULL);
  _tessera_setup_show_error (self, message);
}

GtkWidget *
_tessera_setup_new_wrapped_label (const char *css_class)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);

  return label;
}

static void
build_page (TesseraSetupAssistant *self,
            Step                   step)
{
  Page *page = &self->pages[step];
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_margin_top (box, 24);
  gtk_widget_set_margin_bottom (box, 24);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);

  page->heading = _tessera_setup_new_wrapped_label ("title-2");
  gtk_label_set_text (GTK_LABEL (page->heading), step_title (step));
  gtk_box_append (GTK_BOX (box), page->heading);

  page->notes = _tessera_setup_new_wrapped_label ("dim-label");
  gtk_widget_set_visible (page->notes, FALSE);
  gtk_box_append (GTK_BOX (box), page->notes);

  page->body = _tessera_setup_new_wrapped_label (NULL);
  gtk_box_append (GTK_BOX (box), page->body);

  page->content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_box_append (GTK_BOX (box), page->content);

  page->progress_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_visible (page->progress_box, FALSE);
  page->spinner = gtk_spinner_new ();
  gtk_accessible_update_property (GTK_ACCESSIBLE (page->spinner),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Working"),
                                  -1);
  gtk_box_append (GTK_BOX (page->progress_box), page->spinner);
  page->progress_label = _tessera_setup_new_wrapped_label (NULL);
  gtk_box_append (GTK_BOX (page->progress_box), page->progress_label);
  gtk_box_append (GTK_BOX (box), page->progress_box);

  page->error = _tessera_setup_new_wrapped_label ("pin-error");
  gtk_widget_set_visible (page->error, FALSE);
  gtk_box_append (GTK_BOX (box), page->error);

  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);

  /* The page is a group named by its title, for screen readers */
  page->root = scrolled;
  gtk_stack_add_titled (self->stack, scrolled, step_name (step), step_title (step));
  gtk_accessible_update_property (GTK_ACCESSIBLE (box),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, step_title (step),
                                  -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (box),
                                  GTK_ACCESSIBLE_RELATION_LABELLED_BY, page->heading, NULL,
                                  -1);
}

void
_tessera_setup_clear_content (Page *page)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (page->content)) != NULL)
    gtk_box_remove (GTK_BOX (page->content), child);
  gtk_label_set_text (GTK_LABEL (page->body), NULL);
  gtk_widget_set_visible (page->error, FALSE);
  gtk_widget_set_visible (page->progress_box, FALSE);
}

/* A line with an icon that says what is done */
GtkWidget *
_tessera_setup_add_status (Page       *page,
                           const char *icon_name,
                           const char *text)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  /* The sentence says it all: the icon is decoration */
  GtkWidget *icon = g_object_new (GTK_TYPE_IMAGE,
                                  "icon-name", icon_name,
                                  "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                  NULL);
  GtkWidget *label = _tessera_setup_new_wrapped_label (NULL);

  gtk_widget_set_valign (icon, GTK_ALIGN_START);
  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (page->content), box);

  return label;
}

/* A boxed list of AdwActionRows, each with a check button as its prefix */
GtkWidget *
_tessera_setup_add_choice_list (Page       *page,
                                const char *name)
{
  GtkWidget *list = gtk_list_box_new ();

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (list),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  gtk_box_append (GTK_BOX (page->content), list);

  return list;
}

GtkWidget *
_tessera_setup_add_choice (GtkWidget  *list,
                           GPtrArray  *group,
                           const char *title,
                           const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *check = gtk_check_button_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    {
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_accessible_update_property (GTK_ACCESSIBLE (check),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle, -1);
    }
  gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
  if (group->len > 0)
    gtk_check_button_set_group (GTK_CHECK_BUTTON (check), g_ptr_array_index (group, 0));
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  g_ptr_array_add (group, check);

  return check;
}

/* Logging in: with the PIN typed in this window, else with the PIN dialog
 * and its guards (final try, locked PIN) */

typedef struct
{
  TesseraSetupAssistant *self;
  ThenFunc               then;
  gboolean               logged_in;
} LoginWait;

static void
on_objects_read_then (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  LoginWait *wait = user_data;
  g_autoptr(TesseraSetupAssistant) self = wait->self;
  g_autoptr(GError) error = NULL;
  ThenFunc then = wait->then;

  g_free (wait);

  if (!tessera_token_read_objects_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;
      _tessera_setup_fail_step (self, self->step, error->message);
      return;
    }

  then (self);
}

void
_tessera_setup_read_objects_then (TesseraSetupAssistant *self,
                                  ThenFunc               then)
{
  LoginWait *wait = g_new0 (LoginWait, 1);

  wait->self = g_object_ref (self);
  wait->then = then;
  self->pairing.fresh = FALSE;
  tessera_token_read_objects_async (self->token, self->cancellable,
                                    on_objects_read_then, wait);
}

static void
on_pin_dialog_logged_in (TesseraPinDialog *dialog,
                         LoginWait        *wait)
{
  wait->logged_in = TRUE;
  _tessera_setup_read_objects_then (wait->self, wait->then);
}

static void
on_pin_dialog_destroy (GtkWidget *dialog,
                       LoginWait *wait)
{
  g_autoptr(TesseraSetupAssistant) self = wait->self;
  gboolean logged_in = wait->logged_in;

  g_free (wait);

  if (logged_in || self->dismissed)
    return;

  /* The person closed the PIN dialog: stay, and say what is missing */
  self->login_abandoned = TRUE;
  _tessera_setup_fail_step (self, self->step, _("Log in to the token to go on."));
}

static void
ask_pin (TesseraSetupAssistant *self,
         ThenFunc               then)
{
  LoginWait *wait = g_new0 (LoginWait, 1);
  GtkWidget *dialog;

  wait->self = g_object_ref (self);
  wait->then = then;

  dialog = tessera_pin_dialog_new (self->token, GTK_WINDOW (self), self->cancellable);
  g_signal_connect (dialog, "logged-in", G_CALLBACK (on_pin_dialog_logged_in), wait);
  g_signal_connect (dialog, "destroy", G_CALLBACK (on_pin_dialog_destroy), wait);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_logged_in_with_known_pin (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  LoginWait *wait = user_data;
  g_autoptr(TesseraSetupAssistant) self = g_object_ref (wait->self);
  g_autoptr(GError) error = NULL;
  ThenFunc then = wait->then;

  g_object_unref (wait->self);
  g_free (wait);

  if (!tessera_token_login_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;
      /* Changed elsewhere meanwhile: ask, with the guards */
      g_debug ("Logging in from the assistant failed, asking with the PIN dialog: %s", error->message);
      tessera_pin_wipe (&self->user_pin);
      ask_pin (self, then);
      return;
    }

  _tessera_setup_read_objects_then (self, then);
}

void
_tessera_setup_when_logged_in (TesseraSetupAssistant *self,
                               ThenFunc               then)
{
  TesseraToken *token = self->token;

  self->login_abandoned = FALSE;

  if (tessera_token_get_logged_in (token)
      || !tessera_token_has_state (token, TESSERA_TOKEN_STATE_LOGIN_REQUIRED))
    {
      if (tessera_token_get_objects_loaded (token))
        then (self);
      else
        _tessera_setup_read_objects_then (self, then);
      return;
    }

  /* A PIN set in this window cannot be wrong, unless the token says
   * otherwise: then the PIN dialog decides */
  if (self->user_pin != NULL
      && !tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY)
      && !tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_LOCKED)
      && !tessera_token_has_state (token, TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH))
    {
      LoginWait *wait = g_new0 (LoginWait, 1);

      wait->self = g_object_ref (self);
      wait->then = then;
      tessera_token_login_async (token, self->user_pin, self->cancellable,
                                 on_logged_in_with_known_pin, wait);
      return;
    }

  ask_pin (self, then);
}

/* After every PIN operation: the registry's view of the token */

static void
on_registry_refreshed (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  TesseraToken *token;

  if (!tessera_registry_refresh_finish (TESSERA_REGISTRY (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;
      g_debug ("Could not refresh the tokens: %s", error->message);
    }

  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  token = tessera_registry_find_initialized_token (self->registry, tessera_token_get_module (self->token),
                               self->new_label, self->old_serial);
  if (token == NULL)
    {
      _tessera_setup_fail_step (self, self->step,
                                _("The token cannot be found after the change. Close this "
                                  "window and look for it in the list of tokens."));
      return;
    }

  set_token (self, token);
  g_signal_emit (self, signals[TOKEN_READY], 0, token);

  _tessera_setup_set_busy (self, NULL);
  _tessera_setup_advance (self, self->step);
}

void
_tessera_setup_refresh_and_advance (TesseraSetupAssistant *self)
{
  if (self->new_label == NULL)
    self->new_label = g_strdup (tessera_token_get_label (self->token));
  tessera_registry_refresh_async (self->registry, self->cancellable,
                                  on_registry_refreshed, g_object_ref (self));
}

/* Going through the steps */

void
_tessera_setup_show_step (TesseraSetupAssistant *self,
                          Step                   step)
{
  Page *page = &self->pages[step];
  g_autofree char *notes = NULL;

  g_debug ("Set Up for SSH: showing step %s", step_name (step));

  self->step = step;
  self->busy = FALSE;
  gtk_label_set_text (GTK_LABEL (page->heading), step_title (step));
  g_clear_weak_pointer (&self->form);
  _tessera_setup_clear_content (page);
  self->command_label = NULL;
  self->agent_group = NULL;
  _tessera_setup_set_next_label (self, _("_Next"));

  /* What was skipped on the way here */
  if (self->pending_notes->len > 0)
    {
      g_ptr_array_add (self->pending_notes, NULL);
      notes = g_strjoinv ("\n", (char **) self->pending_notes->pdata);
      g_ptr_array_set_size (self->pending_notes, 0);
    }
  gtk_label_set_text (GTK_LABEL (page->notes), notes);
  gtk_widget_set_visible (page->notes, notes != NULL && step != STEP_FINISH);

  gtk_stack_set_visible_child_name (self->stack, step_name (step));
  gtk_spinner_set_spinning (self->working_spinner, FALSE);
  update_header (self);

  _tessera_setup_get_step (step)->configure (self);

  update_header (self);
  focus_page (self, TRUE);
}

/* Goes to the first step from @from on that needs the person, saying what
 * was skipped.  Some steps must look first (log in, check pairing, sign):
 * they call back here when they know. */
void
_tessera_setup_advance (TesseraSetupAssistant *self,
                        Step                   from)
{
  if (self->dismissed)
    return;

  self->busy = FALSE;

  for (Step step = from; step < N_STEPS; step++)
    switch (_tessera_setup_get_step (step)->check (self))
      {
      case STEP_NEEDED:
        _tessera_setup_show_step (self, step);
        return;
      case STEP_LOOKING:
        return;
      case STEP_SATISFIED:
      default:
        break;
      }
}

/* Actions */

static void
next_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  TesseraSetupAssistant *self = TESSERA_SETUP_ASSISTANT (widget);

  if (self->busy)
    return;

  _tessera_setup_show_error (self, NULL);

  _tessera_setup_get_step (self->step)->run (self);
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  TesseraSetupAssistant *self = TESSERA_SETUP_ASSISTANT (widget);

  if (self->busy || self->step == STEP_INITIALIZE)
    return;

  _tessera_setup_wipe_rows (self);
  g_ptr_array_set_size (self->pending_notes, 0);
  self->login_abandoned = FALSE;
  /* A check shown again runs again */
  if (self->step - 1 == STEP_PAIRING)
    {
      self->pairing.fresh = FALSE;
      g_ptr_array_set_size (self->pairing.fix_reports, 0);
    }
  _tessera_setup_show_step (self, self->step - 1);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  gtk_window_close (GTK_WINDOW (widget));
}

/* GObject */

static void
dismiss (TesseraSetupAssistant *self)
{
  gboolean was_busy = self->busy;

  g_cancellable_cancel (self->cancellable);
  if (self->dismissed)
    return;
  self->dismissed = TRUE;
  g_debug ("Set Up for SSH: closed on step %s", step_name (self->step));

  _tessera_setup_wipe_rows (self);
  _tessera_setup_forget_pins (self);

  /* The token may have finished what was cancelled (a key pair the core
   * then deletes, a PIN change): show the window what is there now */
  if ((was_busy || self->made_something) && self->parent_cancellable != NULL
      && self->token != NULL && !g_cancellable_is_cancelled (self->parent_cancellable))
    tessera_token_read_objects_async (self->token, self->parent_cancellable, NULL, NULL);

  /* Work in progress keeps the window alive after this; GTK 4.8 would
   * leave it pointing at a parent that may be gone by then.  A focused
   * password entry destroyed with the window crashes GTK 4.8: unfocus. */
  gtk_window_set_focus (GTK_WINDOW (self), NULL);
  gtk_window_set_transient_for (GTK_WINDOW (self), NULL);
  gtk_window_destroy (GTK_WINDOW (self));
}

static gboolean
tessera_setup_assistant_close_request (GtkWindow *window)
{
  dismiss (TESSERA_SETUP_ASSISTANT (window));

  return TRUE;
}

static void
on_parent_cancelled (TesseraSetupAssistant *self)
{
  dismiss (self);
}

static void
tessera_setup_assistant_dispose (GObject *object)
{
  TesseraSetupAssistant *self = TESSERA_SETUP_ASSISTANT (object);

  g_cancellable_cancel (self->cancellable);
  _tessera_setup_forget_pins (self);
  g_clear_weak_pointer (&self->form);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_SETUP_ASSISTANT);

  G_OBJECT_CLASS (tessera_setup_assistant_parent_class)->dispose (object);
}

static void
tessera_setup_assistant_finalize (GObject *object)
{
  TesseraSetupAssistant *self = TESSERA_SETUP_ASSISTANT (object);

  g_clear_pointer (&self->keys.checks, g_ptr_array_unref);
  g_clear_object (&self->token);
  g_clear_object (&self->registry);
  g_clear_object (&self->agent_sync);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->parent_cancellable);
  g_clear_object (&self->key);
  g_clear_pointer (&self->key_id, g_bytes_unref);
  g_clear_pointer (&self->keys.ready, g_ptr_array_unref);
  g_clear_pointer (&self->keys.specs, g_array_unref);
  g_clear_object (&self->keys.specs_token);
  g_clear_pointer (&self->pairing.problems, g_ptr_array_unref);
  g_clear_pointer (&self->pairing.fix_reports, g_ptr_array_unref);
  g_clear_pointer (&self->pending_notes, g_ptr_array_unref);
  g_clear_pointer (&self->all_notes, g_ptr_array_unref);
  g_clear_pointer (&self->new_label, g_free);
  g_clear_pointer (&self->old_serial, g_free);

  G_OBJECT_CLASS (tessera_setup_assistant_parent_class)->finalize (object);
}

static void
tessera_setup_assistant_class_init (TesseraSetupAssistantClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = tessera_setup_assistant_dispose;
  object_class->finalize = tessera_setup_assistant_finalize;

  /**
   * TesseraSetupAssistant::token-ready:
   * @self: the assistant
   * @token: the token, as the registry knows it now
   *
   * Emitted when a PIN operation gave the token a new place (SoftHSM
   * moves an initialized token to a new slot): its opener shows it.
   */
  signals[TOKEN_READY] =
    g_signal_new ("token-ready",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, TESSERA_TYPE_TOKEN);
  window_class->close_request = tessera_setup_assistant_close_request;

  g_type_ensure (TESSERA_TYPE_AGENT_GROUP);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-setup-assistant.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraSetupAssistant, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, TesseraSetupAssistant, window_title);
  gtk_widget_class_bind_template_child (widget_class, TesseraSetupAssistant, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraSetupAssistant, back_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraSetupAssistant, next_button);
  gtk_widget_class_bind_template_child (widget_class, TesseraSetupAssistant, stack);
  gtk_widget_class_bind_template_child (widget_class, TesseraSetupAssistant, working_page);
  gtk_widget_class_bind_template_child (widget_class, TesseraSetupAssistant, working_spinner);

  gtk_widget_class_install_action (widget_class, "assistant.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "assistant.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "assistant.cancel", NULL, cancel_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "assistant.cancel", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK,
                                       "assistant.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, 0, "assistant.next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, 0, "assistant.next", NULL);
}

static void
tessera_setup_assistant_init (TesseraSetupAssistant *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->keys.checks = g_ptr_array_new ();
  self->keys.ready = g_ptr_array_new_with_free_func (g_object_unref);
  self->pairing.fix_reports = g_ptr_array_new_with_free_func (g_free);
  self->pending_notes = g_ptr_array_new_with_free_func (g_free);
  self->all_notes = g_ptr_array_new_with_free_func (g_free);

  for (Step step = 0; step < N_STEPS; step++)
    build_page (self, step);
}

/**
 * tessera_setup_assistant_new:
 * @parent: the main window
 * @token: the token to set up
 * @registry: the app's registry, where the token is found again after a
 *   PIN operation
 * @agent_sync: the app's agent sync, for the last page's agent switch
 * @settings: the app's settings
 * @cancellable: (nullable): the window's: cancelling it closes the assistant
 *
 * Returns: (transfer none): a new assistant; present it
 */
GtkWidget *
tessera_setup_assistant_new (GtkWindow        *parent,
                             TesseraToken     *token,
                             TesseraRegistry  *registry,
                             TesseraAgentSync *agent_sync,
                             GSettings        *settings,
                             GCancellable     *cancellable)
{
  TesseraSetupAssistant *self;

  g_return_val_if_fail (GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);
  g_return_val_if_fail (TESSERA_IS_REGISTRY (registry), NULL);
  g_return_val_if_fail (TESSERA_IS_AGENT_SYNC (agent_sync), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);

  self = g_object_new (TESSERA_TYPE_SETUP_ASSISTANT,
                       "transient-for", parent,
                       NULL);
  self->registry = g_object_ref (registry);
  self->agent_sync = g_object_ref (agent_sync);
  self->settings = g_object_ref (settings);
  set_token (self, token);

  if (cancellable != NULL)
    {
      self->parent_cancellable = g_object_ref (cancellable);
      g_signal_connect_object (self->parent_cancellable, "cancelled",
                               G_CALLBACK (on_parent_cancelled), self, G_CONNECT_SWAPPED);
    }

  _tessera_setup_show_working (self, _("Looking at the Token…"));
  _tessera_setup_advance (self, STEP_INITIALIZE);

  return GTK_WIDGET (self);
}
