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
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tessera-agent-group.h"
#include "tessera-application.h"
#include "tessera-pin-dialog.h"
#include "tessera-pin-rows.h"
#include "tessera-setup-assistant.h"
#include "tessera-software-token-dialog.h"
#include "tessera-ssh-export.h"
#include "tessera-window.h"

/* CK_TOKEN_INFO's label is 32 bytes, padded with spaces */
#define MAX_LABEL_BYTES 32

/* What opencryptoki's software token comes with */
#define OPENCRYPTOKI_DEFAULT_SO_PIN "87654321"

typedef enum {
  STEP_INITIALIZE,
  STEP_USER_PIN,
  STEP_KEY,
  STEP_CERTIFICATE,
  STEP_PAIRING,
  STEP_TEST,
  STEP_FINISH,
  N_STEPS
} Step;

typedef enum {
  INIT_MODE_INITIALIZE,
  INIT_MODE_CHANGE_PINS,
  INIT_MODE_DONE,
} InitMode;

typedef struct
{
  GtkWidget *root;
  GtkWidget *heading;
  GtkWidget *notes;
  GtkWidget *body;
  GtkWidget *content;
  GtkWidget *progress_box;
  GtkWidget *spinner;
  GtkWidget *progress_label;
  GtkWidget *error;
} Page;

typedef void (*ThenFunc) (TesseraSetupAssistant *self);

struct _TesseraSetupAssistant
{
  AdwWindow         parent_instance;

  /* template widgets */
  AdwToastOverlay  *toast_overlay;
  AdwWindowTitle   *window_title;
  GtkWidget        *back_button;
  GtkWidget        *next_button;
  GtkStack         *stack;
  AdwStatusPage    *working_page;
  GtkSpinner       *working_spinner;

  /* widgets made in code */
  Page              pages[N_STEPS];
  GtkWidget        *label_row;
  GtkWidget        *so_row;
  GtkWidget        *so_new_row;
  GtkWidget        *so_repeat_row;
  GtkWidget        *pin_old_row;
  GtkWidget        *pin_row;
  GtkWidget        *pin_repeat_row;
  GPtrArray        *key_checks;     /* one per ready key, then "Generate" */
  GtkWidget        *generate_check;
  GPtrArray        *type_checks;    /* one per spec */
  GtkWidget        *types_box;
  GtkWidget        *types_slot;
  GtkWidget        *key_label_row;
  GtkSwitch        *certificate_switch;
  TesseraAgentGroup *agent_group;
  GtkWidget        *command_label;

  /* owned references */
  TesseraToken     *token;
  TesseraRegistry  *registry;
  GCancellable     *cancellable;
  GCancellable     *parent_cancellable;
  TesseraKey       *key;
  GBytes           *key_id;
  GPtrArray        *ready_keys;
  GArray           *specs;
  TesseraToken     *specs_token;
  GPtrArray        *problems;
  GPtrArray        *fix_reports;
  GPtrArray        *pending_notes;
  GPtrArray        *all_notes;
  char             *so_pin;
  char             *user_pin;
  char             *new_label;
  char             *old_serial;

  Step              step;
  InitMode          init_mode;
  guint             test_passed : 1;
  guint             test_done : 1;
  guint             busy : 1;
  guint             made_something : 1;
  guint             certificate_declined : 1;
  guint             problems_fresh : 1;
  guint             login_abandoned : 1;
  guint             dismissed : 1;
};

G_DEFINE_FINAL_TYPE (TesseraSetupAssistant, tessera_setup_assistant, ADW_TYPE_WINDOW)

static void advance   (TesseraSetupAssistant *self,
                       Step                   from);
static void show_step (TesseraSetupAssistant *self,
                       Step                   step);

/* Small things */

static const char *
step_title (Step step)
{
  switch (step)
    {
    case STEP_INITIALIZE: return _("Initialize the Token");
    case STEP_USER_PIN: return _("Set the User PIN");
    case STEP_KEY: return _("Choose or Create a Key");
    case STEP_CERTIFICATE: return _("Self-Signed Certificate");
    case STEP_PAIRING: return _("Check Pairing");
    case STEP_TEST: return _("Test Signature");
    case STEP_FINISH:
    default: return _("Use the Key for SSH");
    }
}

static const char *
step_name (Step step)
{
  static const char *names[] = {
    "initialize", "user-pin", "key", "certificate", "pairing", "test", "finish",
  };

  return names[step];
}

static void
wipe_string (char **s)
{
  if (*s != NULL)
    explicit_bzero (*s, strlen (*s));
  g_clear_pointer (s, g_free);
}

static void
forget_pins (TesseraSetupAssistant *self)
{
  wipe_string (&self->so_pin);
  wipe_string (&self->user_pin);
}

static void
wipe_rows (TesseraSetupAssistant *self)
{
  GtkWidget *rows[] = { self->so_row, self->so_new_row, self->so_repeat_row,
                        self->pin_old_row, self->pin_row, self->pin_repeat_row };

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    tessera_pin_rows_wipe (rows[i]);
}

static TesseraWindow *
main_window (TesseraSetupAssistant *self)
{
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));

  return TESSERA_IS_WINDOW (parent) ? TESSERA_WINDOW (parent) : NULL;
}

static void
toast (TesseraSetupAssistant *self,
       const char            *text)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

static gboolean
is_cancelled (TesseraSetupAssistant *self,
              const GError          *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (self->cancellable);
}

static char *
dup_entry_text (GtkWidget *entry)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
}

static void
add_note (TesseraSetupAssistant *self,
          const char            *note)
{
  g_ptr_array_add (self->pending_notes, g_strdup (note));
  g_ptr_array_add (self->all_notes, g_strdup (note));
}

static const char *
key_name (TesseraKey *key)
{
  const char *label = tessera_key_get_label (key);

  return label != NULL && label[0] != '\0' ? label : C_("key", "Unnamed key");
}

/* opencryptoki's software token has an SO PIN before it is initialized,
 * and C_InitToken checks it.  A blank SoftHSM slot flags its SO PIN "to
 * be changed" too, but takes a new one: the flags cannot tell them apart. */
static gboolean
is_factory_so_pin (TesseraToken *token)
{
  TesseraModule *module = tessera_token_get_module (token);
  const char *path = module != NULL ? tessera_module_get_path (module) : NULL;

  return path != NULL && strstr (path, "opencryptoki") != NULL;
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
  self->problems_fresh = FALSE;
}

/* The initialized token of @module with this label, preferring the one with
 * the serial it had before.  (transfer none) */
static TesseraToken *
find_token_by_label (TesseraRegistry *registry,
                     TesseraModule   *module,
                     const char      *label,
                     const char      *serial)
{
  GListModel *tokens = tessera_registry_get_tokens (registry);
  guint n = g_list_model_get_n_items (tokens);
  TesseraToken *found = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraToken) token = g_list_model_get_item (tokens, i);

      if (module != NULL && tessera_token_get_module (token) != module)
        continue;
      if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
        continue;
      if (g_strcmp0 (tessera_token_get_label (token), label) != 0)
        continue;

      if (serial != NULL && serial[0] != '\0'
          && g_strcmp0 (tessera_token_get_serial (token), serial) == 0)
        return token;
      found = token;
    }

  return found;
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
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "assistant.next", !self->busy && on_page);

  if (on_page)
    gtk_widget_set_sensitive (self->pages[self->step].content, !self->busy);
}

static void
set_next_label (TesseraSetupAssistant *self,
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

static void
set_busy (TesseraSetupAssistant *self,
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

static void
show_error (TesseraSetupAssistant *self,
            const char            *message)
{
  Page *page = &self->pages[self->step];

  gtk_label_set_text (GTK_LABEL (page->error), message);
  gtk_widget_set_visible (page->error, message != NULL);
}

/* Work in progress between pages, while the next one is worked out */
static void
show_working (TesseraSetupAssistant *self,
              const char            *title)
{
  adw_status_page_set_title (self->working_page, title);
  gtk_spinner_set_spinning (self->working_spinner, TRUE);
  gtk_stack_set_visible_child_name (self->stack, "working");
  update_header (self);
}

/* A step that cannot go on: its page, with why */
static void
fail_step (TesseraSetupAssistant *self,
           Step                   step,
           const char            *message)
{
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), step_name (step)) != 0)
    show_step (self, step);
  set_busy (self, NULL);
  show_error (self, message);
}

