/* tessera-module-host.c: one PKCS#11 module, in a process of its own
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tessera runs every module in a tessera-module-host, as OpenSSH runs
 * every provider in ssh-pkcs11-helper.  The host loads the module and
 * serves it with p11-kit's RPC (p11_kit_remote_serve_module) to Tessera's
 * p11-kit-client, so a module that crashes or hangs costs only this
 * process.  It is started by src/core/tessera-module.c, which hands it:
 *
 *   fd 3  a listening Unix socket; the client connects to its path
 *   fd 4  the control pipe: end of file means "Tessera is gone or quits"
 *   fd 5  the status pipe, where the host says why it stops:
 *           "load REASON", "timeout FUNCTION MILLISECONDS", "crash FUNCTION SIGNAL"
 *   fd 6  the extension channel, for the EdDSA calls p11-kit 0.24's RPC
 *         cannot carry (tessera-module-host.h)
 *
 * and the module's path as its one argument.  Every call runs under a
 * deadline that depends on what it does (a few seconds to read token
 * information, minutes for a PIN pad or key generation); past it the host
 * exits, which ends the call in Tessera with an error.  Counts and
 * lengths the module returns are checked here before p11-kit's RPC
 * serialises them, so a lying module cannot make the host read past its
 * buffers; the core checks them again.
 */

#define P11_KIT_FUTURE_UNSTABLE_API 1

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/remote.h>

#include "tessera-module-host.h"

#define LISTEN_FD     3
#define CONTROL_FD    4
#define STATUS_FD     5
#define EXTENSION_FD  6

/* Deadlines, in milliseconds */
#define DEADLINE_QUICK       5000     /* slot, token and library information */
#define DEADLINE_READ        15000    /* sessions, objects and attributes */
#define DEADLINE_INITIALIZE  30000    /* OpenSC waits for pcscd */
#define DEADLINE_PIN         120000   /* a PIN pad waits for a person */
#define DEADLINE_CRYPTO      120000   /* signing may wait for a touch or a PIN pad */
#define DEADLINE_KEYGEN      300000   /* RSA 4096 on a card takes minutes */

/* How long a call in flight may finish once Tessera quits */
#define QUIT_GRACE_MS 300

static CK_FUNCTION_LIST *module;

/* A call in flight, one per thread that calls the module: p11-kit's
 * server (slot 0) and the extension channel (slot 1). */
typedef struct
{
  const char     *name;          /* NULL: no call in flight */
  long            deadline_ms;
  struct timespec started;
} Call;

#define N_CALL_SLOTS 2

static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t call_cond = PTHREAD_COND_INITIALIZER;
static Call calls[N_CALL_SLOTS];
static __thread int call_slot;         /* which slot this thread uses */
static bool quitting;
static struct timespec quit_started;

/* Read by the crash handler, so plain atomic pointers */
static _Atomic (const char *) crash_call_name[N_CALL_SLOTS];

/* The connection being served, -1 between clients */
static _Atomic int client_fd = -1;

static long
elapsed_ms (const struct timespec *since)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

static void
write_status (const char *line)
{
  size_t len = strlen (line);

  while (len > 0)
    {
      ssize_t written = write (STATUS_FD, line, len);

      if (written < 0 && errno == EINTR)
        continue;
      if (written <= 0)
        return;
      line += written;
      len -= (size_t) written;
    }
}

/* When the watchdog wakes next, in CLOCK_MONOTONIC milliseconds; 0 while
 * it waits for a call with no deadline at all.  Under call_lock. */
static long watchdog_wakes_at;

