/* tessera-testmod.c: a PKCS#11 module for Tessera's tests
 *
 * Copyright 2025 The Tessera authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * This module forwards every call to a real module (SoftHSM, unless
 * TESSERA_TESTMOD_TARGET names another one) and adds what real parts
 * cannot do on demand: a token that is pulled and put back, a working
 * C_WaitForSlotEvent, latency, errors after N calls and a user PIN that
 * runs out of tries.
 *
 * It is switched by a small key=value file named by TESSERA_TESTMOD_CONTROL,
 * reread on every call.  A missing file, or a missing key, means the
 * default.  Each key may also be given as an environment variable
 * TESSERA_TESTMOD_<KEY> (read at C_Initialize); the file wins.
 *
 *   present=0|1        the target's tokens are in their slots (1)
 *   wait=0|1           C_WaitForSlotEvent is supported (1)
 *   latency_ms=N       sleep N ms in every call (0)
 *   fail_after=N       after N calls since C_Initialize, every call
 *                      returns fail_rv (never)
 *   fail_rv=0xHEX      the CK_RV for fail_after (0x30, CKR_DEVICE_ERROR)
 *   pin_locked=0|1     report CKF_USER_PIN_LOCKED, refuse user logins (0)
 *   pin_final_try=0|1  report CKF_USER_PIN_FINAL_TRY (0)
 *   pin_count_low=0|1  report CKF_USER_PIN_COUNT_LOW (0)
 *   pin_counters=0|1   0 drops the target's CKF_USER_PIN_COUNT_LOW,
 *                      FINAL_TRY and LOCKED, as a token that counts no
 *                      tries where PKCS#11 sees it (tpm2-pkcs11) (1)
 *   pins_to_be_changed=0|1  report CKF_SO_PIN_TO_BE_CHANGED and
 *                      CKF_USER_PIN_TO_BE_CHANGED, as opencryptoki's
 *                      fresh token does (0)
 *   tries=N            emulate a user PIN retry counter starting at N,
 *                      kept in "<control>.state" (off)
 *   refuse_set_attribute=0|1  C_SetAttributeValue answers
 *                      CKR_ATTRIBUTE_READ_ONLY, as many cards do (0)
 *   refuse_copy=0|1    C_CopyObject answers CKR_FUNCTION_NOT_SUPPORTED (0)
 *   refuse_create=0|1  C_CreateObject answers CKR_DEVICE_MEMORY (0)
 *   refuse_create_public=0|1  the same, for public-key objects only (0)
 *   undestroyable_id=HEX  C_DestroyObject answers CKR_ACTION_PROHIBITED
 *                      for objects with this CKA_ID, as for an object
 *                      with CKA_DESTROYABLE false (none)
 *
 * Faults that real vendor modules show, for the code that must survive
 * them.  A crash or a hang happens on entry, before the target is called;
 * it applies to every C_ function but C_GetFunctionList (none):
 *
 *   crash_in=C_Name    that function crashes with a real SIGSEGV, a
 *                      write through a NULL pointer
 *   hang_in=C_Name     that function never returns (it sleeps forever,
 *                      holding a call open, so C_Finalize waits too)
 *
 * Lies, where the call still returns CKR_OK (all off by default):
 *
 *   lie_length=1       C_GetAttributeValue sets ulValueLen to 0xFFFFFFF0
 *                      on the first attribute of the template that has a
 *                      non-NULL pValue, and returns CKR_OK whenever the
 *                      target answered the template (CKR_OK,
 *                      CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID
 *                      or CKR_BUFFER_TOO_SMALL).  Templates of NULL
 *                      pValues only (size queries) pass unchanged.
 *                      Nothing is written beyond the buffers given.
 *   unavailable_length=1  C_GetAttributeValue sets every ulValueLen to
 *                      CK_UNAVAILABLE_INFORMATION and returns CKR_OK
 *                      (when the target answered the template, as above)
 *   lie_slot_count=1   C_GetSlotList with a non-NULL list returns CKR_OK
 *                      with *pulCount = the caller's count + 1000, having
 *                      written only what fits in the caller's count
 *   lie_find_count=1   C_FindObjects returns CKR_OK with *pulObjectCount =
 *                      ulMaxObjectCount + 1000, having written at most
 *                      ulMaxObjectCount handles
 *   garbage_strings=1  C_GetTokenInfo's label, manufacturerID, model and
 *                      serialNumber hold the real value, cut short, then
 *                      GARBAGE below: a NUL, ESC "[31m", a newline and the
 *                      invalid UTF-8 bytes 0xff 0xfe, then space padding.
 *                      The flags stay the real token's.  C_GetInfo's
 *                      manufacturerID and libraryDescription get the same.
 *
 * Write the control file atomically (a temporary file, then rename, as
 * g_file_set_contents() does): a reader that sees it half-written takes
 * the defaults, which would look like a token being put back.
 */

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define DEFAULT_TARGET "/usr/lib/softhsm/libsofthsm2.so"
#define ENV_PREFIX "TESSERA_TESTMOD_"
#define WAIT_POLL_MS 50

#define EXPORT __attribute__ ((visibility ("default")))

/* What garbage_strings puts after the real value: NUL, an escape
 * sequence, a newline and two bytes that are never UTF-8 */
#define GARBAGE "\0\033[31m\n\xff\xfe"
#define GARBAGE_LEN (sizeof GARBAGE - 1)

/* What lie_length puts in ulValueLen */
#define LIE_LENGTH 0xFFFFFFF0UL

/* What lie_slot_count and lie_find_count add to the count */
#define LIE_COUNT_EXTRA 1000

typedef struct
{
  bool          present;
  bool          wait;
  unsigned long latency_ms;
  long          fail_after;     /* -1: never */
  CK_RV         fail_rv;
  bool          pin_locked;
  bool          pin_final_try;
  bool          pin_count_low;
  bool          pin_counters;
  bool          pins_to_be_changed;
  long          tries;          /* -1: no emulated retry counter */
  bool          refuse_set_attribute;
  bool          refuse_copy;
  bool          refuse_create;
  bool          refuse_create_public;
  char          undestroyable_id[129];
  char          crash_in[64];
  char          hang_in[64];
  bool          lie_length;
  bool          unavailable_length;
  bool          lie_slot_count;
  bool          lie_find_count;
  bool          garbage_strings;
} Control;

typedef struct
{
  CK_SESSION_HANDLE handle;     /* what the application holds */
  CK_SESSION_HANDLE real;       /* the target's handle */
  CK_SLOT_ID        slot;
  bool              removed;    /* the token was pulled while it was open */
} Session;

typedef enum
{
  MODULE_UNINITIALIZED,
  MODULE_READY,
  MODULE_FINALIZING,
} ModuleState;

/* Everything below is guarded by module.lock. While module.busy is
 * non-zero, target, target_handle, control_path and defaults are stable,
 * so a call that has entered may read them without the lock. */
static struct
{
  pthread_mutex_t      lock;
  pthread_cond_t       cond;
  ModuleState          state;
  unsigned int         busy;

  void                *target_handle;
  CK_FUNCTION_LIST_PTR target;

  char                *control_path;
  char                *state_path;
  Control              defaults;
  unsigned long        calls;

  bool                 token_present;     /* what the sessions last saw */
  bool                 reported_present;  /* what C_WaitForSlotEvent last said */

  Session             *sessions;
  size_t               n_sessions;
  size_t               allocated_sessions;
  CK_SESSION_HANDLE    next_handle;

  /* The retry counter when there is no control file to keep it beside */
  long                 tries_initial;
  long                 tries_left;
} module = {
  .lock = PTHREAD_MUTEX_INITIALIZER,
  .state = MODULE_UNINITIALIZED,
};

static pthread_once_t cond_once = PTHREAD_ONCE_INIT;

static CK_FUNCTION_LIST function_list;