static GtkWidget *
new_wrapped_label (const char *css_class)
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

  page->heading = new_wrapped_label ("title-2");
  gtk_label_set_text (GTK_LABEL (page->heading), step_title (step));
  gtk_box_append (GTK_BOX (box), page->heading);

  page->notes = new_wrapped_label ("dim-label");
  gtk_widget_set_visible (page->notes, FALSE);
  gtk_box_append (GTK_BOX (box), page->notes);

  page->body = new_wrapped_label (NULL);
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
  page->progress_label = new_wrapped_label (NULL);
  gtk_box_append (GTK_BOX (page->progress_box), page->progress_label);
  gtk_box_append (GTK_BOX (box), page->progress_box);

  page->error = new_wrapped_label ("pin-error");
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

static void
clear_content (Page *page)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (page->content)) != NULL)
    gtk_box_remove (GTK_BOX (page->content), child);
  gtk_label_set_text (GTK_LABEL (page->body), NULL);
  gtk_widget_set_visible (page->error, FALSE);
  gtk_widget_set_visible (page->progress_box, FALSE);
}

/* A line with an icon that says what is done */
static GtkWidget *
add_status (Page       *page,
            const char *icon_name,
            const char *text)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *icon = gtk_image_new_from_icon_name (icon_name);
  GtkWidget *label = new_wrapped_label (NULL);

  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, "", -1);
  gtk_widget_set_valign (icon, GTK_ALIGN_START);
  gtk_label_set_text (GTK_LABEL (label), text);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (page->content), box);

  return label;
}

/* A boxed list of AdwActionRows, each with a check button as its prefix */
static GtkWidget *
add_choice_list (Page       *page,
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

static GtkWidget *
add_choice (GtkWidget  *list,
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
      fail_step (self, self->step, error->message);
      return;
    }

  then (self);
}

static void
read_objects_then (TesseraSetupAssistant *self,
                   ThenFunc               then)
{
  LoginWait *wait = g_new0 (LoginWait, 1);

  wait->self = g_object_ref (self);
  wait->then = then;
  self->problems_fresh = FALSE;
  tessera_token_read_objects_async (self->token, self->cancellable,
                                    on_objects_read_then, wait);
}

static void
on_pin_dialog_logged_in (TesseraPinDialog *dialog,
                         LoginWait        *wait)
{
  wait->logged_in = TRUE;
  read_objects_then (wait->self, wait->then);
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
  fail_step (self, self->step, _("Log in to the token to go on."));
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
      g_debug ("The PIN typed in the assistant did not log in: %s", error->message);
      wipe_string (&self->user_pin);
      ask_pin (self, then);
      return;
    }

  read_objects_then (self, then);
}

static void
when_logged_in (TesseraSetupAssistant *self,
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
        read_objects_then (self, then);
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
  TesseraWindow *window;

  if (!tessera_registry_refresh_finish (TESSERA_REGISTRY (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;
      g_debug ("Could not refresh the tokens: %s", error->message);
    }

  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  token = find_token_by_label (self->registry, tessera_token_get_module (self->token),
                               self->new_label, self->old_serial);
  if (token == NULL)
    {
      fail_step (self, self->step,
                 _("The token cannot be found after the change. Close this window and "
                   "look for it in the list of tokens."));
      return;
    }

  set_token (self, token);
  window = main_window (self);
  if (window != NULL)
    tessera_window_select_token (window, token);

  set_busy (self, NULL);
  advance (self, self->step);
}

static void
refresh_and_advance (TesseraSetupAssistant *self)
{
  if (self->new_label == NULL)
    self->new_label = g_strdup (tessera_token_get_label (self->token));
  tessera_registry_refresh_async (self->registry, self->cancellable,
                                  on_registry_refreshed, g_object_ref (self));
}

/* Step 1: initialize, or change the PINs the token came with */

static InitMode
init_mode (TesseraToken *token)
{
  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_NOT_INITIALIZED))
    return INIT_MODE_INITIALIZE;
  if (tessera_token_has_state (token, TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED)
      || tessera_token_has_state (token, TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED))
    return INIT_MODE_CHANGE_PINS;
  return INIT_MODE_DONE;
}

static void
configure_initialize (TesseraSetupAssistant *self)
{
  Page *page = &self->pages[STEP_INITIALIZE];
  GtkWidget *list;
  GtkWidget *hint;
  g_autofree char *length = tessera_pin_rows_describe_length (self->token);
  gboolean factory = is_factory_so_pin (self->token);
  const char *label = tessera_token_get_label (self->token);

  self->init_mode = init_mode (self->token);
  self->label_row = self->so_row = self->so_new_row = self->so_repeat_row = NULL;
  self->pin_old_row = self->pin_row = self->pin_repeat_row = NULL;

  if (self->init_mode == INIT_MODE_DONE)
    {
      add_status (page, "emblem-ok-symbolic", _("The token is initialized and its PINs are set."));
      return;
    }

  list = tessera_pin_rows_new_list ();
  hint = new_wrapped_label ("dim-label");

  switch (self->init_mode)
    {
    case INIT_MODE_INITIALIZE:
      gtk_label_set_text (GTK_LABEL (page->body),
                          _("Give the token a label and choose its PINs. The SO PIN, the "
                            "Security Officer PIN, protects the token itself and unblocks "
                            "the user PIN: keep it safe. The user PIN unlocks the keys."));
      self->label_row = tessera_pin_rows_add_entry (list, _("Label"));
      if (label != NULL && label[0] != '\0')
        gtk_editable_set_text (GTK_EDITABLE (self->label_row), label);
      if (factory)
        {
          self->so_row = tessera_pin_rows_add_password (list, _("Current SO PIN"));
          gtk_editable_set_text (GTK_EDITABLE (self->so_row), OPENCRYPTOKI_DEFAULT_SO_PIN);
          gtk_label_set_text (GTK_LABEL (hint),
                              _("opencryptoki’s software token comes with the SO PIN "
                                "87654321, filled in here. You choose a new one next."));
        }
      else
        {
          self->so_new_row = tessera_pin_rows_add_password (list, _("New SO PIN"));
          self->so_repeat_row = tessera_pin_rows_add_password (list, _("Repeat New SO PIN"));
          gtk_label_set_text (GTK_LABEL (hint), length);
        }
      self->pin_row = tessera_pin_rows_add_password (list, _("New PIN"));
      self->pin_repeat_row = tessera_pin_rows_add_password (list, _("Repeat New PIN"));
      set_next_label (self, _("_Initialize"));
      break;

    case INIT_MODE_CHANGE_PINS:
      gtk_label_set_text (GTK_LABEL (page->body),
                          _("The token asks for new PINs: the ones it has are those it came "
                            "with, which anyone can look up."));
      if (tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED))
        {
          if (self->so_pin == NULL)
            self->so_row = tessera_pin_rows_add_password (list, _("Current SO PIN"));
          self->so_new_row = tessera_pin_rows_add_password (list, _("New SO PIN"));
          self->so_repeat_row = tessera_pin_rows_add_password (list, _("Repeat New SO PIN"));
        }
      if (tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED))
        {
          if (self->user_pin == NULL)
            self->pin_old_row = tessera_pin_rows_add_password (list, _("Current PIN"));
          self->pin_row = tessera_pin_rows_add_password (list, _("New PIN"));
          self->pin_repeat_row = tessera_pin_rows_add_password (list, _("Repeat New PIN"));
        }
      gtk_label_set_text (GTK_LABEL (hint), length);
      set_next_label (self, _("_Change PINs"));
      break;

    case INIT_MODE_DONE:
    default:
      g_assert_not_reached ();
    }

  gtk_widget_set_visible (hint, gtk_label_get_text (GTK_LABEL (hint))[0] != '\0');
  gtk_box_append (GTK_BOX (page->content), hint);
  gtk_box_append (GTK_BOX (page->content), list);
}

