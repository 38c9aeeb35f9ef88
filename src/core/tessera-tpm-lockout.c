/* tessera-tpm-lockout.c: when a TPM was last seen locked out
 *
 * A TPM counts wrong PINs for all its tokens together, and once it has
 * counted too many it refuses every PIN until its recovery time has
 * passed.  tpm2-pkcs11 says nothing of that in the token's flags: the
 * only sign is a login that fails with CKR_PIN_LOCKED.  What such a login
 * taught is kept here, in the user's state directory, so that the next
 * listing (another process, the window) says "locked out" rather than
 * "Ready".  A login that gets as far as checking the PIN, right or
 * wrong, shows that the lockout is over and forgets it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <errno.h>

#include "tessera-private.h"

G_LOCK_DEFINE_STATIC (lockouts);

static char *
lockouts_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "tessera", "tpm-lockouts", NULL);
}

/* The file's groups are hashes: a TPM's identity may hold any character. */
static char *
group_for (const char *tpm_identity)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, tpm_identity, -1);
}

static GKeyFile *
load_lockouts (void)
{
  g_autofree char *path = lockouts_path ();
  GKeyFile *file = g_key_file_new ();

  /* No file, or one that cannot be read: nothing was seen */
  g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, NULL);
  return file;
}

/*
 * _tessera_tpm_lockout_lookup:
 * @tpm_identity: what names one TPM: its module and the fields every
 *   token of it shares
 *
 * Returns: when a login last found this TPM locked out, in seconds since
 *   the Epoch, or 0 when it was not (or a login since got through)
 */
gint64
_tessera_tpm_lockout_lookup (const char *tpm_identity)
{
  g_autoptr(GKeyFile) file = NULL;
  g_autofree char *group = group_for (tpm_identity);
  gint64 seen;

  G_LOCK (lockouts);
  file = load_lockouts ();
  G_UNLOCK (lockouts);

  seen = g_key_file_get_int64 (file, group, "seen", NULL);
  return MAX (seen, 0);
}

/*
 * _tessera_tpm_lockout_remember:
 * @locked_out: whether the login found the TPM locked out
 *
 * Notes what a login to one of the TPM's tokens found.  Failing to write
 * the note costs only the "locked out" state of the next listing.
 */
void
_tessera_tpm_lockout_remember (const char *tpm_identity,
                               gboolean    locked_out)
{
  g_autoptr(GKeyFile) file = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = lockouts_path ();
  g_autofree char *dir = NULL;
  g_autofree char *group = group_for (tpm_identity);

  G_LOCK (lockouts);
  file = load_lockouts ();

  if (locked_out)
    g_key_file_set_int64 (file, group, "seen", g_get_real_time () / G_USEC_PER_SEC);
  else if (!g_key_file_remove_group (file, group, NULL))
    {
      /* Nothing was noted: leave the file alone (or absent) */
      G_UNLOCK (lockouts);
      return;
    }

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0 ||
      !g_key_file_save_to_file (file, path, &error))
    g_debug ("Could not note a TPM lockout in %s: %s", path,
             error != NULL ? error->message : g_strerror (errno));
  G_UNLOCK (lockouts);
}
