#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The bash completion of tessera-cli (data/tessera-cli.bash), in a bash
# without rc files that loads bash-completion and the script: commands,
# each command's options as tessera-cli(1)'s SYNOPSIS lists them, values
# and files for options, and the URIs of real SoftHSM tokens, with ";"
# and ":" and "=" in them.  The completion calls `tessera-cli tokens`:
# the build's, first on PATH.  Then an interactive bash in a terminal
# shows that a completed URI reaches the program as one argument.
#
# Arguments: the completion script, the built tessera-cli(1).

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

from tessera_fixtures import SOFTHSM, check, run, run_cases, skip, softhsm_token
from tessera_manpage import man_synopsis

CLI = os.environ["TESSERA_CLI"]
COMPLETION, MAN_PAGE = sys.argv[1:3]
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
BREAKS = "\"'><=;|&(:"
COMMANDS = {"tokens", "objects", "ssh-keys", "agent", "init", "set-pin", "unblock", "generate",
            "certificate", "rename", "delete", "doctor", "test-sign", "create-software-token"}


def comp_words(line):
    """COMP_WORDS and COMP_CWORD as bash makes them for the line up to the
    cursor: words split at blanks, and at each run of COMP_WORDBREAKS
    characters outside quotes, which are words of their own."""
    words, word, quote, i = [], "", None, 0
    while i < len(line):
        c = line[i]
        if quote:
            word += c
            quote = None if c == quote else quote
        elif c == "\\" and i + 1 < len(line):
            word += line[i:i + 2]
            i += 1
        elif c in "'\"":
            word += c
            quote = c
        elif c in " \t":
            if word:
                words.append(word)
            word = ""
        elif c in BREAKS:
            if word and word[-1] not in BREAKS:
                words.append(word)
                word = ""
            word += c
        else:
            if (word and word[-1] in BREAKS and not word.endswith("\\" + word[-1])
                    and not word.startswith(("'", '"'))):
                words.append(word)
                word = ""
            word += c
        i += 1
    words.append(word)
    return words, len(words) - 1


def complete(env, line):
    """COMPREPLY for the cursor at the end of line."""
    words, cword = comp_words(line)
    script = f"""
source {BASH_COMPLETION}
source "$1"
shift
COMP_LINE=$1; COMP_POINT=${{#COMP_LINE}}; shift
COMP_CWORD=$1; shift
COMP_WORDS=("$@")
_tessera_cli "${{COMP_WORDS[0]}}" "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "bash", COMPLETION, line, str(cword),
                           *words], env=env, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 or proc.stderr:
        raise RuntimeError(f"completing {line!r}: {proc.returncode} {proc.stderr}")
    return [r for r in proc.stdout.split("\n") if r]


def with_build_cli(env, tmp):
    """The build's tessera-cli first on PATH, as `tessera-cli`."""
    bindir = os.path.join(tmp, "bin")
    os.makedirs(bindir, exist_ok=True)
    link = os.path.join(bindir, "tessera-cli")
    if not os.path.exists(link):
        os.symlink(CLI, link)
    return dict(env, PATH=bindir + os.pathsep + env.get("PATH", "/usr/bin:/bin"))


def token_uris(env):
    listing = run([CLI, "tokens", "--module", SOFTHSM], env).stdout
    return re.findall(r"^    URI: (.*)$", listing, re.M)


