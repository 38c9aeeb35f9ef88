/* tessera-agent-provider.c: a PKCS#11 module that shows ssh-agent one token
 *
 * ssh-agent's helper logs in to every token of a provider with the one
 * PIN it was given.  On a TPM or any module with several tokens, adding
 * one token to the agent therefore costs each of the others a failed PIN
 * try, and a TPM counts them all towards its lockout.
 *
 * This module is what Tessera gives the agent instead of such a module.
 * It loads the real module, and shows only the one token that Tessera
 * chose: the rest of the real module's slots do not exist for the agent.
 * The choice is a small file that Tessera writes before it asks the agent
 * to load the provider (tessera-agent-provider.h describes it).  The file
 * is the user's, in the user's runtime directory, and must not be
 * writable by anyone else; the agent's helper runs as the user.
 *
 * Tessera builds this file several times, as tessera-agent-token-1.so to
 * -N.so, because ssh-agent holds a provider path once: each copy is one
 * token in the agent at a time.  Which copy this is comes from the
 * compiler (TESSERA_AGENT_PROVIDER_SLOT).
 *
 * OpenSSH 9.2 loads every provider into one helper process, so two copies
 * may share one real module there.  The first to initialise it owns it;
 * a copy's C_Finalize leaves it initialised while another copy still uses
 * it.  The copies find each other by their own directory and name.
 *
 * It is plain C with no GLib: it is loaded into OpenSSH's helper.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define _GNU_SOURCE  /* dladdr, RTLD_NOLOAD */

#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#include "tessera-agent-provider.h"

#ifndef TESSERA_AGENT_PROVIDER_SLOT
#error "TESSERA_AGENT_PROVIDER_SLOT must name which copy this is"
#endif

#define EXPORT __attribute__ ((visibility ("default")))

/* What Tessera chose: a token of a module, by slot and by the raw fields
 * of its CK_TOKEN_INFO. */
typedef struct
{
  char          module[PATH_MAX];
  CK_SLOT_ID    slot_id;
  unsigned char label[32];
  unsigned char manufacturer[32];
  unsigned char model[16];
  unsigned char serial[16];
} Choice;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Choice choice;
static void *real_handle;
static CK_FUNCTION_LIST *real;
static CK_FUNCTION_LIST filtered;

/* Whether this copy has the real module initialised for its caller. */
static int initialized_here;

/* The slot the chosen token is in, once found; CK_INVALID_HANDLE-like
 * sentinel otherwise. */
static CK_SLOT_ID shown_slot;
static int shown_slot_known;

/* Reading the choice ---------------------------------------------------- */

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static int
parse_hex (const char    *text,
           unsigned char *out,
           size_t         length)
{
  if (strlen (text) != length * 2)
    return 0;

  for (size_t i = 0; i < length; i++)
    {
      int high = hex_value (text[2 * i]);
      int low = hex_value (text[2 * i + 1]);

      if (high < 0 || low < 0)
        return 0;
      out[i] = (unsigned char) (high << 4 | low);
    }
  return 1;
}

static int
choice_path (char   *path,
             size_t  size)
{
  const char *dir = getenv ("XDG_RUNTIME_DIR");
  int written;

  /* The same place g_get_user_runtime_dir() gives Tessera. */
  if (dir != NULL && dir[0] == '/')
    written = snprintf (path, size, "%s/%s/" TESSERA_AGENT_CHOICE_NAME "%d",
                        dir, TESSERA_AGENT_CHOICE_DIR, TESSERA_AGENT_PROVIDER_SLOT);
  else
    {
      const char *cache = getenv ("XDG_CACHE_HOME");
      const char *home = getenv ("HOME");

      if (cache != NULL && cache[0] == '/')
        written = snprintf (path, size, "%s/%s/" TESSERA_AGENT_CHOICE_NAME "%d",
                            cache, TESSERA_AGENT_CHOICE_DIR, TESSERA_AGENT_PROVIDER_SLOT);
      else
        {
          if (home == NULL || home[0] != '/')
            {
              struct passwd *pw = getpwuid (getuid ());

              home = pw != NULL ? pw->pw_dir : NULL;
            }
          if (home == NULL)
            return 0;
          written = snprintf (path, size, "%s/.cache/%s/" TESSERA_AGENT_CHOICE_NAME "%d",
                              home, TESSERA_AGENT_CHOICE_DIR, TESSERA_AGENT_PROVIDER_SLOT);
        }
    }

  return written > 0 && (size_t) written < size;
}

