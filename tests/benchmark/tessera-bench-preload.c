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
 * Where the time of a stall went: each frame of the window is split into
 * its phases by the frame clock's signals (update: tick callbacks;
 * layout: measure and allocate; paint: snapshot and render; after-paint,
 * which holds this library's label scan), and the outermost
 * g_list_model_items_changed() call (the list view makes and binds its
 * rows for the items added, there and then) is timed; the rest is
 * "other".  For the longest stall of each phase, and for each stall over
 * 50 ms, those sums are reported with the number of frames and of items
 * added.
 *
 * With TESSERA_BENCH_LAYOUTS=1 (slower: for finding what a stall
 * measures, not for its figures), also the text of every Pango layout
 * measured in the longest listing stall, with its calls and time, and the
 * GtkLabel measure calls among them (size cache misses) with the sizes
 * asked and the label's ancestors; and who measured whom over the listing.
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

/* Where the time between two ticks went */
typedef struct
{
  gint64 update;        /* frame clock phases, summed over the frames */
  gint64 layout;
  gint64 paint;
  gint64 after_paint;
  gint64 items_changed; /* outermost g_list_model_items_changed() calls */
  guint  frames;
  guint  n_items_changed;
  guint  added;         /* items those calls added */
} Breakdown;

typedef struct
{
  gint64 max;           /* the longest stall */
  gint64 max_at;        /* when it ended */
  gint64 over_50;       /* the sum of stalls over 50 ms */
  gint64 over_100;      /* the sum of stalls over 100 ms */
  guint  n_over_50;
  guint  ticks;
  Breakdown max_breakdown;  /* where the longest went */
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

  struct { gint64 start, end; Breakdown breakdown; } long_stalls[400];   /* those over 50 ms */
  guint        n_long;

  gboolean     reported;

  Breakdown    since_tick;      /* since the last tick */
  gint64       phase_mark;      /* the end of the last frame phase seen */
  guint        items_changed_depth;

  /* TESSERA_BENCH_LAYOUTS: the text of each Pango layout measured
   * (pango_layout_get_size) since the last tick, with the time taken,
   * and a copy for the longest listing stall */
  gboolean     trace_layouts;
  guint        layout_depth;
  GHashTable  *layouts;         /* text → LayoutUse */
  GHashTable  *longest_layouts;
} bench;

typedef struct
{
  guint  calls;
  gint64 time;
  int    width;
  guint  label_measures[2];   /* GtkLabel measure vfunc calls (cache misses), per orientation */
  int    for_sizes[2][8];     /* the first for_sizes asked */
  guint  n_for_sizes[2];
  char  *ancestry;
} LayoutUse;

static void (*real_label_measure) (GtkWidget *, GtkOrientation, int, int *, int *, int *, int *);

/* TESSERA_BENCH_LAYOUTS also wraps the measure vfuncs of the widget and
 * layout manager classes (the calls GTK makes when its size cache misses):
 * who measured whom, in which orientation and for which size, summed over
 * the listing */
typedef void (*MeasureFunc) (GtkWidget *, GtkOrientation, int, int *, int *, int *, int *);
static GHashTable *real_measures;   /* GType → MeasureFunc */
static GHashTable *measure_edges;   /* "caller > callee o for_size" → count */
static GHashTable *listing_edges;
static struct { GtkWidget *widget; GType type; } measure_stack[256];
static guint measure_depth;

static void
traced_measure (GtkWidget      *widget,
                GtkOrientation  orientation,
                int             for_size,
                int            *minimum,
                int            *natural,
                int            *minimum_baseline,
                int            *natural_baseline)
{
  GType type = G_OBJECT_TYPE (widget);
  MeasureFunc real = NULL;
  char *edge;

  /* A class that chains up calls this again for the same widget */
  if (measure_depth > 0 && measure_stack[measure_depth - 1].widget == widget)
    type = g_type_parent (measure_stack[measure_depth - 1].type);
  for (; type != 0 && real == NULL; type = real == NULL ? g_type_parent (type) : type)
    real = g_hash_table_lookup (real_measures, GSIZE_TO_POINTER (type));
  g_assert (real != NULL);

  edge = g_strdup_printf ("%s > %s %c %d",
                          measure_depth > 0 ? G_OBJECT_TYPE_NAME (measure_stack[measure_depth - 1].widget) : "-",
                          G_OBJECT_TYPE_NAME (widget), orientation ? 'v' : 'h', for_size);
  g_hash_table_insert (measure_edges, edge,
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (measure_edges, edge)) + 1));
  if (measure_depth < G_N_ELEMENTS (measure_stack))
    {
      measure_stack[measure_depth].widget = widget;
      measure_stack[measure_depth].type = type;
    }
  measure_depth++;
  real (widget, orientation, for_size, minimum, natural, minimum_baseline, natural_baseline);
  measure_depth--;
}

