/* fuzz-module.h: a PKCS#11 module inside the fuzz target, and what the
 * targets share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include "tessera-private.h"

G_BEGIN_DECLS

typedef struct
{
  CK_ATTRIBUTE_TYPE  type;
  const void        *value;
  CK_ULONG           length;
} FuzzAttribute;

/* Sets up what every target needs once: criticals abort, no program is
 * spawned for the OpenSSH version. */
void              fuzz_init              (void);

/* One object (handle 1) with @attributes, answered as PKCS#11 says. */
CK_FUNCTION_LIST *fuzz_module_honest     (const FuzzAttribute *attributes,
                                          gsize                n_attributes);

/* A hostile module: every answer (return values, object counts, lengths,
 * values) is read from @data as the core asks; see fuzz-module.c. */
CK_FUNCTION_LIST *fuzz_module_scripted   (const uint8_t       *data,
                                          size_t               size);

/* Runs everything the core does with objects once read: getters, keys,
 * SSH lines and fingerprints, certificate export. */
void              fuzz_use_objects       (GPtrArray           *objects);

/* Everything the core does with an OpenSSH wire blob. */
void              fuzz_use_ssh_blob      (GBytes              *blob,
                                          const char          *comment);

extern const CK_TOKEN_INFO fuzz_token_info;

G_END_DECLS
