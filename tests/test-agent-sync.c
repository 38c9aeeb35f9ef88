/* test-agent-sync.c: a card pulled and put back, with a real ssh-agent
 *
 * The test module drops and restores its token; pkcs11-spy in front of it
 * is a provider path ssh-agent accepts.  The keyring is gnome-keyring in a
 * session of the test's own (run-in-keyring-session.sh).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <signal.h>

#include <gio/gio.h>

#include "tessera-test-core.h"
#include "tessera-test-softhsm.h"

#define SPY "/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so"

typedef struct
{
  guint     removed;
  guint     returned;
  gboolean  readded;
  GError   *error;
} Events;

static void
on_card_removed (TesseraAgentSync *sync,
                 const char       *label,
                 const GError     *error,
                 Events           *events)
{
  g_assert_cmpstr (label, ==, "Card");
  g_assert_no_error ((GError *) error);
  events->removed++;
}

static void
on_card_returned (TesseraAgentSync *sync,
                  TesseraToken     *token,
                  gboolean          readded,
                  const GError     *error,
                  Events           *events)
{
  events->returned++;
  events->readded = readded;
  g_clear_error (&events->error);
  if (error != NULL)
    events->error = g_error_copy (error);
}

static gboolean
removed_reached (gpointer data)
{
  return ((Events *) data)->removed > 0;
}

static gboolean
returned_reached (gpointer data)
{
  return ((Events *) data)->returned > 0;
}

static guint
agent_key_count (TesseraAgent *agent)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) identities = NULL;
  g_autoptr(GError) error = NULL;

  tessera_agent_list_identities_async (agent, NULL, tessera_test_on_ready, &result);
  identities = tessera_agent_list_identities_finish (agent, tessera_test_wait_result (&result), &error);
  g_assert_no_error (error);
  return identities->len;
}

static void
set_present (const char *control,
             gboolean    present)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (control, present ? "present=1\n" : "present=0\n", -1, &error);
  g_assert_no_error (error);
}

static void
test_card_removed_and_returned (void)
{
  g_autoptr(TesseraTestSoftHsm) softhsm = tessera_test_softhsm_new ();
  const char *paths[] = { SPY, NULL };
  g_autofree char *control = g_build_filename (softhsm->dir, "control", NULL);
  g_autofree char *socket_path = g_build_filename (softhsm->dir, "agent.sock", NULL);
  g_autoptr(TesseraRegistry) registry = NULL;
  g_autoptr(TesseraAgent) agent = NULL;
  g_autoptr(TesseraAgentSync) sync = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *agent_argv[] = { "ssh-agent", "-D", "-a", socket_path, NULL };
  Events events = { 0 };
  TesseraToken *token;
  GPid agent_pid;

  if (g_getenv ("TESSERA_TEST_KEYRING") == NULL)
    {
      g_test_skip ("Needs run-in-keyring-session.sh");
      return;
    }

  tessera_test_softhsm_init_token (softhsm, "Card");
  tessera_test_softhsm_keypair (softhsm, "Card", "EC:prime256v1", "01", "card key");
  set_present (control, TRUE);
  g_setenv ("TESSERA_TESTMOD_CONTROL", control, TRUE);
  g_setenv ("PKCS11SPY", g_getenv ("TESSERA_TESTMOD"), TRUE);
  g_setenv ("PKCS11SPY_OUTPUT", "/dev/null", TRUE);

  g_spawn_async (NULL, (char **) agent_argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL |
                 G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &agent_pid, &error);
  g_assert_no_error (error);
  while (!g_file_test (socket_path, G_FILE_TEST_EXISTS))
    g_usleep (20 * 1000);

  registry = tessera_test_load_paths (paths);
  tessera_registry_set_poll_interval (registry, 250);
  tessera_registry_start_monitoring (registry);
  agent = tessera_agent_new (socket_path);
  sync = tessera_agent_sync_new (registry, agent);
  g_signal_connect (sync, "card-removed", G_CALLBACK (on_card_removed), &events);
  g_signal_connect (sync, "card-returned", G_CALLBACK (on_card_returned), &events);

  token = tessera_test_find_token (registry, "Card");
  g_assert_nonnull (token);
  tessera_agent_add_token_async (agent, token, TESSERA_TEST_PIN, 0, FALSE, NULL, tessera_test_on_ready, &result);
  g_assert_cmpint (tessera_agent_add_token_finish (agent, tessera_test_wait_result (&result), &error),
                   ==, TESSERA_AGENT_STATE_ALL);
  g_assert_no_error (error);
  g_clear_object (&result);
  tessera_pin_store_save_async (token, TESSERA_TEST_PIN, NULL, tessera_test_on_ready, &result);
  g_assert_true (tessera_pin_store_save_finish (tessera_test_wait_result (&result), &error));
  g_clear_object (&result);
  tessera_agent_sync_track (sync, token, 0, FALSE);
  g_assert_cmpuint (agent_key_count (agent), ==, 1);

  /* Pulled: the provider leaves the agent, so no stale key is offered. */
  set_present (control, FALSE);
  g_assert_true (tessera_test_wait_until (removed_reached, &events, 10));
  g_assert_cmpuint (agent_key_count (agent), ==, 0);

  /* Back, with its PIN remembered: its keys go back in. */
  set_present (control, TRUE);
  g_assert_true (tessera_test_wait_until (returned_reached, &events, 10));
  g_assert_no_error (events.error);
  g_assert_true (events.readded);
  g_assert_cmpuint (agent_key_count (agent), ==, 1);

  /* Without a remembered PIN, the app is told, to offer it. */
  tessera_pin_store_forget_async (tessera_test_find_token (registry, "Card"), NULL, tessera_test_on_ready, &result);
  g_assert_true (tessera_pin_store_forget_finish (tessera_test_wait_result (&result), &error));
  g_clear_object (&result);
  events.removed = events.returned = 0;
  set_present (control, FALSE);
  g_assert_true (tessera_test_wait_until (removed_reached, &events, 10));
  set_present (control, TRUE);
  g_assert_true (tessera_test_wait_until (returned_reached, &events, 10));
  g_assert_false (events.readded);
  g_assert_error (events.error, TESSERA_PIN_STORE_ERROR, TESSERA_PIN_STORE_ERROR_NOT_STORED);
  g_assert_cmpuint (agent_key_count (agent), ==, 0);

  g_clear_error (&events.error);
  kill (agent_pid, SIGTERM);
  g_spawn_close_pid (agent_pid);
  g_unsetenv ("PKCS11SPY");
  g_unsetenv ("TESSERA_TESTMOD_CONTROL");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/core/agent-sync/card-removed-and-returned", test_card_removed_and_returned);

  return g_test_run ();
}
