/* tessera-key.h: a key as the user thinks of it
 *
 * A key is a private key together with its public-key object and/or its
 * certificate, paired by CKA_ID.  Before login a key may have only its
 * public parts; a certificate without any key object is a key too, as
 * OpenSSH sees it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "tessera-object.h"
#include "tessera-ssh.h"

G_BEGIN_DECLS

#define TESSERA_TYPE_KEY (tessera_key_get_type ())

G_DECLARE_FINAL_TYPE (TesseraKey, tessera_key, TESSERA, KEY, GObject)

TesseraObject  *tessera_key_get_private_key  (TesseraKey *self);
TesseraObject  *tessera_key_get_public_key   (TesseraKey *self);
TesseraObject  *tessera_key_get_certificate  (TesseraKey *self);
const char     *tessera_key_get_label        (TesseraKey *self);
const char     *tessera_key_get_display_label (TesseraKey *self);
GBytes         *tessera_key_get_id           (TesseraKey *self);
const char     *tessera_key_get_id_hex       (TesseraKey *self);
TesseraKeyType  tessera_key_get_key_type     (TesseraKey *self);
guint           tessera_key_get_bits         (TesseraKey *self);
char           *tessera_key_describe_type    (TesseraKey *self);
char           *tessera_key_describe_parts   (TesseraKey *self);
GPtrArray      *tessera_key_list_objects     (TesseraKey *self);

GBytes            *tessera_key_get_ssh_blob        (TesseraKey *self);
char              *tessera_key_get_ssh_line        (TesseraKey *self);
char              *tessera_key_get_ssh_fingerprint (TesseraKey *self);
TesseraSshVerdict  tessera_key_get_ssh_verdict     (TesseraKey *self);
char              *tessera_key_describe_ssh_verdict (TesseraKey *self);

GPtrArray      *tessera_key_group_objects    (GPtrArray  *objects);

G_END_DECLS
