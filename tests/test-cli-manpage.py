#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# tessera-cli(1) against `tessera-cli --help`: the same commands, the same
# options with the same short forms and arguments, each command's options
# in its synopsis, the exit statuses and variables the code defines; the
# page renders without a warning; `meson install` puts the page and the
# bash completion in place.
#
# Arguments: the built page, the completion script, the page's source, the build
# directory.

import os
import re
import shutil
import subprocess
import sys
import tempfile

from tessera_fixtures import check, report, run, skip
from tessera_manpage import (expand, help_commands, help_options, man_command_sections,
                             man_list_tags, man_options, man_sections, man_synopsis)

CLI = os.environ["TESSERA_CLI"]
MAN_PAGE, COMPLETION, MAN_SOURCE, BUILD_ROOT = sys.argv[1:5]
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(MAN_SOURCE)))

# Variables the code reads that are hooks for tests, benchmarks and the
# demo (HACKING.md), not for users: the page leaves them out.
TEST_HOOKS = {"TESSERA_IN_PROCESS_MODULES", "TESSERA_MODULE_HOST", "TESSERA_HOST_ROOT",
              "TESSERA_OPENSSH_VERSION", "TESSERA_AGENT_PROVIDER_DIR", "TESSERA_LOCALEDIR"}

env = dict(os.environ, LC_ALL="C.UTF-8")
env.pop("LANGUAGE", None)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def agreement():
    help_text = run([CLI, "--help"], env).stdout
    page = read(MAN_PAGE)

    helped = help_options(help_text)
    manned = man_options(page)
    check("--help lists options at all", len(helped) > 20, help_text)
    check("every option of --help is in OPTIONS", not helped.keys() - manned.keys(),
          sorted(helped.keys() - manned.keys()))
    check("every option in OPTIONS is one --help lists", not manned.keys() - helped.keys(),
          sorted(manned.keys() - helped.keys()))
    differ = [f"{name}: --help {helped[name]}, page {manned[name]}"
              for name in helped.keys() & manned.keys() if helped[name] != manned[name]]
    check("each option has the same short form and argument name in both", not differ, "\n".join(differ))

    entries = help_commands(help_text)
    helped_commands = {name for command, _ in entries for name in expand(command)}
    synopsis = man_synopsis(page)
    manned_commands = set(synopsis) - {""}
    check("--help lists commands at all", len(helped_commands) > 10, help_text)
    check("every command of --help has a SYNOPSIS line", not helped_commands - manned_commands,
          sorted(helped_commands - manned_commands))
    check("every SYNOPSIS command is one --help lists", not manned_commands - helped_commands,
          sorted(manned_commands - helped_commands))

    sections = man_command_sections(page)
    top = {command.split()[0] for command in helped_commands}
    check("every command has its COMMANDS subsection, and no other", set(sections) == top,
          f"--help: {sorted(top)}\npage: {sorted(sections)}")

    missing = []
    extra = []
    for command, options in entries:
        for name in expand(command):
            missing += [f"{name} {o}" for o in sorted(options - synopsis.get(name, set()))]
            extra += [f"{name} {o}" for o in sorted(synopsis.get(name, set()) - options)]
    check("each command's SYNOPSIS has every option its --help entry names", not missing, "\n".join(missing))
    unknown = sorted({o for options in synopsis.values() for o in options} - helped.keys())
    check("SYNOPSIS names no option --help does not have", not unknown, unknown)
    # The page may name more: options the command uses that its --help
    # entry leaves out (a login's --pin-file, say).  Said, not failed.
    for line in extra:
        print(f"# the page, not --help, gives {line}")

    for name in sorted(helped_commands):
        words = name.split()
        proc = run([CLI, *words, "--help"], env, check_ok=False)
        shown = set(help_options(proc.stdout))
        wanted = synopsis.get(name, set()) | {"--help"}
        check(f"tessera-cli {name} --help: exits 0 and shows every option of its SYNOPSIS",
              proc.returncode == 0 and wanted <= shown and words[0] in proc.stdout,
              f"{proc.returncode} missing {sorted(wanted - shown)}\n{proc.stderr}")


def exit_statuses():
    """Every exit status tessera-cli's code defines is in EXIT STATUS."""
    code = "".join(read(os.path.join(SOURCE_ROOT, "src", "cli", name))
                   for name in os.listdir(os.path.join(SOURCE_ROOT, "src", "cli")) if name.endswith((".c", ".h")))
    defined = {int(n) for n in re.findall(r"\bEXIT_[A-Z_]+\s*=\s*(\d+)", code)}
    defined |= {int(n) for n in re.findall(r"#define\s+EXIT_[A-Z_]+\s+(\d+)", code)}
    defined |= {0, 1}
    listed = {int(t) for t in man_list_tags(read(MAN_PAGE), "EXIT STATUS") if t.isdigit()}
    check("the code defines the agent's and doctor's exit statuses", {2, 3, 6, 10, 11} <= defined, sorted(defined))
    check("EXIT STATUS lists every exit status the code defines, and no other", defined == listed,
          f"code: {sorted(defined)}\npage: {sorted(listed)}")


