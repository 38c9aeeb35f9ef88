/* test-testmod.c: checks the test PKCS#11 module that other tests rely on
 *
 * Copyright 2025 The Tessera authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <dlfcn.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include <p11-kit/pkcs11.h>

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define USER_PIN "123456"
#define WRONG_PIN "654321"

static char *tmp_dir;
static char *control_path;
static char *state_path;

typedef struct
{
  void                *module;
  CK_FUNCTION_LIST_PTR p11;
  CK_SLOT_ID           slot;
} Fixture;

typedef struct
{
  CK_FUNCTION_LIST_PTR p11;
  CK_FLAGS             flags;
  CK_RV                rv;
  CK_SLOT_ID           slot;
  gint64               returned_at;
  int                  done;
} Waiter;

static void
control_write (const char *text)
{
  g_autoptr(GError) error = NULL;

  /* Atomically, as the module asks */
  g_file_set_contents (control_path, text, -1, &error);
  g_assert_no_error (error);
}

static CK_RV
initialize (Fixture *f)
{
  CK_C_INITIALIZE_ARGS args = { .flags = CKF_OS_LOCKING_OK };

  return f->p11->C_Initialize (&args);
}

static CK_SLOT_ID
find_slot (Fixture    *f,
           const char *label)
{
  CK_SLOT_ID slots[16];
  CK_ULONG n_slots = G_N_ELEMENTS (slots);
  CK_TOKEN_INFO info;
  size_t len = strlen (label);
  CK_ULONG i;

  g_assert_cmpuint (f->p11->C_GetSlotList (CK_TRUE, slots, &n_slots), ==, CKR_OK);
  for (i = 0; i < n_slots; i++)
    {
      g_assert_cmpuint (f->p11->C_GetTokenInfo (slots[i], &info), ==, CKR_OK);
      if (memcmp (info.label, label, len) == 0 && info.label[len] == ' ')
        return slots[i];
    }

  g_assert_not_reached ();
}

static CK_FLAGS
token_flags (Fixture *f)
{
  CK_TOKEN_INFO info;

  g_assert_cmpuint (f->p11->C_GetTokenInfo (f->slot, &info), ==, CKR_OK);
  return info.flags;
}

static CK_SESSION_HANDLE
open_session (Fixture *f)
{
  CK_SESSION_HANDLE session;

  g_assert_cmpuint (f->p11->C_OpenSession (f->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                           NULL, NULL, &session), ==, CKR_OK);
  return session;
}

static CK_RV
login (Fixture           *f,
       CK_SESSION_HANDLE  session,
       const char        *pin)
{
  return f->p11->C_Login (session, CKU_USER, (CK_UTF8CHAR_PTR) pin, strlen (pin));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  user_data)
{
  CK_C_GetFunctionList get_function_list;

  control_write ("");
  g_unlink (state_path);

  f->module = dlopen (TESTMOD_PATH, RTLD_NOW | RTLD_LOCAL);
  g_assert_nonnull (f->module);
  get_function_list = (CK_C_GetFunctionList) dlsym (f->module, "C_GetFunctionList");
  g_assert_nonnull (get_function_list);
  g_assert_cmpuint (get_function_list (&f->p11), ==, CKR_OK);

  g_assert_cmpuint (initialize (f), ==, CKR_OK);
  f->slot = find_slot (f, "T");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  user_data)
{
  /* Some tests finalize on their own */
  f->p11->C_Finalize (NULL);
  dlclose (f->module);
}

static gpointer
waiter_thread (gpointer data)
{
  Waiter *w = data;

  w->rv = w->p11->C_WaitForSlotEvent (w->flags, &w->slot, NULL);
  w->returned_at = g_get_monotonic_time ();
  g_atomic_int_set (&w->done, 1);
  return NULL;
}

static gboolean
waiter_wait (Waiter *w,
             gint64  timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;

  while (!g_atomic_int_get (&w->done) && g_get_monotonic_time () < end)
    g_usleep (5 * 1000);
  return g_atomic_int_get (&w->done);
}

static void
test_info (Fixture       *f,
           gconstpointer  user_data)
{
  CK_INFO info;

  g_assert_cmpuint (f->p11->C_GetInfo (&info), ==, CKR_OK);
  g_assert_cmpmem (info.manufacturerID, 13, "Tessera tests", 13);
  g_assert_cmpint (info.manufacturerID[13], ==, ' ');
  g_assert_cmpmem (info.libraryDescription, 19, "Tessera test module", 19);
  g_assert_cmpint (info.libraryDescription[19], ==, ' ');
  g_assert_cmpuint (info.cryptokiVersion.major, ==, 2);
  g_assert_cmpuint (info.cryptokiVersion.minor, ==, 40);
}

