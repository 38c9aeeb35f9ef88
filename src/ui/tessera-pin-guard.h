/* tessera-pin-guard.h: what every PIN dialog guards, and how it closes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

/**
 * TesseraPinGuardMode:
 * @TESSERA_PIN_GUARD_NORMAL: a try costs nothing special
 * @TESSERA_PIN_GUARD_FINAL_TRY: a wrong PIN locks it: only a deliberate click tries
 * @TESSERA_PIN_GUARD_LOCKED: the PIN is locked: nothing is tried
 * @TESSERA_PIN_GUARD_LOCKED_OUT: a TPM refuses every PIN for a while
 */
typedef enum {
  TESSERA_PIN_GUARD_NORMAL,
  TESSERA_PIN_GUARD_FINAL_TRY,
  TESSERA_PIN_GUARD_LOCKED,
  TESSERA_PIN_GUARD_LOCKED_OUT,
} TesseraPinGuardMode;

/**
 * TesseraPinGuardTexts:
 * @heading: the heading of a normal try; `%s` is the token's name
 * @body: what a normal try does
 * @body_pin_pad: the same, with the reader's PIN pad
 * @final_try_body: what the last try does; `%s` is the token's name
 * @final_try_body_pin_pad: the same, with the reader's PIN pad
 * @locked_body: why nothing can be tried; `%s` is the token's name
 * @action: the label of the button that tries
 *
 * What a message dialog says in each mode.  The headings of the other
 * modes, and the TPM's lockout, are the guard's own.
 */
typedef struct {
  const char *heading;
  const char *body;
  const char *body_pin_pad;
  const char *final_try_body;
  const char *final_try_body_pin_pad;
  const char *locked_body;
  const char *action;
} TesseraPinGuardTexts;

#define TESSERA_TYPE_PIN_GUARD (tessera_pin_guard_get_type ())

G_DECLARE_FINAL_TYPE (TesseraPinGuard, tessera_pin_guard, TESSERA, PIN_GUARD, GObject)

TesseraPinGuard     *tessera_pin_guard_new               (GtkWindow                  *window,
                                                          TesseraToken               *token,
                                                          TesseraPinKind              kind,
                                                          GCancellable               *parent_cancellable);
TesseraPinGuardMode  tessera_pin_guard_get_mode          (TesseraPinGuard            *self);
void                 tessera_pin_guard_refresh           (TesseraPinGuard            *self);
gboolean             tessera_pin_guard_get_pin_pad       (TesseraPinGuard            *self);
gboolean             tessera_pin_guard_get_busy          (TesseraPinGuard            *self);
GCancellable        *tessera_pin_guard_begin_call        (TesseraPinGuard            *self);
GCancellable        *tessera_pin_guard_take_pin          (TesseraPinGuard            *self,
                                                          GtkWidget                  *entry,
                                                          char                      **pin);
gboolean             tessera_pin_guard_end_call          (TesseraPinGuard            *self,
                                                          const GError               *error);
char                *tessera_pin_guard_describe_error    (TesseraPinGuard            *self,
                                                          const GError               *error);
char                *tessera_pin_guard_describe_tries    (TesseraPinGuard            *self);
void                 tessera_pin_guard_configure_dialog  (TesseraPinGuard            *self,
                                                          const TesseraPinGuardTexts *texts,
                                                          GtkWidget                  *warning);
void                 tessera_pin_guard_attach_dialog     (TesseraPinGuard            *self,
                                                          const char                 *response,
                                                          GtkWidget                  *entry,
                                                          GtkWidget                  *progress_box,
                                                          GtkSpinner                 *spinner);
void                 tessera_pin_guard_dismiss           (TesseraPinGuard            *self);

G_END_DECLS
