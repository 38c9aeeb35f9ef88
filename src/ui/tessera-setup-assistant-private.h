/* tessera-setup-assistant-private.h: what the assistant's two files share
 *
 * tessera-setup-assistant.c has the window, its pages, the login and the
 * way through the steps; tessera-setup-assistant-steps.c has what each
 * step shows and does.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib/gi18n.h>

#include "tessera-agent-group.h"
#include "tessera-pin-form.h"
#include "tessera-setup-assistant.h"

G_BEGIN_DECLS

/* What opencryptoki's software token comes with */

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
  GtkWidget        *cancel_button;
  GtkWidget        *back_button;
  GtkWidget        *next_button;
  GtkStack         *stack;
  AdwStatusPage    *working_page;
  GtkSpinner       *working_spinner;

  /* widgets made in code */
  Page              pages[N_STEPS];
  TesseraPinForm   *form;           /* weak: the page's PIN form, if it has one */
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
  GtkWidget        *command_intro;

  /* owned references */
  TesseraToken     *token;
  TesseraRegistry  *registry;
  TesseraAgentSync *agent_sync;
  GSettings        *settings;
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

static inline gboolean
is_cancelled (TesseraSetupAssistant *self,
              const GError          *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || g_cancellable_is_cancelled (self->cancellable);
}

static inline const char *
key_name (TesseraKey *key)
{
  const char *label = tessera_key_get_label (key);

  return label != NULL && label[0] != '\0' ? label : C_("key", "Unnamed key");
}

GtkWidget *_tessera_setup_add_choice            (GtkWidget  *list,
                                                 GPtrArray  *group,
                                                 const char *title,
                                                 const char *subtitle);
GtkWidget *_tessera_setup_add_choice_list       (Page       *page,
                                                 const char *name);
void       _tessera_setup_add_note              (TesseraSetupAssistant *self,
                                                 const char            *note);
GtkWidget *_tessera_setup_add_status            (Page       *page,
                                                 const char *icon_name,
                                                 const char *text);
void       _tessera_setup_advance               (TesseraSetupAssistant *self,
                                                 Step                   from);
void       _tessera_setup_check_pairing         (TesseraSetupAssistant *self);
void       _tessera_setup_clear_content         (Page *page);
void       _tessera_setup_collect_ready_keys    (TesseraSetupAssistant *self);
void       _tessera_setup_configure_certificate (TesseraSetupAssistant *self);
void       _tessera_setup_configure_finish      (TesseraSetupAssistant *self);
void       _tessera_setup_configure_initialize  (TesseraSetupAssistant *self);
void       _tessera_setup_configure_key         (TesseraSetupAssistant *self);
void       _tessera_setup_configure_pairing     (TesseraSetupAssistant *self);
void       _tessera_setup_configure_test        (TesseraSetupAssistant *self);
void       _tessera_setup_configure_user_pin    (TesseraSetupAssistant *self);
TesseraPinForm *_tessera_setup_add_pin_form     (TesseraSetupAssistant *self,
                                                 Page                  *page);
char      *_tessera_setup_dup_entry_text        (GtkWidget *entry);
void       _tessera_setup_fail_step             (TesseraSetupAssistant *self,
                                                 Step                   step,
                                                 const char            *message);
void       _tessera_setup_forget_pins           (TesseraSetupAssistant *self);
InitMode   _tessera_setup_init_mode             (TesseraToken *token);
gboolean   _tessera_setup_key_still_there       (TesseraSetupAssistant *self);
GtkWidget *_tessera_setup_new_wrapped_label     (const char *css_class);
void       _tessera_setup_read_objects_then     (TesseraSetupAssistant *self,
                                                 ThenFunc               then);
void       _tessera_setup_refind_key            (TesseraSetupAssistant *self);
void       _tessera_setup_refresh_and_advance   (TesseraSetupAssistant *self);
void       _tessera_setup_run_certificate       (TesseraSetupAssistant *self);
void       _tessera_setup_run_initialize        (TesseraSetupAssistant *self);
void       _tessera_setup_run_key               (TesseraSetupAssistant *self);
void       _tessera_setup_run_pairing           (TesseraSetupAssistant *self);
void       _tessera_setup_run_user_pin          (TesseraSetupAssistant *self);
void       _tessera_setup_set_busy              (TesseraSetupAssistant *self,
                                                 const char            *text);
void       _tessera_setup_set_key               (TesseraSetupAssistant *self,
                                                 TesseraKey            *key);
void       _tessera_setup_set_next_label        (TesseraSetupAssistant *self,
                                                 const char            *label);
void       _tessera_setup_show_error            (TesseraSetupAssistant *self,
                                                 const char            *message);
void       _tessera_setup_show_step             (TesseraSetupAssistant *self,
                                                 Step                   step);
void       _tessera_setup_test_key              (TesseraSetupAssistant *self);
void       _tessera_setup_toast                 (TesseraSetupAssistant *self,
                                                 const char            *text);
void       _tessera_setup_when_logged_in        (TesseraSetupAssistant *self,
                                                 ThenFunc               then);
void       _tessera_setup_wipe_rows             (TesseraSetupAssistant *self);

G_END_DECLS
