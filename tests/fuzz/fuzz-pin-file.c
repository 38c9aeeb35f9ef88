/* fuzz-pin-file.c: reading a PIN file, as tessera-cli's --pin-file does
 *
 * The input is the file's contents.  The PIN is its first line, without
 * the line's end, and up to a NUL byte: never more than the file holds.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "tessera-cli.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char *path;

static void
remove_pin_file (void)
{
  g_unlink (path);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TesseraPinText) pin = NULL;
  gsize expected = 0;
  FILE *file;

  if (path == NULL)
    {
      int fd = g_file_open_tmp ("tessera-fuzz-pin-XXXXXX", &path, NULL);

      g_assert_cmpint (fd, >=, 0);
      close (fd);
      atexit (remove_pin_file);
    }

  /* Not g_file_set_contents(): its fsync() would cost most of the time */
  file = fopen (path, "wb");
  g_assert_nonnull (file);
  g_assert_cmpuint (fwrite (data, 1, size, file), ==, size);
  fclose (file);

  pin = read_pin_file (path, &error);

  /* The first line, whole: a PIN when it is text, refused otherwise */
  while (expected < size && data[expected] != '\r' && data[expected] != '\n')
    expected++;
  if (pin == NULL)
    {
      g_autofree char *line = g_strndup ((const char *) data, expected);

      g_assert_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INVALID);
      g_assert_true (memchr (data, '\0', expected) != NULL || !tessera_check_pin_text (line, NULL));
      g_clear_error (&error);
      return 0;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (pin), ==, expected);
  g_assert_true (memcmp (pin, data, expected) == 0);
  g_assert_true (tessera_check_pin_text (pin, NULL));
  return 0;
}
