# test_pin_guard.py: the PIN dialog guards the last try and a locked PIN
#
# The test module reports the token's PIN state on demand.  On the final
# try the dialog warns and logs in only after a deliberate confirmation;
# with a locked PIN it offers no login at all and points to the SO PIN.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import sys
import time

from dogtail import rawinput

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_ui import (SoftHSM, Tessera, UITestFailure, click, find, find_all, log,
                        plain, run, screenshot, wait_for)

TOKEN = 'Guard Test'
PIN = '123456'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def open_token(tessera):
    window = tessera.window('Tessera')
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', TOKEN)
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for('the token to be selected', lambda: row.selected)
    return window, row


def final_try(context, hsm, testmod):
    env = dict(hsm.env, TESSERA_MODULES=testmod, TESSERA_TESTMOD_PIN_FINAL_TRY='1')
    tessera = Tessera('test_pin_guard-final-try', env)
    context.defer(tessera.stop)
    window, row = open_token(tessera)

    find(row, 'label', '1 PIN try left')
    find(window, 'label', 'One PIN try is left before the PIN is locked')

    click(find(window, 'push button', 'Log In…'))
    dialog = tessera.window('Last PIN Try')
    find(dialog, 'label', contains='This is the last try before the PIN is locked')

    entry = find(dialog, 'password text', 'PIN')
    entry.text = PIN
    expect(find_all(dialog, 'push button', 'Log In') == [],
           'the last try is offered as a plain Log In')
    use_last_try = find(dialog, 'push button', 'Use Last Try')
    wait_for('Use Last Try to be enabled', lambda: use_last_try.sensitive)
    screenshot('test_pin_guard-final-try')

    # Enter in the entry must not spend the last try.  Without a window
    # manager the X keyboard focus follows the pointer: put it on the dialog.
    rawinput.absoluteMotion(60, 60)
    rawinput.pressKey('Return')
    time.sleep(2)
    tessera.window('Last PIN Try', timeout=1)
    expect(find_all(window, 'list item', 'Logged in') == [], 'Enter spent the last try')

    click(use_last_try)
    wait_for('the dialog to close',
             lambda: not any(plain(w.name) == 'Last PIN Try' for w in tessera.app.children))
    find(window, 'list item', 'Logged in')
    tessera.check_alive()
    tessera.stop()


def locked(context, hsm, testmod):
    env = dict(hsm.env, TESSERA_MODULES=testmod, TESSERA_TESTMOD_PIN_LOCKED='1')
    tessera = Tessera('test_pin_guard-locked', env)
    context.defer(tessera.stop)
    window, row = open_token(tessera)

    find(row, 'label', 'PIN locked')
    find(window, 'list item', 'The PIN is locked')

    click(find(window, 'push button', 'Log In…'))
    dialog = tessera.window('PIN Locked')
    find(dialog, 'label', contains='unblocked with the SO PIN')
    expect(find_all(dialog, 'password text') == [] or
           all(not e.sensitive or not e.showing for e in find_all(dialog, 'password text', visible=True)),
           'the locked PIN dialog asks for a PIN')
    expect(find_all(dialog, 'push button', 'Log In') == [], 'the locked PIN dialog offers to log in')
    screenshot('test_pin_guard-locked')

    click(find(dialog, 'push button', 'Close'))
    wait_for('the dialog to close',
             lambda: not any(plain(w.name) == 'PIN Locked' for w in tessera.app.children))
    expect(find_all(window, 'list item', 'Logged in') == [], 'logged in with a locked PIN')
    tessera.check_alive()


def test(context):
    testmod = os.environ.get('TESSERA_TESTMOD')
    if not testmod or not os.path.exists(testmod):
        raise UITestFailure(f'TESSERA_TESTMOD does not name the built test module: {testmod!r}')

    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(TOKEN, '12345678', PIN)
    hsm.keypairgen(TOKEN, PIN, 'EC:prime256v1', '01', 'Guarded key')

    final_try(context, hsm, testmod)
    locked(context, hsm, testmod)


if __name__ == '__main__':
    run('test_pin_guard', test)
