/* tessera-agent-provider.h: what Tessera and its one-token agent provider share
 *
 * Copy N of the provider (tessera-agent-token-N.so, N from 1 to
 * TESSERA_AGENT_PROVIDER_COUNT) reads the token it shows from
 * $XDG_RUNTIME_DIR/tessera/agent-token-N (or, without a runtime
 * directory, the same name under the user's cache directory, as GLib's
 * g_get_user_runtime_dir() does).  The file is mode 0600 and owned by the
 * user; each line is a key, a space and a value:
 *
 *   module /usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so
 *   slot 1
 *   label <the 32 bytes of CK_TOKEN_INFO.label, in hex>
 *   manufacturer <32 bytes, hex>
 *   model <16 bytes, hex>
 *   serial <16 bytes, hex>
 *   name <the token's label, for people: which token this copy holds>
 *
 * Lines starting with '#' are comments.  The raw fields are compared
 * byte for byte, padding included.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#define TESSERA_AGENT_PROVIDER_COUNT 4
#define TESSERA_AGENT_PROVIDER_FORMAT "tessera-agent-token-%d.so"
#define TESSERA_AGENT_CHOICE_DIR "tessera"
#define TESSERA_AGENT_CHOICE_NAME "agent-token-"
