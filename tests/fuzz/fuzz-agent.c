/* fuzz-agent.c: an ssh-agent's answer to REQUEST_IDENTITIES
 *
 * The input is the reply as it comes off SSH_AUTH_SOCK after its 4-byte
 * length: IDENTITIES_ANSWER, a count, then each key's blob and comment.
 * Every identity then goes through what the core does with an agent's
 * key: its type, size and fingerprints, and the comparison with a token's
 * keys.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "fuzz-module.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) reply = g_bytes_new (data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) identities = NULL;

  fuzz_init ();

  identities = _tessera_agent_parse_identities (reply, &error);
  g_assert ((identities == NULL) == (error != NULL));
  if (identities == NULL)
    return 0;

  for (guint i = 0; i < identities->len; i++)
    {
      TesseraAgentIdentity *identity = g_ptr_array_index (identities, i);

      g_assert_true (g_utf8_validate (identity->comment, -1, NULL));
      fuzz_use_ssh_blob (identity->blob, identity->comment);
    }
  return 0;
}
