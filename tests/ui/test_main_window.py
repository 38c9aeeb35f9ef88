# test_main_window.py: a person finds their token, logs in and sees its keys
#
# A SoftHSM token with an RSA and an EC key pair.  Through AT-SPI, as a
# screen reader user would: the token is in the sidebar under its module,
# its page lists the public keys, a wrong PIN is refused in the dialog
# with the core's message, the right PIN shows the private keys, and a
# click on a key's row opens its details, which show its objects.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dogtail import rawinput
from gi.repository import Atspi

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, absent, click,
                        find, find_all, log, plain, run, screenshot, wait_for)

TOKEN = 'UI Test'
SO_PIN = '12345678'
PIN = '123456'
WRONG_PIN = '654321'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def key_row(window, label):
    keys = find(window, 'list', 'Keys')
    return find(keys, 'list item', label)


def log_in(tessera, window, pin):
    click(find(window, 'push button', 'Log In…'))
    dialog = tessera.window(f'Log In to “{TOKEN}”')

    entry = find(dialog, 'password text', 'PIN')
    entry.text = pin
    button = find(dialog, 'push button', 'Log In')
    wait_for('the Log In button to be enabled', lambda: button.sensitive)
    click(button)
    return dialog, entry


def test(context):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(TOKEN, SO_PIN, PIN)
    hsm.keypairgen(TOKEN, PIN, 'rsa:2048', '01', 'SSH key')
    hsm.keypairgen(TOKEN, PIN, 'EC:prime256v1', '02', 'EC key')

    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE, G_MESSAGES_DEBUG='Tessera')
    tessera = Tessera('test_main_window', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    # With tokens there, the content goes from loading straight to the
    # first token: never through the empty page ("No Cards or Tokens"),
    # which would flash and cost a layout of its text
    def pages_shown():
        with open(tessera.log_path) as f:
            return [line.split('Content: ', 1)[1].strip() for line in f if 'Content: ' in line]
    wait_for('a token page', lambda: 'token' in pages_shown())
    expect(pages_shown()[:1] == ['token'] and 'empty' not in pages_shown(),
           f'the content showed {pages_shown()} on the way to the first token')

    # The sidebar: the token under its module, with its state
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', TOKEN)
    find(row, 'label', 'Software token')
    find(sidebar, 'label', 'SoftHSM')
    # SoftHSM always offers a free slot too
    find(sidebar, 'list item', 'Uninitialized token')

    # Open the token
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for('the token to be selected', lambda: row.selected)
    find(window, 'label', 'Private keys are hidden until you log in')

    # Before login only the public keys are there
    ssh_key = key_row(window, 'SSH key')
    expect('RSA 2048' in ssh_key.description, f'SSH key is {ssh_key.description!r}')
    expect('Public key only' in ssh_key.description, f'SSH key is {ssh_key.description!r}')
    expect('ID 01' in ssh_key.description, f'SSH key is {ssh_key.description!r}')
    ec_key = key_row(window, 'EC key')
    expect('ECDSA P-256' in ec_key.description, f'EC key is {ec_key.description!r}')

    # The page shows only states that ask for action: the token's flags
    # in words, and what it says of itself, are on Token Details
    expect(find_all(window, 'label', 'Some functions need a login with the user PIN.',
                    visible=True) == [],
           'the token page lists a flag that asks for nothing')
    expect(find_all(window, 'list', 'Token', visible=True) == [],
           'the token page shows the token information on its first screen')
    click(find(window, 'push button', 'Token Details'))
    info = find(window, 'list', 'Token')
    find(info, 'label', 'SoftHSM project')
    find(info, 'label', SOFTHSM_MODULE)
    find(info, 'label', '4–255 characters')
    find(window, 'label', 'Some functions need a login with the user PIN.')
    screenshot('test_main_window-token-details')
    click(find(window, 'push button', 'Back'))
    wait_for('the token page again', lambda: find_all(window, 'list', 'Token', visible=True) == [])

    # A wrong PIN: the dialog stays, says why, and forgets the PIN
    dialog, entry = log_in(tessera, window, WRONG_PIN)
    error = find(dialog, 'label', contains='Wrong PIN')
    log(f'# wrong PIN: {plain(error.name)!r}')
    # AT-SPI does not read a password entry back; the dialog enables
    # Log In only while the entry holds a PIN
    expect(not find(dialog, 'push button', 'Log In').sensitive,
           'the PIN entry still holds the wrong PIN')
    expect(find_all(window, 'list item', 'Logged in') == [],
           'logged in with a wrong PIN')
    screenshot('test_main_window-wrong-pin')

    # The right PIN
    entry.text = PIN
    button = find(dialog, 'push button', 'Log In')
    wait_for('the Log In button to be enabled', lambda: button.sensitive)
    click(button)
    wait_for('the PIN dialog to close',
             lambda: not any(plain(w.name) == f'Log In to “{TOKEN}”'
                             for w in tessera.app.children))

    find(window, 'list item', 'Logged in')
    wait_for('the SSH key to show its private key',
             lambda: 'Private' in key_row(window, 'SSH key').description)
    wait_for('the EC key to show its private key',
             lambda: 'Private' in key_row(window, 'EC key').description)
    ssh_key = key_row(window, 'SSH key')
    log(f'# SSH key: {ssh_key.description!r}')
    expect('RSA 2048' in ssh_key.description, f'SSH key is {ssh_key.description!r}')
    find(sidebar, 'image', 'Logged in')

    # A click on the row opens the key's details: every object with its
    # attributes.  Without a window manager the window sits at the
    # screen's origin, so window coordinates are screen coordinates.
    title = find(ssh_key, 'label', 'SSH key')
    e = title.queryComponent().getExtents(Atspi.CoordType.WINDOW)
    rawinput.click(e.x + e.width // 2, e.y + e.height // 2)
    details_title = find(window, 'label', 'SSH key', timeout=10)
    find(window, 'label', 'Private Key')
    find(window, 'label', 'Public Key')
    find(window, 'label', 'Sensitive')
    uri = find(window, 'label', contains='pkcs11:')
    expect('object=SSH%20key' in plain(uri.name), f'the URI is {uri.name!r}')
    screenshot('test_main_window-details')
    click(find(window, 'push button', 'Back'))
    absent(window, 'label', 'Sensitive')

    tessera.check_alive()
    screenshot('test_main_window')
    tessera.quit()


if __name__ == '__main__':
    run('test_main_window', test)
