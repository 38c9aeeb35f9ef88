# test_german_journey.py: the main journey, in German
#
# Tessera under de_DE.UTF-8 with LANGUAGE=de, its catalog from the build
# tree (TESSERA_LOCALEDIR).  Through AT-SPI, as a German screen reader user
# would: the token is in the sidebar „Karten und Token“, a wrong PIN is
# refused in the German PIN dialog with the core's German message, the
# right one logs in, and „SSH-Schlüssel von … kopieren“ puts on the
# clipboard exactly the line ssh-keygen -D prints.  The German names are
# the ones po/de.po gives; an untranslated window fails the test.
#
# de_DE.UTF-8 is generated with localedef into the test's own folder
# (LOCPATH) when the system does not have it.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_ui import (EXE, SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, click, clipboard, find,
                        log, plain, run, screenshot, wait_for)

TOKEN = 'Reisekarte'
SO_PIN = '12345678'
PIN = '123456'
WRONG_PIN = '654321'
LOCALE = 'de_DE.UTF-8'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def german_env(hsm):
    """de_DE.UTF-8, generated when missing, and the build's catalogs."""
    env = dict(hsm.env)
    have = subprocess.run(['locale', '-a'], capture_output=True, text=True).stdout.split()
    if not any(name.lower().replace('-', '') == 'de_de.utf8' for name in have):
        locpath = os.path.join(hsm.dir, 'locale')
        os.makedirs(locpath)
        subprocess.run(['localedef', '-i', 'de_DE', '-f', 'UTF-8', os.path.join(locpath, LOCALE)],
                       check=True, capture_output=True)
        env['LOCPATH'] = locpath
    # EXE is BUILD/src/ui/tessera; msgfmt put the catalog in BUILD/po/de/LC_MESSAGES
    build = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(EXE))))
    localedir = os.path.join(build, 'po')
    expect(os.path.exists(os.path.join(localedir, 'de', 'LC_MESSAGES', 'tessera.mo')),
           f'no German catalog under {localedir}')
    env.update(LANG=LOCALE, LC_ALL=LOCALE, LANGUAGE='de', TESSERA_LOCALEDIR=localedir,
               TESSERA_MODULES=SOFTHSM_MODULE)
    return env


def test(context):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(TOKEN, SO_PIN, PIN)
    hsm.keypairgen(TOKEN, PIN, 'EC:prime256v1', '01', 'Reiseschlüssel')
    keygen = hsm.run('ssh-keygen', '-D', SOFTHSM_MODULE)
    lines = [line for line in keygen.splitlines() if line.startswith('ecdsa-sha2-nistp256 ')]
    expect(len(lines) == 1, f'ssh-keygen -D printed {keygen!r}')

    tessera = Tessera('test_german_journey', german_env(hsm))
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    sidebar = find(window, 'list', 'Karten und Token')
    row = find(sidebar, 'list item', TOKEN)
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for('the token to be selected', lambda: row.selected)
    find(window, 'label', 'Private Schlüssel sind bis zur Anmeldung verborgen')

    # A wrong PIN: the German dialog, and the core's message in German
    click(find(window, 'push button', 'Anmelden …'))
    dialog = tessera.window(f'An „{TOKEN}“ anmelden')
    entry = find(dialog, 'password text', 'PIN')
    entry.text = WRONG_PIN
    button = find(dialog, 'push button', 'Anmelden')
    wait_for('Anmelden to be enabled', lambda: button.sensitive)
    click(button)
    error = find(dialog, 'label', contains='Falsche PIN.')
    log(f'wrong PIN: {plain(error.name)!r}')
    screenshot('german-wrong-pin')

    # The right PIN
    entry.text = PIN
    wait_for('Anmelden to be enabled', lambda: button.sensitive)
    click(button)
    wait_for('the PIN dialog to close',
             lambda: not any(plain(w.name) == f'An „{TOKEN}“ anmelden' for w in tessera.app.children))

    # Copy SSH Key, by its German name: ssh-keygen -D's line, byte for byte
    keys = find(window, 'list', 'Schlüssel')
    key = find(keys, 'list item', 'Reiseschlüssel')
    click(find(key, 'push button', 'SSH-Schlüssel von Reiseschlüssel kopieren'))
    wait_for('the clipboard to hold ssh-keygen -D\'s line', lambda: clipboard() == lines[0].encode())
    screenshot('german-copied')

    tessera.quit()


if __name__ == '__main__':
    run('test_german_journey', test)