typedef void (*LayoutMeasureFunc) (GtkLayoutManager *, GtkWidget *, GtkOrientation, int, int *, int *, int *, int *);
static GHashTable *real_layout_measures;   /* GType → LayoutMeasureFunc */

static void
traced_layout_measure (GtkLayoutManager *manager,
                       GtkWidget        *widget,
                       GtkOrientation    orientation,
                       int               for_size,
                       int              *minimum,
                       int              *natural,
                       int              *minimum_baseline,
                       int              *natural_baseline)
{
  LayoutMeasureFunc real = NULL;
  char *edge;

  for (GType type = G_OBJECT_TYPE (manager); type != 0 && real == NULL; type = g_type_parent (type))
    real = g_hash_table_lookup (real_layout_measures, GSIZE_TO_POINTER (type));
  g_assert (real != NULL);

  edge = g_strdup_printf ("%s > %s[%s] %c %d",
                          measure_depth > 0 ? G_OBJECT_TYPE_NAME (measure_stack[measure_depth - 1].widget) : "-",
                          G_OBJECT_TYPE_NAME (widget), G_OBJECT_TYPE_NAME (manager),
                          orientation ? 'v' : 'h', for_size);
  g_hash_table_insert (measure_edges, edge,
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (measure_edges, edge)) + 1));
  if (measure_depth < G_N_ELEMENTS (measure_stack))
    {
      measure_stack[measure_depth].widget = widget;
      measure_stack[measure_depth].type = 0;
    }
  measure_depth++;
  real (manager, widget, orientation, for_size, minimum, natural, minimum_baseline, natural_baseline);
  measure_depth--;
}

static void
wrap_layout_measures (GType type)
{
  GtkLayoutManagerClass *klass = g_type_class_ref (type);
  GType *children;
  guint n;

  if (klass->measure != traced_layout_measure && klass->measure != NULL)
    {
      g_hash_table_insert (real_layout_measures, GSIZE_TO_POINTER (type), klass->measure);
      klass->measure = traced_layout_measure;
    }
  children = g_type_children (type, &n);
  for (guint i = 0; i < n; i++)
    wrap_layout_measures (children[i]);
  g_free (children);
}

static void
wrap_measures (GType type)
{
  GtkWidgetClass *klass = g_type_class_peek (type);
  GType *children;
  guint n;

  if (klass != NULL && klass->measure != traced_measure && klass->measure != NULL
      && type != GTK_TYPE_LABEL)
    {
      g_hash_table_insert (real_measures, GSIZE_TO_POINTER (type), klass->measure);
      klass->measure = traced_measure;
    }
  children = g_type_children (type, &n);
  for (guint i = 0; i < n; i++)
    wrap_measures (children[i]);
  g_free (children);
}

static LayoutUse *layout_use (const char *text);

