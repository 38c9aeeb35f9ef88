/* tessera-setup-assistant-steps.c: what each step of "Set Up for SSH…" shows and does
 *
 * Each step has three functions, listed in the table at the end: a check,
 * which tells going forward whether the token already has what the step
 * makes (and notes it), or looks first and goes on by itself; a configure
 * function, which fills its page for the token as it is now (a form, or a
 * sentence that says what is done); and a run function for Next: one core
 * call, or a short chain, whose callback reads the token again where it
 * changed and goes on with the next step that needs the person.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tessera-property-row.h"
#include "tessera-setup-assistant-private.h"
#include "tessera-ssh-export.h"

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
  TesseraPinForm *form;
  g_autofree char *length = NULL;
  const char *factory = tessera_token_get_factory_so_pin (self->token);
  const char *label = tessera_token_get_label (self->token);

  self->init_mode = init_mode (self->token);
  self->rows.label = self->rows.so = self->rows.so_new = self->rows.so_repeat = NULL;
  self->rows.pin_old = self->rows.pin = self->rows.pin_repeat = NULL;

  if (self->init_mode == INIT_MODE_DONE)
    {
      _tessera_setup_add_status (page, "emblem-ok-symbolic",
                                 _("The token is initialized and its PINs are set."));
      return;
    }

  form = _tessera_setup_add_pin_form (self, page);
  length = tessera_pin_form_describe_lengths (form);

  switch (self->init_mode)
    {
    case INIT_MODE_INITIALIZE:
      gtk_label_set_text (GTK_LABEL (page->body),
                          _("Give the token a label and choose its PINs. The SO PIN, the "
                            "Security Officer PIN, protects the token itself and unblocks "
                            "the user PIN: keep it safe. The user PIN unlocks the keys."));
      self->rows.label = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_LABEL, _("Label"));
      if (label != NULL && label[0] != '\0')
        gtk_editable_set_text (GTK_EDITABLE (self->rows.label), label);
      if (factory)
        {
          g_autofree char *text = NULL;

          self->rows.so = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_CURRENT,
                                                      _("Current SO PIN"));
          gtk_editable_set_text (GTK_EDITABLE (self->rows.so), factory);
          /* Translators: %s is the SO PIN the token comes with, such as 87654321 */
          text = g_strdup_printf (_("This token comes with the SO PIN %s, filled in here. "
                                    "You choose a new one next."), factory);
          tessera_pin_form_set_hint (form, text);
        }
      else
        {
          self->rows.so_new = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_NEW,
                                                          _("New SO PIN"));
          self->rows.so_repeat = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_REPEAT,
                                                             _("Repeat New SO PIN"));
          tessera_pin_form_set_hint (form, length);
        }
      self->rows.pin = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_NEW, _("New PIN"));
      self->rows.pin_repeat = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_REPEAT,
                                                          _("Repeat New PIN"));
      _tessera_setup_set_next_label (self, _("_Initialize"));
      break;

    case INIT_MODE_CHANGE_PINS:
      gtk_label_set_text (GTK_LABEL (page->body),
                          _("The token asks for new PINs: the ones it has are those it came "
                            "with, which anyone can look up."));
      if (tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED))
        {
          if (self->so_pin == NULL)
            self->rows.so = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_CURRENT,
                                                        _("Current SO PIN"));
          self->rows.so_new = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_NEW,
                                                          _("New SO PIN"));
          self->rows.so_repeat = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_REPEAT,
                                                             _("Repeat New SO PIN"));
        }
      if (tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED))
        {
          if (self->user_pin == NULL)
            self->rows.pin_old = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_CURRENT,
                                                             _("Current PIN"));
          self->rows.pin = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_NEW,
                                                       _("New PIN"));
          self->rows.pin_repeat = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_REPEAT,
                                                              _("Repeat New PIN"));
        }
      tessera_pin_form_set_hint (form, length);
      _tessera_setup_set_next_label (self, _("_Change PINs"));
      break;

    case INIT_MODE_DONE:
    default:
      g_assert_not_reached ();
    }
}

/* A PIN already changed leaves the form: the next try asks only for what
 * is left */
static void
retire_fields (GtkWidget *row,
               ...)
{
  va_list args;

  va_start (args, row);
  for (; row != NULL; row = va_arg (args, GtkWidget *))
    {
      gtk_widget_set_visible (row, FALSE);
      gtk_editable_set_text (GTK_EDITABLE (row), "");
    }
  va_end (args);
}

static void on_pin_changed (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data);