static void
test_presence (Fixture       *f,
               gconstpointer  user_data)
{
  CK_SLOT_ID slots[16];
  CK_ULONG n_slots;
  CK_SLOT_INFO slot_info;
  CK_TOKEN_INFO token_info;
  CK_SESSION_INFO session_info;
  CK_SESSION_HANDLE before, after;

  /* Logged in before the token is pulled, to see the login go with it */
  before = open_session (f);
  g_assert_cmpuint (login (f, before, USER_PIN), ==, CKR_OK);

  control_write ("present=0\n");

  n_slots = G_N_ELEMENTS (slots);
  g_assert_cmpuint (f->p11->C_GetSlotList (CK_TRUE, slots, &n_slots), ==, CKR_OK);
  g_assert_cmpuint (n_slots, ==, 0);
  n_slots = G_N_ELEMENTS (slots);
  g_assert_cmpuint (f->p11->C_GetSlotList (CK_FALSE, slots, &n_slots), ==, CKR_OK);
  g_assert_cmpuint (n_slots, >, 0);

  g_assert_cmpuint (f->p11->C_GetSlotInfo (f->slot, &slot_info), ==, CKR_OK);
  g_assert_false (slot_info.flags & CKF_TOKEN_PRESENT);
  g_assert_true (slot_info.flags & CKF_REMOVABLE_DEVICE);
  g_assert_cmpuint (f->p11->C_GetTokenInfo (f->slot, &token_info), ==, CKR_TOKEN_NOT_PRESENT);
  g_assert_cmpuint (f->p11->C_OpenSession (f->slot, CKF_SERIAL_SESSION, NULL, NULL, &after),
                    ==, CKR_TOKEN_NOT_PRESENT);
  g_assert_cmpuint (f->p11->C_GetSessionInfo (before, &session_info), ==, CKR_DEVICE_REMOVED);
  g_assert_cmpuint (f->p11->C_Logout (before), ==, CKR_DEVICE_REMOVED);

  control_write ("present=1\n");

  n_slots = G_N_ELEMENTS (slots);
  g_assert_cmpuint (f->p11->C_GetSlotList (CK_TRUE, slots, &n_slots), ==, CKR_OK);
  g_assert_cmpuint (n_slots, >, 0);
  g_assert_cmpuint (find_slot (f, "T"), ==, f->slot);
  g_assert_cmpuint (f->p11->C_GetSlotInfo (f->slot, &slot_info), ==, CKR_OK);
  g_assert_true (slot_info.flags & CKF_TOKEN_PRESENT);

  /* The old session stays dead; a new one starts logged out, which shows
   * that the target's sessions were closed when the token went */
  g_assert_cmpuint (f->p11->C_GetSessionInfo (before, &session_info), ==, CKR_DEVICE_REMOVED);
  after = open_session (f);
  g_assert_cmpuint (after, !=, before);
  g_assert_cmpuint (f->p11->C_GetSessionInfo (after, &session_info), ==, CKR_OK);
  g_assert_cmpuint (session_info.state, ==, CKS_RW_PUBLIC_SESSION);

  g_assert_cmpuint (f->p11->C_CloseSession (before), ==, CKR_DEVICE_REMOVED);
  g_assert_cmpuint (f->p11->C_CloseSession (before), ==, CKR_SESSION_HANDLE_INVALID);
  g_assert_cmpuint (f->p11->C_CloseSession (after), ==, CKR_OK);
}

static void
test_wait_blocking (Fixture       *f,
                    gconstpointer  user_data)
{
  Waiter w = { .p11 = f->p11, .flags = 0 };
  CK_SLOT_ID slot;
  GThread *thread;

  thread = g_thread_new ("waiter", waiter_thread, &w);
  g_usleep (200 * 1000);
  g_assert_false (g_atomic_int_get (&w.done));

  control_write ("present=0\n");
  g_assert_true (waiter_wait (&w, 2 * G_USEC_PER_SEC));
  g_thread_join (thread);
  g_assert_cmpuint (w.rv, ==, CKR_OK);
  g_assert_cmpuint (w.slot, ==, f->slot);

  g_assert_cmpuint (f->p11->C_WaitForSlotEvent (CKF_DONT_BLOCK, &slot, NULL), ==, CKR_NO_EVENT);

  /* And back */
  memset (&w, 0, sizeof w);
  w.p11 = f->p11;
  thread = g_thread_new ("waiter", waiter_thread, &w);
  g_usleep (100 * 1000);
  g_assert_false (g_atomic_int_get (&w.done));
  control_write ("present=1\n");
  g_assert_true (waiter_wait (&w, 2 * G_USEC_PER_SEC));
  g_thread_join (thread);
  g_assert_cmpuint (w.rv, ==, CKR_OK);
  g_assert_cmpuint (w.slot, ==, f->slot);
}

