/* tessera-pin-form.c: a token label and PINs, checked as they are typed
 *
 * One form for every dialog that sets a label or PINs: Initialize, Change
 * PIN, Change SO PIN, Unblock, Create Software Token and the Set Up
 * assistant.  Its entry rows sit in one boxed list, and each row says
 * under it what is wrong as soon as it is ("PINs don’t match", "At least
 * 4 characters", a label longer than a token holds), from the token's own
 * PIN lengths, so that nothing reaches the token that it would refuse.
 * The form is valid when every field is; the dialog's action follows
 * TesseraPinForm:valid.
 *
 * Above the list: the last-try warning and a hint (the PIN lengths and
 * tries left); below it: the progress of the dialog's call and its error.
 * Tab from the last field goes to the dialog's action, not around to a
 * button that would throw away what was typed; Enter in a field emits
 * ::activate once the form is valid.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tessera-pin-form.h"

typedef struct {
  TesseraPinField  kind;
  GtkWidget       *row;
  GtkWidget       *message_row;
  GtkWidget       *message;
  GtkWidget       *repeats;   /* a repeat's field, the new PIN */
} Field;

struct _TesseraPinForm
{
  GtkWidget   parent_instance;

  /* template widgets */
  GtkWidget  *warning_label;
  GtkWidget  *hint_label;
  GtkWidget  *list;
  GtkWidget  *progress_box;
  GtkWidget  *spinner;
  GtkWidget  *progress_label;
  GtkWidget  *error_label;

  /* owned */
  GPtrArray  *fields;
  GtkWidget  *action;         /* weak */

  guint       min_pin;
  guint       max_pin;
  guint       valid : 1;
};

G_DEFINE_FINAL_TYPE (TesseraPinForm, tessera_pin_form, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_VALID,
  N_PROPS
};

enum {
  ACTIVATE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* What is wrong with a length, or NULL */
static char *
check_length (TesseraPinForm *self,
              gsize           length)
{
  if (length < self->min_pin)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "At least %u character",
                                         "At least %u characters", self->min_pin),
                            self->min_pin);
  if (self->max_pin > 0 && length > self->max_pin)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "At most %u character",
                                         "At most %u characters", self->max_pin),
                            self->max_pin);
  return NULL;
}

/* Whether the field holds something the token takes; *message says what
 * is wrong, once there is something to say */
static gboolean
check_field (TesseraPinForm  *self,
             Field           *field,
             char           **message)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (field->row));
  gsize length = strlen (text);

  *message = NULL;

  switch (field->kind)
    {
    case TESSERA_PIN_FIELD_LABEL:
      {
        g_autofree char *stripped = g_strstrip (g_strdup (text));
        g_autoptr(GError) error = NULL;

        if (stripped[0] == '\0')
          {
            if (length > 0)
              *message = g_strdup (_("The token needs a label"));
            return FALSE;
          }
        if (!tessera_check_label_text (stripped, &error))
          {
            *message = g_strdup (error->message);
            return FALSE;
          }
        if (strlen (stripped) > TESSERA_TOKEN_LABEL_MAX_BYTES)
          {
            /* Translators: a token label's limit is in bytes, not letters */
            *message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                     "At most %u byte: letters with accents "
                                                     "or from other scripts take 2 or more",
                                                     "At most %u bytes: letters with accents "
                                                     "or from other scripts take 2 or more",
                                                     TESSERA_TOKEN_LABEL_MAX_BYTES),
                                        TESSERA_TOKEN_LABEL_MAX_BYTES);
            return FALSE;
          }
        return TRUE;
      }

    case TESSERA_PIN_FIELD_REPEAT:
      if (length == 0)
        return FALSE;
      if (g_strcmp0 (text, gtk_editable_get_text (GTK_EDITABLE (field->repeats))) != 0)
        {
          *message = g_strdup (_("PINs don’t match"));
          return FALSE;
        }
      return TRUE;

    case TESSERA_PIN_FIELD_CURRENT:
    case TESSERA_PIN_FIELD_NEW:
    default:
      if (length == 0)
        return FALSE;
      *message = check_length (self, length);
      return *message == NULL;
    }
}

static void
validate (TesseraPinForm *self)
{
  gboolean valid = TRUE;

  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *field = g_ptr_array_index (self->fields, i);
      g_autofree char *message = NULL;

      /* A field that is done with, such as a PIN already changed */
      if (!gtk_widget_get_visible (field->row))
        {
          gtk_widget_set_visible (field->message_row, FALSE);
          continue;
        }

      if (!check_field (self, field, &message))
        valid = FALSE;

      gtk_label_set_text (GTK_LABEL (field->message), message ? message : "");
      gtk_widget_set_visible (field->message_row, message != NULL);
      if (message != NULL)
        gtk_widget_add_css_class (field->row, "error");
      else
        gtk_widget_remove_css_class (field->row, "error");
    }

  if (self->valid != valid)
    {
      self->valid = valid;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VALID]);
    }
}