static long
monotonic_ms (void)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* A call wakes the watchdog only when it must set an earlier alarm: when
 * it sleeps with none, or until later than this call's deadline.  Calls
 * come one after another, each with a deadline of seconds, so in a burst
 * of calls only the first wakes it (two thread switches a call saved, a
 * third of the host's context switches). */
static void
call_begin (const char *name,
            long        deadline_ms)
{
  Call *call = &calls[call_slot];

  pthread_mutex_lock (&call_lock);
  call->name = name;
  call->deadline_ms = deadline_ms;
  clock_gettime (CLOCK_MONOTONIC, &call->started);
  atomic_store (&crash_call_name[call_slot], name);
  if (watchdog_wakes_at == 0 ||
      watchdog_wakes_at > call->started.tv_sec * 1000 + call->started.tv_nsec / 1000000 + deadline_ms)
    pthread_cond_broadcast (&call_cond);
  pthread_mutex_unlock (&call_lock);
}

/* The watchdog learns that a call ended when it next wakes; only a host
 * that is quitting needs it at once. */
static void
call_end (void)
{
  pthread_mutex_lock (&call_lock);
  calls[call_slot].name = NULL;
  atomic_store (&crash_call_name[call_slot], NULL);
  if (quitting)
    pthread_cond_broadcast (&call_cond);
  pthread_mutex_unlock (&call_lock);
}

/* Ends the host.  The client's connection is shut first: a process takes
 * a while to tear down (the module's libraries are unmapped before its
 * files are closed), and Tessera, waiting on the socket for the answer to
 * its last call, need not wait for that. */
static void
quit (int status)
{
  int fd = atomic_load (&client_fd);

  if (fd >= 0)
    shutdown (fd, SHUT_RDWR);
  _exit (status);
}

/* The watchdog: exits the process when a call outlives its deadline, or
 * when Tessera has quit and no call is in flight (or the ones in flight
 * do not end within QUIT_GRACE_MS of it). */
static void *
watchdog_thread (void *data)
{
  pthread_mutex_lock (&call_lock);
  for (;;)
    {
      struct timespec until;
      const Call *soonest = NULL;
      long left = 0;

      for (int i = 0; i < N_CALL_SLOTS; i++)
        {
          long call_left;

          if (calls[i].name == NULL)
            continue;
          call_left = calls[i].deadline_ms - elapsed_ms (&calls[i].started);
          if (soonest == NULL || call_left < left)
            {
              soonest = &calls[i];
              left = call_left;
            }
        }

      if (soonest == NULL)
        {
          if (quitting)
            quit (0);
          watchdog_wakes_at = 0;
          pthread_cond_wait (&call_cond, &call_lock);
          continue;
        }

      if (quitting)
        {
          long grace = QUIT_GRACE_MS - elapsed_ms (&quit_started);

          if (grace <= 0)
            quit (0);
          left = left < grace ? left : grace;
        }

      if (left <= 0)
        {
          char line[160];

          snprintf (line, sizeof line, "timeout %s %ld\n", soonest->name, soonest->deadline_ms);
          write_status (line);
          quit (TESSERA_MODULE_HOST_EXIT_TIMEOUT);
        }

      watchdog_wakes_at = monotonic_ms () + left;
      clock_gettime (CLOCK_REALTIME, &until);
      until.tv_sec += left / 1000;
      until.tv_nsec += (left % 1000) * 1000000;
      if (until.tv_nsec >= 1000000000)
        {
          until.tv_sec++;
          until.tv_nsec -= 1000000000;
        }
      pthread_cond_timedwait (&call_cond, &call_lock, &until);
    }

  return NULL;
}

/* Waits for end of file on the control pipe: Tessera quit or died. */
static void *
control_thread (void *data)
{
  char buffer[64];

  for (;;)
    {
      ssize_t got = read (CONTROL_FD, buffer, sizeof buffer);

      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        break;
    }

  pthread_mutex_lock (&call_lock);
  quitting = true;
  clock_gettime (CLOCK_MONOTONIC, &quit_started);
  pthread_cond_broadcast (&call_cond);
  pthread_mutex_unlock (&call_lock);
  return NULL;
}

static void
on_fatal_signal (int signum)
{
  /* The signal is delivered to the thread that crashed */
  const char *name = atomic_load (&crash_call_name[call_slot]);
  char line[160];
  int len;

  /* snprintf is not async-signal-safe in general, but glibc's does not
   * allocate for these conversions; the process dies right after. */
  len = snprintf (line, sizeof line, "crash %s %d\n", name ? name : "-", signum);
  if (len > 0)
    {
      ssize_t ignored = write (STATUS_FD, line, (size_t) len);
      (void) ignored;
    }
  raise (signum);
}

/* The guarded function list ------------------------------------------------ */

#define GUARDED(name, deadline, params, args) \
  static CK_RV \
  guarded_##name params \
  { \
    CK_RV rv; \
    call_begin (#name, deadline); \
    rv = module->name args; \
    call_end (); \
    return rv; \
  }
#define GUARDED_SPECIAL(name, deadline, params, args)
#include "tessera-module-host-calls.h"
#undef GUARDED
#undef GUARDED_SPECIAL

/* The module is initialized as soon as it is loaded, while Tessera is
 * still starting (SoftHSM reads its tokens then); the first C_Initialize
 * from Tessera gets that result.  Only the serving thread touches these. */
static bool pre_initialized;
static CK_RV pre_initialize_rv;
static bool module_initialized;
static bool finalize_pending;

static CK_RV
initialize (void *reserved)
{
  CK_C_INITIALIZE_ARGS args = { NULL, NULL, NULL, NULL, CKF_OS_LOCKING_OK, NULL };
  CK_RV rv;

  /* Insist on OS locking: Tessera calls from several threads */
  args.pReserved = reserved;
  call_begin ("C_Initialize", DEADLINE_INITIALIZE);
  rv = module->C_Initialize (&args);
  call_end ();
  if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
    module_initialized = rv == CKR_OK;
  return rv;
}

/* Finalizes the module, call_begin() having been made */
static void
finalize_begun (void)
{
  module->C_Finalize (NULL);
  call_end ();
  module_initialized = false;
}

static void
finalize (void)
{
  call_begin ("C_Finalize", DEADLINE_READ);
  finalize_begun ();
}

/* Runs a C_Finalize that guarded_C_Finalize() answered; to the watchdog
 * it has been in flight since then. */
static void
finalize_if_pending (void)
{
  if (!finalize_pending)
    return;
  finalize_pending = false;
  finalize_begun ();
}

/* Tessera's C_Finalize is answered at once, and the module finalized when
 * the connection ends (p11-kit's client disconnects after C_Finalize) or
 * the next C_Initialize comes: a command ends, or a window closes, without
 * waiting for the module to tear down its state.  The call is in flight
 * from the answer on, so a host told to quit meanwhile still finalizes
 * the module (within QUIT_GRACE_MS), where before it could quit first. */
static CK_RV
guarded_C_Finalize (void *reserved)
{
  if (reserved != NULL)
    return CKR_ARGUMENTS_BAD;
  if (!module_initialized || finalize_pending)
    return CKR_CRYPTOKI_NOT_INITIALIZED;
  call_begin ("C_Finalize", DEADLINE_READ);
  finalize_pending = true;
  return CKR_OK;
}

static CK_RV
guarded_C_Initialize (void *init_args)
{
  /* p11-kit's server passes its own arguments; keep its pReserved (the
   * x-init-reserved option). */
  void *reserved = init_args != NULL ? ((CK_C_INITIALIZE_ARGS *) init_args)->pReserved : NULL;

  finalize_if_pending ();

  if (pre_initialized)
    {
      pre_initialized = false;
      if (reserved == NULL)
        return pre_initialize_rv;

      /* Arguments the early call did not have: start again with them */
      if (module_initialized)
        finalize ();
    }

  return initialize (reserved);
}

static CK_RV
guarded_C_GetSlotList (CK_BYTE  token_present,
                       CK_SLOT_ID  *slot_list,
                       CK_ULONG *count)
{
  CK_ULONG room = count ? *count : 0;
  CK_RV rv;

  call_begin ("C_GetSlotList", DEADLINE_QUICK);
  rv = module->C_GetSlotList (token_present, slot_list, count);
  call_end ();

  if (rv == CKR_OK && slot_list != NULL && count != NULL && *count > room)
    {
      fprintf (stderr, "tessera-module-host: C_GetSlotList returned %lu slots for room for %lu\n",
               *count, room);
      return TESSERA_CKR_MODULE_INVALID_ANSWER;
    }
  return rv;
}

static CK_RV
guarded_C_GetMechanismList (CK_SLOT_ID         slot_id,
                            CK_MECHANISM_TYPE *mechanism_list,
                            CK_ULONG       *count)
{
  CK_ULONG room = count ? *count : 0;
  CK_RV rv;

  call_begin ("C_GetMechanismList", DEADLINE_QUICK);
  rv = module->C_GetMechanismList (slot_id, mechanism_list, count);
  call_end ();

  if (rv == CKR_OK && mechanism_list != NULL && count != NULL && *count > room)
    {
      fprintf (stderr, "tessera-module-host: C_GetMechanismList returned %lu for room for %lu\n",
               *count, room);
      return TESSERA_CKR_MODULE_INVALID_ANSWER;
    }
  return rv;
}

/* p11-kit's server copies ulValueLen bytes out of each buffer it gave:
 * a length beyond the buffer would make it read past it. */
static CK_RV
guarded_C_GetAttributeValue (CK_SESSION_HANDLE  session,
                             CK_OBJECT_HANDLE   object,
                             CK_ATTRIBUTE *templ,
                             CK_ULONG        count)
{
  CK_ULONG stack_room[16];
  CK_ULONG *room = stack_room;
  CK_RV rv;

  if (templ != NULL && count > G_N_ELEMENTS_HOST (stack_room))
    {
      room = calloc (count, sizeof *room);
      if (room == NULL)
        return CKR_HOST_MEMORY;
    }
  for (CK_ULONG i = 0; templ != NULL && i < count; i++)
    room[i] = templ[i].ulValueLen;

  call_begin ("C_GetAttributeValue", DEADLINE_READ);
  rv = module->C_GetAttributeValue (session, object, templ, count);
  call_end ();

  if (rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
      rv == CKR_BUFFER_TOO_SMALL)
    {
      for (CK_ULONG i = 0; templ != NULL && i < count; i++)
        {
          if (templ[i].pValue == NULL || templ[i].ulValueLen == CK_UNAVAILABLE_INFORMATION ||
              templ[i].ulValueLen <= room[i])
            continue;

          /* With CKR_OK every value fit, so the length is a lie.  With
           * the other three, a PKCS#11 2.20 module gives the length a
           * value needs: say "unavailable", as 2.40 does, and the core
           * asks for the size on its own. */
          if (rv != CKR_OK)
            {
              templ[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
              continue;
            }
          fprintf (stderr, "tessera-module-host: C_GetAttributeValue gave attribute 0x%lx "
                   "a length of %lu for a buffer of %lu\n",
                   templ[i].type, templ[i].ulValueLen, room[i]);
          rv = TESSERA_CKR_MODULE_INVALID_ANSWER;
          break;
        }
    }

  if (room != stack_room)
    free (room);
  return rv;
}

static CK_RV
guarded_C_FindObjects (CK_SESSION_HANDLE  session,
                       CK_OBJECT_HANDLE  *object,
                       CK_ULONG        max_object_count,
                       CK_ULONG       *object_count)
{
  CK_RV rv;

  call_begin ("C_FindObjects", DEADLINE_READ);
  rv = module->C_FindObjects (session, object, max_object_count, object_count);
  call_end ();

  if (rv == CKR_OK && object_count != NULL && *object_count > max_object_count)
    {
      fprintf (stderr, "tessera-module-host: C_FindObjects returned %lu objects for room for %lu\n",
               *object_count, max_object_count);
      return TESSERA_CKR_MODULE_INVALID_ANSWER;
    }
  return rv;
}

/* The host serves one call at a time: a C_WaitForSlotEvent that blocks
 * would hold up every other call, so only its non-blocking form passes. */
static CK_RV
guarded_C_WaitForSlotEvent (CK_FLAGS    flags,
                            CK_SLOT_ID *slot,
                            void         *reserved)
{
  CK_RV rv;

  if (!(flags & CKF_DONT_BLOCK))
    return CKR_FUNCTION_NOT_SUPPORTED;

  call_begin ("C_WaitForSlotEvent", DEADLINE_QUICK);
  rv = module->C_WaitForSlotEvent (flags, slot, reserved);
  call_end ();
  return rv;
}

static CK_RV guarded_C_GetFunctionList (CK_FUNCTION_LIST **list);

static CK_FUNCTION_LIST guarded_functions = {
  .version = { 2, 40 },
#define GUARDED(name, deadline, params, args) .name = guarded_##name,
#define GUARDED_SPECIAL(name, deadline, params, args) .name = guarded_##name,
#include "tessera-module-host-calls.h"
#undef GUARDED
#undef GUARDED_SPECIAL
  .C_GetFunctionList = guarded_C_GetFunctionList,
};

static CK_RV
guarded_C_GetFunctionList (CK_FUNCTION_LIST **list)
{
  if (list == NULL)
    return CKR_ARGUMENTS_BAD;
  *list = &guarded_functions;
  return CKR_OK;
}

/* The extension channel ------------------------------------------------------ */

typedef struct
{
  const uint64_t *values;
  size_t          n;
  size_t          at;
  bool            failed;
} Reader;

static uint64_t
take (Reader *reader)
{
  if (reader->at >= reader->n)
    {
      reader->failed = true;
      return 0;
    }
  return reader->values[reader->at++];
}

/* A template from the request; its values point into the request. */
static CK_ULONG
take_template (Reader       *reader,
               CK_ATTRIBUTE *template,
               CK_ULONG      room)
{
  uint64_t n = take (reader);

  if (n > room)
    {
      reader->failed = true;
      return 0;
    }
  for (CK_ULONG i = 0; i < n && !reader->failed; i++)
    {
      uint64_t words;

      template[i].type = take (reader);
      template[i].ulValueLen = take (reader);
      words = (template[i].ulValueLen + 7) / 8;
      if (template[i].ulValueLen > TESSERA_MODULE_HOST_MAX_MESSAGE || words > reader->n - reader->at)
        {
          reader->failed = true;
          return 0;
        }
      template[i].pValue = template[i].ulValueLen ? (void *) &reader->values[reader->at] : NULL;
      reader->at += words;
    }
  return reader->failed ? 0 : (CK_ULONG) n;
}

static void
handle_extension (uint32_t  op,
                  Reader   *reader,
                  uint64_t *reply,
                  uint32_t *n_reply)
{
  CK_RV rv = CKR_ARGUMENTS_BAD;

  *n_reply = 1;

  switch (op)
    {
    case TESSERA_MODULE_HOST_OP_MECHANISM_INFO:
      {
        CK_SLOT_ID slot = take (reader);
        CK_MECHANISM_TYPE type = take (reader);
        CK_MECHANISM_INFO info = { 0 };

        if (reader->failed)
          break;
        if (!TESSERA_MODULE_HOST_EXTENSION_MECHANISM (type))
          {
            rv = CKR_MECHANISM_INVALID;
            break;
          }
        call_begin ("C_GetMechanismInfo", DEADLINE_QUICK);
        rv = module->C_GetMechanismInfo (slot, type, &info);
        call_end ();
        reply[1] = info.ulMinKeySize;
        reply[2] = info.ulMaxKeySize;
        reply[3] = info.flags;
        *n_reply = 4;
      }
      break;

    case TESSERA_MODULE_HOST_OP_GENERATE_KEY_PAIR:
      {
        CK_SESSION_HANDLE session = take (reader);
        CK_MECHANISM mechanism = { take (reader), NULL, 0 };
        CK_ATTRIBUTE public_template[TESSERA_MODULE_HOST_MAX_ATTRIBUTES];
        CK_ATTRIBUTE private_template[TESSERA_MODULE_HOST_MAX_ATTRIBUTES];
        CK_ULONG n_public = take_template (reader, public_template, TESSERA_MODULE_HOST_MAX_ATTRIBUTES);
        CK_ULONG n_private = take_template (reader, private_template, TESSERA_MODULE_HOST_MAX_ATTRIBUTES);
        CK_OBJECT_HANDLE public_key = 0, private_key = 0;

        if (reader->failed)
          break;
        if (!TESSERA_MODULE_HOST_EXTENSION_MECHANISM (mechanism.mechanism))
          {
            rv = CKR_MECHANISM_INVALID;
            break;
          }
        call_begin ("C_GenerateKeyPair", DEADLINE_KEYGEN);
        rv = module->C_GenerateKeyPair (session, &mechanism, public_template, n_public,
                                        private_template, n_private, &public_key, &private_key);
        call_end ();
        reply[1] = public_key;
        reply[2] = private_key;
        *n_reply = 3;
      }
      break;

    case TESSERA_MODULE_HOST_OP_SIGN_INIT:
      {
        CK_SESSION_HANDLE session = take (reader);
        CK_MECHANISM mechanism = { take (reader), NULL, 0 };
        CK_OBJECT_HANDLE key = take (reader);

        if (reader->failed)
          break;
        if (!TESSERA_MODULE_HOST_EXTENSION_MECHANISM (mechanism.mechanism))
          {
            rv = CKR_MECHANISM_INVALID;
            break;
          }
        call_begin ("C_SignInit", DEADLINE_CRYPTO);
        rv = module->C_SignInit (session, &mechanism, key);
        call_end ();
      }
      break;

    default:
      rv = CKR_FUNCTION_NOT_SUPPORTED;
      break;
    }

  reply[0] = rv;
}

/* Serves the extension channel until Tessera closes it. */
static void *
extension_thread (void *data)
{
  uint64_t *request = malloc (TESSERA_MODULE_HOST_MAX_MESSAGE);

  call_slot = 1;

  for (;;)
    {
      uint32_t header[2];
      uint64_t reply[8] = { 0 };
      uint32_t n_reply = 0;
      uint32_t reply_len;
      Reader reader = { request, 0, 0, false };

      if (!tessera_module_host_read_all (EXTENSION_FD, header, sizeof header) ||
          header[1] > TESSERA_MODULE_HOST_MAX_MESSAGE || header[1] % 8 != 0 || request == NULL ||
          !tessera_module_host_read_all (EXTENSION_FD, request, header[1]))
        break;

      reader.n = header[1] / 8;
      handle_extension (header[0], &reader, reply, &n_reply);
      reply_len = n_reply * 8;
      if (!tessera_module_host_write_all (EXTENSION_FD, &reply_len, sizeof reply_len) ||
          !tessera_module_host_write_all (EXTENSION_FD, reply, reply_len))
        break;
    }

  free (request);
  return NULL;
}

/* main ----------------------------------------------------------------------- */

int
main (int    argc,
      char **argv)
{
  struct sigaction action = { 0 };
  const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
  pthread_t thread;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s MODULE\n"
               "Serves one PKCS#11 module to Tessera; started by Tessera itself.\n", argv[0]);
      return 2;
    }

  /* A client that goes away must not kill the host with SIGPIPE. */
  signal (SIGPIPE, SIG_IGN);

  /* G_DEBUG=fatal-warnings is for Tessera's own GLib code, which the host
   * has none of.  A module that uses GLib (tpm2-pkcs11's TCTI does, with a
   * CRITICAL when no TPM resource manager answers) must not die of it. */
  unsetenv ("G_DEBUG");

  action.sa_handler = on_fatal_signal;
  action.sa_flags = SA_RESETHAND | SA_NODEFER;
  sigemptyset (&action.sa_mask);
  for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++)
    sigaction (fatal_signals[i], &action, NULL);

  if (pthread_create (&thread, NULL, control_thread, NULL) != 0 ||
      pthread_create (&thread, NULL, watchdog_thread, NULL) != 0)
    return TESSERA_MODULE_HOST_EXIT_LOAD;

  call_begin ("loading", DEADLINE_INITIALIZE);
  module = p11_kit_module_load (argv[1], P11_KIT_MODULE_UNMANAGED);
  call_end ();
  if (module == NULL)
    {
      const char *reason = p11_kit_message ();
      char line[1024];

      snprintf (line, sizeof line, "load %s\n", reason && reason[0] ? reason : "-");
      write_status (line);
      return TESSERA_MODULE_HOST_EXIT_LOAD;
    }

  pre_initialize_rv = initialize (NULL);
  pre_initialized = true;

  if (pthread_create (&thread, NULL, extension_thread, NULL) != 0)
    return TESSERA_MODULE_HOST_EXIT_LOAD;

  /* One client at a time; after C_Finalize it disconnects and may come
   * back (a reload), so accept again. */
  for (;;)
    {
      int fd = accept (LISTEN_FD, NULL, NULL);

      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          perror ("tessera-module-host: accept");
          return 1;
        }
      atomic_store (&client_fd, fd);
      p11_kit_remote_serve_module (&guarded_functions, fd, fd);
      atomic_store (&client_fd, -1);
      close (fd);
      finalize_if_pending ();
    }
}