static void
test_wait_pending (Fixture       *f,
                   gconstpointer  user_data)
{
  CK_SLOT_ID slot = (CK_SLOT_ID) -1;

  g_assert_cmpuint (f->p11->C_WaitForSlotEvent (CKF_DONT_BLOCK, &slot, NULL), ==, CKR_NO_EVENT);

  /* Nobody waits while the token goes: the next caller still hears of it */
  control_write ("present=0\n");
  g_usleep (100 * 1000);
  g_assert_cmpuint (f->p11->C_WaitForSlotEvent (CKF_DONT_BLOCK, &slot, NULL), ==, CKR_OK);
  g_assert_cmpuint (slot, ==, f->slot);
  g_assert_cmpuint (f->p11->C_WaitForSlotEvent (CKF_DONT_BLOCK, &slot, NULL), ==, CKR_NO_EVENT);

  /* A blocking call returns at once for an event that already happened */
  control_write ("present=1\n");
  slot = (CK_SLOT_ID) -1;
  g_assert_cmpuint (f->p11->C_WaitForSlotEvent (0, &slot, NULL), ==, CKR_OK);
  g_assert_cmpuint (slot, ==, f->slot);
}

static void
test_wait_finalize (Fixture       *f,
                    gconstpointer  user_data)
{
  Waiter w = { .p11 = f->p11, .flags = 0 };
  GThread *thread;
  gint64 finalize_at;

  thread = g_thread_new ("waiter", waiter_thread, &w);
  g_usleep (200 * 1000);
  g_assert_false (g_atomic_int_get (&w.done));

  finalize_at = g_get_monotonic_time ();
  g_assert_cmpuint (f->p11->C_Finalize (NULL), ==, CKR_OK);
  g_assert_true (waiter_wait (&w, G_USEC_PER_SEC));
  g_thread_join (thread);
  g_assert_cmpuint (w.rv, ==, CKR_CRYPTOKI_NOT_INITIALIZED);
  g_assert_cmpint (w.returned_at - finalize_at, <, 100 * 1000);

  /* And the module comes back */
  g_assert_cmpuint (initialize (f), ==, CKR_OK);
  g_assert_cmpuint (find_slot (f, "T"), ==, f->slot);
}

static gpointer
slow_call_thread (gpointer data)
{
  Fixture *f = data;
  CK_SLOT_INFO info;

  return GUINT_TO_POINTER (f->p11->C_GetSlotInfo (f->slot, &info));
}

static void
test_finalize_waits_for_calls (Fixture       *f,
                               gconstpointer  user_data)
{
  GThread *thread;
  gint64 start;

  /* C_Finalize must not pull the target from under a call still inside */
  control_write ("latency_ms=300\n");
  thread = g_thread_new ("slow-call", slow_call_thread, f);
  g_usleep (50 * 1000);

  start = g_get_monotonic_time ();
  g_assert_cmpuint (f->p11->C_Finalize (NULL), ==, CKR_OK);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 200 * 1000);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_thread_join (thread)), ==, CKR_OK);
}

static void
test_wait_unsupported (Fixture       *f,
                       gconstpointer  user_data)
{
  CK_SLOT_ID slot;

  control_write ("wait=0\n");
  g_assert_cmpuint (f->p11->C_WaitForSlotEvent (0, &slot, NULL), ==, CKR_FUNCTION_NOT_SUPPORTED);
  g_assert_cmpuint (f->p11->C_WaitForSlotEvent (CKF_DONT_BLOCK, &slot, NULL),
                    ==, CKR_FUNCTION_NOT_SUPPORTED);
}

static void
test_pin_locked (Fixture       *f,
                 gconstpointer  user_data)
{
  CK_SESSION_HANDLE session;
  CK_FLAGS pin_flags = CKF_USER_PIN_LOCKED | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW;

  session = open_session (f);
  g_assert_cmpuint (token_flags (f) & pin_flags, ==, 0);

  control_write ("pin_locked=1\n");
  g_assert_cmpuint (token_flags (f) & pin_flags, ==, CKF_USER_PIN_LOCKED);
  g_assert_cmpuint (login (f, session, USER_PIN), ==, CKR_PIN_LOCKED);

  control_write ("pin_final_try=1\npin_count_low=1\n");
  g_assert_cmpuint (token_flags (f) & pin_flags,
                    ==, CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW);
  g_assert_cmpuint (login (f, session, USER_PIN), ==, CKR_OK);
  g_assert_cmpuint (f->p11->C_Logout (session), ==, CKR_OK);
  g_assert_cmpuint (f->p11->C_CloseSession (session), ==, CKR_OK);
}