def environment():
    """The TESSERA_* variables the core and the CLI read are in ENVIRONMENT,
    unless they are test hooks."""
    read_vars = set()
    for sub in ("core", "cli"):
        folder = os.path.join(SOURCE_ROOT, "src", sub)
        for name in os.listdir(folder):
            if name.endswith(".c"):
                read_vars |= set(re.findall(r'getenv \("(TESSERA_[A-Z_]+)"\)', read(os.path.join(folder, name))))
    listed = {t for t in man_list_tags(read(MAN_PAGE), "ENVIRONMENT") if t.startswith("TESSERA_")}
    check("the code reads TESSERA_ variables", len(read_vars) >= 3, sorted(read_vars))
    check("ENVIRONMENT lists every user-facing TESSERA_ variable the code reads",
          not read_vars - TEST_HOOKS - listed, sorted(read_vars - TEST_HOOKS - listed))
    check("ENVIRONMENT lists no test hook and no variable the code does not read",
          listed <= read_vars - TEST_HOOKS, sorted(listed - (read_vars - TEST_HOOKS)))
    check("ENVIRONMENT has SSH_AUTH_SOCK", "SSH_AUTH_SOCK" in man_list_tags(read(MAN_PAGE), "ENVIRONMENT"))


def page_form():
    source = read(MAN_SOURCE)
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "PINS", "EXIT STATUS",
                    "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"):
        check(f"the page has {section}", section in man_sections(source))
    see_also = "".join(man_sections(source)["SEE ALSO"])
    for ref in ("ssh\\-add (1)", "ssh\\-keygen (1)", "p11tool (1)", "pkcs11\\-tool (1)", "p11\\-kit (8)"):
        check(f"SEE ALSO names {ref.replace(chr(92), '')}", ref in see_also)
    # A bare "-" is a hyphen: copied from the page, an option would not work.
    bare = [line for line in source.splitlines()
            if not line.startswith('.\\"') and re.search(r"(?<![\\\w.-])-{1,2}[A-Za-z]", line)]
    check("options are written with \\- , never a bare hyphen", not bare, "\n".join(bare))
    left = [line for line in read(MAN_PAGE).splitlines() if re.search(r"@[A-Z_]+@", line)]
    check("meson filled in every @VARIABLE@", not left, "\n".join(left))


def renders():
    if shutil.which("man") is None:
        skip("man renders the page without warnings", "man-db is not installed")
        return
    for path in (MAN_PAGE, MAN_SOURCE):
        proc = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", path], capture_output=True, text=True,
                              env=dict(env, MANROFFSEQ="", MANWIDTH="80"))
        check(f"man --warnings renders {os.path.basename(path)} without a warning",
              proc.returncode == 0 and proc.stderr == "" and "tessera-cli" in proc.stdout, proc.stderr)


def installed():
    """meson install puts the page and the completion in place."""
    destdir = tempfile.mkdtemp(prefix="tessera-man-install-")
    try:
        proc = subprocess.run(["meson", "install", "-C", BUILD_ROOT, "--no-rebuild", "--quiet",
                               "--tags", "man,bash-completion", "--destdir", destdir],
                              capture_output=True, text=True)
        check("meson install --tags man,bash-completion works", proc.returncode == 0, proc.stdout + proc.stderr)
        found = {}
        for folder, _, files in os.walk(destdir):
            for name in files:
                found[os.path.relpath(os.path.join(folder, name), destdir)] = os.path.join(folder, name)
        pages = [p for p in found if p.endswith("/man1/tessera-cli.1")]
        completions = [p for p in found if p.endswith("/bash-completion/completions/tessera-cli")]
        check("the page is installed in MANDIR/man1", len(pages) == 1, sorted(found))
        check("the completion is installed in bash-completion's completions as tessera-cli",
              len(completions) == 1, sorted(found))
        if pages:
            check("the installed page is the built one", read(found[pages[0]]) == read(MAN_PAGE))
        if completions:
            check("the installed completion is the script", read(found[completions[0]]) == read(COMPLETION))
    finally:
        shutil.rmtree(destdir, ignore_errors=True)


if __name__ == "__main__":
    for case in (agreement, exit_statuses, environment, page_form, renders, installed):
        try:
            case()
        except Exception as e:
            check(f"{case.__name__}: ran without error", False, repr(e))
    raise SystemExit(report())