def commands_and_options(tmp):
    env = with_build_cli(softhsm_token(tmp, "Options"), tmp)
    check("tessera-cli ⇥ offers every command", set(complete(env, "tessera-cli ")) == COMMANDS,
          complete(env, "tessera-cli "))
    check("tessera-cli ce⇥ offers certificate", complete(env, "tessera-cli ce") == ["certificate"])
    check("tessera-cli agent ⇥ offers status, add, remove",
          sorted(complete(env, "tessera-cli agent ")) == ["add", "remove", "status"])
    check("tessera-cli certificate ⇥ offers create, import, export",
          sorted(complete(env, "tessera-cli certificate ")) == ["create", "export", "import"])

    with open(MAN_PAGE, encoding="utf-8") as f:
        synopsis = man_synopsis(f.read())
    for command, options in sorted(synopsis.items()):
        if not command:
            continue
        got = set(complete(env, f"tessera-cli {command} --"))
        if command.startswith("agent "):
            # One list for the three: the page's union
            options = set().union(*(o for c, o in synopsis.items() if c.startswith("agent ")))
        check(f"tessera-cli {command} --⇥ offers the options of its SYNOPSIS in tessera-cli(1)",
              got == options, f"completion: {sorted(got)}\npage: {sorted(options)}")
    check("options before the command: --module and --help",
          set(complete(env, "tessera-cli --")) == {"--module", "--help"})

    pin = os.path.join(tmp, "pin-file")
    open(pin, "w").close()
    check("--pin-file completes files", complete(env, f"tessera-cli objects --pin-file {tmp}/pin-f") == [pin])
    check("--pin-file=… completes files", complete(env, f"tessera-cli objects --pin-file={tmp}/pin-f") == [pin])
    check("--so-pin-file completes files",
          complete(env, f"tessera-cli unblock --so-pin-file {tmp}/pin-f") == [pin])
    check("--module completes module files",
          complete(env, f"tessera-cli tokens --module {os.path.dirname(SOFTHSM)}/libsofthsm2.s") == [SOFTHSM])
    check("--type ec:⇥ offers the curves, after the colon bash keeps",
          sorted(complete(env, "tessera-cli generate --type ec:")) == ["p256", "p384", "p521"])
    check("--kind offers the three kinds",
          sorted(complete(env, "tessera-cli delete --kind ")) == ["certificate", "private", "public"])
    check("-E offers the hashes", sorted(complete(env, "tessera-cli ssh-keys -E ")) == ["md5", "sha256"])


def token_uris_completed(tmp):
    env = softhsm_token(tmp, "Alpha")
    run(["softhsm2-util", "--init-token", "--free", "--label", "Beta;Card", "--so-pin", "12345678",
         "--pin", "123456"], env)
    env = with_build_cli(env, tmp)
    uris = token_uris(env)
    alpha = [u for u in uris if u.endswith("token=Alpha")]
    beta = [u for u in uris if u.endswith("token=Beta%3BCard")]
    check("the fixture has the two tokens", len(alpha) == 1 and len(beta) == 1, uris)
    if not (alpha and beta):
        return
    alpha, beta = alpha[0], beta[0]
    line = f"tessera-cli objects --module {SOFTHSM} "

    got = complete(env, line)
    check("an empty word: every token's URI, quoted for the shell",
          f"'{alpha}'" in got and f"'{beta}'" in got and all(r.startswith("'pkcs11:") and r.endswith("'")
                                                             for r in got), got)

    got = complete(env, line + "'pkcs11:")
    check("after an open quote: the URIs themselves (bash closes the quote)",
          alpha in got and beta in got, got)

    # Typed as the shell needs it, ";" escaped: bash starts the word after
    # the last ":" or "=", and only the rest is replaced
    typed = alpha[:alpha.index("token=") + len("token=A")].replace(";", "\\;")
    escaped = alpha.replace(";", "\\;")
    got = complete(env, line + typed)
    start = max(typed.rfind(c) for c in "=:") + 1
    check("a bare prefix across ':', '\\;' and '=': the one URI, from where bash's word starts, ';' escaped",
          got == [escaped[start:]], f"{got}\nwanted {escaped[start:]}")

    got = complete(env, line + "pkcs11:")
    check("pkcs11:⇥ keeps what follows the colon", all(not r.startswith("pkcs11") for r in got) and
          f"{beta[len('pkcs11:'):]}".replace(";", "\\;") in got, got)

    got = complete(env, f"tessera-cli agent add --module {SOFTHSM} 'pkcs11:")
    check("agent add: the URI after the verb", alpha in got, got)
    got = complete(env, f"tessera-cli certificate import --module {SOFTHSM} 'pkcs11:")
    check("certificate import: the URI after the action", alpha in got, got)
    got = complete(env, f"tessera-cli objects --module={SOFTHSM} 'pkcs11:")
    check("--module=PATH is passed on too", alpha in got, got)
    check("no URI after the URI", complete(env, f"tessera-cli objects --module {SOFTHSM} '{alpha}' ") == [])
    check("create-software-token takes no URI",
          complete(env, f"tessera-cli create-software-token --module {SOFTHSM} ") == [])

    # Without --module: the registered modules, SoftHSM among them (if it
    # is registered with p11-kit and answers within the timeout).
    got = complete(env, "tessera-cli doctor 'pkcs11:")
    if os.path.exists("/usr/share/p11-kit/modules/softhsm2.module"):
        check("without --module: the p11-kit modules' tokens", alpha in got and beta in got, got)
    else:
        skip("without --module: the p11-kit modules' tokens", "SoftHSM is not registered with p11-kit")