/* Reads the choice, refusing a file that someone else could have
 * written: it names a library for this process to load. */
static int
read_choice (Choice *out)
{
  char path[PATH_MAX];
  char line[PATH_MAX + 32];
  struct stat st;
  unsigned int seen = 0;
  FILE *file;
  int fd;

  memset (out, 0, sizeof *out);

  if (!choice_path (path, sizeof path))
    return 0;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return 0;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_uid != getuid () ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 || st.st_size > 8192)
    {
      close (fd);
      return 0;
    }

  file = fdopen (fd, "r");
  if (file == NULL)
    {
      close (fd);
      return 0;
    }

  while (fgets (line, sizeof line, file) != NULL)
    {
      size_t length = strlen (line);
      char *value;

      if (length == 0 || line[length - 1] != '\n')
        break;  /* too long, or cut short */
      line[length - 1] = '\0';

      if (line[0] == '#' || line[0] == '\0')
        continue;
      value = strchr (line, ' ');
      if (value == NULL)
        break;
      *value++ = '\0';

      if (strcmp (line, "module") == 0 && value[0] == '/' && strlen (value) < sizeof out->module)
        {
          strcpy (out->module, value);
          seen |= 1;
        }
      else if (strcmp (line, "slot") == 0)
        {
          char *end = NULL;
          unsigned long long id;

          errno = 0;
          id = strtoull (value, &end, 10);
          if (errno != 0 || end == value || *end != '\0')
            break;
          out->slot_id = (CK_SLOT_ID) id;
          seen |= 2;
        }
      else if (strcmp (line, "label") == 0 && parse_hex (value, out->label, sizeof out->label))
        seen |= 4;
      else if (strcmp (line, "manufacturer") == 0 &&
               parse_hex (value, out->manufacturer, sizeof out->manufacturer))
        seen |= 8;
      else if (strcmp (line, "model") == 0 && parse_hex (value, out->model, sizeof out->model))
        seen |= 16;
      else if (strcmp (line, "serial") == 0 && parse_hex (value, out->serial, sizeof out->serial))
        seen |= 32;
    }

  fclose (file);
  return seen == 63;
}

/* Which token is shown ---------------------------------------------------- */

static int
is_chosen (const CK_TOKEN_INFO *info)
{
  return memcmp (info->label, choice.label, sizeof choice.label) == 0 &&
         memcmp (info->manufacturerID, choice.manufacturer, sizeof choice.manufacturer) == 0 &&
         memcmp (info->model, choice.model, sizeof choice.model) == 0 &&
         memcmp (info->serialNumber, choice.serial, sizeof choice.serial) == 0;
}

/* Finds the chosen token among the real module's slots: in its slot if it
 * is still there; otherwise in the one other slot that holds a token of
 * that identity.  Two such slots and none in the chosen one: no token is
 * shown, since neither can be known to be the one the user chose. */
static CK_RV
find_chosen_slot (void)
{
  CK_SLOT_ID stack[64];
  CK_SLOT_ID *slots = stack;
  CK_ULONG n = 0;
  CK_SLOT_ID other = 0;
  unsigned int n_others = 0;
  CK_RV rv;

  shown_slot_known = 0;

  rv = real->C_GetSlotList (CK_TRUE, NULL, &n);
  if (rv != CKR_OK)
    return rv;
  if (n > 4096)
    return CKR_GENERAL_ERROR;
  if (n > sizeof stack / sizeof stack[0])
    {
      slots = calloc (n, sizeof *slots);
      if (slots == NULL)
        return CKR_HOST_MEMORY;
    }
  else
    n = sizeof stack / sizeof stack[0];

  rv = real->C_GetSlotList (CK_TRUE, slots, &n);
  if (rv == CKR_OK)
    {
      for (CK_ULONG i = 0; i < n && i < 4096; i++)
        {
          CK_TOKEN_INFO info;

          if (real->C_GetTokenInfo (slots[i], &info) != CKR_OK || !is_chosen (&info))
            continue;
          if (slots[i] == choice.slot_id)
            {
              shown_slot = slots[i];
              shown_slot_known = 1;
              break;
            }
          other = slots[i];
          n_others++;
        }

      if (!shown_slot_known && n_others == 1)
        {
          shown_slot = other;
          shown_slot_known = 1;
        }
    }

  if (slots != stack)
    free (slots);
  return rv;
}

