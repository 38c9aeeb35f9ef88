/* tessera-bench-preload.c: measures the GUI from inside, for benchmark-gui.sh
 *
 * Measurement only: loaded with LD_PRELOAD into the unmodified tessera, it
 * changes nothing the app does.  It is inert unless TESSERA_BENCH_OUTPUT
 * is set, and it takes LD_PRELOAD and its own variables out of the
 * environment at once, so that the processes tessera starts (its module
 * hosts, ssh -V) run without it.
 *
 * What it records, in microseconds of CLOCK_MONOTONIC (the clock of
 * g_get_monotonic_time() and of Python's time.monotonic()):
 *
 * - Main-loop stalls.  A 5 ms GLib timeout at G_PRIORITY_DEFAULT (the
 *   priority of input events) runs on the default main context; a gap
 *   between two ticks longer than 5 ms is a stall of (gap - 5 ms), when
 *   the app could not have answered a click.  Per phase: the longest, the
 *   sum of those over 50 ms and over 100 ms, and how many were over 50 ms.
 * - The phases, split by time:
 *     startup   process start to the first frame of the first window
 *     listing   that frame to SIGUSR1 (the driver's "the listing settled")
 *     dialog    SIGUSR1 to SIGUSR2 (the driver opens the PIN dialog)
 *     login     SIGUSR2 (sent just before Log In is pressed) to the end
 *   A stall that spans the start of a phase is split there: the part
 *   before goes to the phase before.  The stalls over 50 ms are listed
 *   too, with when they began and ended.
 * - Milestones, from the process start (TESSERA_BENCH_T0_US, the spawn
 *   time the driver took from the same clock; else this library's
 *   constructor):
 *     window      the first frame painted of the first window
 *     keys        the first frame in which the window shows a key: a
 *                 mapped GtkLabel whose text starts with
 *                 TESSERA_BENCH_KEY_PREFIX ("bench key ")
 *     login_keys  after SIGUSR2, the first frame in which the window shows
 *                 at least as many such labels as at the end of the
 *                 listing and no mapped label containing
 *                 TESSERA_BENCH_PENDING ("Log in to check", what a key
 *                 row says until the private key is seen)
 *   and when the number of those labels last changed in each phase.
 *   The labels are looked for after each frame of that window, only in
 *   mapped widgets, and only in the listing and login phases; the time a
 *   scan takes is recorded too (it is part of the stalls it falls in).
 *
 * The renderer the window got (GskGLRenderer, GskCairoRenderer) is
 * recorded: under Xvfb, GL is Mesa's llvmpipe, whose shader compiles
 * stall the first frames by up to a second on a busy 2-core machine.
 *
 * The driver learns the milestones as they happen from lines appended to
 * TESSERA_BENCH_EVENTS ("window 812.3").  At exit, or on SIGTERM (after
 * which the app is asked to quit), one JSON line goes to
 * TESSERA_BENCH_OUTPUT.
 *
 * The hook is g_application_run(), called by tessera's main(): by then no
 * window exists, and GtkApplication::window-added tells of each one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define _GNU_SOURCE

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <gtk/gtk.h>

#define TICK_MS 5
#define EXPORT __attribute__ ((visibility ("default")))

typedef enum
{
  PHASE_STARTUP,
  PHASE_LISTING,
  PHASE_DIALOG,
  PHASE_LOGIN,
  N_PHASES
} Phase;

static const char * const phase_names[N_PHASES] = { "startup", "listing", "dialog", "login" };

typedef struct
{
  gint64 max;           /* the longest stall */
  gint64 max_at;        /* when it ended */
  gint64 over_50;       /* the sum of stalls over 50 ms */
  gint64 over_100;      /* the sum of stalls over 100 ms */
  guint  n_over_50;
  guint  ticks;
} Stalls;

static struct
{
  gboolean     enabled;
  gboolean     hooked;
  char        *output;
  char        *events;
  char        *key_prefix;
  char        *pending;
  gint64       t0;

  GApplication *app;
  GtkWidget   *window;          /* the first window; its frames are watched */
  char        *window_type;

  gint64       last_tick;
  Stalls       stalls[N_PHASES];

  gint64       t_window_map;
  gint64       t_window;        /* its first frame */
  gint64       t_keys;
  gint64       t_keys_changed;  /* the count of key labels, last changed (listing) */
  guint        keys_listing;    /* key labels at the last frame of the listing */
  gint64       t_login_keys;
  gint64       t_login_changed;
  guint        keys_login;
  guint        pending_login;
  guint        frames;
  guint        scans;
  gint64       scan_max;
  guint        scan_widgets_max;

  char        *renderer;

  struct { gint64 start, end; } long_stalls[400];   /* those over 50 ms */
  guint        n_long;

  gboolean     reported;
} bench;