def hung_tessera_cli(tmp):
    """A tessera-cli that never answers costs the shell 5 seconds, once."""
    bindir = os.path.join(tmp, "bin")
    os.makedirs(bindir)
    with open(os.path.join(bindir, "tessera-cli"), "w") as f:
        f.write("#!/bin/sh\nsleep 60\n")
    os.chmod(os.path.join(bindir, "tessera-cli"), 0o755)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"))
    start = time.monotonic()
    got = complete(env, "tessera-cli objects ")
    seconds = time.monotonic() - start
    print(f"# completion with a hung tessera-cli returned after {seconds:.1f} s")
    check("a hung tessera-cli: no URI, and the completion returns within its timeout", got == [] and seconds < 9,
          f"{got} after {seconds:.1f} s")


def interactive(tmp):
    """In a real bash at a terminal, ⇥ puts the URI on the line so that the
    program gets it whole: run as `printf '<%s>\\n'` instead."""
    env = softhsm_token(tmp, "Only;One")
    env = with_build_cli(env, tmp)
    uri = [u for u in token_uris(env) if u.endswith("token=Only%3BOne")][0]
    inputrc = os.path.join(tmp, "inputrc")
    with open(inputrc, "w") as f:
        f.write("set enable-bracketed-paste off\nset bell-style none\nset show-all-if-ambiguous off\n")
    env = dict(env, INPUTRC=inputrc, TERM="dumb", PS1="$ ", HISTFILE="/dev/null")

    # SoftHSM also shows a blank slot, "pkcs11:slot-id=…": these prefixes
    # leave the one token
    for typed, what in (("'pkcs11:model=", "an open quote"), ("pkcs11:mo", "a bare prefix"),
                        (uri[:uri.index(";") + 3], "a bare prefix past a \\;")):
        pid, fd = pty.fork()
        if pid == 0:
            os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"], env)
        output = b""

        def send(data, wait=0.5):
            nonlocal output
            os.write(fd, data.encode())
            end = time.monotonic() + wait
            while time.monotonic() < end:
                ready, _, _ = select.select([fd], [], [], 0.1)
                if ready:
                    try:
                        output += os.read(fd, 65536)
                    except OSError:
                        return

        send(f"source {BASH_COMPLETION}; source {COMPLETION}\n", 2)
        # One ⇥ completes the only token's URI in full
        send(f"tessera-cli objects --module {SOFTHSM} {typed.replace(';', chr(92) + ';')}\t", 3)
        send("\x01printf '<%s>\\n' \n", 1)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
        args = re.findall(r"^<(.*)>\r?$", output.decode(errors="replace"), re.M)
        check(f"interactive, {what}: the completed URI reaches the program as one argument",
              args[-1:] == [uri], f"{args}\n{output.decode(errors='replace')[-600:]}")


if __name__ == "__main__":
    if not os.path.exists(BASH_COMPLETION):
        skip("the bash completion", "bash-completion is not installed")
        from tessera_fixtures import report
        raise SystemExit(report())
    raise SystemExit(run_cases([commands_and_options, token_uris_completed, hung_tessera_cli, interactive],
                               "tessera-completion-"))