/* Changes the next PIN still to be changed: the SO PIN, then the user PIN */
static void
change_next_pin (TesseraSetupAssistant *self)
{
  if (self->rows.so_new != NULL)
    {
      GtkEditable *row = GTK_EDITABLE (self->rows.so_new);
      g_autofree char *new_pin = g_strdup (gtk_editable_get_text (row));

      _tessera_setup_set_busy (self, _("Changing the SO PIN…"));
      tessera_token_change_pin_async (self->token, TESSERA_PIN_SO, self->so_pin, new_pin,
                                      self->cancellable, on_pin_changed, g_object_ref (self));
      g_object_set_data_full (G_OBJECT (self), "tessera-new-so-pin",
                              g_steal_pointer (&new_pin), (GDestroyNotify) g_free);
      return;
    }

  if (self->rows.pin != NULL)
    {
      GtkEditable *row = GTK_EDITABLE (self->rows.pin);
      g_autofree char *new_pin = g_strdup (gtk_editable_get_text (row));

      _tessera_setup_set_busy (self, _("Changing the PIN…"));
      tessera_token_change_pin_async (self->token, TESSERA_PIN_USER, self->user_pin, new_pin,
                                      self->cancellable, on_pin_changed, g_object_ref (self));
      g_object_set_data_full (G_OBJECT (self), "tessera-new-user-pin",
                              g_steal_pointer (&new_pin), (GDestroyNotify) g_free);
      return;
    }

  /* Both done */
  _tessera_setup_wipe_rows (self);
  _tessera_setup_add_note (self, _("The PINs were changed."));
  _tessera_setup_set_busy (self, _("Looking at the token again…"));
  _tessera_setup_refresh_and_advance (self);
}

static void
on_pin_changed (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean so = self->rows.so_new != NULL;
  const char *key = so ? "tessera-new-so-pin" : "tessera-new-user-pin";
  char *new_pin = g_object_steal_data (G_OBJECT (self), key);

  if (!tessera_token_change_pin_finish (TESSERA_TOKEN (object), result, &error))
    {
      tessera_pin_wipe (&new_pin);
      if (is_cancelled (self, error))
        return;
      _tessera_setup_set_busy (self, NULL);
      _tessera_setup_show_error (self, error->message);
      /* What is done is done: the next try asks only for what is left */
      if (so && g_error_matches (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INCORRECT))
        tessera_pin_wipe (&self->so_pin);
      return;
    }

  if (so)
    {
      tessera_pin_wipe (&self->so_pin);
      self->so_pin = new_pin;
      retire_fields (self->rows.so_new, self->rows.so_repeat, self->rows.so, NULL);
      self->rows.so_new = self->rows.so_repeat = self->rows.so = NULL;
    }
  else
    {
      tessera_pin_wipe (&self->user_pin);
      self->user_pin = new_pin;
      retire_fields (self->rows.pin, self->rows.pin_repeat, self->rows.pin_old, NULL);
      self->rows.pin = self->rows.pin_repeat = self->rows.pin_old = NULL;
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
      _tessera_setup_forget_pins (self);
      _tessera_setup_set_busy (self, NULL);
      _tessera_setup_show_error (self, error->message);
      return;
    }

  _tessera_setup_wipe_rows (self);
  self->made_something = TRUE;
  /* Translators: %s is the token's new label */
  note = g_strdup_printf (_("The token “%s” was initialized."), self->new_label);
  _tessera_setup_add_note (self, note);
  _tessera_setup_set_busy (self, _("Looking for the initialized token…"));
  _tessera_setup_refresh_and_advance (self);
}

static void
run_initialize (TesseraSetupAssistant *self)
{
  GtkWidget *so_row;

  if (self->init_mode == INIT_MODE_DONE)
    {
      _tessera_setup_advance (self, STEP_USER_PIN);
      return;
    }

  /* Next waits for the form, which checked every field as it was typed */
  if (self->form == NULL || !tessera_pin_form_get_valid (self->form))
    return;

  if (self->init_mode == INIT_MODE_INITIALIZE)
    {
      g_free (self->new_label);
      self->new_label = tessera_pin_form_dup_text (self->rows.label);
      _tessera_setup_forget_pins (self);
      so_row = self->rows.so != NULL ? self->rows.so : self->rows.so_new;
      self->so_pin = tessera_pin_form_dup_text (so_row);
      self->user_pin = tessera_pin_form_dup_text (self->rows.pin);
      g_clear_pointer (&self->old_serial, g_free);
      self->old_serial = g_strdup (tessera_token_get_serial (self->token));

      _tessera_setup_set_busy (self, _("Initializing the token…"));
      tessera_token_initialize_async (self->token, self->so_pin, self->new_label, self->user_pin,
                                      self->cancellable, on_initialized, g_object_ref (self));
      return;
    }

  /* Change the PINs */
  if (self->rows.so != NULL)
    {
      tessera_pin_wipe (&self->so_pin);
      self->so_pin = tessera_pin_form_dup_text (self->rows.so);
    }
  if (self->rows.pin_old != NULL)
    {
      tessera_pin_wipe (&self->user_pin);
      self->user_pin = tessera_pin_form_dup_text (self->rows.pin_old);
    }
  g_clear_pointer (&self->new_label, g_free);
  change_next_pin (self);
}

static StepCheck
check_initialize (TesseraSetupAssistant *self)
{
  if (init_mode (self->token) != INIT_MODE_DONE)
    return STEP_NEEDED;
  if (!self->made_something)
    _tessera_setup_add_note (self, _("The token is already initialized."));
  return STEP_SATISFIED;
}

/* Step 2: the user PIN */