static void
on_field_changed (TesseraPinForm *self)
{
  validate (self);
}

static void
on_field_activated (TesseraPinForm *self)
{
  if (self->valid)
    g_signal_emit (self, signals[ACTIVATE], 0);
}

static Field *
find_last_visible_field (TesseraPinForm *self)
{
  for (guint i = self->fields->len; i > 0; i--)
    {
      Field *field = g_ptr_array_index (self->fields, i - 1);

      if (gtk_widget_get_visible (field->row))
        return field;
    }

  return NULL;
}

static gboolean
on_key_pressed (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                TesseraPinForm        *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;
  Field *last = find_last_visible_field (self);

  if ((keyval != GDK_KEY_Tab && keyval != GDK_KEY_KP_Tab)
      || (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK)) != 0
      || last == NULL || focus == NULL
      || (focus != last->row && !gtk_widget_is_ancestor (focus, last->row)))
    return GDK_EVENT_PROPAGATE;

  /* Past the last field lies the action, never a button that throws the
   * PINs away; while the action cannot be taken, back to the first field */
  if (self->action != NULL
      && gtk_widget_is_sensitive (self->action)
      && gtk_widget_get_mapped (self->action))
    gtk_widget_grab_focus (self->action);
  else
    tessera_pin_form_focus_first (self);

  return GDK_EVENT_STOP;
}

/* libadwaita 1.2 names the peek button of a password row after its icon */
static void
name_peek_button (GtkWidget *widget)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_BUTTON (child))
        gtk_accessible_update_property (GTK_ACCESSIBLE (child),
                                        GTK_ACCESSIBLE_PROPERTY_LABEL, _("Show PIN"),
                                        -1);
      else
        name_peek_button (child);
    }
}

static void
tessera_pin_form_dispose (GObject *object)
{
  TesseraPinForm *self = TESSERA_PIN_FORM (object);

  if (self->fields != NULL)
    {
      for (guint i = 0; i < self->fields->len; i++)
        {
          Field *field = g_ptr_array_index (self->fields, i);

          g_signal_handlers_disconnect_by_data (field->row, self);
        }
      tessera_pin_form_wipe (self);
      g_clear_pointer (&self->fields, g_ptr_array_unref);
    }
  g_clear_weak_pointer (&self->action);

  gtk_widget_dispose_template (GTK_WIDGET (self), TESSERA_TYPE_PIN_FORM);

  G_OBJECT_CLASS (tessera_pin_form_parent_class)->dispose (object);
}

static void
tessera_pin_form_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  TesseraPinForm *self = TESSERA_PIN_FORM (object);

  switch (prop_id)
    {
    case PROP_VALID:
      g_value_set_boolean (value, self->valid);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_pin_form_class_init (TesseraPinFormClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tessera_pin_form_dispose;
  object_class->get_property = tessera_pin_form_get_property;

  /**
   * TesseraPinForm:valid:
   *
   * Whether every field holds what the token takes.
   */
  properties[PROP_VALID] =
    g_param_spec_boolean ("valid", NULL, NULL, FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * TesseraPinForm::activate:
   *
   * Emitted when Enter is pressed in a field of a valid form.
   */
  signals[ACTIVATE] =
    g_signal_new ("activate",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_BASE_PATH "/tessera-pin-form.ui");
  gtk_widget_class_bind_template_child (widget_class, TesseraPinForm, warning_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraPinForm, hint_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraPinForm, list);
  gtk_widget_class_bind_template_child (widget_class, TesseraPinForm, progress_box);
  gtk_widget_class_bind_template_child (widget_class, TesseraPinForm, spinner);
  gtk_widget_class_bind_template_child (widget_class, TesseraPinForm, progress_label);
  gtk_widget_class_bind_template_child (widget_class, TesseraPinForm, error_label);
}

static void
tessera_pin_form_init (TesseraPinForm *self)
{
  GtkLayoutManager *layout;
  GtkEventController *keys;

  gtk_widget_init_template (GTK_WIDGET (self));

  layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 12);

  self->fields = g_ptr_array_new_with_free_func (g_free);
  self->valid = TRUE;

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);
}

