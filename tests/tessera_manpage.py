# tessera_manpage.py: what `tessera-cli --help` and tessera-cli(1) say
#
# Both are written by hand; the tests read the commands and options out of
# each to check that they agree (test-cli-manpage.py), and that the bash
# completion offers what they list (test-cli-completion.py).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import re

OPTION = re.compile(r"--[a-z][a-z-]*")


def expand(command):
    """'agent status|add|remove' -> ['agent status', 'agent add', 'agent remove']"""
    words = command.split()
    if words and "|" in words[-1]:
        return [" ".join(words[:-1] + [verb]) for verb in words[-1].split("|")]
    return [command]


# --help ---------------------------------------------------------------------

def help_options(text):
    """{long name: (short letter or None, metavar or None)} of every option
    in the Help and Application Options."""
    options = {}
    section = None
    for line in text.splitlines():
        if line.endswith("Options:"):
            section = line
            continue
        if not line.strip():
            section = None
            continue
        if section is None:
            continue
        m = re.match(r"\s+(?:-(\w), )?--([a-z][a-z-]*)(?:=(\S+))?\s", line + " ")
        if m:
            options["--" + m.group(2)] = (m.group(1), m.group(3))
    return options


def help_commands(text):
    """[(command as written, options its entry names)] from the Commands
    section: an entry is a line indented by two spaces and the lines
    indented further below it."""
    entries = []
    in_commands = False
    for line in text.splitlines():
        if line.startswith("Commands:"):
            in_commands = True
            continue
        if not in_commands:
            continue
        if re.match(r"  [a-z]", line):
            words = []
            for word in line.split():
                if not re.fullmatch(r"[a-z][a-z|-]*", word):
                    break
                words.append(word)
            entries.append([" ".join(words), line])
        elif line.startswith("   ") and entries:
            entries[-1][1] += "\n" + line
        elif line.strip():
            break
    return [(command, set(OPTION.findall(body))) for command, body in entries]


# the manual page ------------------------------------------------------------

def plain(troff):
    """The text of troff source without its font and character escapes."""
    text = troff.replace("\\-", "-").replace("\\(aq", "'").replace("\\~", " ")
    text = re.sub(r"\\f[BIRP]", "", text)
    text = text.replace("\\&", "").replace("\\e", "\\")
    return text


def man_sections(source):
    """{section name: [lines]}, comments dropped."""
    sections = {}
    current = None
    for line in source.splitlines():
        if line.startswith('.\\"'):
            continue
        m = re.match(r'\.SH\s+"?([^"]*)"?', line)
        if m:
            current = m.group(1)
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return sections


def man_synopsis(source):
    """{command: options} from the .SY blocks of SYNOPSIS ('' for the
    bare `tessera-cli --help`)."""
    synopsis = {}
    command = None
    for line in man_sections(source)["SYNOPSIS"]:
        m = re.match(r'\.SY\s+"?([^"]*)"?', line)
        if m:
            command = plain(m.group(1)).replace("tessera-cli", "", 1).strip()
            block = set()
        elif line.startswith(".YS"):
            for name in expand(command):
                synopsis[name] = block
            command = None
        elif command is not None:
            block |= set(OPTION.findall(plain(line)))
    return synopsis


def man_command_sections(source):
    """{first word of each .SS of COMMANDS: its text}"""
    sections = {}
    name = None
    for line in man_sections(source)["COMMANDS"]:
        m = re.match(r'\.SS\s+"?([^"]*)"?', line)
        if m:
            name = plain(m.group(1)).split()[0]
            sections[name] = ""
        elif name is not None:
            sections[name] += plain(line) + "\n"
    return sections


def man_options(source):
    """{long name: (short letter or None, metavar or None)} from the .TP
    tags of OPTIONS."""
    options = {}
    lines = man_sections(source)["OPTIONS"]
    for i, line in enumerate(lines):
        if line != ".TP" or i + 1 >= len(lines):
            continue
        tag = plain(lines[i + 1])
        tag = re.sub(r"^\.\w+\s+", "", tag).replace('"', "")
        tag = re.sub(r"\s+", " ", tag).replace(" ,", ",")
        m = re.fullmatch(r"(?:-(\w), )?--([a-z][a-z-]*)(?: (\S+))?", tag.strip())
        if m:
            options["--" + m.group(2)] = (m.group(1), m.group(3))
    return options


def man_list_tags(source, section):
    """The bold tags of the .TP entries in a section, such as the exit
    statuses or the variables."""
    lines = man_sections(source)[section]
    tags = []
    for i, line in enumerate(lines):
        if line == ".TP" and i + 1 < len(lines):
            tag = re.sub(r"^\.\w+\s+", "", lines[i + 1])
            tags += [t for t in re.split(r'[\s",]+', plain(tag).rstrip("\\")) if t]
    return tags