static void
configure_user_pin (TesseraSetupAssistant *self)
{
  Page *page = &self->pages[STEP_USER_PIN];
  TesseraPinForm *form;
  g_autofree char *length = NULL;

  self->rows.so = self->rows.pin = self->rows.pin_repeat = NULL;
  self->rows.so_new = self->rows.so_repeat = self->rows.pin_old = NULL;

  if (!tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_USER_PIN_NOT_SET))
    {
      _tessera_setup_add_status (page, "emblem-ok-symbolic", _("The user PIN is set."));
      return;
    }

  gtk_label_set_text (GTK_LABEL (page->body),
                      _("The token has no user PIN yet. Choose one: it unlocks the keys "
                        "each time SSH uses them. The SO PIN allows setting it."));
  form = _tessera_setup_add_pin_form (self, page);
  if (self->so_pin == NULL)
    self->rows.so = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_CURRENT, _("SO PIN"));
  self->rows.pin = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_NEW, _("New PIN"));
  self->rows.pin_repeat = tessera_pin_form_add_field (form, TESSERA_PIN_FIELD_REPEAT,
                                                      _("Repeat New PIN"));
  length = tessera_pin_form_describe_lengths (form);
  tessera_pin_form_set_hint (form, length);
  _tessera_setup_set_next_label (self, _("_Set PIN"));
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
      _tessera_setup_forget_pins (self);
      _tessera_setup_set_busy (self, NULL);
      _tessera_setup_show_error (self, error->message);
      return;
    }

  _tessera_setup_wipe_rows (self);
  self->made_something = TRUE;
  _tessera_setup_add_note (self, _("The user PIN was set."));
  g_clear_pointer (&self->new_label, g_free);
  _tessera_setup_set_busy (self, _("Looking at the token again…"));
  _tessera_setup_refresh_and_advance (self);
}

static void
run_user_pin (TesseraSetupAssistant *self)
{
  if (self->rows.pin == NULL)
    {
      _tessera_setup_advance (self, STEP_KEY);
      return;
    }

  /* Next waits for the form, which checked every field as it was typed */
  if (self->form == NULL || !tessera_pin_form_get_valid (self->form))
    return;

  if (self->rows.so != NULL)
    {
      tessera_pin_wipe (&self->so_pin);
      self->so_pin = tessera_pin_form_dup_text (self->rows.so);
    }
  tessera_pin_wipe (&self->user_pin);
  self->user_pin = tessera_pin_form_dup_text (self->rows.pin);

  _tessera_setup_set_busy (self, _("Setting the PIN…"));
  tessera_token_unblock_pin_async (self->token, self->so_pin, self->user_pin, self->cancellable,
                                   on_user_pin_set, g_object_ref (self));
}

static StepCheck
check_user_pin (TesseraSetupAssistant *self)
{
  if (tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_USER_PIN_NOT_SET))
    return STEP_NEEDED;
  if (!self->made_something)
    _tessera_setup_add_note (self, _("The user PIN is already set."));
  return STEP_SATISFIED;
}

/* Step 3: the key */

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
  g_autoptr(TesseraKey) key = tessera_token_find_key (self->token, self->key_id);

  if (key != NULL)
    g_set_object (&self->key, key);
}

static gboolean
key_still_there (TesseraSetupAssistant *self)
{
  g_autoptr(TesseraKey) key = NULL;

  if (self->key == NULL)
    return FALSE;
  key = tessera_token_find_key (self->token, self->key_id);
  return key != NULL;
}

/* The keys OpenSSH can use, those with a certificate first */
static void
collect_ready_keys (TesseraSetupAssistant *self)
{
  GListModel *keys = tessera_token_get_keys (self->token);
  guint n = g_list_model_get_n_items (keys);

  g_ptr_array_set_size (self->keys.ready, 0);
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < n; i++)
      {
        g_autoptr(TesseraKey) key = g_list_model_get_item (keys, i);
        gboolean has_certificate = tessera_key_get_certificate (key) != NULL;

        if (tessera_key_get_ssh_verdict (key) != TESSERA_SSH_VERDICT_READY)
          continue;
        if (has_certificate == (pass == 0))
          g_ptr_array_add (self->keys.ready, g_steal_pointer (&key));
      }
}

static void
update_key_choice (TesseraSetupAssistant *self)
{
  gboolean generate = self->keys.generate_check != NULL
    && gtk_check_button_get_active (GTK_CHECK_BUTTON (self->keys.generate_check));

  if (self->keys.types_box != NULL)
    gtk_widget_set_visible (self->keys.types_box, generate);
  _tessera_setup_set_next_label (self, generate ? _("_Generate") : _("_Next"));
}