static int
is_shown (CK_SLOT_ID slot)
{
  int shown;

  pthread_mutex_lock (&lock);
  shown = shown_slot_known && slot == shown_slot;
  pthread_mutex_unlock (&lock);
  return shown;
}

/* The filtered functions -------------------------------------------------- */

static CK_RV
filtered_get_slot_list (CK_BBOOL       token_present,
                        CK_SLOT_ID_PTR slot_list,
                        CK_ULONG_PTR   count)
{
  CK_RV rv;
  CK_ULONG n;

  (void) token_present;
  if (count == NULL)
    return CKR_ARGUMENTS_BAD;

  pthread_mutex_lock (&lock);
  rv = find_chosen_slot ();
  n = shown_slot_known ? 1 : 0;
  if (rv == CKR_OK && slot_list != NULL)
    {
      if (*count < n)
        rv = CKR_BUFFER_TOO_SMALL;
      else if (n == 1)
        slot_list[0] = shown_slot;
    }
  pthread_mutex_unlock (&lock);

  if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL)
    *count = n;
  return rv;
}

static CK_RV
filtered_get_slot_info (CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
  return is_shown (slot) ? real->C_GetSlotInfo (slot, info) : CKR_SLOT_ID_INVALID;
}

static CK_RV
filtered_get_token_info (CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
  return is_shown (slot) ? real->C_GetTokenInfo (slot, info) : CKR_SLOT_ID_INVALID;
}

static CK_RV
filtered_get_mechanism_list (CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
  return is_shown (slot) ? real->C_GetMechanismList (slot, list, count) : CKR_SLOT_ID_INVALID;
}

static CK_RV
filtered_get_mechanism_info (CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info)
{
  return is_shown (slot) ? real->C_GetMechanismInfo (slot, type, info) : CKR_SLOT_ID_INVALID;
}

static CK_RV
filtered_init_token (CK_SLOT_ID slot, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len, CK_UTF8CHAR_PTR label)
{
  (void) slot; (void) pin; (void) pin_len; (void) label;
  /* The agent never initialises a token, and nothing else should here. */
  return CKR_FUNCTION_NOT_SUPPORTED;
}

static CK_RV
filtered_open_session (CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR application,
                       CK_NOTIFY notify, CK_SESSION_HANDLE_PTR session)
{
  return is_shown (slot)
         ? real->C_OpenSession (slot, flags, application, notify, session)
         : CKR_SLOT_ID_INVALID;
}

static CK_RV
filtered_close_all_sessions (CK_SLOT_ID slot)
{
  return is_shown (slot) ? real->C_CloseAllSessions (slot) : CKR_SLOT_ID_INVALID;
}

static CK_RV
filtered_wait_for_slot_event (CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved)
{
  (void) flags; (void) slot; (void) reserved;
  return CKR_FUNCTION_NOT_SUPPORTED;
}

/* Sharing the real module with the other copies ---------------------------- */

EXPORT int tessera_agent_provider_uses (const char *module);

/* Whether this copy has @module initialised: asked by the other copies. */
EXPORT int
tessera_agent_provider_uses (const char *module)
{
  int uses;

  pthread_mutex_lock (&lock);
  uses = initialized_here && real != NULL && strcmp (choice.module, module) == 0;
  pthread_mutex_unlock (&lock);
  return uses;
}