static void
test_pin_tries (Fixture       *f,
                gconstpointer  user_data)
{
  CK_SESSION_HANDLE session;
  CK_FLAGS pin_flags = CKF_USER_PIN_LOCKED | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW;

  control_write ("tries=3\n");
  session = open_session (f);
  g_assert_cmpuint (token_flags (f) & pin_flags, ==, 0);

  /* A successful login puts the counter back */
  g_assert_cmpuint (login (f, session, WRONG_PIN), ==, CKR_PIN_INCORRECT);
  g_assert_cmpuint (token_flags (f) & pin_flags, ==, CKF_USER_PIN_COUNT_LOW);
  g_assert_cmpuint (login (f, session, USER_PIN), ==, CKR_OK);
  g_assert_cmpuint (token_flags (f) & pin_flags, ==, 0);
  g_assert_cmpuint (f->p11->C_Logout (session), ==, CKR_OK);

  g_assert_cmpuint (login (f, session, WRONG_PIN), ==, CKR_PIN_INCORRECT);
  g_assert_cmpuint (token_flags (f) & pin_flags, ==, CKF_USER_PIN_COUNT_LOW);
  g_assert_cmpuint (login (f, session, WRONG_PIN), ==, CKR_PIN_INCORRECT);
  g_assert_cmpuint (token_flags (f) & pin_flags, ==, CKF_USER_PIN_FINAL_TRY);
  g_assert_cmpuint (login (f, session, WRONG_PIN), ==, CKR_PIN_INCORRECT);
  g_assert_cmpuint (token_flags (f) & pin_flags, ==, CKF_USER_PIN_LOCKED);
  g_assert_cmpuint (login (f, session, USER_PIN), ==, CKR_PIN_LOCKED);

  /* The counter lives beside the control file, so it outlives the module */
  g_assert_true (g_file_test (state_path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (f->p11->C_Finalize (NULL), ==, CKR_OK);
  g_assert_cmpuint (initialize (f), ==, CKR_OK);
  g_assert_cmpuint (token_flags (f) & pin_flags, ==, CKF_USER_PIN_LOCKED);

  /* Removing the state unblocks it */
  g_unlink (state_path);
  g_assert_cmpuint (token_flags (f) & pin_flags, ==, 0);
  session = open_session (f);
  g_assert_cmpuint (login (f, session, USER_PIN), ==, CKR_OK);
}

static void
test_latency (Fixture       *f,
              gconstpointer  user_data)
{
  CK_SLOT_INFO info;
  gint64 start;
  int i;

  control_write ("latency_ms=50\n");
  start = g_get_monotonic_time ();
  for (i = 0; i < 5; i++)
    g_assert_cmpuint (f->p11->C_GetSlotInfo (f->slot, &info), ==, CKR_OK);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 5 * 50 * 1000);

  control_write ("latency_ms=0\n");
  start = g_get_monotonic_time ();
  for (i = 0; i < 5; i++)
    g_assert_cmpuint (f->p11->C_GetSlotInfo (f->slot, &info), ==, CKR_OK);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * 50 * 1000);
}

static void
test_fail_after (Fixture       *f,
                 gconstpointer  user_data)
{
  CK_INFO info;
  CK_ULONG n_slots;
  int i;

  /* Counted from C_Initialize */
  g_assert_cmpuint (f->p11->C_Finalize (NULL), ==, CKR_OK);
  control_write ("fail_after=3\nfail_rv=0x30\n");
  g_assert_cmpuint (initialize (f), ==, CKR_OK);

  for (i = 0; i < 3; i++)
    g_assert_cmpuint (f->p11->C_GetInfo (&info), ==, CKR_OK);
  g_assert_cmpuint (f->p11->C_GetInfo (&info), ==, CKR_DEVICE_ERROR);
  g_assert_cmpuint (f->p11->C_GetSlotList (CK_TRUE, NULL, &n_slots), ==, CKR_DEVICE_ERROR);

  control_write ("fail_after=3\nfail_rv=0xE0\n");
  g_assert_cmpuint (f->p11->C_GetInfo (&info), ==, CKR_TOKEN_NOT_PRESENT);
  g_assert_cmpuint (f->p11->C_Finalize (NULL), ==, CKR_OK);
}