static void
on_key_types_listed (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;

  if (tessera_key_type_chooser_list_specs_finish (TESSERA_KEY_TYPE_CHOOSER (object), result,
                                                  &error))
    {
      if (self->keys.types != TESSERA_KEY_TYPE_CHOOSER (object))
        return;   /* the page was configured again meanwhile */
      /* Asked once per token: the key page is configured again after a
       * login or Back, and the token's answer does not change */
      g_clear_pointer (&self->keys.specs, g_array_unref);
      self->keys.specs = g_array_ref (tessera_key_type_chooser_get_specs (TESSERA_KEY_TYPE_CHOOSER (object)));
      g_set_object (&self->keys.specs_token, self->token);
      return;
    }
  if (is_cancelled (self, error))
    return;

  /* Only while the page still shows this chooser */
  if (self->step == STEP_KEY && self->keys.types == TESSERA_KEY_TYPE_CHOOSER (object))
    _tessera_setup_show_error (self, error->message);
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

  g_ptr_array_set_size (self->keys.checks, 0);
  self->keys.generate_check = NULL;
  self->keys.types_box = NULL;
  self->keys.types = NULL;
  self->keys.label_row = NULL;

  if (!tessera_token_get_logged_in (self->token)
      && tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_LOGIN_REQUIRED))
    {
      gtk_label_set_text (GTK_LABEL (page->body),
                          _("Log in to the token to see which of its keys SSH can use, "
                            "or to make one."));
      _tessera_setup_set_next_label (self, _("_Log In…"));
      return;
    }

  collect_ready_keys (self);
  gtk_label_set_text (GTK_LABEL (page->body),
                      self->keys.ready->len > 0
                      ? _("Use a key the token already holds, or make a new one. A new key "
                          "is made on the token: its private key never leaves it.")
                      : _("The token holds no key SSH can use. Make one: it is made on the "
                          "token, and its private key never leaves it."));

  list = _tessera_setup_add_choice_list (page, _("Key"));
  for (guint i = 0; i < self->keys.ready->len; i++)
    {
      TesseraKey *key = g_ptr_array_index (self->keys.ready, i);
      g_autofree char *type = tessera_key_describe_type (key);
      g_autofree char *fingerprint = tessera_key_get_ssh_fingerprint (key);
      g_autofree char *subtitle = g_strdup_printf ("%s · %s", type ? type : "",
                                                   fingerprint ? fingerprint : "");
      GtkWidget *check = _tessera_setup_add_choice (list, self->keys.checks, key_name (key),
                                                    subtitle);

      g_signal_connect_object (check, "toggled", G_CALLBACK (on_key_check_toggled), self,
                               G_CONNECT_SWAPPED);
      if (key == self->key || (self->key == NULL && active == NULL))
        active = check;
    }
  self->keys.generate_check = _tessera_setup_add_choice (list, self->keys.checks,
                                                         _("Generate a New Key"), NULL);
  g_signal_connect_object (self->keys.generate_check, "toggled", G_CALLBACK (on_key_check_toggled),
                           self, G_CONNECT_SWAPPED);
  if (active == NULL)
    active = self->keys.generate_check;
  gtk_check_button_set_active (GTK_CHECK_BUTTON (active), TRUE);

  self->keys.types_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  /* Only what both the token and the installed OpenSSH take */
  self->keys.types = TESSERA_KEY_TYPE_CHOOSER (tessera_key_type_chooser_new ());
  gtk_box_append (GTK_BOX (self->keys.types_box), GTK_WIDGET (self->keys.types));
  label_list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (label_list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (label_list, "boxed-list");
  self->keys.label_row = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->keys.label_row), _("Key Label"));
  gtk_list_box_append (GTK_LIST_BOX (label_list), self->keys.label_row);
  gtk_editable_set_text (GTK_EDITABLE (self->keys.label_row), _("SSH key"));
  gtk_box_append (GTK_BOX (self->keys.types_box), label_list);
  gtk_box_append (GTK_BOX (page->content), self->keys.types_box);

  if (self->keys.specs != NULL && self->keys.specs_token == self->token)
    tessera_key_type_chooser_set_specs (self->keys.types, self->keys.specs);
  else
    tessera_key_type_chooser_list_specs_async (self->keys.types, self->token, self->cancellable,
                                               on_key_types_listed, g_object_ref (self));

  update_key_choice (self);
}

static void
on_key_objects_read (TesseraSetupAssistant *self)
{
  g_autoptr(TesseraKey) key = tessera_token_find_key (self->token, self->key_id);
  g_autofree char *note = NULL;

  if (key == NULL)
    {
      _tessera_setup_fail_step (self, STEP_KEY, _("The new key is not among the token’s keys."));
      return;
    }

  set_key (self, key);
  /* Translators: %s is the new key's label */
  note = g_strdup_printf (_("The key “%s” was generated on the token."), key_name (key));
  _tessera_setup_add_note (self, note);
  _tessera_setup_set_busy (self, NULL);
  _tessera_setup_advance (self, STEP_CERTIFICATE);
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
      _tessera_setup_set_busy (self, NULL);
      _tessera_setup_show_error (self, error->message);
      return;
    }

  self->made_something = TRUE;
  self->test.done = FALSE;
  g_clear_object (&self->key);
  g_clear_pointer (&self->key_id, g_bytes_unref);
  self->key_id = g_steal_pointer (&id);
  _tessera_setup_set_busy (self, _("Reading the token…"));
  _tessera_setup_read_objects_then (self, on_key_objects_read);
}

static void
generate_key (TesseraSetupAssistant *self)
{
  const TesseraKeySpec *spec = NULL;
  g_autofree char *label = NULL;

  if (tessera_key_type_chooser_get_specs (self->keys.types) == NULL)
    {
      _tessera_setup_set_busy (self, NULL);
      _tessera_setup_show_error (self, _("The token has not told yet which keys it can make. "
                                         "Try again."));
      return;
    }

  spec = tessera_key_type_chooser_get_selected (self->keys.types);
  label = _tessera_setup_dup_entry_text (self->keys.label_row);
  if (spec == NULL || label[0] == '\0')
    {
      _tessera_setup_set_busy (self, NULL);
      _tessera_setup_show_error (self, spec == NULL ? _("Choose a key type.")
                                                    : _("The key needs a label."));
      return;
    }

  _tessera_setup_set_busy (self, _("Generating the key…"));
  tessera_token_generate_key_async (self->token, spec, label, self->cancellable,
                                    on_key_generated, g_object_ref (self));
}

