/* tessera-module-host.h: what tessera-module-host and the core agree on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

/* The host's exit statuses, besides death by a signal */
#define TESSERA_MODULE_HOST_EXIT_LOAD     2   /* the module could not be loaded */
#define TESSERA_MODULE_HOST_EXIT_TIMEOUT  3   /* a call outlived its deadline */

/* A vendor-defined code: the module answered with a count or a length
 * larger than the room it was given, and the answer was dropped. */
#define TESSERA_CKR_MODULE_INVALID_ANSWER (CKR_VENDOR_DEFINED | 0x7e55e4a1UL)

/*
 * The extension channel (fd 6 of the host): the few calls p11-kit 0.24's
 * RPC cannot carry, because it knows no EdDSA mechanism and drops or
 * refuses them in its client.  One request at a time:
 *
 *   request:  uint32 op, uint32 length, then length bytes of uint64 values
 *   reply:    uint32 length, then length bytes: uint64 CK_RV, then values
 *
 * in the host's byte order (both ends run on one machine).  Only the
 * mechanisms below pass; anything else is CKR_MECHANISM_INVALID.
 */
#define TESSERA_MODULE_HOST_OP_MECHANISM_INFO    1   /* slot, mechanism -> min, max, flags */
#define TESSERA_MODULE_HOST_OP_GENERATE_KEY_PAIR 2   /* session, mechanism, public template,
                                                        private template -> public, private */
#define TESSERA_MODULE_HOST_OP_SIGN_INIT         3   /* session, mechanism, key -> */
#define TESSERA_MODULE_HOST_MAX_MESSAGE          (256 * 1024)
#define TESSERA_MODULE_HOST_MAX_ATTRIBUTES       32

/* Templates travel as: count, then for each attribute type, length and
 * the value's bytes padded to a multiple of 8. */

#ifndef CKM_EC_EDWARDS_KEY_PAIR_GEN
# define CKM_EC_EDWARDS_KEY_PAIR_GEN 0x1055UL
#endif
#ifndef CKM_EDDSA
# define CKM_EDDSA 0x1057UL
#endif

/* Whether a mechanism goes through the extension channel */
#define TESSERA_MODULE_HOST_EXTENSION_MECHANISM(m) \
  ((m) == CKM_EC_EDWARDS_KEY_PAIR_GEN || (m) == CKM_EDDSA)

/* Reads or writes all of @len bytes on the extension channel */
static inline bool
tessera_module_host_read_all (int    fd,
                              void  *data,
                              size_t len)
{
  while (len > 0)
    {
      ssize_t got = read (fd, data, len);

      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        return false;
      data = (char *) data + got;
      len -= (size_t) got;
    }
  return true;
}

static inline bool
tessera_module_host_write_all (int         fd,
                               const void *data,
                               size_t      len)
{
  while (len > 0)
    {
      ssize_t put = write (fd, data, len);

      if (put < 0 && errno == EINTR)
        continue;
      if (put <= 0)
        return false;
      data = (const char *) data + put;
      len -= (size_t) put;
    }
  return true;
}

#define G_N_ELEMENTS_HOST(array) (sizeof (array) / sizeof ((array)[0]))