/* Faults: a crash or a hang is watched from outside, in a child */

typedef enum
{
  CHILD_RETURNED,
  CHILD_CRASHED,
  CHILD_HUNG,
} ChildEnd;

/* In the child: calls @function, which should not come back */
static void
child_call (Fixture           *f,
            const char        *function,
            CK_SESSION_HANDLE  session)
{
  CK_SLOT_ID slots[16];
  CK_ULONG n_slots = G_N_ELEMENTS (slots);
  CK_TOKEN_INFO info;
  CK_OBJECT_CLASS klass;
  CK_ATTRIBUTE attribute = { CKA_CLASS, &klass, sizeof klass };

  if (strcmp (function, "C_GetSlotList") == 0)
    f->p11->C_GetSlotList (CK_TRUE, slots, &n_slots);
  else if (strcmp (function, "C_GetTokenInfo") == 0)
    f->p11->C_GetTokenInfo (f->slot, &info);
  else if (strcmp (function, "C_FindObjectsInit") == 0)
    f->p11->C_FindObjectsInit (session, NULL, 0);
  else if (strcmp (function, "C_GetAttributeValue") == 0)
    f->p11->C_GetAttributeValue (session, 1, &attribute, 1);
  else if (strcmp (function, "C_Login") == 0)
    login (f, session, USER_PIN);
  else if (strcmp (function, "C_Initialize") == 0)
    {
      f->p11->C_Finalize (NULL);
      initialize (f);
    }
  else
    _exit (3);
}

/*
 * Forks a child that makes an innocent call, says so down a pipe, then
 * calls @function with @control written.  A child still running after
 * 300 ms has hung, and is killed.
 */
static ChildEnd
run_child (Fixture    *f,
           const char *control,
           const char *function)
{
  CK_SESSION_HANDLE session = open_session (f);
  gint64 deadline;
  char byte = 0;
  int fds[2];
  int status = 0;
  pid_t pid;

  control_write (control);
  g_assert_cmpint (pipe (fds), ==, 0);

  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      struct rlimit no_core = { 0, 0 };
      CK_INFO info;

      close (fds[0]);
      setrlimit (RLIMIT_CORE, &no_core);
      /* A sanitizer's handler would report the crash and exit instead */
      signal (SIGSEGV, SIG_DFL);

      /* The knob names one function: another one still works */
      if (f->p11->C_GetInfo (&info) != CKR_OK || write (fds[1], "x", 1) != 1)
        _exit (2);
      child_call (f, function, session);
      _exit (0);
    }

  close (fds[1]);
  g_assert_cmpint (read (fds[0], &byte, 1), ==, 1);
  g_assert_cmpint (byte, ==, 'x');
  close (fds[0]);

  deadline = g_get_monotonic_time () + 300 * 1000;
  while (waitpid (pid, &status, WNOHANG) == 0)
    {
      if (g_get_monotonic_time () > deadline)
        {
          kill (pid, SIGKILL);
          g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
          control_write ("");
          return CHILD_HUNG;
        }
      g_usleep (10 * 1000);
    }

  control_write ("");
  g_assert_cmpuint (f->p11->C_CloseSession (session), ==, CKR_OK);

  if (WIFSIGNALED (status) && WTERMSIG (status) == SIGSEGV)
    return CHILD_CRASHED;
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  return CHILD_RETURNED;
}

static void
test_crash_in (Fixture       *f,
               gconstpointer  user_data)
{
  const char *functions[] = {
    "C_GetSlotList", "C_GetTokenInfo", "C_FindObjectsInit", "C_GetAttributeValue",
    "C_Login", "C_Initialize",
  };

  for (guint i = 0; i < G_N_ELEMENTS (functions); i++)
    {
      g_autofree char *control = g_strdup_printf ("crash_in=%s\n", functions[i]);

      g_test_message ("crash_in=%s", functions[i]);
      g_assert_cmpint (run_child (f, control, functions[i]), ==, CHILD_CRASHED);
    }

  /* Only the function named */
  g_assert_cmpint (run_child (f, "crash_in=C_Logout\n", "C_GetSlotList"), ==, CHILD_RETURNED);
}

static void
test_hang_in (Fixture       *f,
              gconstpointer  user_data)
{
  g_assert_cmpint (run_child (f, "hang_in=C_GetSlotList\n", "C_GetSlotList"), ==, CHILD_HUNG);
  g_assert_cmpint (run_child (f, "hang_in=C_GetAttributeValue\n", "C_GetAttributeValue"),
                   ==, CHILD_HUNG);
  g_assert_cmpint (run_child (f, "hang_in=C_Logout\n", "C_GetTokenInfo"), ==, CHILD_RETURNED);
}