static void
on_logged_in_for_key (TesseraSetupAssistant *self)
{
  /* The page listed nothing before the login: list the keys now */
  _tessera_setup_show_step (self, STEP_KEY);
}

static void
run_key (TesseraSetupAssistant *self)
{
  if (self->keys.generate_check == NULL)
    {
      _tessera_setup_when_logged_in (self, on_logged_in_for_key);
      return;
    }

  if (gtk_check_button_get_active (GTK_CHECK_BUTTON (self->keys.generate_check)))
    {
      /* Making a key needs a login */
      _tessera_setup_set_busy (self, _("Logging in…"));
      _tessera_setup_when_logged_in (self, generate_key);
      return;
    }

  for (guint i = 0; i < self->keys.ready->len; i++)
    if (gtk_check_button_get_active (g_ptr_array_index (self->keys.checks, i)))
      {
        if (g_ptr_array_index (self->keys.ready, i) != self->key)
          self->test.done = FALSE;
        set_key (self, g_ptr_array_index (self->keys.ready, i));
      }

  _tessera_setup_advance (self, STEP_CERTIFICATE);
}

static void
advance_after_login (TesseraSetupAssistant *self)
{
  _tessera_setup_advance (self, STEP_KEY);
}

/* The key chosen before, else the first the token holds ready for SSH */
static StepCheck
check_key (TesseraSetupAssistant *self)
{
  g_autofree char *note = NULL;

  if (!tessera_token_get_logged_in (self->token)
      && tessera_token_has_state (self->token, TESSERA_TOKEN_STATE_LOGIN_REQUIRED))
    {
      if (self->login_abandoned)
        return STEP_NEEDED;
      _tessera_setup_show_working (self, _("Logging In…"));
      self->step = STEP_KEY;
      _tessera_setup_when_logged_in (self, advance_after_login);
      return STEP_LOOKING;
    }
  if (!tessera_token_get_objects_loaded (self->token))
    {
      _tessera_setup_show_working (self, _("Reading the Token…"));
      self->step = STEP_KEY;
      _tessera_setup_read_objects_then (self, advance_after_login);
      return STEP_LOOKING;
    }

  refind_key (self);
  if (key_still_there (self))
    return STEP_SATISFIED;

  collect_ready_keys (self);
  if (self->keys.ready->len == 0)
    return STEP_NEEDED;
  set_key (self, g_ptr_array_index (self->keys.ready, 0));
  /* Translators: %s is a key's label */
  note = g_strdup_printf (_("The token already holds a key ready for SSH: “%s”."),
                          key_name (self->key));
  _tessera_setup_add_note (self, note);
  return STEP_SATISFIED;
}

/* Step 4: the certificate */

static void
configure_certificate (TesseraSetupAssistant *self)
{
  Page *page = &self->pages[STEP_CERTIFICATE];
  GtkWidget *list;
  GtkWidget *row;
  g_autofree char *text = NULL;

  self->certificate.create_switch = NULL;

  if (tessera_key_get_certificate (self->key) != NULL)
    {
      /* Translators: %s is a key's label */
      text = g_strdup_printf (_("“%s” has a certificate."), key_name (self->key));
      _tessera_setup_add_status (page, "emblem-ok-symbolic", text);
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
  self->certificate.create_switch = GTK_SWITCH (gtk_switch_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->certificate.create_switch), GTK_ALIGN_CENTER);
  gtk_switch_set_active (self->certificate.create_switch, !self->certificate.declined);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), GTK_WIDGET (self->certificate.create_switch));
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row),
                                         GTK_WIDGET (self->certificate.create_switch));
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
  _tessera_setup_add_note (self, note);
  _tessera_setup_set_busy (self, NULL);
  _tessera_setup_advance (self, STEP_PAIRING);
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
      _tessera_setup_set_busy (self, NULL);
      _tessera_setup_show_error (self, error->message);
      return;
    }

  self->made_something = TRUE;
  _tessera_setup_set_busy (self, _("Reading the token…"));
  _tessera_setup_read_objects_then (self, on_certificate_objects_read);
}

static void
create_certificate (TesseraSetupAssistant *self)
{
  _tessera_setup_set_busy (self, _("Creating the certificate…"));
  tessera_token_create_certificate_async (self->token, self->key, key_name (self->key),
                                          TESSERA_CERTIFICATE_DEFAULT_DAYS, self->cancellable,
                                          on_certificate_created, g_object_ref (self));
}

static void
run_certificate (TesseraSetupAssistant *self)
{
  if (self->certificate.create_switch == NULL)
    {
      _tessera_setup_advance (self, STEP_PAIRING);
      return;
    }

  self->certificate.declined = !gtk_switch_get_active (self->certificate.create_switch);
  if (self->certificate.declined)
    {
      _tessera_setup_add_note (self, _("No certificate was created."));
      _tessera_setup_advance (self, STEP_PAIRING);
      return;
    }

  _tessera_setup_set_busy (self, _("Logging in…"));
  _tessera_setup_when_logged_in (self, create_certificate);
}

