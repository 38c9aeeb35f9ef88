/* tessera-cli.h: what the commands of tessera-cli share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "tessera-core.h"

G_BEGIN_DECLS

#define EXIT_USAGE 2

typedef struct
{
  char     **modules;
  gboolean   json;
  gboolean   login;
  char      *pin_file;
  gboolean   final_try;
  int        lifetime;
  gboolean   confirm;
  gboolean   remember_pin;
  char      *label;
  char      *key_type;
  char      *so_pin_file;
  char      *new_pin_file;
  gboolean   so;
  gboolean   yes;
  gboolean   all;
  gboolean   fingerprints;
  char      *hash;
  char      *id;
  char      *kind;
  char      *subject;
  int        days;
  gboolean   der;
  char      *output;
  gboolean   certificate;
  gboolean   fix;
} Options;


int               fail           (const GError     *error);
char             *escape_text    (const char       *text);
void              on_async_ready (GObject          *source_object,
                                  GAsyncResult     *result,
                                  gpointer          user_data);
GAsyncResult     *wait_for       (GAsyncResult    **slot);
TesseraRegistry  *load_registry  (Options          *options,
                                  GError          **error);
TesseraToken     *open_token     (Options          *options,
                                  const char       *uri,
                                  TesseraRegistry **registry_out,
                                  GError          **error);
gboolean          get_user_pin   (Options          *options,
                                  TesseraToken     *token,
                                  char            **pin_out,
                                  GError          **error);
gboolean          read_token     (TesseraToken     *token,
                                  GError          **error);
void              wipe_pin       (char             *pin);
char             *read_pin_file  (const char       *path,
                                  GError          **error);

typedef char TesseraPinText;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TesseraPinText, wipe_pin)

/* tessera-cli-keys.c */
int               run_generate   (Options          *options,
                                  const char       *uri);
int               run_certificate (Options         *options,
                                  const char       *action,
                                  const char       *uri,
                                  const char       *file);
int               run_rename     (Options          *options,
                                  const char       *uri);
int               run_delete     (Options          *options,
                                  const char       *uri);
int               run_doctor     (Options          *options,
                                  const char       *uri);
int               run_test_sign  (Options          *options,
                                  const char       *uri);

G_END_DECLS