/* Lies: the module says CKR_OK and hands back what cannot be right */

/* A session object, so that the token is left as it was */
static CK_OBJECT_HANDLE
create_data_object (Fixture           *f,
                    CK_SESSION_HANDLE  session,
                    const char        *label)
{
  CK_OBJECT_CLASS klass = CKO_DATA;
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE template[] = {
    { CKA_CLASS, &klass, sizeof klass },
    { CKA_TOKEN, &no, sizeof no },
    { CKA_PRIVATE, &no, sizeof no },
    { CKA_LABEL, (void *) label, strlen (label) },
  };
  CK_OBJECT_HANDLE object;

  g_assert_cmpuint (f->p11->C_CreateObject (session, template, G_N_ELEMENTS (template), &object),
                    ==, CKR_OK);
  return object;
}

static void
test_lie_length (Fixture       *f,
                 gconstpointer  user_data)
{
  CK_SESSION_HANDLE session = open_session (f);
  CK_OBJECT_HANDLE object = create_data_object (f, session, "hello");
  CK_OBJECT_CLASS klass = (CK_OBJECT_CLASS) -1;
  guint8 label[64 + 16];
  guint8 modulus[16];
  CK_ATTRIBUTE template[] = {
    { CKA_CLASS, &klass, sizeof klass },
    { CKA_LABEL, label, 64 },
  };
  CK_ATTRIBUTE with_invalid[] = {
    { CKA_MODULUS, modulus, sizeof modulus },
    { CKA_LABEL, label, 64 },
  };
  CK_ATTRIBUTE query = { CKA_LABEL, NULL, 0 };

  memset (label, 0xaa, sizeof label);
  control_write ("lie_length=1\n");

  /* The first attribute lies, the others are the target's */
  g_assert_cmpuint (f->p11->C_GetAttributeValue (session, object, template, 2), ==, CKR_OK);
  g_assert_cmpuint (template[0].ulValueLen, ==, 0xFFFFFFF0UL);
  g_assert_cmpuint (template[1].ulValueLen, ==, 5);
  g_assert_cmpmem (label, 5, "hello", 5);
  for (guint i = 64; i < sizeof label; i++)
    g_assert_cmpuint (label[i], ==, 0xaa);

  /* CKR_OK even where the target refused an attribute */
  g_assert_cmpuint (f->p11->C_GetAttributeValue (session, object, with_invalid, 2), ==, CKR_OK);
  g_assert_cmpuint (with_invalid[0].ulValueLen, ==, 0xFFFFFFF0UL);

  /* A size query tells the truth */
  g_assert_cmpuint (f->p11->C_GetAttributeValue (session, object, &query, 1), ==, CKR_OK);
  g_assert_cmpuint (query.ulValueLen, ==, 5);

  control_write ("");
  template[0].ulValueLen = sizeof klass;
  g_assert_cmpuint (f->p11->C_GetAttributeValue (session, object, template, 1), ==, CKR_OK);
  g_assert_cmpuint (template[0].ulValueLen, ==, sizeof klass);
  g_assert_cmpuint (klass, ==, CKO_DATA);
}

static void
test_unavailable_length (Fixture       *f,
                         gconstpointer  user_data)
{
  CK_SESSION_HANDLE session = open_session (f);
  CK_OBJECT_HANDLE object = create_data_object (f, session, "hello");
  CK_OBJECT_CLASS klass;
  guint8 label[64];
  CK_ATTRIBUTE template[] = {
    { CKA_CLASS, &klass, sizeof klass },
    { CKA_LABEL, label, sizeof label },
    { CKA_APPLICATION, NULL, 0 },
  };

  control_write ("unavailable_length=1\n");
  g_assert_cmpuint (f->p11->C_GetAttributeValue (session, object, template, 3), ==, CKR_OK);
  for (guint i = 0; i < G_N_ELEMENTS (template); i++)
    g_assert_cmpuint (template[i].ulValueLen, ==, CK_UNAVAILABLE_INFORMATION);
}