static StepCheck
check_certificate (TesseraSetupAssistant *self)
{
  g_autofree char *note = NULL;

  if (tessera_key_get_certificate (self->key) == NULL)
    return self->certificate.declined ? STEP_SATISFIED : STEP_NEEDED;

  /* Translators: %s is a key's label */
  note = g_strdup_printf (_("“%s” already has a certificate."), key_name (self->key));
  _tessera_setup_add_note (self, note);
  return STEP_SATISFIED;
}

/* Step 5: pairing */

static guint
count_fixable (TesseraSetupAssistant *self)
{
  guint n = 0;

  for (guint i = 0; self->pairing.problems != NULL && i < self->pairing.problems->len; i++)
    if (tessera_problem_get_fixable (g_ptr_array_index (self->pairing.problems, i)))
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

  for (guint i = 0; i < self->pairing.fix_reports->len; i++)
    _tessera_setup_add_status (page, "emblem-ok-symbolic",
                               g_ptr_array_index (self->pairing.fix_reports, i));

  if (self->pairing.problems == NULL || self->pairing.problems->len == 0)
    {
      _tessera_setup_add_status (page, "emblem-ok-symbolic",
                                 _("No pairing problems: each key’s public key and certificate "
                                   "share its private key’s ID, as OpenSSH needs."));
      _tessera_setup_set_next_label (self, _("_Next"));
      return;
    }

  for (guint i = 0; i < self->pairing.problems->len; i++)
    {
      TesseraProblem *problem = g_ptr_array_index (self->pairing.problems, i);
      g_autofree char *text = NULL;

      /* The problem, then what it means and what the fix does */
      if (tessera_problem_get_fixable (problem))
        text = g_strdup_printf ("%s\n%s %s", tessera_problem_get_title (problem),
                                tessera_problem_get_description (problem),
                                tessera_problem_get_fix_description (problem));
      else
        text = g_strdup_printf ("%s\n%s", tessera_problem_get_title (problem),
                                tessera_problem_get_description (problem));
      _tessera_setup_add_status (page, "dialog-warning-symbolic", text);
    }

  _tessera_setup_set_next_label (self, count_fixable (self) > 0 ? _("_Fix Problems") : _("_Next"));
}

static void
set_problems (TesseraSetupAssistant *self,
              GPtrArray             *problems)
{
  g_clear_pointer (&self->pairing.problems, g_ptr_array_unref);
  self->pairing.problems = problems;
  self->pairing.fresh = TRUE;
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
      _tessera_setup_fail_step (self, STEP_PAIRING, error->message);
      return;
    }

  set_problems (self, problems);

  /* Going forward, a clean token needs no page */
  if (self->step != STEP_PAIRING && problems->len == 0)
    {
      _tessera_setup_add_note (self, _("No pairing problems were found."));
      _tessera_setup_advance (self, STEP_TEST);
      return;
    }

  if (self->step != STEP_PAIRING)
    _tessera_setup_show_step (self, STEP_PAIRING);
  else
    {
      _tessera_setup_set_busy (self, NULL);
      show_problems (self);
    }
}

static void
diagnose_pairing (TesseraSetupAssistant *self)
{
  tessera_token_diagnose_async (self->token, self->cancellable,
                                on_pairing_checked, g_object_ref (self));
}

static void fix_next_problem (TesseraSetupAssistant *self);

static void
on_fixed_objects_read (TesseraSetupAssistant *self)
{
  refind_key (self);
  _tessera_setup_set_busy (self, _("Checking again…"));
  diagnose_pairing (self);
}

static void
on_problem_fixed (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TesseraSetupAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TesseraProblem) problem = g_ptr_array_steal_index (self->pairing.problems, 0);
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
      self->test.done = FALSE;
      /* Translators: %s is the problem that was fixed */
      report = g_strdup_printf (_("Fixed: %s"), tessera_problem_get_title (problem));
      _tessera_setup_add_note (self, report);
    }
  g_ptr_array_add (self->pairing.fix_reports, g_steal_pointer (&report));

  fix_next_problem (self);
}

/* Fixes the fixable problems one after the other, then reads the token
 * and looks again */
static void
fix_next_problem (TesseraSetupAssistant *self)
{
  while (self->pairing.problems->len > 0
         && !tessera_problem_get_fixable (g_ptr_array_index (self->pairing.problems, 0)))
    g_ptr_array_remove_index (self->pairing.problems, 0);

  if (self->pairing.problems->len == 0)
    {
      _tessera_setup_read_objects_then (self, on_fixed_objects_read);
      return;
    }

  tessera_token_fix_problem_async (self->token, g_ptr_array_index (self->pairing.problems, 0),
                                   self->cancellable, on_problem_fixed, g_object_ref (self));
}

static void
fix_problems (TesseraSetupAssistant *self)
{
  _tessera_setup_set_busy (self, _("Fixing the problems…"));
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
  if (self->pairing.fresh)
    {
      show_problems (self);
      return;
    }

  _tessera_setup_set_next_label (self, _("_Next"));
  _tessera_setup_set_busy (self, _("Checking how the objects pair up…"));
  _tessera_setup_when_logged_in (self, diagnose_pairing);
}

