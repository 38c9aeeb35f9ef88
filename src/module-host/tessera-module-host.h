/* tessera-module-host.h: what tessera-module-host and the core agree on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <p11-kit/pkcs11.h>

/* The host's exit statuses, besides death by a signal */
#define TESSERA_MODULE_HOST_EXIT_LOAD     2   /* the module could not be loaded */
#define TESSERA_MODULE_HOST_EXIT_TIMEOUT  3   /* a call outlived its deadline */

/* A vendor-defined code: the module answered with a count or a length
 * larger than the room it was given, and the answer was dropped. */
#define TESSERA_CKR_MODULE_INVALID_ANSWER (CKR_VENDOR_DEFINED | 0x7e55e4a1UL)

#define G_N_ELEMENTS_HOST(array) (sizeof (array) / sizeof ((array)[0]))