GtkWidget *
tessera_pin_form_new (void)
{
  return g_object_new (TESSERA_TYPE_PIN_FORM, NULL);
}

/**
 * tessera_pin_form_set_pin_lengths:
 * @min: the shortest PIN, in bytes (0: any)
 * @max: the longest, in bytes (0: any)
 */
void
tessera_pin_form_set_pin_lengths (TesseraPinForm *self,
                                  guint           min,
                                  guint           max)
{
  g_return_if_fail (TESSERA_IS_PIN_FORM (self));

  self->min_pin = min;
  self->max_pin = max;
  validate (self);
}

/**
 * tessera_pin_form_set_token:
 *
 * Checks PINs against @token's own PIN lengths, as the core does.
 */
void
tessera_pin_form_set_token (TesseraPinForm *self,
                            TesseraToken   *token)
{
  g_return_if_fail (TESSERA_IS_PIN_FORM (self));
  g_return_if_fail (TESSERA_IS_TOKEN (token));

  tessera_pin_form_set_pin_lengths (self,
                                    tessera_token_get_min_pin_length (token),
                                    tessera_token_get_max_pin_length (token));
}

/**
 * tessera_pin_form_add_field:
 * @kind: what the field holds; a %TESSERA_PIN_FIELD_REPEAT repeats the
 *   %TESSERA_PIN_FIELD_NEW field added before it
 * @title: the row's title, which names it for assistive technologies too
 *
 * Returns: (transfer none): the field's row, a #GtkEditable
 */
GtkWidget *
tessera_pin_form_add_field (TesseraPinForm  *self,
                            TesseraPinField  kind,
                            const char      *title)
{
  Field *field;

  g_return_val_if_fail (TESSERA_IS_PIN_FORM (self), NULL);
  g_return_val_if_fail (title != NULL, NULL);

  field = g_new0 (Field, 1);
  field->kind = kind;

  if (kind == TESSERA_PIN_FIELD_REPEAT)
    {
      for (guint i = self->fields->len; i > 0 && field->repeats == NULL; i--)
        {
          Field *other = g_ptr_array_index (self->fields, i - 1);

          if (other->kind == TESSERA_PIN_FIELD_NEW)
            field->repeats = other->row;
        }
      g_return_val_if_fail (field->repeats != NULL, (g_free (field), NULL));
    }

  if (kind == TESSERA_PIN_FIELD_LABEL)
    field->row = adw_entry_row_new ();
  else
    {
      field->row = adw_password_entry_row_new ();
      name_peek_button (field->row);
    }
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (field->row), title);
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (field->row), FALSE);

  field->message = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (field->message), TRUE);
  gtk_label_set_xalign (GTK_LABEL (field->message), 0);
  gtk_widget_set_margin_start (field->message, 12);
  gtk_widget_set_margin_end (field->message, 12);
  gtk_widget_set_margin_top (field->message, 6);
  gtk_widget_set_margin_bottom (field->message, 6);
  gtk_widget_add_css_class (field->message, "caption");
  gtk_widget_add_css_class (field->message, "error");
  field->message_row = gtk_list_box_row_new ();
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (field->message_row), FALSE);
  gtk_widget_set_focusable (field->message_row, FALSE);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (field->message_row), field->message);
  gtk_widget_set_visible (field->message_row, FALSE);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (field->row),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, field->message, NULL,
                                  -1);

  gtk_list_box_append (GTK_LIST_BOX (self->list), field->row);
  gtk_list_box_append (GTK_LIST_BOX (self->list), field->message_row);
  g_ptr_array_add (self->fields, field);

  g_signal_connect_swapped (field->row, "changed", G_CALLBACK (on_field_changed), self);
  g_signal_connect_swapped (field->row, "entry-activated", G_CALLBACK (on_field_activated), self);

  validate (self);

  return field->row;
}

/**
 * tessera_pin_form_set_action:
 * @action: (nullable): the button that uses what the form holds
 *
 * Tab from the last field goes there.
 */
void
tessera_pin_form_set_action (TesseraPinForm *self,
                             GtkWidget      *action)
{
  g_return_if_fail (TESSERA_IS_PIN_FORM (self));
  g_return_if_fail (!action || GTK_IS_WIDGET (action));

  g_set_weak_pointer (&self->action, action);
}

gboolean
tessera_pin_form_get_valid (TesseraPinForm *self)
{
  g_return_val_if_fail (TESSERA_IS_PIN_FORM (self), FALSE);

  return self->valid;
}

/**
 * tessera_pin_form_dup_text:
 * @field: a row of the form
 *
 * Returns: (transfer full): a copy of what the field holds, a label
 *   without the blanks around it; give a PIN to tessera_pin_wipe()
 */
