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
#include "tessera-key-type-chooser.h"
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

/* What a step's check found, going forward */
typedef enum {
  STEP_NEEDED,     /* the step needs the person: show its page */
  STEP_SATISFIED,  /* the token has it already: skip it */
  STEP_LOOKING,    /* the step must look first, and goes on from there itself */
} StepCheck;

/* One step: its page and what it does.  check tells whether the token
 * already satisfies the step, configure fills its page for the token as
 * it is now, and run is what Next does there. */
typedef struct
{
  const char *title;      /* translatable */
  const char *name;       /* the page's name in the stack */
  StepCheck (*check)      (TesseraSetupAssistant *self);
  void      (*configure)  (TesseraSetupAssistant *self);
  void      (*run)        (TesseraSetupAssistant *self);
} StepInfo;

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

  /* owned references */
  TesseraToken     *token;
  TesseraRegistry  *registry;
  TesseraAgentSync *agent_sync;
  GSettings        *settings;
  GCancellable     *cancellable;
  GCancellable     *parent_cancellable;
  TesseraKey       *key;            /* the key chosen or made in step 3 */
  GBytes           *key_id;
  GPtrArray        *pending_notes;  /* what was skipped since the last page */
  GPtrArray        *all_notes;      /* what was found or done, for the last page */
  char             *so_pin;
  char             *user_pin;
  char             *new_label;
  char             *old_serial;

  Step              step;
  guint             busy : 1;
  guint             made_something : 1;
  guint             login_abandoned : 1;
  guint             dismissed : 1;

  /* Steps 1 and 2: the fields of the page's PIN form, which owns them */
  InitMode          init_mode;
  struct {
    GtkWidget      *label;
    GtkWidget      *so;
    GtkWidget      *so_new;
    GtkWidget      *so_repeat;
    GtkWidget      *pin_old;
    GtkWidget      *pin;
    GtkWidget      *pin_repeat;
  } rows;

  /* Step 3: a key the token holds, or a new one */
  struct {
    GPtrArray      *ready;          /* owned: the keys OpenSSH can use */
    GPtrArray      *checks;         /* one per ready key, then "Generate" */
    GtkWidget      *generate_check;
    GtkWidget      *types_box;      /* what a new key is to be: shown to generate one */
    TesseraKeyTypeChooser *types;
    GArray         *specs;          /* owned: what specs_token can make, once asked */
    TesseraToken   *specs_token;    /* owned */
    GtkWidget      *label_row;
  } keys;

  /* Step 4 */
  struct {
    GtkSwitch      *create_switch;
    guint           declined : 1;
  } certificate;

  /* Step 5 */
  struct {
    GPtrArray      *problems;       /* owned */
    GPtrArray      *fix_reports;    /* owned */
    guint           fresh : 1;      /* problems is what the token has now */
  } pairing;

  /* Step 6 */
  struct {
    guint           done : 1;
    guint           passed : 1;
  } test;

  /* Step 7 */
  TesseraAgentGroup *agent_group;
  GtkWidget        *command_label;
  GtkWidget        *command_intro;
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
void       _tessera_setup_clear_content         (Page *page);
TesseraPinForm *_tessera_setup_add_pin_form     (TesseraSetupAssistant *self,
                                                 Page                  *page);
char      *_tessera_setup_dup_entry_text        (GtkWidget *entry);
void       _tessera_setup_fail_step             (TesseraSetupAssistant *self,
                                                 Step                   step,
                                                 const char            *message);
void       _tessera_setup_forget_pins           (TesseraSetupAssistant *self);
const StepInfo *_tessera_setup_get_step         (Step step);
GtkWidget *_tessera_setup_new_wrapped_label     (const char *css_class);
void       _tessera_setup_read_objects_then     (TesseraSetupAssistant *self,
                                                 ThenFunc               then);
void       _tessera_setup_refresh_and_advance   (TesseraSetupAssistant *self);
void       _tessera_setup_set_busy              (TesseraSetupAssistant *self,
                                                 const char            *text);
void       _tessera_setup_set_next_label        (TesseraSetupAssistant *self,
                                                 const char            *label);
void       _tessera_setup_show_error            (TesseraSetupAssistant *self,
                                                 const char            *message);
void       _tessera_setup_show_step             (TesseraSetupAssistant *self,
                                                 Step                   step);
void       _tessera_setup_show_working          (TesseraSetupAssistant *self,
                                                 const char            *title);
void       _tessera_setup_toast                 (TesseraSetupAssistant *self,
                                                 const char            *text);
void       _tessera_setup_when_logged_in        (TesseraSetupAssistant *self,
                                                 ThenFunc               then);
void       _tessera_setup_wipe_rows             (TesseraSetupAssistant *self);

G_END_DECLS