static void
run_pairing (TesseraSetupAssistant *self)
{
  if (count_fixable (self) > 0)
    {
      _tessera_setup_when_logged_in (self, fix_problems);
      return;
    }

  _tessera_setup_advance (self, STEP_TEST);
}

/* Going forward, the check runs on the way, and a clean token needs no
 * page: on_pairing_checked goes on */
static StepCheck
check_pairing (TesseraSetupAssistant *self)
{
  if (!self->pairing.fresh)
    {
      self->step = STEP_PAIRING - 1;
      _tessera_setup_show_working (self, _("Checking Pairing…"));
      diagnose_pairing (self);
      return STEP_LOOKING;
    }
  return self->pairing.problems->len > 0 ? STEP_NEEDED : STEP_SATISFIED;
}

/* Step 6: a test signature */

static void
show_test_result (TesseraSetupAssistant *self,
                  const GError          *error)
{
  Page *page = &self->pages[STEP_TEST];
  g_autofree char *text = NULL;

  _tessera_setup_clear_content (page);
  gtk_label_set_text (GTK_LABEL (page->body),
                      _("The token signs a random challenge with the key, and Tessera "
                        "verifies the signature with the public key SSH offers to servers."));
  if (error == NULL)
    {
      /* Translators: %s is a key's label */
      text = g_strdup_printf (_("“%s” signed the test challenge, and its public key verified "
                                "the signature: SSH logins with this key will work."),
                              key_name (self->key));
      _tessera_setup_add_status (page, "emblem-ok-symbolic", text);
    }
  else
    {
      /* Translators: %s is why the test failed */
      text = g_strdup_printf (_("The test signature failed: %s"), error->message);
      _tessera_setup_add_status (page, "dialog-warning-symbolic", text);
    }
  _tessera_setup_set_next_label (self, _("_Next"));
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

  self->test.done = TRUE;
  self->test.passed = error == NULL;

  if (self->step != STEP_TEST && error == NULL)
    {
      /* Translators: %s is a key's label */
      note = g_strdup_printf (_("“%s” passed a test signature."), key_name (self->key));
      _tessera_setup_add_note (self, note);
      _tessera_setup_advance (self, STEP_FINISH);
      return;
    }

  if (self->step != STEP_TEST)
    _tessera_setup_show_step (self, STEP_TEST);
  _tessera_setup_set_busy (self, NULL);
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
  _tessera_setup_set_next_label (self, _("_Next"));
  _tessera_setup_set_busy (self, _("Signing a test challenge on the token…"));
  _tessera_setup_when_logged_in (self, test_key);
}

/* A key made or fixed here is tested on its page; one found ready is
 * tested on the way, and shown only if it fails */
static StepCheck
check_test (TesseraSetupAssistant *self)
{
  if (self->made_something && !self->test.done)
    return STEP_NEEDED;
  if (!self->test.done)
    {
      self->step = STEP_TEST - 1;
      _tessera_setup_show_working (self, _("Testing the Key…"));
      test_key (self);
      return STEP_LOOKING;
    }
  return self->test.passed ? STEP_SATISFIED : STEP_NEEDED;
}

static void
run_test (TesseraSetupAssistant *self)
{
  _tessera_setup_advance (self, STEP_FINISH);
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
  _tessera_setup_toast (self, text);
}

static void
on_copy_config_clicked (TesseraSetupAssistant *self)
{
  g_autofree char *config = tessera_ssh_export_dup_config (self->key, self->token);

  if (config == NULL)
    return;

  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), config);
  /* Translators: a notification after Copy SSH Config; keep it short */
  _tessera_setup_toast (self, _("Copied — replace the host name"));
}

static char *
describe_public_key_path (TesseraSetupAssistant *self)
{
  GFile *file = tessera_ssh_export_lookup_public_key_file (self->key, self->token);
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

  name = tessera_ssh_export_suggest_file_name (tessera_key_get_display_label (self->key), ".pub");
  return g_strdup_printf ("~/.ssh/%s", name);
}

/* The ssh-copy-id line names the public key file, so it shows once the
 * file is there (saved now, or found from an earlier run) */