/* Whether another copy, loaded in this process, uses the same real module. */
static int
other_copy_uses_module (void)
{
  Dl_info info;
  char dir[PATH_MAX];
  char *slash;

  if (dladdr ((void *) tessera_agent_provider_uses, &info) == 0 || info.dli_fname == NULL ||
      strlen (info.dli_fname) >= sizeof dir)
    return 0;
  strcpy (dir, info.dli_fname);
  slash = strrchr (dir, '/');
  if (slash == NULL)
    return 0;
  *slash = '\0';

  for (int n = 1; n <= TESSERA_AGENT_PROVIDER_COUNT; n++)
    {
      char path[PATH_MAX + 64];
      void *other;
      int (*uses) (const char *);
      int used = 0;

      if (n == TESSERA_AGENT_PROVIDER_SLOT)
        continue;
      if (snprintf (path, sizeof path, "%s/" TESSERA_AGENT_PROVIDER_FORMAT, dir, n) >= (int) sizeof path)
        continue;
      other = dlopen (path, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
      if (other == NULL)
        continue;
      uses = (int (*) (const char *)) dlsym (other, "tessera_agent_provider_uses");
      used = uses != NULL && uses (choice.module);
      dlclose (other);
      if (used)
        return 1;
    }
  return 0;
}

static CK_RV
filtered_initialize (CK_VOID_PTR args)
{
  CK_RV rv = real->C_Initialize (args);

  /* Already initialised by another copy in this process: shared. */
  if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED && !initialized_here && other_copy_uses_module ())
    rv = CKR_OK;

  if (rv == CKR_OK)
    {
      pthread_mutex_lock (&lock);
      initialized_here = 1;
      pthread_mutex_unlock (&lock);
    }
  return rv;
}

static CK_RV
filtered_finalize (CK_VOID_PTR reserved)
{
  CK_RV rv = CKR_OK;
  int was_initialized;

  pthread_mutex_lock (&lock);
  was_initialized = initialized_here;
  initialized_here = 0;
  shown_slot_known = 0;
  pthread_mutex_unlock (&lock);

  if (!was_initialized)
    return CKR_CRYPTOKI_NOT_INITIALIZED;

  /* Another copy still works through it: leave it initialised. */
  if (!other_copy_uses_module ())
    rv = real->C_Finalize (reserved);
  return rv;
}

/* The entry point --------------------------------------------------------- */

EXPORT CK_RV
C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list)
{
  CK_C_GetFunctionList get_function_list;
  CK_RV rv = CKR_OK;

  if (list == NULL)
    return CKR_ARGUMENTS_BAD;

  pthread_mutex_lock (&lock);

  if (real == NULL)
    {
      if (!read_choice (&choice))
        {
          /* No token chosen for this copy, or a file that is not Tessera's. */
          rv = CKR_GENERAL_ERROR;
          goto out;
        }

      real_handle = dlopen (choice.module, RTLD_NOW | RTLD_LOCAL);
      if (real_handle == NULL)
        {
          rv = CKR_GENERAL_ERROR;
          goto out;
        }

      get_function_list = (CK_C_GetFunctionList) dlsym (real_handle, "C_GetFunctionList");
      if (get_function_list == NULL || get_function_list (&real) != CKR_OK || real == NULL ||
          real->version.major != 2)
        {
          real = NULL;
          dlclose (real_handle);
          real_handle = NULL;
          rv = CKR_GENERAL_ERROR;
          goto out;
        }

      /* Everything goes straight to the real module, except what names a
       * slot: only the chosen one exists. */
      filtered = *real;
      filtered.version.major = 2;
      filtered.version.minor = real->version.minor > 40 ? 40 : real->version.minor;
      filtered.C_GetFunctionList = C_GetFunctionList;
      filtered.C_Initialize = filtered_initialize;
      filtered.C_Finalize = filtered_finalize;
      filtered.C_GetSlotList = filtered_get_slot_list;
      filtered.C_GetSlotInfo = filtered_get_slot_info;
      filtered.C_GetTokenInfo = filtered_get_token_info;
      filtered.C_GetMechanismList = filtered_get_mechanism_list;
      filtered.C_GetMechanismInfo = filtered_get_mechanism_info;
      filtered.C_InitToken = filtered_init_token;
      filtered.C_OpenSession = filtered_open_session;
      filtered.C_CloseAllSessions = filtered_close_all_sessions;
      filtered.C_WaitForSlotEvent = filtered_wait_for_slot_event;
    }

  *list = &filtered;

out:
  pthread_mutex_unlock (&lock);
  return rv;
}
