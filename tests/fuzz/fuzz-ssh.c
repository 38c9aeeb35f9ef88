/* fuzz-ssh.c: OpenSSH wire blobs and `ssh-keygen -D` lines
 *
 * The input is taken twice: as a wire blob (RFC 4253 strings: the type,
 * then e and n, or the curve and point, or the Ed25519 key), and as an
 * authorized_keys line, "type base64 comment", whose blob is decoded the
 * way ssh-keygen reads it.  Each blob goes through everything the core
 * does with one: type, size, fingerprints, the line, GnuTLS's public key.
 * A line Tessera formats from a blob must decode to the same blob.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "fuzz-module.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
use_blob (GBytes     *blob,
          const char *comment)
{
  g_autofree char *line = NULL;
  g_auto(GStrv) fields = NULL;

  fuzz_use_ssh_blob (blob, comment);

  if (tessera_ssh_blob_get_type (blob) == NULL)
    return;

  /* The line holds the blob, whole */
  line = tessera_ssh_format_line (blob, NULL);
  fields = g_strsplit (line, " ", 3);
  g_assert_cmpstr (fields[0], ==, tessera_ssh_blob_get_type (blob));
  g_assert_nonnull (fields[1]);
  {
    gsize len = 0;
    g_autofree guchar *decoded = g_base64_decode (fields[1], &len);
    g_autoptr(GBytes) again = g_bytes_new (decoded, len);

    g_assert_true (g_bytes_equal (again, blob));
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) blob = g_bytes_new (data, size);
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_auto(GStrv) fields = NULL;

  fuzz_init ();

  use_blob (blob, NULL);

  /* One line: "type base64 [comment]" */
  text[strcspn (text, "\r\n")] = '\0';
  fields = g_strsplit (text, " ", 3);
  if (fields[0] != NULL && fields[1] != NULL)
    {
      gsize len = 0;
      g_autofree guchar *decoded = g_base64_decode (fields[1], &len);
      g_autoptr(GBytes) line_blob = g_bytes_new (decoded, len);
      g_autofree char *comment = fields[2] != NULL ? g_utf8_make_valid (fields[2], -1) : NULL;

      use_blob (line_blob, comment);
    }
  return 0;
}
