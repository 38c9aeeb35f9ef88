/* test-testmod.c: checks the test PKCS#11 module that other tests rely on
 *
 * Copyright 2025 The Tessera authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <dlfcn.h>
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

#undef ADD

  ret = g_test_run ();

  remove_tree (tmp_dir);
  g_free (tmp_dir);
  g_free (control_path);
  g_free (state_path);

  return ret;
}