static gboolean
check_new_pin (TesseraSetupAssistant  *self,
               GtkWidget              *row,
               GtkWidget              *repeat,
               GError                **error)
{
  return row == NULL || tessera_pin_rows_check_new (self->token, row, repeat, error);
}

static gboolean
check_current_pin (TesseraSetupAssistant  *self,
                   GtkWidget              *row,
                   GError                **error)
{
  return row == NULL
      || tessera_token_check_pin_length (self->token,
                                         gtk_editable_get_text (GTK_EDITABLE (row)), error);
}

static void on_pin_changed (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data);

/* Changes the next PIN still to be changed: the SO PIN, then the user PIN */
static void
change_next_pin (TesseraSetupAssistant *self)
{
  if (self->so_new_row != NULL)
    {
      g_autofree char *new_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->so_new_row)));

      set_busy (self, _("Changing the SO PIN…"));
      tessera_token_change_pin_async (self->token, TESSERA_PIN_SO, self->so_pin, new_pin,
                                      self->cancellable, on_pin_changed, g_object_ref (self));
      g_object_set_data_full (G_OBJECT (self), "tessera-new-so-pin",
                              g_steal_pointer (&new_pin), (GDestroyNotify) g_free);
      return;
    }

  if (self->pin_row != NULL)
    {
      g_autofree char *new_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->pin_row)));

      set_busy (self, _("Changing the PIN…"));
      tessera_token_change_pin_async (self->token, TESSERA_PIN_USER, self->user_pin, new_pin,
                                      self->cancellable, on_pin_changed, g_object_ref (self));
      g_object_set_data_full (G_OBJECT (self), "tessera-new-user-pin",
                              g_steal_pointer (&new_pin), (GDestroyNotify) g_free);
      return;
    }

  /* Both done */
  wipe_rows (self);
  add_note (self, _("The PINs were changed."));
  set_busy (self, _("Looking at the token again…"));
  refresh_and_advance (self);
}

static void
on_pin_changed (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean so = self->so_new_row != NULL;
  const char *key = so ? "tessera-new-so-pin" : "tessera-new-user-pin";
  char *new_pin = g_object_steal_data (G_OBJECT (self), key);

  if (!tessera_token_change_pin_finish (TESSERA_TOKEN (object), result, &error))
    {
      wipe_string (&new_pin);
      if (is_cancelled (self, error))
        return;
      set_busy (self, NULL);
      show_error (self, error->message);
      /* What is done is done: the next try asks only for what is left */
      if (so && g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT))
        wipe_string (&self->so_pin);
      return;
    }

  if (so)
    {
      wipe_string (&self->so_pin);
      self->so_pin = new_pin;
      tessera_pin_rows_wipe (self->so_new_row);
      tessera_pin_rows_wipe (self->so_repeat_row);
      self->so_new_row = self->so_repeat_row = self->so_row = NULL;
    }
  else
    {
      wipe_string (&self->user_pin);
      self->user_pin = new_pin;
      tessera_pin_rows_wipe (self->pin_row);
      tessera_pin_rows_wipe (self->pin_repeat_row);
      self->pin_row = self->pin_repeat_row = self->pin_old_row = NULL;
    }

  change_next_pin (self);
}

static void
on_initialized (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *note = NULL;

  if (!tessera_token_initialize_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;
      forget_pins (self);
      set_busy (self, NULL);
      show_error (self, error->message);
      return;
    }

  wipe_rows (self);
  self->made_something = TRUE;
  /* Translators: %s is the token's new label */
  note = g_strdup_printf (_("The token “%s” was initialized."), self->new_label);
  add_note (self, note);
  set_busy (self, _("Looking for the initialized token…"));
  refresh_and_advance (self);
}

static void
run_initialize (TesseraSetupAssistant *self)
{
  g_autoptr(GError) error = NULL;

  if (self->init_mode == INIT_MODE_DONE)
    {
      advance (self, STEP_USER_PIN);
      return;
    }

  if (self->init_mode == INIT_MODE_INITIALIZE)
    {
      g_autofree char *label = dup_entry_text (self->label_row);

      if (label[0] == '\0')
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The token needs a label."));
      else if (strlen (label) > MAX_LABEL_BYTES)
        g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _("The label is too long: a token label holds at most 32 bytes, "
                       "and letters with accents or other scripts take 2 or more."));
      else if (check_current_pin (self, self->so_row, &error)
               && check_new_pin (self, self->so_new_row, self->so_repeat_row, &error)
               && check_new_pin (self, self->pin_row, self->pin_repeat_row, &error))
        {
          g_free (self->new_label);
          self->new_label = g_steal_pointer (&label);
        }

      if (error != NULL)
        {
          show_error (self, error->message);
          return;
        }

      forget_pins (self);
      self->so_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->so_row ? self->so_row
                                                                                   : self->so_new_row)));
      self->user_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->pin_row)));
      g_clear_pointer (&self->old_serial, g_free);
      self->old_serial = g_strdup (tessera_token_get_serial (self->token));

      set_busy (self, _("Initializing the token…"));
      tessera_token_initialize_async (self->token, self->so_pin, self->new_label, self->user_pin,
                                      self->cancellable, on_initialized, g_object_ref (self));
      return;
    }

  /* Change the PINs */
  if (!check_current_pin (self, self->so_row, &error)
      || !check_new_pin (self, self->so_new_row, self->so_repeat_row, &error)
      || !check_current_pin (self, self->pin_old_row, &error)
      || !check_new_pin (self, self->pin_row, self->pin_repeat_row, &error))
    {
      show_error (self, error->message);
      return;
    }

  if (self->so_row != NULL)
    {
      wipe_string (&self->so_pin);
      self->so_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->so_row)));
    }
  if (self->pin_old_row != NULL)
    {
      wipe_string (&self->user_pin);
      self->user_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->pin_old_row)));
    }
  g_clear_pointer (&self->new_label, g_free);
  change_next_pin (self);
}

/* Step 2: the user PIN */

static void
configure_user_pin (TesseraSetupAssistant *self)
{
  Page *page = &self->pages[STEP_USER_PIN];
  GtkWidget *list;
  GtkWidget *hint;
  g_autofree char *length = NULL;

  self->so_row = self->pin_row = self->pin_repeat_row = NULL;
  self->so_new_row = self->so_repeat_row = self->pin_old_row = NULL;

  if (!tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_USER_PIN_NOT_SET))
    {
      add_status (page, "emblem-ok-symbolic", _("The user PIN is set."));
      return;
    }

  gtk_label_set_text (GTK_LABEL (page->body),
                      _("The token has no user PIN yet. Choose one: it unlocks the keys "
                        "each time SSH uses them. The SO PIN allows setting it."));
  list = tessera_pin_rows_new_list ();
  if (self->so_pin == NULL)
    self->so_row = tessera_pin_rows_add_password (list, _("SO PIN"));
  self->pin_row = tessera_pin_rows_add_password (list, _("New PIN"));
  self->pin_repeat_row = tessera_pin_rows_add_password (list, _("Repeat New PIN"));
  length = tessera_pin_rows_describe_length (self->token);
  hint = new_wrapped_label ("dim-label");
  gtk_label_set_text (GTK_LABEL (hint), length);
  gtk_widget_set_visible (hint, length != NULL);
  gtk_box_append (GTK_BOX (page->content), hint);
  gtk_box_append (GTK_BOX (page->content), list);
  set_next_label (self, _("_Set PIN"));
}

static void
on_user_pin_set (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_token_unblock_pin_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;
      forget_pins (self);
      set_busy (self, NULL);
      show_error (self, error->message);
      return;
    }

  wipe_rows (self);
  self->made_something = TRUE;
  add_note (self, _("The user PIN was set."));
  g_clear_pointer (&self->new_label, g_free);
  set_busy (self, _("Looking at the token again…"));
  refresh_and_advance (self);
}