char *
tessera_pin_form_dup_text (GtkWidget *field)
{
  char *text;

  g_return_val_if_fail (GTK_IS_EDITABLE (field), NULL);

  text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (field)));
  if (!ADW_IS_PASSWORD_ENTRY_ROW (field))
    g_strstrip (text);

  return text;
}

/**
 * tessera_pin_form_wipe:
 *
 * Empties every PIN field.  GTK's entry buffer clears the old text when
 * it lets it go.
 */
void
tessera_pin_form_wipe (TesseraPinForm *self)
{
  g_return_if_fail (TESSERA_IS_PIN_FORM (self));

  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *field = g_ptr_array_index (self->fields, i);

      if (field->kind != TESSERA_PIN_FIELD_LABEL)
        gtk_editable_set_text (GTK_EDITABLE (field->row), "");
    }
}

void
tessera_pin_form_focus_first (TesseraPinForm *self)
{
  g_return_if_fail (TESSERA_IS_PIN_FORM (self));

  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *field = g_ptr_array_index (self->fields, i);

      if (gtk_widget_get_visible (field->row) && gtk_widget_grab_focus (field->row))
        return;
    }
}

/**
 * tessera_pin_form_set_fields_visible:
 *
 * Hides the fields when there is nothing to type: a locked PIN, or a
 * reader that asks for the PINs on its PIN pad.
 */
void
tessera_pin_form_set_fields_visible (TesseraPinForm *self,
                                     gboolean        visible)
{
  g_return_if_fail (TESSERA_IS_PIN_FORM (self));

  gtk_widget_set_visible (self->list, visible);
}

static void
set_label (GtkWidget  *label,
           const char *text)
{
  gtk_label_set_text (GTK_LABEL (label), text ? text : "");
  gtk_widget_set_visible (label, text != NULL && text[0] != '\0');
}

/* The last-try warning above the fields, or NULL for none */
void
tessera_pin_form_set_warning (TesseraPinForm *self,
                              const char     *warning)
{
  g_return_if_fail (TESSERA_IS_PIN_FORM (self));

  set_label (self->warning_label, warning);
}

void
tessera_pin_form_set_hint (TesseraPinForm *self,
                           const char     *hint)
{
  g_return_if_fail (TESSERA_IS_PIN_FORM (self));

  set_label (self->hint_label, hint);
}

/**
 * tessera_pin_form_set_busy:
 * @progress: (nullable): what the dialog's call is doing
 *
 * While the call works the fields take no input and a spinner turns.
 */
void
tessera_pin_form_set_busy (TesseraPinForm *self,
                           gboolean        busy,
                           const char     *progress)
{
  g_return_if_fail (TESSERA_IS_PIN_FORM (self));

  /* A field that loses the focus by turning insensitive gets no focus-out,
   * and its cursor would go on blinking: take the focus first */
  if (busy)
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
      GtkWidget *focus = root ? gtk_root_get_focus (root) : NULL;

      if (focus != NULL && gtk_widget_is_ancestor (focus, self->list))
        gtk_root_set_focus (root, NULL);
    }

  gtk_widget_set_sensitive (self->list, !busy);
  gtk_widget_set_visible (self->progress_box, busy);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), busy);
  if (progress != NULL)
    gtk_label_set_text (GTK_LABEL (self->progress_label), progress);
}

/* The token's refusal, or NULL to take it away */
void
tessera_pin_form_show_error (TesseraPinForm *self,
                             const char     *message)
{
  g_return_if_fail (TESSERA_IS_PIN_FORM (self));

  set_label (self->error_label, message);
}

/**
 * tessera_pin_form_describe_lengths:
 *
 * Returns: (transfer full) (nullable): the sentence that states the PIN
 *   lengths, or %NULL when any length goes
 */
char *
tessera_pin_form_describe_lengths (TesseraPinForm *self)
{
  g_return_val_if_fail (TESSERA_IS_PIN_FORM (self), NULL);

  if (self->min_pin == 0 && self->max_pin == 0)
    return NULL;

  if (self->max_pin == 0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "PINs are at least %u character long.",
                                         "PINs are at least %u characters long.", self->min_pin),
                            self->min_pin);

  if (self->min_pin == self->max_pin)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "PINs are %u character long.",
                                         "PINs are %u characters long.", self->max_pin),
                            self->max_pin);

  /* Translators: the PIN length limits, "PINs are 4–8 characters long." */
  return g_strdup_printf (_("PINs are %u–%u characters long."), self->min_pin, self->max_pin);
}
