/* main.c: start Tessera
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "tessera-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(TesseraApplication) app = NULL;
  /* an install under a DESTDIR, in tests: its catalogs are not in LOCALEDIR */
  const char *localedir = g_getenv ("TESSERA_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = tessera_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
