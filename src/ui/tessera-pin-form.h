/* tessera-pin-form.h: a token label and PINs, checked as they are typed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "tessera-core.h"

G_BEGIN_DECLS

/**
 * TesseraPinField:
 * @TESSERA_PIN_FIELD_LABEL: a token label: not empty, at most
 *   %TESSERA_TOKEN_LABEL_MAX_BYTES bytes
 * @TESSERA_PIN_FIELD_CURRENT: a PIN the token checks
 * @TESSERA_PIN_FIELD_NEW: a new PIN, within the token's PIN lengths
 * @TESSERA_PIN_FIELD_REPEAT: the new PIN of the field before it, again
 */
typedef enum {
  TESSERA_PIN_FIELD_LABEL,
  TESSERA_PIN_FIELD_CURRENT,
  TESSERA_PIN_FIELD_NEW,
  TESSERA_PIN_FIELD_REPEAT,
} TesseraPinField;

#define TESSERA_TYPE_PIN_FORM (tessera_pin_form_get_type ())

G_DECLARE_FINAL_TYPE (TesseraPinForm, tessera_pin_form, TESSERA, PIN_FORM, GtkWidget)

GtkWidget  *tessera_pin_form_new                (void);
void        tessera_pin_form_set_pin_lengths    (TesseraPinForm  *self,
                                                 guint            min,
                                                 guint            max);
void        tessera_pin_form_set_token          (TesseraPinForm  *self,
                                                 TesseraToken    *token);
GtkWidget  *tessera_pin_form_add_field          (TesseraPinForm  *self,
                                                 TesseraPinField  kind,
                                                 const char      *title);
void        tessera_pin_form_set_action         (TesseraPinForm  *self,
                                                 GtkWidget       *action);
gboolean    tessera_pin_form_get_valid          (TesseraPinForm  *self);
char       *tessera_pin_form_dup_text           (GtkWidget       *field);
void        tessera_pin_form_wipe               (TesseraPinForm  *self);
void        tessera_pin_form_focus_first        (TesseraPinForm  *self);
void        tessera_pin_form_set_fields_visible (TesseraPinForm  *self,
                                                 gboolean         visible);
void        tessera_pin_form_set_warning        (TesseraPinForm  *self,
                                                 const char      *warning);
void        tessera_pin_form_set_hint           (TesseraPinForm  *self,
                                                 const char      *hint);
void        tessera_pin_form_set_busy           (TesseraPinForm  *self,
                                                 gboolean         busy,
                                                 const char      *progress);
void        tessera_pin_form_show_error         (TesseraPinForm  *self,
                                                 const char      *message);
char       *tessera_pin_form_describe_lengths   (TesseraPinForm  *self);

G_END_DECLS