/* Set from signal handlers: the clock is all they read */
static volatile gint64 listing_end_mark;
static volatile gint64 login_mark;
/* When Log In emitted ::clicked after SIGUSR2.  An AT-SPI "click" is
 * gtk_widget_activate(), which shows the button pressed for GTK's 250 ms
 * before it emits ::clicked, as Return does; a mouse click emits it at
 * once.  Log In is pressed, for the app, at ::clicked. */
static gint64 clicked_mark;

static gint64
now_us (void)
{
  return g_get_monotonic_time ();
}

static double
ms_since_start (gint64 t)
{
  return t > 0 ? (t - bench.t0) / 1000.0 : -1.0;
}

static Phase
phase_at (gint64 t)
{
  gint64 login = login_mark, listing_end = listing_end_mark;

  if (login > 0 && t >= login)
    return PHASE_LOGIN;
  if (listing_end > 0 && t >= listing_end)
    return PHASE_DIALOG;
  if (bench.t_window > 0 && t >= bench.t_window)
    return PHASE_LISTING;
  return PHASE_STARTUP;
}

static void
event (const char *name,
       gint64      t)
{
  FILE *file;

  if (bench.events == NULL)
    return;
  file = fopen (bench.events, "ae");
  if (file == NULL)
    return;
  fprintf (file, "%s %.1f\n", name, ms_since_start (t));
  fclose (file);
}

/* Stalls */

/* A stall that spans a phase's start is split there: the window's first
 * frame ends a stall (the frame is painted inside it), and only what
 * comes after the frame is a stall of the window that is up. */
static void
account (gint64 start,
         gint64 end)
{
  gint64 bounds[3] = { bench.t_window, listing_end_mark, login_mark };
  gint64 stall;
  Stalls *s;

  for (int i = 0; i < 3; i++)
    {
      if (bounds[i] > start && bounds[i] < end)
        {
          account (start, bounds[i]);
          start = bounds[i];
        }
    }

  stall = end - start;
  s = &bench.stalls[phase_at (start)];
  if (stall > s->max)
    {
      s->max = stall;
      s->max_at = end;
    }
  if (stall > 50000)
    {
      s->over_50 += stall;
      s->n_over_50++;
      if (bench.n_long < G_N_ELEMENTS (bench.long_stalls))
        {
          bench.long_stalls[bench.n_long].start = start;
          bench.long_stalls[bench.n_long].end = end;
          bench.n_long++;
        }
    }
  if (stall > 100000)
    s->over_100 += stall;
}

static gboolean
tick (gpointer user_data)
{
  gint64 t = now_us ();

  if (bench.last_tick > 0)
    {
      bench.stalls[phase_at (t)].ticks++;
      if (t - bench.last_tick > TICK_MS * 1000)
        account (bench.last_tick + TICK_MS * 1000, t);
    }
  bench.last_tick = t;

  return G_SOURCE_CONTINUE;
}

/* Key labels in the window */

typedef struct
{
  guint keys;
  guint pending;
  guint widgets;
} Scan;

static void
scan_widget (GtkWidget *widget,
             Scan      *scan)
{
  GtkWidget *child;

  if (!gtk_widget_get_mapped (widget))
    return;
  scan->widgets++;

  if (GTK_IS_LABEL (widget))
    {
      const char *text = gtk_label_get_text (GTK_LABEL (widget));

      if (text != NULL)
        {
          if (g_str_has_prefix (text, bench.key_prefix))
            scan->keys++;
          if (strstr (text, bench.pending) != NULL)
            scan->pending++;
        }
    }

  for (child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    scan_widget (child, scan);
}

static Scan
scan_window (void)
{
  Scan scan = { 0, };
  gint64 start = now_us (), took;

  scan_widget (bench.window, &scan);
  took = now_us () - start;
  bench.scans++;
  if (took > bench.scan_max)
    bench.scan_max = took;
  if (scan.widgets > bench.scan_widgets_max)
    bench.scan_widgets_max = scan.widgets;
  return scan;
}

static void
on_after_paint (GdkFrameClock *clock,
                gpointer       user_data)
{
  gint64 t = now_us ();
  Scan scan;

  bench.frames++;
  if (bench.t_window == 0)
    {
      GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (bench.window));

      bench.t_window = t;
      bench.renderer = g_strdup (renderer != NULL ? G_OBJECT_TYPE_NAME (renderer) : "");
      event ("window", t);
    }

  switch (phase_at (t))
    {
    case PHASE_LISTING:
      scan = scan_window ();
      if (scan.keys > 0 && bench.t_keys == 0)
        {
          bench.t_keys = t;
          event ("keys", t);
        }
      if (scan.keys != bench.keys_listing)
        {
          bench.keys_listing = scan.keys;
          bench.t_keys_changed = t;
        }
      break;

    case PHASE_LOGIN:
      scan = scan_window ();
      if (bench.t_login_keys == 0 && scan.keys > 0 && scan.keys >= bench.keys_listing
          && scan.pending == 0)
        {
          bench.t_login_keys = t;
          event ("login-keys", t);
        }
      if (scan.keys != bench.keys_login || scan.pending != bench.pending_login)
        {
          bench.keys_login = scan.keys;
          bench.pending_login = scan.pending;
          bench.t_login_changed = t;
        }
      break;

    case PHASE_STARTUP:
    case PHASE_DIALOG:
    case N_PHASES:
    default:
      break;
    }
}