static void
test_lie_slot_count (Fixture       *f,
                     gconstpointer  user_data)
{
  CK_SLOT_ID slots[4];
  CK_ULONG honest, n_slots;

  /* SoftHSM has "T" and a free slot, both with a token */
  g_assert_cmpuint (f->p11->C_GetSlotList (CK_TRUE, NULL, &honest), ==, CKR_OK);
  g_assert_cmpuint (honest, ==, 2);

  control_write ("lie_slot_count=1\n");

  /* Without a list the count is true */
  g_assert_cmpuint (f->p11->C_GetSlotList (CK_TRUE, NULL, &n_slots), ==, CKR_OK);
  g_assert_cmpuint (n_slots, ==, honest);

  for (guint i = 0; i < G_N_ELEMENTS (slots); i++)
    slots[i] = 0xdeadbeef;
  n_slots = G_N_ELEMENTS (slots);
  g_assert_cmpuint (f->p11->C_GetSlotList (CK_TRUE, slots, &n_slots), ==, CKR_OK);
  g_assert_cmpuint (n_slots, ==, G_N_ELEMENTS (slots) + 1000);
  g_assert_true (slots[0] == f->slot || slots[1] == f->slot);
  g_assert_cmpuint (slots[2], ==, 0xdeadbeef);

  /* Room for fewer than there are: still CKR_OK, nothing written beyond */
  n_slots = 1;
  slots[1] = 0xdeadbeef;
  g_assert_cmpuint (f->p11->C_GetSlotList (CK_TRUE, slots, &n_slots), ==, CKR_OK);
  g_assert_cmpuint (n_slots, ==, 1001);
  g_assert_cmpuint (slots[1], ==, 0xdeadbeef);
}

static void
test_lie_find_count (Fixture       *f,
                     gconstpointer  user_data)
{
  CK_SESSION_HANDLE session = open_session (f);
  CK_OBJECT_CLASS klass = CKO_DATA;
  CK_ATTRIBUTE match = { CKA_CLASS, &klass, sizeof klass };
  CK_OBJECT_HANDLE found[8];
  CK_ULONG count = 0;

  for (guint i = 0; i < 3; i++)
    create_data_object (f, session, "found");
  for (guint i = 0; i < G_N_ELEMENTS (found); i++)
    found[i] = 0xdeadbeef;

  control_write ("lie_find_count=1\n");
  g_assert_cmpuint (f->p11->C_FindObjectsInit (session, &match, 1), ==, CKR_OK);
  g_assert_cmpuint (f->p11->C_FindObjects (session, found, 2, &count), ==, CKR_OK);
  g_assert_cmpuint (count, ==, 1002);
  g_assert_cmpuint (found[0], !=, 0xdeadbeef);
  g_assert_cmpuint (found[1], !=, 0xdeadbeef);
  g_assert_cmpuint (found[2], ==, 0xdeadbeef);
  g_assert_cmpuint (f->p11->C_FindObjectsFinal (session), ==, CKR_OK);

  /* And the truth without the knob */
  control_write ("");
  g_assert_cmpuint (f->p11->C_FindObjectsInit (session, &match, 1), ==, CKR_OK);
  g_assert_cmpuint (f->p11->C_FindObjects (session, found, G_N_ELEMENTS (found), &count), ==, CKR_OK);
  g_assert_cmpuint (count, ==, 3);
  g_assert_cmpuint (f->p11->C_FindObjectsFinal (session), ==, CKR_OK);
}

#define GARBAGE "\0\033[31m\n\xff\xfe"

static void
assert_garbage (const CK_UTF8CHAR *field,
                gsize              size,
                const char        *real)
{
  gsize len = MIN (strlen (real), size - (sizeof GARBAGE - 1));

  g_assert_cmpmem (field, len, real, len);
  g_assert_cmpmem (field + len, sizeof GARBAGE - 1, GARBAGE, sizeof GARBAGE - 1);
  for (gsize i = len + sizeof GARBAGE - 1; i < size; i++)
    g_assert_cmpint (field[i], ==, ' ');
}

static void
test_garbage_strings (Fixture       *f,
                      gconstpointer  user_data)
{
  CK_TOKEN_INFO honest, info;
  CK_INFO module_info;

  g_assert_cmpuint (f->p11->C_GetTokenInfo (f->slot, &honest), ==, CKR_OK);

  control_write ("garbage_strings=1\n");
  g_assert_cmpuint (f->p11->C_GetTokenInfo (f->slot, &info), ==, CKR_OK);
  assert_garbage (info.label, sizeof info.label, "T");
  assert_garbage (info.manufacturerID, sizeof info.manufacturerID, "SoftHSM project");
  assert_garbage (info.model, sizeof info.model, "SoftHSM v2");
  g_assert_cmpmem (info.serialNumber, 7, honest.serialNumber, 7);
  g_assert_cmpmem (info.serialNumber + 7, sizeof GARBAGE - 1, GARBAGE, sizeof GARBAGE - 1);
  g_assert_cmpuint (info.flags, ==, honest.flags);
  g_assert_cmpuint (info.ulMaxPinLen, ==, honest.ulMaxPinLen);

  g_assert_cmpuint (f->p11->C_GetInfo (&module_info), ==, CKR_OK);
  assert_garbage (module_info.manufacturerID, sizeof module_info.manufacturerID, "Tessera tests");
  assert_garbage (module_info.libraryDescription, sizeof module_info.libraryDescription,
                  "Tessera test module");

  /* The same garbage each time, so that the token keeps its identity */
  g_assert_cmpuint (f->p11->C_GetTokenInfo (f->slot, &honest), ==, CKR_OK);
  g_assert_cmpmem (honest.label, sizeof honest.label, info.label, sizeof info.label);
}

