#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The translation pipeline end to end: the build is installed into a
# temporary DESTDIR (`meson install --destdir`), and the installed
# tessera-cli runs under a real German UTF-8 locale with LANGUAGE=de.  Its
# --help, an error (a URI that names no token) and a plural form (a URI that
# names two tokens) must come out in German, from the installed catalog.
#
# The installed program looks for its catalog in the LOCALEDIR it was built
# with; under a DESTDIR it is elsewhere, so TESSERA_LOCALEDIR points there.
# de_DE.UTF-8 is generated into the temporary directory with localedef
# (LOCPATH) when the system does not have it: no root, no system change.
#
# Usage: test-cli-german.py BUILD_ROOT MESON

import gettext
import json
import os
import subprocess
import sys
import tempfile
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_fixtures import SOFTHSM, check, report, run, softhsm_token

BUILD_ROOT, MESON = sys.argv[1], sys.argv[2]
LOCALE = "de_DE.UTF-8"


class Install:
    """The build, installed under tmp/dest; the paths are the installed ones."""

    def __init__(self, tmp):
        self.dest = os.path.join(tmp, "dest")
        run([MESON, "install", "-C", BUILD_ROOT, "--destdir", self.dest, "--no-rebuild", "--quiet"],
            dict(os.environ))
        installed = json.loads(run([MESON, "introspect", "--installed", BUILD_ROOT],
                                   dict(os.environ)).stdout)

        def under_dest(suffix):
            for built, path in installed.items():
                if built.endswith(suffix):
                    return self.dest + path
            raise RuntimeError(f"the build installs no {suffix}")

        self.cli = under_dest(os.path.join("src", "cli", "tessera-cli"))
        self.module_host = under_dest("tessera-module-host")
        self.catalog = under_dest(os.path.join("de", "LC_MESSAGES", "tessera.mo"))
        # LOCALEDIR/de/LC_MESSAGES/tessera.mo
        self.localedir = os.path.dirname(os.path.dirname(os.path.dirname(self.catalog)))


def german_locale(tmp):
    """The environment variables that select de_DE.UTF-8: none when the
    system has it, else LOCPATH to one generated here."""
    have = run(["locale", "-a"], None).stdout.split()
    if any(name.lower().replace("-", "") == "de_de.utf8" for name in have):
        return {}
    locpath = os.path.join(tmp, "locale")
    os.makedirs(locpath)
    run(["localedef", "-i", "de_DE", "-f", "UTF-8", os.path.join(locpath, LOCALE)], None)
    return {"LOCPATH": locpath}


def german_env(install, base):
    env = dict(base, **install.locale_env)
    env.update(LANG=LOCALE, LC_ALL=LOCALE, LANGUAGE="de",
               TESSERA_LOCALEDIR=install.localedir,
               TESSERA_MODULE_HOST=install.module_host)
    return env


def help_in_german(tmp, install):
    env = german_env(install, os.environ)
    proc = run([install.cli, "--help"], env, check_ok=False)
    out = proc.stdout
    check("--help: exit status 0", proc.returncode == 0, proc.stderr)
    check("--help: the summary is German", "PKCS#11-Token für SSH verwalten." in out, out)
    check("--help: the commands are German, the command names are not",
          "Befehle:" in out and "  tokens [--module PFAD] [--json]" in out
          and "Jeden Token auflisten, nach Modul gruppiert." in out, out)
    check("--help: the options are German",
          "Die PIN aus der ersten Zeile von DATEI lesen" in out and "--pin-file=DATEI" in out, out)
    check("--help: no English summary is left", "Manage PKCS#11 tokens for SSH." not in out, out)

    # The same catalog, under C: LANGUAGE is ignored there, as gettext says.
    proc = run([install.cli, "--help"], dict(env, LANG="C", LC_ALL="C"), check_ok=False)
    check("--help under LC_ALL=C with LANGUAGE=de: English",
          "Manage PKCS#11 tokens for SSH." in proc.stdout, proc.stdout)


def error_in_german(tmp, install):
    # A SoftHSM of its own with no token: only its one blank slot.
    os.makedirs(os.path.join(tmp, "tokens"))
    conf = os.path.join(tmp, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write(f"directories.tokendir = {tmp}/tokens\n")
    env = german_env(install, dict(os.environ, SOFTHSM2_CONF=conf, HOME=tmp))

    proc = run([install.cli, "objects", "--module", SOFTHSM, "pkcs11:token=No%20such%20token"], env,
               check_ok=False)
    check("no such token: exit status 1", proc.returncode == 1, f"exit {proc.returncode}\n{proc.stderr}")
    check("no such token: the error is German",
          "tessera-cli: Kein Token passt zu dieser URI." in proc.stderr, proc.stderr)

    proc = run([install.cli, "tokens", "--module", SOFTHSM], env, check_ok=False)
    check("tokens: the core's words are German too",
          "Token: Nicht initialisierter Token" in proc.stdout
          and "Zustand: Nicht initialisiert" in proc.stdout, proc.stdout + proc.stderr)

    proc = run([install.cli, "frobnicate"], env, check_ok=False)
    check("an unknown command: exit status 2 and a German error",
          proc.returncode == 2
          and "Unbekannter Befehl oder falsche Argumente. Siehe --help." in proc.stderr,
          f"exit {proc.returncode}\n{proc.stderr}")


def plural_in_german(tmp, install):
    # Two tokens with one label: the URI names both, and the CLI says so
    # through ngettext.
    env = softhsm_token(tmp, "Twin")
    run(["softhsm2-util", "--init-token", "--free", "--label", "Twin", "--so-pin", "12345678",
         "--pin", "123456"], env)
    env = german_env(install, env)
    proc = run([install.cli, "objects", "--module", SOFTHSM, "pkcs11:token=Twin"], env, check_ok=False)
    check("an ambiguous URI: the plural message is German",
          "Diese URI passt zu 2 Token; nennen Sie einen davon:" in proc.stderr,
          f"exit {proc.returncode}\n{proc.stderr}")

    # The installed catalog's Plural-Forms, read as any gettext reads it.
    catalog = gettext.translation("tessera", install.localedir, ["de"])
    forms = [catalog.ngettext("%u day", "%u days", n) for n in (0, 1, 2)]
    check("the installed catalog has German plural forms (0 Tage, 1 Tag, 2 Tage)",
          forms == ["%u Tage", "%u Tag", "%u Tage"], repr(forms))


def main():
    root = tempfile.mkdtemp(prefix="tessera-german-")
    try:
        try:
            install = Install(root)
        except Exception as e:
            check("meson install --destdir: ran without error", False, repr(e))
            return report()
        check("meson install --destdir: the German catalog is installed", os.path.isfile(install.catalog),
              install.catalog)
        try:
            install.locale_env = german_locale(root)
        except Exception as e:
            check(f"{LOCALE}: available or generated with localedef", False, repr(e))
            return report()
        for case in (help_in_german, error_in_german, plural_in_german):
            tmp = tempfile.mkdtemp(prefix=case.__name__ + "-", dir=root)
            try:
                case(tmp, install)
            except Exception as e:
                check(f"{case.__name__}: ran without error", False, repr(e))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return report()


if __name__ == "__main__":
    raise SystemExit(main())