static void
run_user_pin (TesseraSetupAssistant *self)
{
  g_autoptr(GError) error = NULL;

  if (self->pin_row == NULL)
    {
      advance (self, STEP_KEY);
      return;
    }

  if (!check_current_pin (self, self->so_row, &error)
      || !check_new_pin (self, self->pin_row, self->pin_repeat_row, &error))
    {
      show_error (self, error->message);
      return;
    }

  if (self->so_row != NULL)
    {
      wipe_string (&self->so_pin);
      self->so_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->so_row)));
    }
  wipe_string (&self->user_pin);
  self->user_pin = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->pin_row)));

  set_busy (self, _("Setting the PIN…"));
  tessera_token_unblock_pin_async (self->token, self->so_pin, self->user_pin, self->cancellable,
                                   on_user_pin_set, g_object_ref (self));
}

/* Step 3: the key */

static TesseraKey *
find_key_by_id (TesseraToken *token,
                GBytes       *id)
{
  GListModel *keys = tessera_token_get_keys (token);
  guint n = g_list_model_get_n_items (keys);

  if (id == NULL)
    return NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraKey) key = g_list_model_get_item (keys, i);
      GBytes *key_id = tessera_key_get_id (key);

      if (key_id != NULL && g_bytes_equal (key_id, id))
        return g_steal_pointer (&key);
    }

  return NULL;
}

static void
set_key (TesseraSetupAssistant *self,
         TesseraKey            *key)
{
  g_set_object (&self->key, key);
  g_clear_pointer (&self->key_id, g_bytes_unref);
  if (key != NULL && tessera_key_get_id (key) != NULL)
    self->key_id = g_bytes_ref (tessera_key_get_id (key));
}

/* The key object after a re-read: the one with the same ID */
static void
refind_key (TesseraSetupAssistant *self)
{
  g_autoptr(TesseraKey) key = find_key_by_id (self->token, self->key_id);

  if (key != NULL)
    g_set_object (&self->key, key);
}

static gboolean
key_still_there (TesseraSetupAssistant *self)
{
  g_autoptr(TesseraKey) key = NULL;

  if (self->key == NULL)
    return FALSE;
  key = find_key_by_id (self->token, self->key_id);
  return key != NULL;
}

/* The keys OpenSSH can use, those with a certificate first */
static void
collect_ready_keys (TesseraSetupAssistant *self)
{
  GListModel *keys = tessera_token_get_keys (self->token);
  guint n = g_list_model_get_n_items (keys);

  g_ptr_array_set_size (self->ready_keys, 0);
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < n; i++)
      {
        g_autoptr(TesseraKey) key = g_list_model_get_item (keys, i);
        gboolean has_certificate = tessera_key_get_certificate (key) != NULL;

        if (tessera_key_get_ssh_verdict (key) != TESSERA_SSH_VERDICT_READY)
          continue;
        if (has_certificate == (pass == 0))
          g_ptr_array_add (self->ready_keys, g_steal_pointer (&key));
      }
}

static gboolean
spec_usable (const TesseraKeySpec *spec)
{
  if (!tessera_openssh_supports (spec->type))
    return FALSE;
  return spec->type != TESSERA_KEY_TYPE_RSA || spec->bits >= 2048;
}

static void
update_key_choice (TesseraSetupAssistant *self)
{
  gboolean generate = self->generate_check != NULL
    && gtk_check_button_get_active (GTK_CHECK_BUTTON (self->generate_check));

  if (self->types_box != NULL)
    gtk_widget_set_visible (self->types_box, generate);
  set_next_label (self, generate ? _("_Generate") : _("_Next"));
}

static void
fill_types (TesseraSetupAssistant *self)
{
  GtkWidget *list;
  GPtrArray *group = self->type_checks;
  g_autoptr(GArray) usable = g_array_new (FALSE, FALSE, sizeof (TesseraKeySpec));
  guint recommended;
  GtkWidget *heading;

  if (self->types_slot == NULL || self->specs == NULL)
    return;

  for (guint i = 0; i < self->specs->len; i++)
    {
      TesseraKeySpec *spec = &g_array_index (self->specs, TesseraKeySpec, i);

      if (spec_usable (spec))
        g_array_append_val (usable, *spec);
    }

  if (usable->len == 0)
    {
      GtkWidget *label = new_wrapped_label ("pin-error");

      gtk_label_set_text (GTK_LABEL (label),
                          _("This token cannot make any kind of key the installed OpenSSH "
                            "can use."));
      gtk_box_append (GTK_BOX (self->types_slot), label);
      return;
    }

  /* Only what both the token and the installed OpenSSH take */
  g_array_set_size (self->specs, 0);
  g_array_append_vals (self->specs, usable->data, usable->len);
  recommended = tessera_key_spec_recommend (self->specs);

  heading = new_wrapped_label ("heading");
  gtk_label_set_text (GTK_LABEL (heading), _("Key Type"));
  gtk_box_append (GTK_BOX (self->types_slot), heading);
  list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (list),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Key Type"), -1);
  gtk_box_append (GTK_BOX (self->types_slot), list);

  g_ptr_array_set_size (group, 0);
  for (guint i = 0; i < self->specs->len; i++)
    {
      g_autofree char *title = tessera_key_spec_describe (&g_array_index (self->specs,
                                                                           TesseraKeySpec, i));
      GtkWidget *check = add_choice (list, group, title,
                                     i == recommended ? _("Recommended") : NULL);

      if (i == recommended)
        gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
    }
}

static void
on_specs_listed (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) specs = NULL;

  specs = tessera_token_list_key_specs_finish (TESSERA_TOKEN (object), result, &error);
  if (specs == NULL && is_cancelled (self, error))
    return;
  if (g_cancellable_is_cancelled (self->cancellable))
    return;

  if (specs == NULL)
    {
      show_error (self, error->message);
      return;
    }

  g_clear_pointer (&self->specs, g_array_unref);
  self->specs = g_steal_pointer (&specs);
  g_set_object (&self->specs_token, TESSERA_TOKEN (object));
  if (self->step == STEP_KEY)
    fill_types (self);
}

static void
on_key_check_toggled (TesseraSetupAssistant *self)
{
  update_key_choice (self);
}

static void
configure_key (TesseraSetupAssistant *self)
{
  Page *page = &self->pages[STEP_KEY];
  GtkWidget *list;
  GtkWidget *label_list;
  GtkWidget *active = NULL;

  g_ptr_array_set_size (self->key_checks, 0);
  g_ptr_array_set_size (self->type_checks, 0);
  self->generate_check = NULL;
  self->types_box = self->types_slot = NULL;
  self->key_label_row = NULL;

  if (!tessera_token_get_logged_in (self->token)
      && tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_LOGIN_REQUIRED))
    {
      gtk_label_set_text (GTK_LABEL (page->body),
                          _("Log in to the token to see which of its keys SSH can use, "
                            "or to make one."));
      set_next_label (self, _("_Log In…"));
      return;
    }

  collect_ready_keys (self);
  gtk_label_set_text (GTK_LABEL (page->body),
                      self->ready_keys->len > 0
                      ? _("Use a key the token already holds, or make a new one. A new key "
                          "is made on the token: its private key never leaves it.")
                      : _("The token holds no key SSH can use. Make one: it is made on the "
                          "token, and its private key never leaves it."));

  list = add_choice_list (page, _("Key"));
  for (guint i = 0; i < self->ready_keys->len; i++)
    {
      TesseraKey *key = g_ptr_array_index (self->ready_keys, i);
      g_autofree char *type = tessera_key_describe_type (key);
      g_autofree char *fingerprint = tessera_key_get_ssh_fingerprint (key);
      g_autofree char *subtitle = g_strdup_printf ("%s · %s", type ? type : "",
                                                   fingerprint ? fingerprint : "");
      GtkWidget *check = add_choice (list, self->key_checks, key_name (key), subtitle);

      g_signal_connect_object (check, "toggled", G_CALLBACK (on_key_check_toggled), self,
                               G_CONNECT_SWAPPED);
      if (key == self->key || (self->key == NULL && active == NULL))
        active = check;
    }
  self->generate_check = add_choice (list, self->key_checks, _("Generate a New Key"), NULL);
  g_signal_connect_object (self->generate_check, "toggled", G_CALLBACK (on_key_check_toggled),
                           self, G_CONNECT_SWAPPED);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (active ? active : self->generate_check), TRUE);

  self->types_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  self->types_slot = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append (GTK_BOX (self->types_box), self->types_slot);
  label_list = tessera_pin_rows_new_list ();
  self->key_label_row = tessera_pin_rows_add_entry (label_list, _("Key Label"));
  gtk_editable_set_text (GTK_EDITABLE (self->key_label_row), _("SSH key"));
  gtk_box_append (GTK_BOX (self->types_box), label_list);
  gtk_box_append (GTK_BOX (page->content), self->types_box);

  if (self->specs != NULL && self->specs_token == self->token)
    fill_types (self);
  else
    tessera_token_list_key_specs_async (self->token, self->cancellable,
                                        on_specs_listed, g_object_ref (self));

  update_key_choice (self);
}