static void
remove_tree (const char *path)
{
  GDir *dir;
  const char *name;

  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_dir_close (dir);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static gboolean
init_softhsm (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *conf_path = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *tokens = NULL;
  g_autofree char *output = NULL;
  g_autofree char *errors = NULL;
  int wait_status;
  const char *argv[] = {
    "softhsm2-util", "--init-token", "--free", "--label", "T",
    "--so-pin", "12345678", "--pin", USER_PIN, NULL,
  };

  tmp_dir = g_dir_make_tmp ("tessera-testmod-XXXXXX", &error);
  g_assert_no_error (error);

  tokens = g_build_filename (tmp_dir, "tokens", NULL);
  g_assert_cmpint (g_mkdir (tokens, 0700), ==, 0);
  conf_path = g_build_filename (tmp_dir, "softhsm2.conf", NULL);
  conf = g_strdup_printf ("directories.tokendir = %s\n", tokens);
  g_file_set_contents (conf_path, conf, -1, &error);
  g_assert_no_error (error);

  /* For softhsm2-util, and for SoftHSM inside the module at C_Initialize */
  g_setenv ("SOFTHSM2_CONF", conf_path, TRUE);

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     &output, &errors, &wait_status, &error))
    {
      g_printerr ("# cannot run softhsm2-util: %s\n", error->message);
      return FALSE;
    }
  if (!g_spawn_check_wait_status (wait_status, &error))
    {
      g_printerr ("# softhsm2-util failed: %s\n%s", error->message, errors);
      return FALSE;
    }

  control_path = g_build_filename (tmp_dir, "control", NULL);
  state_path = g_strconcat (control_path, ".state", NULL);
  g_setenv ("TESSERA_TESTMOD_CONTROL", control_path, TRUE);
  g_unsetenv ("TESSERA_TESTMOD_TARGET");

  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *softhsm2_util = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  softhsm2_util = g_find_program_in_path ("softhsm2-util");
  if (!g_file_test (SOFTHSM_MODULE, G_FILE_TEST_EXISTS) || softhsm2_util == NULL)
    {
      g_print ("1..0 # SKIP SoftHSM is not installed\n");
      return 0;
    }
  if (!init_softhsm ())
    {
      if (tmp_dir != NULL)
        remove_tree (tmp_dir);
      return 1;
    }

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/testmod/info/identifies-itself", test_info);
  ADD ("/testmod/presence/token-comes-and-goes", test_presence);
  ADD ("/testmod/wait/blocking-wakes-on-toggle", test_wait_blocking);
  ADD ("/testmod/wait/pending-event-is-delivered", test_wait_pending);
  ADD ("/testmod/wait/finalize-unblocks", test_wait_finalize);
  ADD ("/testmod/wait/can-be-unsupported", test_wait_unsupported);
  ADD ("/testmod/finalize/waits-for-calls", test_finalize_waits_for_calls);
  ADD ("/testmod/pin/locked-and-flags", test_pin_locked);
  ADD ("/testmod/pin/tries-run-out", test_pin_tries);
  ADD ("/testmod/latency/sleeps-every-call", test_latency);
  ADD ("/testmod/fail-after/fails-every-call", test_fail_after);
  ADD ("/testmod/fault/crash-in", test_crash_in);
  ADD ("/testmod/fault/hang-in", test_hang_in);
  ADD ("/testmod/lie/length", test_lie_length);
  ADD ("/testmod/lie/unavailable-length", test_unavailable_length);
  ADD ("/testmod/lie/slot-count", test_lie_slot_count);
  ADD ("/testmod/lie/find-count", test_lie_find_count);
  ADD ("/testmod/lie/garbage-strings", test_garbage_strings);

#undef ADD

  ret = g_test_run ();

  remove_tree (tmp_dir);
  g_free (tmp_dir);
  g_free (control_path);
  g_free (state_path);

  return ret;
}