static void
update_command (TesseraSetupAssistant *self)
{
  GFile *file;
  g_autofree char *path = NULL;
  g_autofree char *command = NULL;

  if (self->command_label == NULL)
    return;

  file = tessera_ssh_export_lookup_public_key_file (self->key, self->token);
  gtk_widget_set_visible (self->command_label, file != NULL);
  gtk_widget_set_visible (self->command_intro, file != NULL);
  if (file == NULL)
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
  _tessera_setup_toast (self, text);
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

/* A boxed list on the page */
static GtkWidget *
add_boxed_list (Page *page)
{
  GtkWidget *list = gtk_list_box_new ();

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  gtk_box_append (GTK_BOX (page->content), list);
  return list;
}

static void
configure_finish (TesseraSetupAssistant *self)
{
  Page *page = &self->pages[STEP_FINISH];
  g_autofree char *heading = NULL;
  g_autofree char *type = tessera_key_describe_type (self->key);
  g_autofree char *fingerprint = tessera_key_get_ssh_fingerprint (self->key);
  GtkWidget *label;
  GtkWidget *list;
  GtkWidget *row;
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

  /* Everything this run found or did, a checked row each */
  if (self->all_notes->len > 0)
    {
      list = add_boxed_list (page);
      for (guint i = 0; i < self->all_notes->len; i++)
        {
          GtkWidget *check = g_object_new (GTK_TYPE_IMAGE,
                                           "icon-name", "emblem-ok-symbolic",
                                           "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                           NULL);

          row = adw_action_row_new ();
          adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), g_ptr_array_index (self->all_notes, i));
          adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 0);
          gtk_widget_add_css_class (check, "success");
          adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
          gtk_list_box_append (GTK_LIST_BOX (list), row);
        }
    }

  /* The key: its name and type, and its fingerprint as an identifier */
  label = _tessera_setup_new_wrapped_label ("heading");
  gtk_label_set_text (GTK_LABEL (label), _("Your SSH Key"));
  gtk_widget_set_margin_top (label, 12);
  gtk_box_append (GTK_BOX (page->content), label);
  list = add_boxed_list (page);
  row = adw_action_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), key_name (self->key));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), type ? type : "");
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  if (fingerprint != NULL)
    {
      row = tessera_property_row_new (_("SHA-256 fingerprint"), fingerprint);
      tessera_property_row_set_copyable (TESSERA_PROPERTY_ROW (row), TRUE);
      gtk_list_box_append (GTK_LIST_BOX (list), row);
    }

  add_button (self, page->content, _("_Copy SSH Key"), G_CALLBACK (on_copy_key_clicked), TRUE);
  label = _tessera_setup_new_wrapped_label (NULL);
  gtk_label_set_text (GTK_LABEL (label),
                      _("Add the copied line to ~/.ssh/authorized_keys on each server you log "
                        "in to, or save it as a file for ssh-copy-id."));
  gtk_box_append (GTK_BOX (page->content), label);
  add_button (self, page->content, _("_Save Public Key…"), G_CALLBACK (on_save_key_clicked),
              FALSE);
  self->command_intro = _tessera_setup_new_wrapped_label (NULL);
  gtk_label_set_text (GTK_LABEL (self->command_intro),
                      _("With the file saved, ssh-copy-id adds it to a server; give your user "
                        "name and server:"));
  gtk_box_append (GTK_BOX (page->content), self->command_intro);
  self->command_label = _tessera_setup_new_wrapped_label ("monospace");
  gtk_label_set_selectable (GTK_LABEL (self->command_label), TRUE);
  gtk_box_append (GTK_BOX (page->content), self->command_label);
  update_command (self);

  /* The token page's switch, for this token */
  group_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  self->agent_group = g_object_new (TESSERA_TYPE_AGENT_GROUP, NULL);
  /* Its own add flow, cancelled with it (no window cancellable) */
  tessera_agent_group_set_token (self->agent_group, self->token, self->agent_sync,
                                 self->settings, NULL);
  gtk_box_append (GTK_BOX (group_box), GTK_WIDGET (self->agent_group));
  gtk_widget_set_margin_top (group_box, 12);
  gtk_box_append (GTK_BOX (page->content), group_box);

  add_button (self, page->content, _("Copy SSH _Config"), G_CALLBACK (on_copy_config_clicked),
              FALSE);
  {
    g_autofree char *hint =
      g_strdup_printf (_("A Host block for ~/.ssh/config that loads the token’s module. "
                         "Replace %s with your server’s name. Once the public key is "
                         "saved, the block names it, so that ssh offers only this key."),
                       TESSERA_SSH_EXPORT_PLACEHOLDER_HOST);

    label = _tessera_setup_new_wrapped_label (NULL);
    gtk_label_set_text (GTK_LABEL (label), hint);
    gtk_box_append (GTK_BOX (page->content), label);
  }

  _tessera_setup_set_next_label (self, _("_Done"));
}

static StepCheck
check_finish (TesseraSetupAssistant *self)
{
  return STEP_NEEDED;
}

static void
run_finish (TesseraSetupAssistant *self)
{
  gtk_window_close (GTK_WINDOW (self));
}

/* The steps */

static const StepInfo steps[N_STEPS] = {
  [STEP_INITIALIZE] = { N_("Initialize the Token"), "initialize",
                        check_initialize, configure_initialize, run_initialize },
  [STEP_USER_PIN] = { N_("Set the User PIN"), "user-pin",
                      check_user_pin, configure_user_pin, run_user_pin },
  [STEP_KEY] = { N_("Choose or Create a Key"), "key",
                 check_key, configure_key, run_key },
  [STEP_CERTIFICATE] = { N_("Self-Signed Certificate"), "certificate",
                         check_certificate, configure_certificate, run_certificate },
  [STEP_PAIRING] = { N_("Check Pairing"), "pairing",
                     check_pairing, configure_pairing, run_pairing },
  [STEP_TEST] = { N_("Test Signature"), "test",
                  check_test, configure_test, run_test },
  [STEP_FINISH] = { N_("Use the Key for SSH"), "finish",
                    check_finish, configure_finish, run_finish },
};

const StepInfo *
_tessera_setup_get_step (Step step)
{
  g_assert ((guint) step < N_STEPS);

  return &steps[step];
}