static void
on_key_objects_read (TesseraSetupAssistant *self)
{
  g_autoptr(TesseraKey) key = find_key_by_id (self->token, self->key_id);
  g_autofree char *note = NULL;

  if (key == NULL)
    {
      fail_step (self, STEP_KEY, _("The new key is not among the token’s keys."));
      return;
    }

  set_key (self, key);
  /* Translators: %s is the new key's label */
  note = g_strdup_printf (_("The key “%s” was generated on the token."), key_name (key));
  add_note (self, note);
  set_busy (self, NULL);
  advance (self, STEP_CERTIFICATE);
}

static void
on_key_generated (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) id = NULL;

  id = tessera_token_generate_key_finish (TESSERA_TOKEN (object), result, &error);
  if (id == NULL)
    {
      if (is_cancelled (self, error))
        return;
      set_busy (self, NULL);
      show_error (self, error->message);
      return;
    }

  self->made_something = TRUE;
  self->test_done = FALSE;
  g_clear_object (&self->key);
  g_clear_pointer (&self->key_id, g_bytes_unref);
  self->key_id = g_steal_pointer (&id);
  set_busy (self, _("Reading the token…"));
  read_objects_then (self, on_key_objects_read);
}

static void
generate_key (TesseraSetupAssistant *self)
{
  const TesseraKeySpec *spec = NULL;
  g_autofree char *label = NULL;

  if (self->specs == NULL)
    return;

  for (guint i = 0; i < self->type_checks->len; i++)
    if (gtk_check_button_get_active (g_ptr_array_index (self->type_checks, i)))
      spec = &g_array_index (self->specs, TesseraKeySpec, i);

  label = dup_entry_text (self->key_label_row);
  if (spec == NULL || label[0] == '\0')
    {
      set_busy (self, NULL);
      show_error (self, spec == NULL ? _("Choose a key type.") : _("The key needs a label."));
      return;
    }

  set_busy (self, _("Generating the key…"));
  tessera_token_generate_key_async (self->token, spec, label, self->cancellable,
                                    on_key_generated, g_object_ref (self));
}

static void
on_logged_in_for_key (TesseraSetupAssistant *self)
{
  /* The page listed nothing before the login: list the keys now */
  show_step (self, STEP_KEY);
}

static void
run_key (TesseraSetupAssistant *self)
{
  if (self->generate_check == NULL)
    {
      when_logged_in (self, on_logged_in_for_key);
      return;
    }

  if (gtk_check_button_get_active (GTK_CHECK_BUTTON (self->generate_check)))
    {
      /* Making a key needs a login */
      set_busy (self, _("Logging in…"));
      when_logged_in (self, generate_key);
      return;
    }

  for (guint i = 0; i < self->ready_keys->len; i++)
    if (gtk_check_button_get_active (g_ptr_array_index (self->key_checks, i)))
      {
        if (g_ptr_array_index (self->ready_keys, i) != self->key)
          self->test_done = FALSE;
        set_key (self, g_ptr_array_index (self->ready_keys, i));
      }

  advance (self, STEP_CERTIFICATE);
}

/* Step 4: the certificate */

static void
configure_certificate (TesseraSetupAssistant *self)
{
  Page *page = &self->pages[STEP_CERTIFICATE];
  GtkWidget *list;
  GtkWidget *row;
  g_autofree char *text = NULL;

  self->certificate_switch = NULL;

  if (tessera_key_get_certificate (self->key) != NULL)
    {
      /* Translators: %s is a key's label */
      text = g_strdup_printf (_("“%s” has a certificate."), key_name (self->key));
      add_status (page, "emblem-ok-symbolic", text);
      return;
    }

  gtk_label_set_text (GTK_LABEL (page->body),
                      _("Some cards and programs show keys only through a certificate. A "
                        "self-signed certificate, signed by the key itself, makes the key "
                        "visible to them. SSH uses only the key."));

  list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Create a Self-Signed Certificate"));
  /* Translators: %s is a key's label */
  text = g_strdup_printf (_("Valid for a year, named “%s”"), key_name (self->key));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), text);
  self->certificate_switch = GTK_SWITCH (gtk_switch_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->certificate_switch), GTK_ALIGN_CENTER);
  gtk_switch_set_active (self->certificate_switch, !self->certificate_declined);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), GTK_WIDGET (self->certificate_switch));
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row),
                                         GTK_WIDGET (self->certificate_switch));
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  gtk_box_append (GTK_BOX (page->content), list);
}

static void
on_certificate_objects_read (TesseraSetupAssistant *self)
{
  g_autofree char *note = NULL;

  refind_key (self);
  /* Translators: %s is a key's label */
  note = g_strdup_printf (_("A self-signed certificate was created for “%s”."),
                          key_name (self->key));
  add_note (self, note);
  set_busy (self, NULL);
  advance (self, STEP_PAIRING);
}

static void
on_certificate_created (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tessera_token_create_certificate_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;
      set_busy (self, NULL);
      show_error (self, error->message);
      return;
    }

  self->made_something = TRUE;
  set_busy (self, _("Reading the token…"));
  read_objects_then (self, on_certificate_objects_read);
}

static void
create_certificate (TesseraSetupAssistant *self)
{
  set_busy (self, _("Creating the certificate…"));
  tessera_token_create_certificate_async (self->token, self->key, key_name (self->key),
                                          TESSERA_CERTIFICATE_DEFAULT_DAYS, self->cancellable,
                                          on_certificate_created, g_object_ref (self));
}

static void
run_certificate (TesseraSetupAssistant *self)
{
  if (self->certificate_switch == NULL)
    {
      advance (self, STEP_PAIRING);
      return;
    }

  self->certificate_declined = !gtk_switch_get_active (self->certificate_switch);
  if (self->certificate_declined)
    {
      add_note (self, _("No certificate was created."));
      advance (self, STEP_PAIRING);
      return;
    }

  set_busy (self, _("Logging in…"));
  when_logged_in (self, create_certificate);
}

/* Step 5: pairing */

static guint
count_fixable (TesseraSetupAssistant *self)
{
  guint n = 0;

  for (guint i = 0; self->problems != NULL && i < self->problems->len; i++)
    if (tessera_problem_get_fixable (g_ptr_array_index (self->problems, i)))
      n++;

  return n;
}

static void
show_problems (TesseraSetupAssistant *self)
{
  Page *page = &self->pages[STEP_PAIRING];
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (page->content)) != NULL)
    gtk_box_remove (GTK_BOX (page->content), child);

  for (guint i = 0; i < self->fix_reports->len; i++)
    add_status (page, "emblem-ok-symbolic", g_ptr_array_index (self->fix_reports, i));

  if (self->problems == NULL || self->problems->len == 0)
    {
      add_status (page, "emblem-ok-symbolic",
                  _("No pairing problems: each key’s public key and certificate share its "
                    "private key’s ID, as OpenSSH needs."));
      set_next_label (self, _("_Next"));
      return;
    }

  for (guint i = 0; i < self->problems->len; i++)
    {
      TesseraProblem *problem = g_ptr_array_index (self->problems, i);
      g_autofree char *text = NULL;

      /* The problem, then what it means and what the fix does */
      if (tessera_problem_get_fixable (problem))
        text = g_strdup_printf ("%s\n%s %s", tessera_problem_get_title (problem),
                                tessera_problem_get_description (problem),
                                tessera_problem_get_fix_description (problem));
      else
        text = g_strdup_printf ("%s\n%s", tessera_problem_get_title (problem),
                                tessera_problem_get_description (problem));
      add_status (page, "dialog-warning-symbolic", text);
    }

  set_next_label (self, count_fixable (self) > 0 ? _("_Fix Problems") : _("_Next"));
}