static void
traced_label_measure (GtkWidget      *widget,
                      GtkOrientation  orientation,
                      int             for_size,
                      int            *minimum,
                      int            *natural,
                      int            *minimum_baseline,
                      int            *natural_baseline)
{
  const char *text = gtk_label_get_text (GTK_LABEL (widget));
  LayoutUse *use = layout_use (text);

  use->label_measures[orientation]++;
  if (use->n_for_sizes[orientation] < 8)
    use->for_sizes[orientation][use->n_for_sizes[orientation]++] = for_size;
  if (use->ancestry == NULL)
    {
      GString *chain = g_string_new (NULL);

      for (GtkWidget *w = gtk_widget_get_parent (widget); w != NULL; w = gtk_widget_get_parent (w))
        g_string_append_printf (chain, "%s%s", chain->len > 0 ? " < " : "", G_OBJECT_TYPE_NAME (w));
      use->ancestry = g_string_free (chain, FALSE);
    }
  real_label_measure (widget, orientation, for_size, minimum, natural, minimum_baseline, natural_baseline);
}

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
      s->max_breakdown = bench.since_tick;
      if (bench.layouts != NULL && phase_at (start) == PHASE_LISTING)
        {
          GHashTableIter iter;
          gpointer key, value;

          g_hash_table_remove_all (bench.longest_layouts);

          g_hash_table_iter_init (&iter, bench.layouts);
          while (g_hash_table_iter_next (&iter, &key, &value))
            {
              LayoutUse *copy = g_memdup2 (value, sizeof (LayoutUse));

              copy->ancestry = g_strdup (copy->ancestry);
              g_hash_table_insert (bench.longest_layouts, g_strdup (key), copy);
            }
        }
    }
  if (stall > 50000)
    {
      s->over_50 += stall;
      s->n_over_50++;
      if (bench.n_long < G_N_ELEMENTS (bench.long_stalls))
        {
          bench.long_stalls[bench.n_long].start = start;
          bench.long_stalls[bench.n_long].end = end;
          bench.long_stalls[bench.n_long].breakdown = bench.since_tick;
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
  memset (&bench.since_tick, 0, sizeof bench.since_tick);
  if (bench.layouts != NULL)
    g_hash_table_remove_all (bench.layouts);
  if (measure_edges != NULL)
    {
      /* The whole listing: who measured whom, summed */
      if (phase_at (t) == PHASE_LISTING)
        {
          GHashTableIter iter;
          gpointer key, value;

          g_hash_table_iter_init (&iter, measure_edges);
          while (g_hash_table_iter_next (&iter, &key, &value))
            g_hash_table_insert (listing_edges, g_strdup (key),
                                 GUINT_TO_POINTER (GPOINTER_TO_UINT (value)
                                                   + GPOINTER_TO_UINT (g_hash_table_lookup (listing_edges, key))));
        }
      g_hash_table_remove_all (measure_edges);
    }

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

static void on_after_paint_scan (gint64 t);

static void
on_after_paint (GdkFrameClock *clock,
                gpointer       user_data)
{
  gint64 t = now_us ();

  on_after_paint_scan (t);
  if (bench.phase_mark > 0)
    bench.since_tick.after_paint += now_us () - bench.phase_mark;
  bench.phase_mark = 0;
}

static void
on_after_paint_scan (gint64 t)
{
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

/* Frame phases: this library's handlers run after GDK's, so each marks
 * the end of its phase */
static void
on_before_paint (GdkFrameClock *clock,
                 gpointer       user_data)
{
  bench.phase_mark = now_us ();
  bench.since_tick.frames++;
}

static void
on_phase_end (GdkFrameClock *clock,
              gpointer       user_data)
{
  gint64 t = now_us ();
  gint64 *sum = (gint64 *) ((char *) &bench.since_tick + GPOINTER_TO_SIZE (user_data));

  if (bench.phase_mark > 0)
    *sum += t - bench.phase_mark;
  bench.phase_mark = t;
}

EXPORT void
g_list_model_items_changed (GListModel *list,
                            guint       position,
                            guint       removed,
                            guint       added)
{
  static void (*real) (GListModel *, guint, guint, guint);
  gint64 start;

  if (real == NULL)
    real = (void (*) (GListModel *, guint, guint, guint)) dlsym (RTLD_NEXT, "g_list_model_items_changed");
  if (!bench.enabled || bench.items_changed_depth > 0)
    {
      real (list, position, removed, added);
      return;
    }

  bench.items_changed_depth++;
  start = now_us ();
  real (list, position, removed, added);
  bench.since_tick.items_changed += now_us () - start;
  bench.since_tick.n_items_changed++;
  bench.since_tick.added += added;
  bench.items_changed_depth--;
}

static void
layout_use_free (gpointer data)
{
  LayoutUse *use = data;

  g_free (use->ancestry);
  g_free (use);
}

static LayoutUse *
layout_use (const char *text)
{
  LayoutUse *use;

  if (text == NULL)
    text = "";
  use = g_hash_table_lookup (bench.layouts, text);
  if (use == NULL)
    {
      use = g_new0 (LayoutUse, 1);
      g_hash_table_insert (bench.layouts, g_strdup (text), use);
    }
  return use;
}

EXPORT void
pango_layout_get_size (PangoLayout *layout,
                       int         *width,
                       int         *height)
{
  static void (*real) (PangoLayout *, int *, int *);
  LayoutUse *use;
  gint64 start;
  const char *text;

  if (real == NULL)
    real = (void (*) (PangoLayout *, int *, int *)) dlsym (RTLD_NEXT, "pango_layout_get_size");
  if (bench.layouts == NULL || bench.layout_depth > 0)
    {
      real (layout, width, height);
      return;
    }

  bench.layout_depth++;
  start = now_us ();
  real (layout, width, height);
  text = pango_layout_get_text (layout);
  use = layout_use (text);
  use->calls++;
  use->time += now_us () - start;
  use->width = pango_layout_get_width (layout);
  bench.layout_depth--;
}

static void
on_window_map (GtkWidget *widget,
               gpointer   user_data)
{
  GdkFrameClock *clock;

  if (widget != bench.window || bench.t_window_map != 0)
    return;
  bench.t_window_map = now_us ();
  if (bench.layouts != NULL)
    {
      real_measures = g_hash_table_new (NULL, NULL);
      measure_edges = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      listing_edges = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      wrap_measures (GTK_TYPE_WIDGET);
      real_layout_measures = g_hash_table_new (NULL, NULL);
      wrap_layout_measures (GTK_TYPE_LAYOUT_MANAGER);
    }
  clock = gtk_widget_get_frame_clock (widget);
  if (clock != NULL)
    {
      g_signal_connect (clock, "before-paint", G_CALLBACK (on_before_paint), NULL);
      g_signal_connect (clock, "update", G_CALLBACK (on_phase_end),
                        GSIZE_TO_POINTER (G_STRUCT_OFFSET (Breakdown, update)));
      g_signal_connect (clock, "layout", G_CALLBACK (on_phase_end),
                        GSIZE_TO_POINTER (G_STRUCT_OFFSET (Breakdown, layout)));
      g_signal_connect (clock, "paint", G_CALLBACK (on_phase_end),
                        GSIZE_TO_POINTER (G_STRUCT_OFFSET (Breakdown, paint)));
      g_signal_connect (clock, "after-paint", G_CALLBACK (on_after_paint), NULL);
    }
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
append_breakdown (GString         *json,
                  const Breakdown *b)
{
  g_string_append_printf (json,
                          "{\"frames\": %u, \"update_ms\": %.1f, \"layout_ms\": %.1f, "
                          "\"paint_ms\": %.1f, \"after_paint_ms\": %.1f, "
                          "\"items_changed_ms\": %.1f, \"n_items_changed\": %u, \"added\": %u}",
                          b->frames, b->update / 1000.0, b->layout / 1000.0,
                          b->paint / 1000.0, b->after_paint / 1000.0,
                          b->items_changed / 1000.0, b->n_items_changed, b->added);
}

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
  g_string_truncate (json, json->len - 1);
  g_string_append (json, ", \"longest_breakdown\": ");
  append_breakdown (json, &s->max_breakdown);
  g_string_append (json, "}");
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
  /* Where 0 is on CLOCK_MONOTONIC, to line the figures up with a profile
   * (perf record -k CLOCK_MONOTONIC) */
  g_string_append_printf (json, "\"t0_us\": %" G_GINT64_FORMAT ", ", bench.t0);
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
  g_string_append (json, "\"stalls_over_50_breakdown\": [");
  for (guint i = 0; i < bench.n_long; i++)
    {
      if (i > 0)
        g_string_append (json, ", ");
      append_breakdown (json, &bench.long_stalls[i].breakdown);
    }
  g_string_append (json, "], ");
  if (bench.longest_layouts != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;
      gboolean first = TRUE;

      g_string_append (json, "\"longest_listing_layouts\": [");
      g_hash_table_iter_init (&iter, bench.longest_layouts);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          const LayoutUse *use = value;
          g_string_append_printf (json, "%s[\"", first ? "" : ", ");
          for (const char *c = key; *c != '\0'; c++)
            {
              if (*c == '"' || *c == '\\')
                g_string_append_printf (json, "\\%c", *c);
              else if ((guchar) *c < 0x20)
                g_string_append_printf (json, "\\u%04x", (guchar) *c);
              else
                g_string_append_c (json, *c);
            }
          g_string_append_printf (json, "\", %u, %.2f, %d, %u, %u, [",
                                  use->calls, use->time / 1000.0, use->width,
                                  use->label_measures[0], use->label_measures[1]);
          for (int o = 0, n = 0; o < 2; o++)
            for (guint i = 0; i < use->n_for_sizes[o]; i++, n++)
              g_string_append_printf (json, "%s\"%c%d\"", n > 0 ? ", " : "", o ? 'v' : 'h',
                                      use->for_sizes[o][i]);
          g_string_append_printf (json, "], \"%s\"]", use->ancestry != NULL ? use->ancestry : "");
          first = FALSE;
        }
      g_string_append (json, "], ");
    }
  if (listing_edges != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;
      gboolean first = TRUE;

      g_string_append (json, "\"listing_measures\": {");
      g_hash_table_iter_init (&iter, listing_edges);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          g_string_append_printf (json, "%s\"%s\": %u", first ? "" : ", ", (char *) key,
                                  GPOINTER_TO_UINT (value));
          first = FALSE;
        }
      g_string_append (json, "}, ");
    }
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

  if (bench.layouts != NULL)
    {
      GtkWidgetClass *label_class = g_type_class_ref (GTK_TYPE_LABEL);

      real_label_measure = label_class->measure;
      label_class->measure = traced_label_measure;
    }
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
  char *layouts;

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
  layouts = take_env ("TESSERA_BENCH_LAYOUTS", NULL);
  if (layouts != NULL)
    {
      bench.layouts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, layout_use_free);
      bench.longest_layouts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, layout_use_free);
    }
  free (layouts);
  atexit (report);
}