static void
on_window_map (GtkWidget *widget,
               gpointer   user_data)
{
  GdkFrameClock *clock;

  if (widget != bench.window || bench.t_window_map != 0)
    return;
  bench.t_window_map = now_us ();
  clock = gtk_widget_get_frame_clock (widget);
  if (clock != NULL)
    g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), NULL);
}

static gboolean
on_button_clicked (GSignalInvocationHint *hint,
                   guint                  n_params,
                   const GValue          *params,
                   gpointer               user_data)
{
  if (login_mark > 0 && clicked_mark == 0)
    clicked_mark = now_us ();
  return TRUE;
}

static void
on_window_added (GtkApplication *app,
                 GtkWindow      *window,
                 gpointer        user_data)
{
  if (bench.window != NULL)
    return;
  bench.window = GTK_WIDGET (window);
  bench.window_type = g_strdup (G_OBJECT_TYPE_NAME (window));
  /* GTK is initialised by now, and GtkButton's class with its signals */
  g_type_class_unref (g_type_class_ref (GTK_TYPE_BUTTON));
  g_signal_add_emission_hook (g_signal_lookup ("clicked", GTK_TYPE_BUTTON), 0,
                              on_button_clicked, NULL, NULL);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &bench.window);
  g_signal_connect (window, "map", G_CALLBACK (on_window_map), NULL);
}

/* The report */

static void
append_stalls (GString      *json,
               const Stalls *s)
{
  g_string_append_printf (json,
                          "{\"longest_ms\": %.1f, \"longest_at_ms\": %.1f, "
                          "\"sum_over_50_ms\": %.1f, \"sum_over_100_ms\": %.1f, "
                          "\"n_over_50\": %u, \"ticks\": %u}",
                          s->max / 1000.0, ms_since_start (s->max_at),
                          s->over_50 / 1000.0, s->over_100 / 1000.0,
                          s->n_over_50, s->ticks);
}

static long
peak_rss_kib (void)
{
  char line[256];
  long kib = -1;
  FILE *file = fopen ("/proc/self/status", "re");

  if (file == NULL)
    return -1;
  while (fgets (line, sizeof line, file) != NULL)
    {
      if (sscanf (line, "VmHWM: %ld kB", &kib) == 1)
        break;
    }
  fclose (file);
  return kib;
}