static void
set_problems (TesseraSetupAssistant *self,
              GPtrArray             *problems)
{
  g_clear_pointer (&self->problems, g_ptr_array_unref);
  self->problems = problems;
  self->problems_fresh = TRUE;
}

static void
on_pairing_checked (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  GPtrArray *problems;

  problems = tessera_token_diagnose_finish (TESSERA_TOKEN (object), result, &error);
  if (problems == NULL)
    {
      if (is_cancelled (self, error))
        return;
      fail_step (self, STEP_PAIRING, error->message);
      return;
    }

  set_problems (self, problems);

  /* Going forward, a clean token needs no page */
  if (self->step != STEP_PAIRING && problems->len == 0)
    {
      add_note (self, _("No pairing problems were found."));
      advance (self, STEP_TEST);
      return;
    }

  if (self->step != STEP_PAIRING)
    show_step (self, STEP_PAIRING);
  else
    {
      set_busy (self, NULL);
      show_problems (self);
    }
}

static void
check_pairing (TesseraSetupAssistant *self)
{
  tessera_token_diagnose_async (self->token, self->cancellable,
                                on_pairing_checked, g_object_ref (self));
}

static void fix_next_problem (TesseraSetupAssistant *self);

static void
on_fixed_objects_read (TesseraSetupAssistant *self)
{
  refind_key (self);
  set_busy (self, _("Checking again…"));
  check_pairing (self);
}

static void
on_problem_fixed (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TesseraProblem) problem = g_ptr_array_steal_index (self->problems, 0);
  g_autofree char *report = NULL;

  if (!tessera_token_fix_problem_finish (TESSERA_TOKEN (object), result, &error))
    {
      if (is_cancelled (self, error))
        return;
      /* Translators: the first %s is a problem, the second why it could not be fixed */
      report = g_strdup_printf (_("Not fixed: %s %s"), tessera_problem_get_title (problem),
                                error->message);
    }
  else
    {
      self->made_something = TRUE;
      self->test_done = FALSE;
      /* Translators: %s is the problem that was fixed */
      report = g_strdup_printf (_("Fixed: %s"), tessera_problem_get_title (problem));
      add_note (self, report);
    }
  g_ptr_array_add (self->fix_reports, g_steal_pointer (&report));

  fix_next_problem (self);
}

/* Fixes the fixable problems one after the other, then reads the token
 * and looks again */
static void
fix_next_problem (TesseraSetupAssistant *self)
{
  while (self->problems->len > 0
         && !tessera_problem_get_fixable (g_ptr_array_index (self->problems, 0)))
    g_ptr_array_remove_index (self->problems, 0);

  if (self->problems->len == 0)
    {
      read_objects_then (self, on_fixed_objects_read);
      return;
    }

  tessera_token_fix_problem_async (self->token, g_ptr_array_index (self->problems, 0),
                                   self->cancellable, on_problem_fixed, g_object_ref (self));
}

static void
fix_problems (TesseraSetupAssistant *self)
{
  set_busy (self, _("Fixing the problems…"));
  fix_next_problem (self);
}

static void
configure_pairing (TesseraSetupAssistant *self)
{
  Page *page = &self->pages[STEP_PAIRING];

  gtk_label_set_text (GTK_LABEL (page->body),
                      _("OpenSSH finds a key’s private key by the ID its public key or "
                        "certificate carries. Tessera checks that every object on the token "
                        "pairs up, and fixes what it can."));
  if (self->problems_fresh)
    {
      show_problems (self);
      return;
    }

  set_next_label (self, _("_Next"));
  set_busy (self, _("Checking how the objects pair up…"));
  when_logged_in (self, check_pairing);
}

static void
run_pairing (TesseraSetupAssistant *self)
{
  if (count_fixable (self) > 0)
    {
      when_logged_in (self, fix_problems);
      return;
    }

  advance (self, STEP_TEST);
}

/* Step 6: a test signature */

static void
show_test_result (TesseraSetupAssistant *self,
                  const GError          *error)
{
  Page *page = &self->pages[STEP_TEST];
  g_autofree char *text = NULL;

  clear_content (page);
  gtk_label_set_text (GTK_LABEL (page->body),
                      _("The token signs a random challenge with the key, and Tessera "
                        "verifies the signature with the public key SSH offers to servers."));
  if (error == NULL)
    {
      /* Translators: %s is a key's label */
      text = g_strdup_printf (_("“%s” signed the test challenge, and its public key verified "
                                "the signature: SSH logins with this key will work."),
                              key_name (self->key));
      add_status (page, "emblem-ok-symbolic", text);
    }
  else
    {
      /* Translators: %s is why the test failed */
      text = g_strdup_printf (_("The test signature failed: %s"), error->message);
      add_status (page, "dialog-warning-symbolic", text);
    }
  set_next_label (self, _("_Next"));
}

static void
on_key_tested (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *note = NULL;

  tessera_token_test_key_finish (TESSERA_TOKEN (object), result, &error);
  if (error != NULL && is_cancelled (self, error))
    return;

  self->test_done = TRUE;
  self->test_passed = error == NULL;

  if (self->step != STEP_TEST && error == NULL)
    {
      /* Translators: %s is a key's label */
      note = g_strdup_printf (_("“%s” passed a test signature."), key_name (self->key));
      add_note (self, note);
      advance (self, STEP_FINISH);
      return;
    }

  if (self->step != STEP_TEST)
    show_step (self, STEP_TEST);
  set_busy (self, NULL);
  show_test_result (self, error);
}

static void
test_key (TesseraSetupAssistant *self)
{
  refind_key (self);
  tessera_token_test_key_async (self->token, self->key, self->cancellable,
                                on_key_tested, g_object_ref (self));
}

static void
configure_test (TesseraSetupAssistant *self)
{
  set_next_label (self, _("_Next"));
  set_busy (self, _("Signing a test challenge on the token…"));
  when_logged_in (self, test_key);
}

/* Step 7: use the key */

static void
on_copy_key_clicked (TesseraSetupAssistant *self)
{
  g_autofree char *line = tessera_key_get_ssh_line (self->key);
  g_autofree char *text = NULL;

  if (line == NULL)
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), line);
  /* Translators: a notification, %s is a key's name */
  text = g_strdup_printf (_("SSH key “%s” copied"), key_name (self->key));
  toast (self, text);
}

static void
on_copy_config_clicked (TesseraSetupAssistant *self)
{
  g_autofree char *config = tessera_ssh_export_dup_config (GTK_WINDOW (self), self->key,
                                                           self->token);

  if (config == NULL)
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), config);
  /* Translators: a notification after Copy SSH Config; keep it short */
  toast (self, _("Copied — replace the host name"));
}

static char *
describe_public_key_path (TesseraSetupAssistant *self)
{
  GFile *file = tessera_ssh_export_lookup_public_key_file (GTK_WINDOW (self), self->key,
                                                          self->token);
  g_autofree char *name = NULL;

  if (file != NULL && g_file_peek_path (file) != NULL)
    {
      const char *path = g_file_peek_path (file);

      /* Quoted for the shell only when it needs it */
      for (const char *p = path; *p != '\0'; p++)
        if (!g_ascii_isalnum (*p) && strchr ("/._-+,@%", *p) == NULL)
          return g_shell_quote (path);
      return g_strdup (path);
    }

  name = tessera_ssh_export_suggest_file_name (tessera_key_get_label (self->key), ".pub");
  return g_strdup_printf ("~/.ssh/%s", name);
}

