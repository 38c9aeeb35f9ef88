#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# flatpak/app.tessera.Tessera.json as flatpak-builder reads it: it parses
# with --show-manifest, with no property flatpak-builder does not know
# (a warning on stderr), and it grants what the code relies on in a
# sandbox (flatpak/README.md says why each is there).  Building it needs
# the GNOME runtime, which these machines cannot download.
#
# Usage: test-flatpak-manifest.py MANIFEST

import json
import os
import shutil
import subprocess
import sys
import tempfile

from tessera_fixtures import check, report

MANIFEST = os.path.abspath(sys.argv[1])

# What the core's sandbox code needs (src/core/tessera-module.c)
NEEDED = [
    "--filesystem=xdg-run/p11-kit/pkcs11",   # the host's p11-kit server
    "--filesystem=host-os:ro",               # host paths under /run/host for ssh-agent
    "--socket=ssh-auth",                     # the host's ssh-agent
    "--socket=pcsc",                         # the bundled OpenSC to the host's pcscd
]


def main():
    # It makes .flatpak-builder/ in the directory it runs in, even here
    with tempfile.TemporaryDirectory(prefix="tessera-manifest-") as tmp:
        env = dict(os.environ)
        env.pop("G_DEBUG", None)   # flatpak-builder's own warnings are read below
        if shutil.which("flatpak-builder") is None:
            check("flatpak-builder is installed (build-aux/install-deps installs it)", False)
            return report()
        proc = subprocess.run(["flatpak-builder", "--show-manifest", MANIFEST], cwd=tmp, env=env,
                              capture_output=True, text=True, timeout=60)
        check("flatpak-builder --show-manifest succeeds", proc.returncode == 0, proc.stderr)
        check("flatpak-builder warns of nothing (no unknown property)", proc.stderr.strip() == "", proc.stderr)

    try:
        manifest = json.loads(proc.stdout)
    except ValueError as e:
        check("its output is JSON", False, f"{e}\n{proc.stdout}")
        return report()
    check("its output is JSON", True)

    check("the application ID is app.tessera.Tessera", manifest.get("id") == "app.tessera.Tessera",
          manifest.get("id"))
    check("the command is tessera", manifest.get("command") == "tessera", manifest.get("command"))
    check("runtime and SDK are GNOME's, same version",
          manifest.get("runtime") == "org.gnome.Platform" and manifest.get("sdk") == "org.gnome.Sdk" and
          manifest.get("runtime-version") is not None, manifest)
    finish_args = manifest.get("finish-args", [])
    for arg in NEEDED:
        check(f"finish-args grant {arg}", arg in finish_args, finish_args)
    check("no network access is granted", "--share=network" not in finish_args, finish_args)

    modules = manifest.get("modules", [])
    names = [m.get("name") for m in modules]
    check("modules: pcsc-lite, opensc, then tessera", names == ["pcsc-lite", "opensc", "tessera"], names)
    for module in modules:
        for source in module.get("sources", []):
            if source.get("type") == "archive":
                check(f"{module['name']}: the archive has a sha256",
                      len(source.get("sha256", "")) == 64, source)
    tessera = modules[-1] if modules else {}
    sources = tessera.get("sources", [{}])
    check("tessera is built from this source tree (a dir source at ..)",
          sources[0].get("type") == "dir" and sources[0].get("path") == "..", sources)
    source_root = os.path.normpath(os.path.join(os.path.dirname(MANIFEST), sources[0].get("path", "")))
    check("that path is the top of the tree", os.path.exists(os.path.join(source_root, "meson.build")) and
          os.path.isdir(os.path.join(source_root, "src", "core")), source_root)
    return report()


if __name__ == "__main__":
    sys.exit(main())