static void
report (void)
{
  GString *json;
  FILE *file;
  gint64 t = now_us ();

  if (!bench.enabled || bench.reported)
    return;
  bench.reported = TRUE;

  json = g_string_new ("{");
  g_string_append_printf (json, "\"hooked\": %s, ", bench.hooked ? "true" : "false");
  g_string_append_printf (json, "\"window_type\": \"%s\", ",
                          bench.window_type != NULL ? bench.window_type : "");
  g_string_append_printf (json, "\"window_map_ms\": %.1f, ", ms_since_start (bench.t_window_map));
  g_string_append_printf (json, "\"window_ms\": %.1f, ", ms_since_start (bench.t_window));
  g_string_append_printf (json, "\"keys_ms\": %.1f, ", ms_since_start (bench.t_keys));
  g_string_append_printf (json, "\"keys_last_change_ms\": %.1f, ", ms_since_start (bench.t_keys_changed));
  g_string_append_printf (json, "\"key_labels_listing\": %u, ", bench.keys_listing);
  g_string_append_printf (json, "\"listing_end_ms\": %.1f, ", ms_since_start (listing_end_mark));
  g_string_append_printf (json, "\"login_ms\": %.1f, ", ms_since_start (login_mark));
  g_string_append_printf (json, "\"login_keys_ms\": %.1f, ", ms_since_start (bench.t_login_keys));
  g_string_append_printf (json, "\"login_to_keys_ms\": %.1f, ",
                          bench.t_login_keys > 0 && login_mark > 0
                          ? (bench.t_login_keys - login_mark) / 1000.0 : -1.0);
  g_string_append_printf (json, "\"clicked_ms\": %.1f, ", ms_since_start (clicked_mark));
  g_string_append_printf (json, "\"clicked_to_keys_ms\": %.1f, ",
                          bench.t_login_keys > 0 && clicked_mark > 0
                          ? (bench.t_login_keys - clicked_mark) / 1000.0 : -1.0);
  g_string_append_printf (json, "\"login_last_change_ms\": %.1f, ", ms_since_start (bench.t_login_changed));
  g_string_append_printf (json, "\"key_labels_login\": %u, \"pending_labels_login\": %u, ",
                          bench.keys_login, bench.pending_login);
  g_string_append_printf (json, "\"frames\": %u, \"scans\": %u, \"scan_max_ms\": %.2f, "
                          "\"scan_widgets_max\": %u, ",
                          bench.frames, bench.scans, bench.scan_max / 1000.0,
                          bench.scan_widgets_max);
  g_string_append_printf (json, "\"peak_rss_kib\": %ld, ", peak_rss_kib ());
  g_string_append_printf (json, "\"end_ms\": %.1f, ", ms_since_start (t));
  g_string_append_printf (json, "\"renderer\": \"%s\", ",
                          bench.renderer != NULL ? bench.renderer : "");
  g_string_append (json, "\"stalls_over_50\": [");
  for (guint i = 0; i < bench.n_long; i++)
    g_string_append_printf (json, "%s[%.1f, %.1f]", i > 0 ? ", " : "",
                            ms_since_start (bench.long_stalls[i].start),
                            ms_since_start (bench.long_stalls[i].end));
  g_string_append (json, "], ");
  g_string_append (json, "\"stalls\": {");
  for (int i = 0; i < N_PHASES; i++)
    {
      g_string_append_printf (json, "%s\"%s\": ", i > 0 ? ", " : "", phase_names[i]);
      append_stalls (json, &bench.stalls[i]);
    }
  g_string_append (json, "}}\n");

  file = fopen (bench.output, "we");
  if (file != NULL)
    {
      fputs (json->str, file);
      fclose (file);
    }
  g_string_free (json, TRUE);
}

static void
on_usr1 (int signum)
{
  if (listing_end_mark == 0)
    listing_end_mark = now_us ();
}

static void
on_usr2 (int signum)
{
  if (login_mark == 0)
    login_mark = now_us ();
}

static gboolean
on_term (gpointer user_data)
{
  report ();
  if (bench.app != NULL)
    g_application_quit (bench.app);
  else
    _exit (0);
  return G_SOURCE_REMOVE;
}

static void
start (GApplication *app)
{
  struct sigaction action = { 0, };

  bench.hooked = TRUE;
  bench.app = app;

  sigemptyset (&action.sa_mask);
  action.sa_flags = SA_RESTART;
  action.sa_handler = on_usr1;
  sigaction (SIGUSR1, &action, NULL);
  action.sa_handler = on_usr2;
  sigaction (SIGUSR2, &action, NULL);
  g_unix_signal_add (SIGTERM, on_term, NULL);

  if (GTK_IS_APPLICATION (app))
    g_signal_connect (app, "window-added", G_CALLBACK (on_window_added), NULL);

  g_timeout_add_full (G_PRIORITY_DEFAULT, TICK_MS, tick, NULL, NULL);
}

EXPORT int
g_application_run (GApplication  *application,
                   int            argc,
                   char         **argv)
{
  static int (*real) (GApplication *, int, char **);

  if (real == NULL)
    real = (int (*) (GApplication *, int, char **)) dlsym (RTLD_NEXT, "g_application_run");
  if (bench.enabled && !bench.hooked)
    start (application);
  return real (application, argc, argv);
}

/* Takes the variable out of the environment: the app's children must not
 * measure, nor load this library. */
static char *
take_env (const char *name,
          const char *fallback)
{
  const char *value = getenv (name);
  char *result = value != NULL && value[0] != '\0' ? strdup (value)
                 : fallback != NULL ? strdup (fallback) : NULL;

  unsetenv (name);
  return result;
}

__attribute__ ((constructor)) static void
bench_init (void)
{
  char *t0;

  unsetenv ("LD_PRELOAD");
  bench.output = take_env ("TESSERA_BENCH_OUTPUT", NULL);
  bench.events = take_env ("TESSERA_BENCH_EVENTS", NULL);
  bench.key_prefix = take_env ("TESSERA_BENCH_KEY_PREFIX", "bench key ");
  bench.pending = take_env ("TESSERA_BENCH_PENDING", "Log in to check");
  t0 = take_env ("TESSERA_BENCH_T0_US", NULL);
  bench.t0 = t0 != NULL ? g_ascii_strtoll (t0, NULL, 10) : 0;
  if (bench.t0 <= 0)
    bench.t0 = now_us ();
  free (t0);

  if (bench.output == NULL)
    return;
  bench.enabled = TRUE;
  atexit (report);
}