static void
update_command (TesseraSetupAssistant *self)
{
  g_autofree char *path = NULL;
  g_autofree char *command = NULL;

  if (self->command_label == NULL)
    return;

  path = describe_public_key_path (self);
  command = g_strdup_printf ("ssh-copy-id -f -i %s user@host", path);
  gtk_label_set_text (GTK_LABEL (self->command_label), command);
}

static void
on_public_key_saved (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *basename = NULL;
  g_autofree char *text = NULL;

  file = tessera_ssh_export_save_public_key_finish (result, &error);
  if (file == NULL || self->dismissed)
    return;

  basename = g_file_get_basename (file);
  /* Translators: a notification, %s is a file name, e.g. “ssh-key.pub” */
  text = g_strdup_printf (_("Saved “%s”"), basename);
  toast (self, text);
  update_command (self);
}

static void
on_save_key_clicked (TesseraSetupAssistant *self)
{
  tessera_ssh_export_save_public_key_async (GTK_WINDOW (self), self->key, self->token,
                                            self->cancellable, on_public_key_saved,
                                            g_object_ref (self));
}

static GtkWidget *
add_button (TesseraSetupAssistant *self,
            GtkWidget             *box,
            const char            *label,
            GCallback              callback,
            gboolean               suggested)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_widget_set_halign (button, GTK_ALIGN_START);
  gtk_widget_add_css_class (button, "pill");
  if (suggested)
    gtk_widget_add_css_class (button, "suggested-action");
  g_signal_connect_object (button, "clicked", callback, self, G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (box), button);

  return button;
}

static void
configure_finish (TesseraSetupAssistant *self)
{
  Page *page = &self->pages[STEP_FINISH];
  g_autofree char *heading = NULL;
  g_autofree char *summary = NULL;
  g_autofree char *type = tessera_key_describe_type (self->key);
  g_autofree char *fingerprint = tessera_key_get_ssh_fingerprint (self->key);
  g_autofree char *key_text = NULL;
  g_autofree char *hint = NULL;
  GtkWidget *label;
  GtkWidget *group_box;

  refind_key (self);

  if (self->made_something)
    /* Translators: %s is the token's name */
    heading = g_strdup_printf (_("“%s” Is Set Up for SSH"),
                               tessera_token_get_display_name (self->token));
  else
    /* Translators: %s is the token's name */
    heading = g_strdup_printf (_("“%s” Is Already Set Up for SSH"),
                               tessera_token_get_display_name (self->token));
  gtk_label_set_text (GTK_LABEL (page->heading), heading);
  gtk_accessible_update_property (GTK_ACCESSIBLE (gtk_widget_get_parent (page->heading)),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, heading, -1);

  if (!self->made_something)
    gtk_label_set_text (GTK_LABEL (page->body),
                        _("Nothing needed changing: every step was done already."));

  /* Everything this run found or did */
  if (self->all_notes->len > 0)
    {
      g_ptr_array_add (self->all_notes, NULL);
      summary = g_strjoinv ("\n", (char **) self->all_notes->pdata);
      g_ptr_array_remove_index (self->all_notes, self->all_notes->len - 1);
      label = add_status (page, "emblem-ok-symbolic", summary);
      gtk_widget_add_css_class (label, "dim-label");
    }

  /* Translators: the key, its type and its SHA-256 fingerprint */
  key_text = g_strdup_printf (_("Key: “%s” · %s · %s"), key_name (self->key),
                              type ? type : "", fingerprint ? fingerprint : "");
  label = new_wrapped_label ("heading");
  gtk_label_set_text (GTK_LABEL (label), key_text);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_box_append (GTK_BOX (page->content), label);

  add_button (self, page->content, _("_Copy SSH Key"), G_CALLBACK (on_copy_key_clicked), TRUE);
  label = new_wrapped_label (NULL);
  gtk_label_set_text (GTK_LABEL (label),
                      _("Add the copied line to ~/.ssh/authorized_keys on each server you log "
                        "in to. Or save it as a file and let ssh-copy-id add it, with your "
                        "user name and server:"));
  gtk_box_append (GTK_BOX (page->content), label);
  self->command_label = new_wrapped_label ("monospace");
  gtk_label_set_selectable (GTK_LABEL (self->command_label), TRUE);
  gtk_box_append (GTK_BOX (page->content), self->command_label);
  update_command (self);
  add_button (self, page->content, _("_Save Public Key…"), G_CALLBACK (on_save_key_clicked), FALSE);

  /* The token page's switch, for this token */
  group_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  self->agent_group = g_object_new (TESSERA_TYPE_AGENT_GROUP, NULL);
  tessera_agent_group_set_token (self->agent_group, self->token);
  gtk_box_append (GTK_BOX (group_box), GTK_WIDGET (self->agent_group));
  gtk_widget_set_margin_top (group_box, 12);
  gtk_box_append (GTK_BOX (page->content), group_box);

  add_button (self, page->content, _("Copy SSH _Config"), G_CALLBACK (on_copy_config_clicked),
              FALSE);
  hint = g_strdup_printf (_("A Host block for ~/.ssh/config that loads the token’s module. "
                            "Replace %s with your server’s name. Once the public key is "
                            "saved, the block names it, so that ssh offers only this key."),
                          TESSERA_SSH_EXPORT_PLACEHOLDER_HOST);
  label = new_wrapped_label ("dim-label");
  gtk_label_set_text (GTK_LABEL (label), hint);
  gtk_box_append (GTK_BOX (page->content), label);

  set_next_label (self, _("_Done"));
}

/* Going through the steps */

static void
show_step (TesseraSetupAssistant *self,
           Step                   step)
{
  Page *page = &self->pages[step];
  g_autofree char *notes = NULL;

  g_debug ("Set Up for SSH: showing step %s", step_name (step));

  self->step = step;
  self->busy = FALSE;
  gtk_label_set_text (GTK_LABEL (page->heading), step_title (step));
  clear_content (page);
  self->command_label = NULL;
  self->agent_group = NULL;
  set_next_label (self, _("_Next"));

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

  switch (step)
    {
    case STEP_INITIALIZE: configure_initialize (self); break;
    case STEP_USER_PIN: configure_user_pin (self); break;
    case STEP_KEY: configure_key (self); break;
    case STEP_CERTIFICATE: configure_certificate (self); break;
    case STEP_PAIRING: configure_pairing (self); break;
    case STEP_TEST: configure_test (self); break;
    case STEP_FINISH:
    default: configure_finish (self); break;
    }

  update_header (self);
  focus_page (self, TRUE);
}

static void advance_after_login (TesseraSetupAssistant *self);

/* Goes to the first step from @from on that needs the person, saying what
 * was skipped.  Some steps must look first (log in, check pairing, sign):
 * they call back here when they know. */
