#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Keeps po/POTFILES.in honest:
#   - every file under src/ or data/ with translatable strings must be listed
#     (or named in po/POTFILES.skip, for files that must not be translated);
#   - every listed file must exist.
#
# A file has translatable strings when it
#   - marks a string for gettext: _("…"), N_("…"), C_("ctx", "…"), NC_(…),
#     Q_("…"), ngettext (…), g_dngettext (…), also across a line break;
#   - or is a GtkBuilder template with translatable="yes";
#   - or is a data file that its ITS rules translate as a whole: a desktop
#     entry (.desktop.in), AppStream metainfo (.metainfo.xml.in) or a
#     GSettings schema (.gschema.xml).
#
# Usage: check-potfiles.sh SOURCE_ROOT

set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 SOURCE_ROOT" >&2
  exit 2
fi
cd "$1"

potfiles=po/POTFILES.in
skipfiles=po/POTFILES.skip

if [ ! -f "$potfiles" ]; then
  echo "error: $potfiles not found under $1" >&2
  exit 1
fi

# Entries of a POTFILES-style list: no comments, no blank lines, no
# "[encoding: …]" headers, no surrounding blanks.
read_list () {
  [ -f "$1" ] || return 0
  sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' \
      -e '/^#/d' -e '/^\[/d' -e '/^$/d' "$1" | LC_ALL=C sort -u
}

code_markers='(?<![A-Za-z0-9_])(?:_|N_|C_|NC_|Q_)\s*\(\s*"'
code_markers+='|(?<![A-Za-z0-9_])(?:ngettext|g_dngettext)\s*\('
code_markers+='|translatable\s*=\s*["'"'"'](?:yes|true|1)["'"'"']'

dirs=()
for d in src data; do
  [ -d "$d" ] && dirs+=("$d")
done

find_translatable () {
  [ ${#dirs[@]} -gt 0 ] || return 0

  # Sources and templates that mark strings. -z reads a whole file as one
  # record, so a marker split over two lines still matches.
  find "${dirs[@]}" -type f \
       \( -name '*.c' -o -name '*.h' -o -name '*.ui' -o -name '*.blp' \
          -o -name '*.in' -o -name '*.xml' \) -print0 |
    xargs -0 -r grep -lPz -- "$code_markers" || true

  # Data files that gettext's ITS rules translate as a whole.
  find "${dirs[@]}" -type f \
       \( -name '*.desktop.in' -o -name '*.desktop.in.in' \
          -o -name '*.metainfo.xml.in' -o -name '*.appdata.xml.in' \
          -o -name '*.gschema.xml' \) -print
}

listed=$(read_list "$potfiles")
skipped=$(read_list "$skipfiles")
translatable=$(find_translatable | sed 's|^\./||' | LC_ALL=C sort -u)

status=0

# Listed files that do not exist.
nonexistent=()
while IFS= read -r f; do
  [ -n "$f" ] || continue
  [ -f "$f" ] || nonexistent+=("$f")
done <<< "$listed"

if [ ${#nonexistent[@]} -gt 0 ]; then
  echo "error: $potfiles lists files that do not exist:" >&2
  printf '  %s\n' "${nonexistent[@]}" >&2
  status=1
fi

# Files with translatable strings that are neither listed nor skipped.
missing=$(LC_ALL=C comm -23 <(printf '%s\n' "$translatable") \
                            <(printf '%s\n%s\n' "$listed" "$skipped" | LC_ALL=C sort -u) |
          sed '/^$/d')

if [ -n "$missing" ]; then
  echo "error: these files have translatable strings but are not in $potfiles:" >&2
  printf '%s\n' "$missing" | sed 's/^/  /' >&2
  echo "Add them to $potfiles (or to $skipfiles if they must not be translated)." >&2
  status=1
fi

if [ $status -eq 0 ]; then
  echo "$potfiles: $(printf '%s\n' "$listed" | sed '/^$/d' | wc -l) files listed, all present;" \
       "no file with translatable strings is missing."
fi

exit $status