/* What one call into the module carries from its entry checks to its end */
typedef struct
{
  bool                 entered;
  CK_FUNCTION_LIST_PTR target;
  Control              control;
  bool                 has_session;
  CK_SESSION_HANDLE    handle;
  CK_SESSION_HANDLE    real;
} Call;

static void
init_cond (void)
{
  pthread_condattr_t attr;

  /* A monotonic clock, so that the waiter's 50 ms poll survives clock jumps */
  pthread_condattr_init (&attr);
  pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
  pthread_cond_init (&module.cond, &attr);
  pthread_condattr_destroy (&attr);
}

static void
sleep_ms (unsigned long ms)
{
  struct timespec ts;

  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long) (ms % 1000) * 1000000L;
  while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
    ;
}

static void
pad_string (CK_UTF8CHAR *field,
            size_t       size,
            const char  *value)
{
  size_t len = strlen (value);

  if (len > size)
    len = size;
  memset (field, ' ', size);
  memcpy (field, value, len);
}

/* The real value of a space-padded field, cut short, then GARBAGE */
static void
garbage_string (CK_UTF8CHAR *field,
                size_t       size)
{
  size_t len = size;

  while (len > 0 && (field[len - 1] == ' ' || field[len - 1] == '\0'))
    len--;
  if (len > size - GARBAGE_LEN)
    len = size - GARBAGE_LEN;
  memcpy (field + len, GARBAGE, GARBAGE_LEN);
  memset (field + len + GARBAGE_LEN, ' ', size - len - GARBAGE_LEN);
}

static char *
strip (char *s)
{
  char *end;

  while (isspace ((unsigned char) *s))
    s++;
  end = s + strlen (s);
  while (end > s && isspace ((unsigned char) end[-1]))
    *--end = '\0';
  return s;
}

static bool
parse_bool (const char *value,
            bool        fallback)
{
  if (strcmp (value, "1") == 0 || strcasecmp (value, "true") == 0 ||
      strcasecmp (value, "yes") == 0)
    return true;
  if (strcmp (value, "0") == 0 || strcasecmp (value, "false") == 0 ||
      strcasecmp (value, "no") == 0)
    return false;
  return fallback;
}

static long
parse_long (const char *value,
            long        fallback)
{
  char *end;
  long result;

  errno = 0;
  if (strncasecmp (value, "0x", 2) == 0)
    result = (long) strtoul (value + 2, &end, 16);
  else
    result = strtol (value, &end, 10);
  if (errno != 0 || end == value || *end != '\0')
    return fallback;
  return result;
}

static void
copy_name (char       *name,
           size_t      size,
           const char *value)
{
  snprintf (name, size, "%s", value);
}

static void
control_set (Control    *control,
             const char *key,
             const char *value)
{
  long number;

  if (strcmp (key, "present") == 0)
    control->present = parse_bool (value, control->present);
  else if (strcmp (key, "wait") == 0)
    control->wait = parse_bool (value, control->wait);
  else if (strcmp (key, "latency_ms") == 0)
    {
      number = parse_long (value, (long) control->latency_ms);
      control->latency_ms = number > 0 ? (unsigned long) number : 0;
    }
  else if (strcmp (key, "fail_after") == 0)
    control->fail_after = parse_long (value, control->fail_after);
  else if (strcmp (key, "fail_rv") == 0)
    control->fail_rv = (CK_RV) parse_long (value, (long) control->fail_rv);
  else if (strcmp (key, "pin_locked") == 0)
    control->pin_locked = parse_bool (value, control->pin_locked);
  else if (strcmp (key, "pin_final_try") == 0)
    control->pin_final_try = parse_bool (value, control->pin_final_try);
  else if (strcmp (key, "pin_count_low") == 0)
    control->pin_count_low = parse_bool (value, control->pin_count_low);
  else if (strcmp (key, "pin_counters") == 0)
    control->pin_counters = parse_bool (value, control->pin_counters);
  else if (strcmp (key, "pins_to_be_changed") == 0)
    control->pins_to_be_changed = parse_bool (value, control->pins_to_be_changed);
  else if (strcmp (key, "tries") == 0)
    control->tries = parse_long (value, control->tries);
  else if (strcmp (key, "refuse_set_attribute") == 0)
    control->refuse_set_attribute = parse_bool (value, control->refuse_set_attribute);
  else if (strcmp (key, "refuse_copy") == 0)
    control->refuse_copy = parse_bool (value, control->refuse_copy);
  else if (strcmp (key, "refuse_create") == 0)
    control->refuse_create = parse_bool (value, control->refuse_create);
  else if (strcmp (key, "refuse_create_public") == 0)
    control->refuse_create_public = parse_bool (value, control->refuse_create_public);
  else if (strcmp (key, "undestroyable_id") == 0)
    {
      size_t i;

      for (i = 0; value[i] != '\0' && i < sizeof control->undestroyable_id - 1; i++)
        control->undestroyable_id[i] = (char) tolower ((unsigned char) value[i]);
      control->undestroyable_id[i] = '\0';
    }
  else if (strcmp (key, "crash_in") == 0)
    copy_name (control->crash_in, sizeof control->crash_in, value);
  else if (strcmp (key, "hang_in") == 0)
    copy_name (control->hang_in, sizeof control->hang_in, value);
  else if (strcmp (key, "lie_length") == 0)
    control->lie_length = parse_bool (value, control->lie_length);
  else if (strcmp (key, "unavailable_length") == 0)
    control->unavailable_length = parse_bool (value, control->unavailable_length);
  else if (strcmp (key, "lie_slot_count") == 0)
    control->lie_slot_count = parse_bool (value, control->lie_slot_count);
  else if (strcmp (key, "lie_find_count") == 0)
    control->lie_find_count = parse_bool (value, control->lie_find_count);
  else if (strcmp (key, "garbage_strings") == 0)
    control->garbage_strings = parse_bool (value, control->garbage_strings);
}

static const char * const control_keys[] = {
  "present", "wait", "latency_ms", "fail_after", "fail_rv",
  "pin_locked", "pin_final_try", "pin_count_low", "pin_counters", "tries", "pins_to_be_changed",
  "refuse_set_attribute", "refuse_copy", "refuse_create", "refuse_create_public", "undestroyable_id",
  "crash_in", "hang_in", "lie_length", "unavailable_length", "lie_slot_count",
  "lie_find_count", "garbage_strings",
};

static void
control_init_defaults (Control *control)
{
  char name[64];
  const char *value;
  size_t i, j;

  *control = (Control) {
    .present = true,
    .wait = true,
    .latency_ms = 0,
    .fail_after = -1,
    .fail_rv = CKR_DEVICE_ERROR,
    .tries = -1,
    .pin_counters = true,
  };

  for (i = 0; i < sizeof control_keys / sizeof control_keys[0]; i++)
    {
      snprintf (name, sizeof name, ENV_PREFIX "%s", control_keys[i]);
      for (j = strlen (ENV_PREFIX); name[j] != '\0'; j++)
        name[j] = (char) toupper ((unsigned char) name[j]);
      value = getenv (name);
      if (value != NULL)
        control_set (control, control_keys[i], value);
    }
}

/* Cheap enough to do on every call: the file is a few short lines */
static void
control_read (Control *control)
{
  char line[256];
  char *key, *value, *eq;
  FILE *file;

  *control = module.defaults;
  if (module.control_path == NULL)
    return;

  file = fopen (module.control_path, "re");
  if (file == NULL)
    return;

  while (fgets (line, sizeof line, file) != NULL)
    {
      key = strip (line);
      if (*key == '\0' || *key == '#')
        continue;
      eq = strchr (key, '=');
      if (eq == NULL)
        continue;
      *eq = '\0';
      value = strip (eq + 1);
      control_set (control, strip (key), value);
    }

  fclose (file);
}

/* The emulated retry counter. Called with module.lock held. Returns -1 when
 * the control file does not ask for one. */