static void
advance (TesseraSetupAssistant *self,
         Step                   from)
{
  g_autofree char *note = NULL;

  if (self->dismissed)
    return;

  self->busy = FALSE;

  for (Step step = from; step < N_STEPS; step++)
    {
      switch (step)
        {
        case STEP_INITIALIZE:
          if (init_mode (self->token) != INIT_MODE_DONE)
            {
              show_step (self, step);
              return;
            }
          if (!self->made_something)
            add_note (self, _("The token is already initialized."));
          break;

        case STEP_USER_PIN:
          if (tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_USER_PIN_NOT_SET))
            {
              show_step (self, step);
              return;
            }
          if (!self->made_something)
            add_note (self, _("The user PIN is already set."));
          break;

        case STEP_KEY:
          if (!tessera_token_get_logged_in (self->token)
              && tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_LOGIN_REQUIRED))
            {
              if (self->login_abandoned)
                {
                  show_step (self, step);
                  return;
                }
              show_working (self, _("Logging In…"));
              self->step = step;
              when_logged_in (self, advance_after_login);
              return;
            }
          if (!tessera_token_get_objects_loaded (self->token))
            {
              show_working (self, _("Reading the Token…"));
              self->step = step;
              read_objects_then (self, advance_after_login);
              return;
            }
          refind_key (self);
          if (!key_still_there (self))
            {
              collect_ready_keys (self);
              if (self->ready_keys->len == 0)
                {
                  show_step (self, step);
                  return;
                }
              set_key (self, g_ptr_array_index (self->ready_keys, 0));
              /* Translators: %s is a key's label */
              note = g_strdup_printf (_("The token already holds a key ready for SSH: “%s”."),
                                      key_name (self->key));
              add_note (self, note);
              g_clear_pointer (&note, g_free);
            }
          break;

        case STEP_CERTIFICATE:
          if (tessera_key_get_certificate (self->key) == NULL && !self->certificate_declined)
            {
              show_step (self, step);
              return;
            }
          if (tessera_key_get_certificate (self->key) != NULL)
            {
              /* Translators: %s is a key's label */
              note = g_strdup_printf (_("“%s” already has a certificate."), key_name (self->key));
              add_note (self, note);
              g_clear_pointer (&note, g_free);
            }
          break;

        case STEP_PAIRING:
          if (!self->problems_fresh)
            {
              self->step = step - 1;
              show_working (self, _("Checking Pairing…"));
              check_pairing (self);
              return;
            }
          if (self->problems->len > 0)
            {
              show_step (self, step);
              return;
            }
          break;

        case STEP_TEST:
          if (self->made_something && !self->test_done)
            {
              show_step (self, step);
              return;
            }
          if (!self->test_done)
            {
              self->step = step - 1;
              show_working (self, _("Testing the Key…"));
              test_key (self);
              return;
            }
          if (!self->test_passed)
            {
              show_step (self, step);
              return;
            }
          break;

        case STEP_FINISH:
        default:
          show_step (self, STEP_FINISH);
          return;
        }
    }
}

static void
advance_after_login (TesseraSetupAssistant *self)
{
  advance (self, STEP_KEY);
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

  show_error (self, NULL);

  switch (self->step)
    {
    case STEP_INITIALIZE: run_initialize (self); break;
    case STEP_USER_PIN: run_user_pin (self); break;
    case STEP_KEY: run_key (self); break;
    case STEP_CERTIFICATE: run_certificate (self); break;
    case STEP_PAIRING: run_pairing (self); break;
    case STEP_TEST: advance (self, STEP_FINISH); break;
    case STEP_FINISH:
    default:
      gtk_window_close (GTK_WINDOW (self));
      break;
    }
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  TesseraSetupAssistant *self = TESSERA_SETUP_ASSISTANT (widget);

  if (self->busy || self->step == STEP_INITIALIZE)
    return;

  wipe_rows (self);
  g_ptr_array_set_size (self->pending_notes, 0);
  self->login_abandoned = FALSE;
  /* A check shown again runs again */
  if (self->step - 1 == STEP_PAIRING)
    {
      self->problems_fresh = FALSE;
      g_ptr_array_set_size (self->fix_reports, 0);
    }
  show_step (self, self->step - 1);
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
  TesseraWindow *window = main_window (self);
  gboolean was_busy = self->busy;

  g_cancellable_cancel (self->cancellable);
  if (self->dismissed)
    return;
  self->dismissed = TRUE;
  g_debug ("Set Up for SSH: closed on step %s", step_name (self->step));

  wipe_rows (self);
  forget_pins (self);

  /* The token may have finished what was cancelled (a key pair the core
   * then deletes, a PIN change): show the window what is there now */
  if ((was_busy || self->made_something) && window != NULL && self->token != NULL
      && !g_cancellable_is_cancelled (tessera_window_get_cancellable (window)))
    tessera_token_read_objects_async (self->token, tessera_window_get_cancellable (window),
                                      NULL, NULL);

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
  forget_pins (self);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_SETUP_ASSISTANT);

  G_OBJECT_CLASS (tessera_setup_assistant_parent_class)->dispose (object);
}

static void
tessera_setup_assistant_finalize (GObject *object)
{
  TesseraSetupAssistant *self = TESSERA_SETUP_ASSISTANT (object);

  g_clear_pointer (&self->key_checks, g_ptr_array_unref);
  g_clear_pointer (&self->type_checks, g_ptr_array_unref);
  g_clear_object (&self->token);
  g_clear_object (&self->registry);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->parent_cancellable);
  g_clear_object (&self->key);
  g_clear_pointer (&self->key_id, g_bytes_unref);
  g_clear_pointer (&self->ready_keys, g_ptr_array_unref);
  g_clear_pointer (&self->specs, g_array_unref);
  g_clear_object (&self->specs_token);
  g_clear_pointer (&self->problems, g_ptr_array_unref);
  g_clear_pointer (&self->fix_reports, g_ptr_array_unref);
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
  window_class->close_request = tessera_setup_assistant_close_request;

  g_type_ensure (TESSERA_TYPE_AGENT_GROUP);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-setup-assistant.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraSetupAssistant, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, TesseraSetupAssistant, window_title);
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
  self->key_checks = g_ptr_array_new ();
  self->type_checks = g_ptr_array_new ();
  self->ready_keys = g_ptr_array_new_with_free_func (g_object_unref);
  self->fix_reports = g_ptr_array_new_with_free_func (g_free);
  self->pending_notes = g_ptr_array_new_with_free_func (g_free);
  self->all_notes = g_ptr_array_new_with_free_func (g_free);

  for (Step step = 0; step < N_STEPS; step++)
    build_page (self, step);
}

/**
 * tessera_setup_assistant_new:
 * @parent: the main window
 * @token: the token to set up
 *
 * Returns: (transfer none): a new assistant; present it
 */
GtkWidget *
tessera_setup_assistant_new (GtkWindow    *parent,
                             TesseraToken *token)
{
  TesseraSetupAssistant *self;
  GApplication *app = g_application_get_default ();

  g_return_val_if_fail (GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (TESSERA_IS_TOKEN (token), NULL);
  g_return_val_if_fail (TESSERA_IS_APPLICATION (app), NULL);

  self = g_object_new (TESSERA_TYPE_SETUP_ASSISTANT,
                       "transient-for", parent,
                       NULL);
  self->registry = g_object_ref (tessera_application_get_registry (TESSERA_APPLICATION (app)));
  set_token (self, token);

  if (TESSERA_IS_WINDOW (parent))
    {
      self->parent_cancellable = g_object_ref (tessera_window_get_cancellable (TESSERA_WINDOW (parent)));
      g_signal_connect_object (self->parent_cancellable, "cancelled",
                               G_CALLBACK (on_parent_cancelled), self, G_CONNECT_SWAPPED);
    }

  /* Translators: the assistant's title, %s is the token's name */
  adw_window_title_set_title (self->window_title, _("Set Up for SSH"));
  show_working (self, _("Looking at the Token…"));
  advance (self, STEP_INITIALIZE);

  return GTK_WIDGET (self);
}

/**
 * tessera_setup_assistant_present:
 * @parent: the main window
 * @token: the token to set up
 *
 * Opens the assistant for @token over @parent.
 */
void
tessera_setup_assistant_present (GtkWindow    *parent,
                                 TesseraToken *token)
{
  gtk_window_present (GTK_WINDOW (tessera_setup_assistant_new (parent, token)));
}

static void
on_software_token_created (GtkWidget    *dialog,
                           TesseraToken *token,
                           GtkWindow    *parent)
{
  if (TESSERA_IS_WINDOW (parent))
    tessera_window_select_token (TESSERA_WINDOW (parent), token);
  tessera_setup_assistant_present (parent, token);
}

/**
 * tessera_setup_assistant_present_new_software_token:
 * @parent: the main window
 *
 * Creates a software token first (its label and PINs), then sets it up
 * for SSH: the empty state's way in.
 */
void
tessera_setup_assistant_present_new_software_token (GtkWindow *parent)
{
  GApplication *app = g_application_get_default ();
  GtkWidget *dialog;

  g_return_if_fail (TESSERA_IS_WINDOW (parent));
  g_return_if_fail (TESSERA_IS_APPLICATION (app));

  dialog = tessera_software_token_dialog_new (tessera_application_get_registry (TESSERA_APPLICATION (app)),
                                              parent,
                                              tessera_window_get_cancellable (TESSERA_WINDOW (parent)));
  g_signal_connect_object (dialog, "created", G_CALLBACK (on_software_token_created), parent, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}