static long
tries_get (const Control *control)
{
  char line[64];
  long initial = -1, remaining = -1;
  FILE *file;

  if (control->tries < 0)
    return -1;

  if (module.state_path == NULL)
    {
      if (module.tries_initial != control->tries)
        return control->tries;
      return module.tries_left;
    }

  file = fopen (module.state_path, "re");
  if (file == NULL)
    return control->tries;
  while (fgets (line, sizeof line, file) != NULL)
    {
      if (strncmp (line, "initial=", 8) == 0)
        initial = parse_long (strip (line + 8), -1);
      else if (strncmp (line, "remaining=", 10) == 0)
        remaining = parse_long (strip (line + 10), -1);
    }
  fclose (file);

  /* Asking for another number of tries starts the counter afresh */
  if (initial != control->tries || remaining < 0)
    return control->tries;
  return remaining;
}

static void
tries_set (const Control *control,
           long           remaining)
{
  char *tmp_path;
  size_t size;
  FILE *file;

  if (control->tries < 0)
    return;
  if (remaining < 0)
    remaining = 0;

  if (module.state_path == NULL)
    {
      module.tries_initial = control->tries;
      module.tries_left = remaining;
      return;
    }

  /* Written aside and renamed, so that another process never reads half */
  size = strlen (module.state_path) + 32;
  tmp_path = malloc (size);
  if (tmp_path == NULL)
    return;
  snprintf (tmp_path, size, "%s.%ld.tmp", module.state_path, (long) getpid ());
  file = fopen (tmp_path, "we");
  if (file != NULL)
    {
      fprintf (file, "initial=%ld\nremaining=%ld\n", control->tries, remaining);
      if (fclose (file) == 0)
        rename (tmp_path, module.state_path);
      else
        unlink (tmp_path);
    }
  free (tmp_path);
}

/* The token flags to report, given the target's */
static CK_FLAGS
token_flags (const Control *control,
             CK_FLAGS       flags)
{
  const CK_FLAGS pin_flags = CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY |
                             CKF_USER_PIN_LOCKED;
  long tries;

  pthread_mutex_lock (&module.lock);
  tries = tries_get (control);
  pthread_mutex_unlock (&module.lock);

  /* The emulated counter owns the PIN flags: SoftHSM sets COUNT_LOW on its
   * own after a failed login. One flag at a time, as opencryptoki does. */
  if (tries >= 0)
    {
      flags &= ~pin_flags;
      if (tries == 0)
        flags |= CKF_USER_PIN_LOCKED;
      else if (tries == 1)
        flags |= CKF_USER_PIN_FINAL_TRY;
      else if (tries < control->tries)
        flags |= CKF_USER_PIN_COUNT_LOW;
    }

  if (!control->pin_counters)
    flags &= ~pin_flags;
  if (control->pin_locked)
    flags |= CKF_USER_PIN_LOCKED;
  if (control->pin_final_try)
    flags |= CKF_USER_PIN_FINAL_TRY;
  if (control->pin_count_low)
    flags |= CKF_USER_PIN_COUNT_LOW;
  if (control->pins_to_be_changed)
    flags |= CKF_SO_PIN_TO_BE_CHANGED | CKF_USER_PIN_TO_BE_CHANGED;

  return flags;
}

/* Sessions. Called with module.lock held. */

static Session *
session_find (CK_SESSION_HANDLE handle)
{
  size_t i;

  for (i = 0; i < module.n_sessions; i++)
    if (module.sessions[i].handle == handle)
      return &module.sessions[i];
  return NULL;
}

static CK_RV
session_add (CK_SESSION_HANDLE  real,
             CK_SLOT_ID         slot,
             CK_SESSION_HANDLE *handle)
{
  Session *sessions;
  size_t allocated;

  if (module.n_sessions == module.allocated_sessions)
    {
      allocated = module.allocated_sessions ? module.allocated_sessions * 2 : 16;
      sessions = realloc (module.sessions, allocated * sizeof (Session));
      if (sessions == NULL)
        return CKR_HOST_MEMORY;
      module.sessions = sessions;
      module.allocated_sessions = allocated;
    }

  /* Our own handles, never reused: the target reuses its numbers, and a
   * session that died with its token must not come back as another one. */
  *handle = module.next_handle++;
  module.sessions[module.n_sessions++] = (Session) {
    .handle = *handle,
    .real = real,
    .slot = slot,
  };
  return CKR_OK;
}

static void
session_remove (Session *session)
{
  *session = module.sessions[--module.n_sessions];
}

/* Called with module.lock held. The first call that sees the token gone
 * closes its sessions on the target, so that it comes back clean. */
static void
sync_presence (CK_FUNCTION_LIST_PTR target,
               bool                 present)
{
  size_t i;

  if (module.token_present && !present)
    {
      for (i = 0; i < module.n_sessions; i++)
        {
          if (module.sessions[i].removed)
            continue;
          target->C_CloseSession (module.sessions[i].real);
          module.sessions[i].removed = true;
        }
    }
  module.token_present = present;
}

/* Faults */

/* @function is the caller's __func__, "testmod_C_Name" */
static bool
names_function (const char *wanted,
                const char *function)
{
  if (strncmp (function, "testmod_", 8) == 0)
    function += 8;
  return wanted[0] != '\0' && strcmp (wanted, function) == 0;
}

static void
fault_maybe (const Control *control,
             const char    *function)
{
  if (names_function (control->crash_in, function))
    {
      /* Volatile, so that the compiler neither proves the pointer NULL
       * (and traps with SIGILL instead) nor drops the write */
      volatile int *volatile nowhere = NULL;

      fprintf (stderr, "tessera-testmod: crashing in %s, as asked\n", control->crash_in);
      *nowhere = 42;
    }

  if (names_function (control->hang_in, function))
    {
      fprintf (stderr, "tessera-testmod: hanging in %s, as asked\n", control->hang_in);
      for (;;)
        sleep_ms (1000);
    }
}

/* Call entry and exit.  Every entry point enters through one of the
 * macros below them, which name the function for crash_in and hang_in. */

static CK_RV
call_enter_named (Call       *call,
                  const char *function)
{
  unsigned long number;

  memset (call, 0, sizeof *call);

  pthread_mutex_lock (&module.lock);
  if (module.state != MODULE_READY)
    {
      pthread_mutex_unlock (&module.lock);
      return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
  module.busy++;
  number = ++module.calls;
  call->entered = true;
  call->target = module.target;
  pthread_mutex_unlock (&module.lock);

  control_read (&call->control);

  if (call->control.latency_ms > 0)
    sleep_ms (call->control.latency_ms);

  fault_maybe (&call->control, function);

  if (call->control.fail_after >= 0 &&
      number > (unsigned long) call->control.fail_after)
    return call->control.fail_rv;

  pthread_mutex_lock (&module.lock);
  sync_presence (call->target, call->control.present);
  pthread_mutex_unlock (&module.lock);

  return CKR_OK;
}

static CK_RV
call_enter_session_named (Call              *call,
                          CK_SESSION_HANDLE  handle,
                          const char        *function)
{
  Session *session;
  CK_RV rv;

  rv = call_enter_named (call, function);
  if (rv != CKR_OK)
    return rv;

  pthread_mutex_lock (&module.lock);
  session = session_find (handle);
  if (session == NULL)
    rv = CKR_SESSION_HANDLE_INVALID;
  else if (session->removed)
    rv = CKR_DEVICE_REMOVED;
  else
    {
      call->has_session = true;
      call->handle = handle;
      call->real = session->real;
    }
  pthread_mutex_unlock (&module.lock);

  return rv;
}

/* For calls about a slot's token: with the token pulled, a valid slot
 * answers CKR_TOKEN_NOT_PRESENT. */
static CK_RV
call_enter_token_named (Call       *call,
                        CK_SLOT_ID  slot,
                        const char *function)
{
  CK_SLOT_INFO info;
  CK_RV rv;

  rv = call_enter_named (call, function);
  if (rv != CKR_OK || call->control.present)
    return rv;

  rv = call->target->C_GetSlotInfo (slot, &info);
  if (rv != CKR_OK)
    return rv;
  return CKR_TOKEN_NOT_PRESENT;
}

#define call_enter(call) call_enter_named ((call), __func__)
#define call_enter_session(call, handle) call_enter_session_named ((call), (handle), __func__)
#define call_enter_token(call, slot) call_enter_token_named ((call), (slot), __func__)

static CK_RV
call_leave (Call  *call,
            CK_RV  rv)
{
  Session *session;

  if (!call->entered)
    return rv;

  pthread_mutex_lock (&module.lock);

  /* The token was pulled by another thread while this call was in the
   * target: say so rather than pass on the target's closed handle. */
  if (call->has_session && rv == CKR_SESSION_HANDLE_INVALID)
    {
      session = session_find (call->handle);
      if (session != NULL && session->removed)
        rv = CKR_DEVICE_REMOVED;
    }

  module.busy--;
  if (module.busy == 0 && module.state == MODULE_FINALIZING)
    pthread_cond_broadcast (&module.cond);
  pthread_mutex_unlock (&module.lock);

  return rv;
}

/* General-purpose functions */

static CK_RV
testmod_C_Initialize (CK_VOID_PTR init_args)
{
  CK_C_INITIALIZE_ARGS *args = init_args;
  CK_C_INITIALIZE_ARGS target_args = { .flags = CKF_OS_LOCKING_OK };
  CK_C_GetFunctionList get_function_list;
  CK_FUNCTION_LIST_PTR target = NULL;
  const char *target_path, *control_path;
  void *handle;
  Control control;
  CK_RV rv;

  /* Whatever locking the application offers, pthreads are always fine */
  if (args != NULL && args->pReserved != NULL)
    return CKR_ARGUMENTS_BAD;

  pthread_once (&cond_once, init_cond);

  pthread_mutex_lock (&module.lock);
  if (module.state != MODULE_UNINITIALIZED)
    {
      pthread_mutex_unlock (&module.lock);
      return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    }

  target_path = getenv (ENV_PREFIX "TARGET");
  if (target_path == NULL || *target_path == '\0')
    target_path = DEFAULT_TARGET;

  handle = dlopen (target_path, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL)
    {
      fprintf (stderr, "tessera-testmod: cannot load %s: %s\n", target_path, dlerror ());
      pthread_mutex_unlock (&module.lock);
      return CKR_GENERAL_ERROR;
    }

  get_function_list = (CK_C_GetFunctionList) dlsym (handle, "C_GetFunctionList");
  if (get_function_list == NULL ||
      get_function_list (&target) != CKR_OK || target == NULL)
    {
      fprintf (stderr, "tessera-testmod: %s is not a PKCS#11 module\n", target_path);
      dlclose (handle);
      pthread_mutex_unlock (&module.lock);
      return CKR_GENERAL_ERROR;
    }

  rv = target->C_Initialize (&target_args);
  if (rv != CKR_OK)
    {
      dlclose (handle);
      pthread_mutex_unlock (&module.lock);
      return rv;
    }

  module.target_handle = handle;
  module.target = target;

  control_init_defaults (&module.defaults);
  control_path = getenv (ENV_PREFIX "CONTROL");
  if (control_path != NULL && *control_path != '\0')
    {
      size_t size = strlen (control_path) + sizeof ".state";

      module.control_path = strdup (control_path);
      module.state_path = malloc (size);
      if (module.state_path != NULL)
        snprintf (module.state_path, size, "%s.state", control_path);
    }
  control_read (&control);

  module.calls = 0;
  module.token_present = control.present;
  module.reported_present = control.present;
  module.n_sessions = 0;
  module.next_handle = 1;
  module.tries_initial = -1;
  module.tries_left = -1;
  module.busy = 0;
  module.state = MODULE_READY;
  pthread_mutex_unlock (&module.lock);

  if (control.latency_ms > 0)
    sleep_ms (control.latency_ms);
  fault_maybe (&control, __func__);

  return CKR_OK;
}

static CK_RV
testmod_C_Finalize (CK_VOID_PTR reserved)
{
  CK_FUNCTION_LIST_PTR target;
  Control control;
  void *handle;

  if (reserved != NULL)
    return CKR_ARGUMENTS_BAD;

  pthread_mutex_lock (&module.lock);
  if (module.state != MODULE_READY)
    {
      pthread_mutex_unlock (&module.lock);
      return CKR_CRYPTOKI_NOT_INITIALIZED;
    }

  /* A module that hangs here holds its lock, as real ones do */
  control_read (&control);
  fault_maybe (&control, __func__);

  /* Wake C_WaitForSlotEvent, and let every call inside finish, before the
   * target goes away */
  module.state = MODULE_FINALIZING;
  pthread_cond_broadcast (&module.cond);
  while (module.busy > 0)
    pthread_cond_wait (&module.cond, &module.lock);

  target = module.target;
  handle = module.target_handle;
  module.target = NULL;
  module.target_handle = NULL;
  pthread_mutex_unlock (&module.lock);

  target->C_Finalize (NULL);
  dlclose (handle);

  pthread_mutex_lock (&module.lock);
  free (module.sessions);
  module.sessions = NULL;
  module.n_sessions = 0;
  module.allocated_sessions = 0;
  free (module.control_path);
  module.control_path = NULL;
  free (module.state_path);
  module.state_path = NULL;
  module.state = MODULE_UNINITIALIZED;
  pthread_mutex_unlock (&module.lock);

  return CKR_OK;
}

static CK_RV
testmod_C_GetInfo (CK_INFO_PTR info)
{
  Call call;
  CK_RV rv;

  rv = call_enter (&call);
  if (rv == CKR_OK && info == NULL)
    rv = CKR_ARGUMENTS_BAD;
  if (rv == CKR_OK)
    rv = call.target->C_GetInfo (info);
  if (rv == CKR_OK)
    {
      /* The library version stays the target's */
      info->cryptokiVersion.major = CRYPTOKI_VERSION_MAJOR;
      info->cryptokiVersion.minor = CRYPTOKI_VERSION_MINOR;
      pad_string (info->manufacturerID, sizeof info->manufacturerID, "Tessera tests");
      pad_string (info->libraryDescription, sizeof info->libraryDescription,
                  "Tessera test module");
      if (call.control.garbage_strings)
        {
          garbage_string (info->manufacturerID, sizeof info->manufacturerID);
          garbage_string (info->libraryDescription, sizeof info->libraryDescription);
        }
    }
  return call_leave (&call, rv);
}

/* Slot and token management functions */

static CK_RV
testmod_C_GetSlotList (CK_BBOOL       token_present,
                       CK_SLOT_ID_PTR slot_list,
                       CK_ULONG_PTR   count)
{
  Call call;
  CK_RV rv;

  CK_ULONG room = 0;

  rv = call_enter (&call);
  if (rv == CKR_OK && count == NULL)
    rv = CKR_ARGUMENTS_BAD;
  if (rv == CKR_OK)
    {
      room = *count;

      /* Every slot of the target that holds a token has lost it */
      if (token_present && !call.control.present)
        *count = 0;
      else
        rv = call.target->C_GetSlotList (token_present, slot_list, count);
    }
  if ((rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL) && slot_list != NULL &&
      call.control.lie_slot_count)
    {
      *count = room + LIE_COUNT_EXTRA;
      rv = CKR_OK;
    }
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_GetSlotInfo (CK_SLOT_ID        slot,
                       CK_SLOT_INFO_PTR  info)
{
  Call call;
  CK_RV rv;

  rv = call_enter (&call);
  if (rv == CKR_OK)
    rv = call.target->C_GetSlotInfo (slot, info);
  if (rv == CKR_OK)
    {
      /* Its token can be pulled, so the slot says it is removable */
      info->flags |= CKF_REMOVABLE_DEVICE;
      if (!call.control.present)
        info->flags &= ~CKF_TOKEN_PRESENT;
    }
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_GetTokenInfo (CK_SLOT_ID         slot,
                        CK_TOKEN_INFO_PTR  info)
{
  Call call;
  CK_RV rv;

  rv = call_enter_token (&call, slot);
  if (rv == CKR_OK)
    rv = call.target->C_GetTokenInfo (slot, info);
  if (rv == CKR_OK)
    info->flags = token_flags (&call.control, info->flags);
  if (rv == CKR_OK && call.control.garbage_strings)
    {
      garbage_string (info->label, sizeof info->label);
      garbage_string (info->manufacturerID, sizeof info->manufacturerID);
      garbage_string (info->model, sizeof info->model);
      garbage_string (info->serialNumber, sizeof info->serialNumber);
    }
  return call_leave (&call, rv);
}

/* Which slot an event is about: the first one with a token */
static CK_RV
event_slot (CK_FUNCTION_LIST_PTR  target,
            CK_SLOT_ID_PTR        slot)
{
  CK_SLOT_ID *slots = NULL;
  CK_ULONG count = 0;
  CK_BBOOL token_present = CK_TRUE;
  CK_RV rv;

  *slot = 0;
  rv = target->C_GetSlotList (token_present, NULL, &count);
  if (rv == CKR_OK && count == 0)
    {
      token_present = CK_FALSE;
      rv = target->C_GetSlotList (token_present, NULL, &count);
    }
  if (rv != CKR_OK || count == 0)
    return rv;

  slots = calloc (count, sizeof (CK_SLOT_ID));
  if (slots == NULL)
    return CKR_HOST_MEMORY;
  rv = target->C_GetSlotList (token_present, slots, &count);
  if (rv == CKR_OK && count > 0)
    *slot = slots[0];
  else if (rv == CKR_BUFFER_TOO_SMALL)
    {
      *slot = slots[0];
      rv = CKR_OK;
    }
  free (slots);
  return rv;
}

static CK_RV
testmod_C_WaitForSlotEvent (CK_FLAGS       flags,
                            CK_SLOT_ID_PTR slot,
                            CK_VOID_PTR    reserved)
{
  struct timespec deadline;
  Call call;
  CK_RV rv;

  rv = call_enter (&call);
  if (rv == CKR_OK && slot == NULL)
    rv = CKR_ARGUMENTS_BAD;

  while (rv == CKR_OK)
    {
      if (!call.control.wait)
        {
          rv = CKR_FUNCTION_NOT_SUPPORTED;
          break;
        }

      pthread_mutex_lock (&module.lock);
      if (module.state != MODULE_READY)
        {
          pthread_mutex_unlock (&module.lock);
          rv = CKR_CRYPTOKI_NOT_INITIALIZED;
          break;
        }

      /* An event nobody waited for is still delivered to the next caller */
      sync_presence (call.target, call.control.present);
      if (call.control.present != module.reported_present)
        {
          module.reported_present = call.control.present;
          pthread_mutex_unlock (&module.lock);
          rv = event_slot (call.target, slot);
          break;
        }

      if (flags & CKF_DONT_BLOCK)
        {
          pthread_mutex_unlock (&module.lock);
          rv = CKR_NO_EVENT;
          break;
        }

      /* C_Finalize broadcasts, so this ends at once when it is called */
      clock_gettime (CLOCK_MONOTONIC, &deadline);
      deadline.tv_nsec += WAIT_POLL_MS * 1000000L;
      if (deadline.tv_nsec >= 1000000000L)
        {
          deadline.tv_sec++;
          deadline.tv_nsec -= 1000000000L;
        }
      pthread_cond_timedwait (&module.cond, &module.lock, &deadline);

      if (module.state != MODULE_READY)
        {
          pthread_mutex_unlock (&module.lock);
          rv = CKR_CRYPTOKI_NOT_INITIALIZED;
          break;
        }
      pthread_mutex_unlock (&module.lock);

      control_read (&call.control);
    }

  return call_leave (&call, rv);
}

static CK_RV
testmod_C_GetMechanismList (CK_SLOT_ID            slot,
                            CK_MECHANISM_TYPE_PTR mechanism_list,
                            CK_ULONG_PTR          count)
{
  Call call;
  CK_RV rv;

  rv = call_enter_token (&call, slot);
  if (rv == CKR_OK)
    rv = call.target->C_GetMechanismList (slot, mechanism_list, count);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_GetMechanismInfo (CK_SLOT_ID            slot,
                            CK_MECHANISM_TYPE     type,
                            CK_MECHANISM_INFO_PTR info)
{
  Call call;
  CK_RV rv;

  rv = call_enter_token (&call, slot);
  if (rv == CKR_OK)
    rv = call.target->C_GetMechanismInfo (slot, type, info);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_InitToken (CK_SLOT_ID      slot,
                     CK_UTF8CHAR_PTR pin,
                     CK_ULONG        pin_len,
                     CK_UTF8CHAR_PTR label)
{
  Call call;
  CK_RV rv;

  rv = call_enter_token (&call, slot);
  if (rv == CKR_OK)
    rv = call.target->C_InitToken (slot, pin, pin_len, label);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_InitPIN (CK_SESSION_HANDLE session,
                   CK_UTF8CHAR_PTR   pin,
                   CK_ULONG          pin_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_InitPIN (call.real, pin, pin_len);
  if (rv == CKR_OK)
    {
      /* The security officer setting the PIN unblocks it */
      pthread_mutex_lock (&module.lock);
      tries_set (&call.control, call.control.tries);
      pthread_mutex_unlock (&module.lock);
    }
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_SetPIN (CK_SESSION_HANDLE session,
                  CK_UTF8CHAR_PTR   old_pin,
                  CK_ULONG          old_len,
                  CK_UTF8CHAR_PTR   new_pin,
                  CK_ULONG          new_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_SetPIN (call.real, old_pin, old_len, new_pin, new_len);
  return call_leave (&call, rv);
}

/* Session management functions */

static CK_RV
testmod_C_OpenSession (CK_SLOT_ID            slot,
                       CK_FLAGS              flags,
                       CK_VOID_PTR           application,
                       CK_NOTIFY             notify,
                       CK_SESSION_HANDLE_PTR session)
{
  CK_SESSION_HANDLE real;
  Call call;
  CK_RV rv;

  rv = call_enter_token (&call, slot);
  if (rv == CKR_OK && session == NULL)
    rv = CKR_ARGUMENTS_BAD;
  if (rv == CKR_OK)
    rv = call.target->C_OpenSession (slot, flags, application, notify, &real);
  if (rv == CKR_OK)
    {
      pthread_mutex_lock (&module.lock);
      rv = session_add (real, slot, session);
      pthread_mutex_unlock (&module.lock);
      if (rv != CKR_OK)
        call.target->C_CloseSession (real);
    }
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_CloseSession (CK_SESSION_HANDLE session)
{
  Session *found;
  CK_SESSION_HANDLE real = 0;
  bool removed = false;
  Call call;
  CK_RV rv;

  rv = call_enter (&call);
  if (rv == CKR_OK)
    {
      pthread_mutex_lock (&module.lock);
      found = session_find (session);
      if (found == NULL)
        rv = CKR_SESSION_HANDLE_INVALID;
      else
        {
          real = found->real;
          removed = found->removed;
          session_remove (found);
        }
      pthread_mutex_unlock (&module.lock);
    }

  /* A session whose token was pulled is forgotten, but still says so */
  if (rv == CKR_OK && removed)
    rv = CKR_DEVICE_REMOVED;
  else if (rv == CKR_OK)
    rv = call.target->C_CloseSession (real);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_CloseAllSessions (CK_SLOT_ID slot)
{
  CK_SLOT_INFO info;
  size_t i;
  Call call;
  CK_RV rv;

  rv = call_enter (&call);
  if (rv == CKR_OK)
    {
      if (call.control.present)
        rv = call.target->C_CloseAllSessions (slot);
      else
        rv = call.target->C_GetSlotInfo (slot, &info);
    }
  if (rv == CKR_OK)
    {
      pthread_mutex_lock (&module.lock);
      for (i = module.n_sessions; i > 0; i--)
        if (module.sessions[i - 1].slot == slot)
          session_remove (&module.sessions[i - 1]);
      pthread_mutex_unlock (&module.lock);
    }
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_GetSessionInfo (CK_SESSION_HANDLE    session,
                          CK_SESSION_INFO_PTR  info)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_GetSessionInfo (call.real, info);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_GetOperationState (CK_SESSION_HANDLE session,
                             CK_BYTE_PTR       operation_state,
                             CK_ULONG_PTR      operation_state_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_GetOperationState (call.real, operation_state,
                                           operation_state_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_SetOperationState (CK_SESSION_HANDLE session,
                             CK_BYTE_PTR       operation_state,
                             CK_ULONG          operation_state_len,
                             CK_OBJECT_HANDLE  encryption_key,
                             CK_OBJECT_HANDLE  authentication_key)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_SetOperationState (call.real, operation_state,
                                           operation_state_len, encryption_key,
                                           authentication_key);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_Login (CK_SESSION_HANDLE session,
                 CK_USER_TYPE      user_type,
                 CK_UTF8CHAR_PTR   pin,
                 CK_ULONG          pin_len)
{
  long tries = -1;
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK && user_type == CKU_USER)
    {
      pthread_mutex_lock (&module.lock);
      tries = tries_get (&call.control);
      pthread_mutex_unlock (&module.lock);

      /* A locked PIN is refused before the target sees it, as a card does */
      if (call.control.pin_locked || tries == 0)
        rv = CKR_PIN_LOCKED;
    }
  if (rv == CKR_OK)
    rv = call.target->C_Login (call.real, user_type, pin, pin_len);

  if (user_type == CKU_USER && tries > 0)
    {
      pthread_mutex_lock (&module.lock);
      if (rv == CKR_PIN_INCORRECT)
        tries_set (&call.control, tries_get (&call.control) - 1);
      else if (rv == CKR_OK)
        tries_set (&call.control, call.control.tries);
      pthread_mutex_unlock (&module.lock);
    }
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_Logout (CK_SESSION_HANDLE session)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_Logout (call.real);
  return call_leave (&call, rv);
}

/* Object management functions */

static CK_RV
testmod_C_CreateObject (CK_SESSION_HANDLE    session,
                        CK_ATTRIBUTE_PTR     template,
                        CK_ULONG             count,
                        CK_OBJECT_HANDLE_PTR object)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK && call.control.refuse_create)
    rv = CKR_DEVICE_MEMORY;
  else if (rv == CKR_OK && call.control.refuse_create_public)
    {
      CK_ULONG i;

      for (i = 0; i < count; i++)
        if (template[i].type == CKA_CLASS && template[i].ulValueLen == sizeof (CK_OBJECT_CLASS) &&
            *(CK_OBJECT_CLASS *) template[i].pValue == CKO_PUBLIC_KEY)
          rv = CKR_DEVICE_MEMORY;
    }
  if (rv == CKR_OK)
    rv = call.target->C_CreateObject (call.real, template, count, object);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_CopyObject (CK_SESSION_HANDLE    session,
                      CK_OBJECT_HANDLE     object,
                      CK_ATTRIBUTE_PTR     template,
                      CK_ULONG             count,
                      CK_OBJECT_HANDLE_PTR new_object)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK && call.control.refuse_copy)
    rv = CKR_FUNCTION_NOT_SUPPORTED;
  else if (rv == CKR_OK)
    rv = call.target->C_CopyObject (call.real, object, template, count, new_object);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_DestroyObject (CK_SESSION_HANDLE session,
                         CK_OBJECT_HANDLE  object)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK && call.control.undestroyable_id[0] != '\0')
    {
      unsigned char id[64];
      char hex[129];
      CK_ATTRIBUTE attribute = { CKA_ID, id, sizeof id };
      CK_ULONG i;

      if (call.target->C_GetAttributeValue (call.real, object, &attribute, 1) == CKR_OK)
        {
          for (i = 0; i < attribute.ulValueLen; i++)
            snprintf (hex + 2 * i, 3, "%02x", id[i]);
          hex[2 * attribute.ulValueLen] = '\0';
          if (strcmp (hex, call.control.undestroyable_id) == 0)
            rv = CKR_ACTION_PROHIBITED;
        }
    }
  if (rv == CKR_OK)
    rv = call.target->C_DestroyObject (call.real, object);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_GetObjectSize (CK_SESSION_HANDLE session,
                         CK_OBJECT_HANDLE  object,
                         CK_ULONG_PTR      size)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_GetObjectSize (call.real, object, size);
  return call_leave (&call, rv);
}

/* After the target answered @template with @rv */
static CK_RV
lie_about_attributes (const Control    *control,
                      CK_ATTRIBUTE_PTR  template,
                      CK_ULONG          count,
                      CK_RV             rv)
{
  CK_ULONG i;

  if (control->unavailable_length)
    {
      for (i = 0; i < count; i++)
        template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
      return CKR_OK;
    }

  if (control->lie_length)
    {
      for (i = 0; i < count; i++)
        if (template[i].pValue != NULL)
          {
            template[i].ulValueLen = LIE_LENGTH;
            return CKR_OK;
          }
    }

  return rv;
}

static CK_RV
testmod_C_GetAttributeValue (CK_SESSION_HANDLE session,
                             CK_OBJECT_HANDLE  object,
                             CK_ATTRIBUTE_PTR  template,
                             CK_ULONG          count)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_GetAttributeValue (call.real, object, template, count);
  if (rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
      rv == CKR_BUFFER_TOO_SMALL)
    rv = lie_about_attributes (&call.control, template, count, rv);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_SetAttributeValue (CK_SESSION_HANDLE session,
                             CK_OBJECT_HANDLE  object,
                             CK_ATTRIBUTE_PTR  template,
                             CK_ULONG          count)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK && call.control.refuse_set_attribute)
    rv = CKR_ATTRIBUTE_READ_ONLY;
  else if (rv == CKR_OK)
    rv = call.target->C_SetAttributeValue (call.real, object, template, count);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_FindObjectsInit (CK_SESSION_HANDLE session,
                           CK_ATTRIBUTE_PTR  template,
                           CK_ULONG          count)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_FindObjectsInit (call.real, template, count);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_FindObjects (CK_SESSION_HANDLE    session,
                       CK_OBJECT_HANDLE_PTR objects,
                       CK_ULONG             max_count,
                       CK_ULONG_PTR         count)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_FindObjects (call.real, objects, max_count, count);
  if (rv == CKR_OK && count != NULL && call.control.lie_find_count)
    *count = max_count + LIE_COUNT_EXTRA;
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_FindObjectsFinal (CK_SESSION_HANDLE session)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_FindObjectsFinal (call.real);
  return call_leave (&call, rv);
}

/* Encryption functions */

static CK_RV
testmod_C_EncryptInit (CK_SESSION_HANDLE session,
                       CK_MECHANISM_PTR  mechanism,
                       CK_OBJECT_HANDLE  key)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_EncryptInit (call.real, mechanism, key);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_Encrypt (CK_SESSION_HANDLE session,
                   CK_BYTE_PTR       data,
                   CK_ULONG          data_len,
                   CK_BYTE_PTR       encrypted_data,
                   CK_ULONG_PTR      encrypted_data_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_Encrypt (call.real, data, data_len, encrypted_data,
                                 encrypted_data_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_EncryptUpdate (CK_SESSION_HANDLE session,
                         CK_BYTE_PTR       part,
                         CK_ULONG          part_len,
                         CK_BYTE_PTR       encrypted_part,
                         CK_ULONG_PTR      encrypted_part_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_EncryptUpdate (call.real, part, part_len, encrypted_part,
                                       encrypted_part_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_EncryptFinal (CK_SESSION_HANDLE session,
                        CK_BYTE_PTR       last_encrypted_part,
                        CK_ULONG_PTR      last_encrypted_part_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_EncryptFinal (call.real, last_encrypted_part,
                                      last_encrypted_part_len);
  return call_leave (&call, rv);
}

/* Decryption functions */

static CK_RV
testmod_C_DecryptInit (CK_SESSION_HANDLE session,
                       CK_MECHANISM_PTR  mechanism,
                       CK_OBJECT_HANDLE  key)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_DecryptInit (call.real, mechanism, key);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_Decrypt (CK_SESSION_HANDLE session,
                   CK_BYTE_PTR       encrypted_data,
                   CK_ULONG          encrypted_data_len,
                   CK_BYTE_PTR       data,
                   CK_ULONG_PTR      data_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_Decrypt (call.real, encrypted_data, encrypted_data_len,
                                 data, data_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_DecryptUpdate (CK_SESSION_HANDLE session,
                         CK_BYTE_PTR       encrypted_part,
                         CK_ULONG          encrypted_part_len,
                         CK_BYTE_PTR       part,
                         CK_ULONG_PTR      part_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_DecryptUpdate (call.real, encrypted_part,
                                       encrypted_part_len, part, part_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_DecryptFinal (CK_SESSION_HANDLE session,
                        CK_BYTE_PTR       last_part,
                        CK_ULONG_PTR      last_part_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_DecryptFinal (call.real, last_part, last_part_len);
  return call_leave (&call, rv);
}

/* Message digesting functions */

static CK_RV
testmod_C_DigestInit (CK_SESSION_HANDLE session,
                      CK_MECHANISM_PTR  mechanism)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_DigestInit (call.real, mechanism);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_Digest (CK_SESSION_HANDLE session,
                  CK_BYTE_PTR       data,
                  CK_ULONG          data_len,
                  CK_BYTE_PTR       digest,
                  CK_ULONG_PTR      digest_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_Digest (call.real, data, data_len, digest, digest_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_DigestUpdate (CK_SESSION_HANDLE session,
                        CK_BYTE_PTR       part,
                        CK_ULONG          part_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_DigestUpdate (call.real, part, part_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_DigestKey (CK_SESSION_HANDLE session,
                     CK_OBJECT_HANDLE  key)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_DigestKey (call.real, key);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_DigestFinal (CK_SESSION_HANDLE session,
                       CK_BYTE_PTR       digest,
                       CK_ULONG_PTR      digest_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_DigestFinal (call.real, digest, digest_len);
  return call_leave (&call, rv);
}

/* Signing and MACing functions */

static CK_RV
testmod_C_SignInit (CK_SESSION_HANDLE session,
                    CK_MECHANISM_PTR  mechanism,
                    CK_OBJECT_HANDLE  key)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_SignInit (call.real, mechanism, key);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_Sign (CK_SESSION_HANDLE session,
                CK_BYTE_PTR       data,
                CK_ULONG          data_len,
                CK_BYTE_PTR       signature,
                CK_ULONG_PTR      signature_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_Sign (call.real, data, data_len, signature, signature_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_SignUpdate (CK_SESSION_HANDLE session,
                      CK_BYTE_PTR       part,
                      CK_ULONG          part_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_SignUpdate (call.real, part, part_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_SignFinal (CK_SESSION_HANDLE session,
                     CK_BYTE_PTR       signature,
                     CK_ULONG_PTR      signature_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_SignFinal (call.real, signature, signature_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_SignRecoverInit (CK_SESSION_HANDLE session,
                           CK_MECHANISM_PTR  mechanism,
                           CK_OBJECT_HANDLE  key)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_SignRecoverInit (call.real, mechanism, key);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_SignRecover (CK_SESSION_HANDLE session,
                       CK_BYTE_PTR       data,
                       CK_ULONG          data_len,
                       CK_BYTE_PTR       signature,
                       CK_ULONG_PTR      signature_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_SignRecover (call.real, data, data_len, signature,
                                     signature_len);
  return call_leave (&call, rv);
}

/* Functions for verifying signatures and MACs */

static CK_RV
testmod_C_VerifyInit (CK_SESSION_HANDLE session,
                      CK_MECHANISM_PTR  mechanism,
                      CK_OBJECT_HANDLE  key)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_VerifyInit (call.real, mechanism, key);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_Verify (CK_SESSION_HANDLE session,
                  CK_BYTE_PTR       data,
                  CK_ULONG          data_len,
                  CK_BYTE_PTR       signature,
                  CK_ULONG          signature_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_Verify (call.real, data, data_len, signature, signature_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_VerifyUpdate (CK_SESSION_HANDLE session,
                        CK_BYTE_PTR       part,
                        CK_ULONG          part_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_VerifyUpdate (call.real, part, part_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_VerifyFinal (CK_SESSION_HANDLE session,
                       CK_BYTE_PTR       signature,
                       CK_ULONG          signature_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_VerifyFinal (call.real, signature, signature_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_VerifyRecoverInit (CK_SESSION_HANDLE session,
                             CK_MECHANISM_PTR  mechanism,
                             CK_OBJECT_HANDLE  key)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_VerifyRecoverInit (call.real, mechanism, key);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_VerifyRecover (CK_SESSION_HANDLE session,
                         CK_BYTE_PTR       signature,
                         CK_ULONG          signature_len,
                         CK_BYTE_PTR       data,
                         CK_ULONG_PTR      data_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_VerifyRecover (call.real, signature, signature_len, data,
                                       data_len);
  return call_leave (&call, rv);
}

/* Dual-function cryptographic functions */

static CK_RV
testmod_C_DigestEncryptUpdate (CK_SESSION_HANDLE session,
                               CK_BYTE_PTR       part,
                               CK_ULONG          part_len,
                               CK_BYTE_PTR       encrypted_part,
                               CK_ULONG_PTR      encrypted_part_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_DigestEncryptUpdate (call.real, part, part_len,
                                             encrypted_part, encrypted_part_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_DecryptDigestUpdate (CK_SESSION_HANDLE session,
                               CK_BYTE_PTR       encrypted_part,
                               CK_ULONG          encrypted_part_len,
                               CK_BYTE_PTR       part,
                               CK_ULONG_PTR      part_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_DecryptDigestUpdate (call.real, encrypted_part,
                                             encrypted_part_len, part, part_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_SignEncryptUpdate (CK_SESSION_HANDLE session,
                             CK_BYTE_PTR       part,
                             CK_ULONG          part_len,
                             CK_BYTE_PTR       encrypted_part,
                             CK_ULONG_PTR      encrypted_part_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_SignEncryptUpdate (call.real, part, part_len,
                                           encrypted_part, encrypted_part_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_DecryptVerifyUpdate (CK_SESSION_HANDLE session,
                               CK_BYTE_PTR       encrypted_part,
                               CK_ULONG          encrypted_part_len,
                               CK_BYTE_PTR       part,
                               CK_ULONG_PTR      part_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_DecryptVerifyUpdate (call.real, encrypted_part,
                                             encrypted_part_len, part, part_len);
  return call_leave (&call, rv);
}

/* Key management functions */

static CK_RV
testmod_C_GenerateKey (CK_SESSION_HANDLE    session,
                       CK_MECHANISM_PTR     mechanism,
                       CK_ATTRIBUTE_PTR     template,
                       CK_ULONG             count,
                       CK_OBJECT_HANDLE_PTR key)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_GenerateKey (call.real, mechanism, template, count, key);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_GenerateKeyPair (CK_SESSION_HANDLE    session,
                           CK_MECHANISM_PTR     mechanism,
                           CK_ATTRIBUTE_PTR     public_key_template,
                           CK_ULONG             public_key_attribute_count,
                           CK_ATTRIBUTE_PTR     private_key_template,
                           CK_ULONG             private_key_attribute_count,
                           CK_OBJECT_HANDLE_PTR public_key,
                           CK_OBJECT_HANDLE_PTR private_key)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_GenerateKeyPair (call.real, mechanism,
                                         public_key_template,
                                         public_key_attribute_count,
                                         private_key_template,
                                         private_key_attribute_count,
                                         public_key, private_key);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_WrapKey (CK_SESSION_HANDLE session,
                   CK_MECHANISM_PTR  mechanism,
                   CK_OBJECT_HANDLE  wrapping_key,
                   CK_OBJECT_HANDLE  key,
                   CK_BYTE_PTR       wrapped_key,
                   CK_ULONG_PTR      wrapped_key_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_WrapKey (call.real, mechanism, wrapping_key, key,
                                 wrapped_key, wrapped_key_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_UnwrapKey (CK_SESSION_HANDLE    session,
                     CK_MECHANISM_PTR     mechanism,
                     CK_OBJECT_HANDLE     unwrapping_key,
                     CK_BYTE_PTR          wrapped_key,
                     CK_ULONG             wrapped_key_len,
                     CK_ATTRIBUTE_PTR     template,
                     CK_ULONG             attribute_count,
                     CK_OBJECT_HANDLE_PTR key)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_UnwrapKey (call.real, mechanism, unwrapping_key,
                                   wrapped_key, wrapped_key_len, template,
                                   attribute_count, key);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_DeriveKey (CK_SESSION_HANDLE    session,
                     CK_MECHANISM_PTR     mechanism,
                     CK_OBJECT_HANDLE     base_key,
                     CK_ATTRIBUTE_PTR     template,
                     CK_ULONG             attribute_count,
                     CK_OBJECT_HANDLE_PTR key)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_DeriveKey (call.real, mechanism, base_key, template,
                                   attribute_count, key);
  return call_leave (&call, rv);
}

/* Random number generation functions */

static CK_RV
testmod_C_SeedRandom (CK_SESSION_HANDLE session,
                      CK_BYTE_PTR       seed,
                      CK_ULONG          seed_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_SeedRandom (call.real, seed, seed_len);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_GenerateRandom (CK_SESSION_HANDLE session,
                          CK_BYTE_PTR       random_data,
                          CK_ULONG          random_len)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_GenerateRandom (call.real, random_data, random_len);
  return call_leave (&call, rv);
}

/* Parallel function management functions (legacy) */

static CK_RV
testmod_C_GetFunctionStatus (CK_SESSION_HANDLE session)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_GetFunctionStatus (call.real);
  return call_leave (&call, rv);
}

static CK_RV
testmod_C_CancelFunction (CK_SESSION_HANDLE session)
{
  Call call;
  CK_RV rv;

  rv = call_enter_session (&call, session);
  if (rv == CKR_OK)
    rv = call.target->C_CancelFunction (call.real);
  return call_leave (&call, rv);
}

EXPORT CK_RV
C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list)
{
  if (list == NULL)
    return CKR_ARGUMENTS_BAD;
  *list = &function_list;
  return CKR_OK;
}

static CK_FUNCTION_LIST function_list = {
  .version = { CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR },
  .C_Initialize = testmod_C_Initialize,
  .C_Finalize = testmod_C_Finalize,
  .C_GetInfo = testmod_C_GetInfo,
  .C_GetFunctionList = C_GetFunctionList,
  .C_GetSlotList = testmod_C_GetSlotList,
  .C_GetSlotInfo = testmod_C_GetSlotInfo,
  .C_GetTokenInfo = testmod_C_GetTokenInfo,
  .C_GetMechanismList = testmod_C_GetMechanismList,
  .C_GetMechanismInfo = testmod_C_GetMechanismInfo,
  .C_InitToken = testmod_C_InitToken,
  .C_InitPIN = testmod_C_InitPIN,
  .C_SetPIN = testmod_C_SetPIN,
  .C_OpenSession = testmod_C_OpenSession,
  .C_CloseSession = testmod_C_CloseSession,
  .C_CloseAllSessions = testmod_C_CloseAllSessions,
  .C_GetSessionInfo = testmod_C_GetSessionInfo,
  .C_GetOperationState = testmod_C_GetOperationState,
  .C_SetOperationState = testmod_C_SetOperationState,
  .C_Login = testmod_C_Login,
  .C_Logout = testmod_C_Logout,
  .C_CreateObject = testmod_C_CreateObject,
  .C_CopyObject = testmod_C_CopyObject,
  .C_DestroyObject = testmod_C_DestroyObject,
  .C_GetObjectSize = testmod_C_GetObjectSize,
  .C_GetAttributeValue = testmod_C_GetAttributeValue,
  .C_SetAttributeValue = testmod_C_SetAttributeValue,
  .C_FindObjectsInit = testmod_C_FindObjectsInit,
  .C_FindObjects = testmod_C_FindObjects,
  .C_FindObjectsFinal = testmod_C_FindObjectsFinal,
  .C_EncryptInit = testmod_C_EncryptInit,
  .C_Encrypt = testmod_C_Encrypt,
  .C_EncryptUpdate = testmod_C_EncryptUpdate,
  .C_EncryptFinal = testmod_C_EncryptFinal,
  .C_DecryptInit = testmod_C_DecryptInit,
  .C_Decrypt = testmod_C_Decrypt,
  .C_DecryptUpdate = testmod_C_DecryptUpdate,
  .C_DecryptFinal = testmod_C_DecryptFinal,
  .C_DigestInit = testmod_C_DigestInit,
  .C_Digest = testmod_C_Digest,
  .C_DigestUpdate = testmod_C_DigestUpdate,
  .C_DigestKey = testmod_C_DigestKey,
  .C_DigestFinal = testmod_C_DigestFinal,
  .C_SignInit = testmod_C_SignInit,
  .C_Sign = testmod_C_Sign,
  .C_SignUpdate = testmod_C_SignUpdate,
  .C_SignFinal = testmod_C_SignFinal,
  .C_SignRecoverInit = testmod_C_SignRecoverInit,
  .C_SignRecover = testmod_C_SignRecover,
  .C_VerifyInit = testmod_C_VerifyInit,
  .C_Verify = testmod_C_Verify,
  .C_VerifyUpdate = testmod_C_VerifyUpdate,
  .C_VerifyFinal = testmod_C_VerifyFinal,
  .C_VerifyRecoverInit = testmod_C_VerifyRecoverInit,
  .C_VerifyRecover = testmod_C_VerifyRecover,
  .C_DigestEncryptUpdate = testmod_C_DigestEncryptUpdate,
  .C_DecryptDigestUpdate = testmod_C_DecryptDigestUpdate,
  .C_SignEncryptUpdate = testmod_C_SignEncryptUpdate,
  .C_DecryptVerifyUpdate = testmod_C_DecryptVerifyUpdate,
  .C_GenerateKey = testmod_C_GenerateKey,
  .C_GenerateKeyPair = testmod_C_GenerateKeyPair,
  .C_WrapKey = testmod_C_WrapKey,
  .C_UnwrapKey = testmod_C_UnwrapKey,
  .C_DeriveKey = testmod_C_DeriveKey,
  .C_SeedRandom = testmod_C_SeedRandom,
  .C_GenerateRandom = testmod_C_GenerateRandom,
  .C_GetFunctionStatus = testmod_C_GetFunctionStatus,
  .C_CancelFunction = testmod_C_CancelFunction,
  .C_WaitForSlotEvent = testmod_C_WaitForSlotEvent,
};
