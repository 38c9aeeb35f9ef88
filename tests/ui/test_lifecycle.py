# test_lifecycle.py: initialize a token, change its PIN, create a software token
#
# Everything goes through the dialogs as a person would use them, and
# pkcs11-tool checks the result from outside:
# - the blank SoftHSM slot is initialized, and logs in with the new PIN;
#   its form checks each field as it is typed (too short, PINs that do not
#   match, a label longer than 32 bytes) and keeps Initialize… disabled
#   until every field is right; Tab from the last field goes to it;
# - Escape after the token refused the SO PIN closes the dialog, and the
#   next keys reach the main window without a critical (the app runs with
#   fatal criticals);
# - a token with keys asks for its label to be typed, names the keys it
#   will destroy, and holds no objects afterwards;
# - a PIN change lets the new PIN in and keeps the old one out;
# - Create Software Token writes the user's SoftHSM config in a private
#   home and the new token appears, selected.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import subprocess
import sys
import time

from dogtail import rawinput

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, click, find,
                        find_all, on_screen, plain, press_in, run, screenshot, wait_for)

SO_PIN = '12345678'
PIN = '123456'
NEW_PIN = '654321'
KEYS_TOKEN = 'Keys Token'
KEY_LABEL = 'Doomed key'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def pkcs11_tool(env, *args):
    return subprocess.run(['pkcs11-tool', '--module', SOFTHSM_MODULE, *args],
                          env=env, capture_output=True, text=True)


def window_gone(tessera, title):
    wait_for(f'the window {title!r} to close',
             lambda: not any(plain(w.name) == title for w in tessera.app.children),
             timeout=30)


def select(window, label):
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', label)
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for(f'{label!r} to be selected', lambda: row.selected)
    return row


def token_details(window):
    """Opens the token's Token Details, where its PIN operations are."""
    click(find(window, 'push button', 'Token Details'))
    find(window, 'list', 'PINs and Initialization')


def fill(dialog, role, name, text):
    # GTK 4.8 does not read an entry's text back through AT-SPI: the
    # buttons that need every field filled show that it was taken.  An
    # entry row (a PIN row too) is a "text" named by its title.
    find(dialog, role, name).text = text


def live_validation(dialog, button):
    """Each field says what is wrong as it is typed; the action waits."""
    fill(dialog, 'text', 'Label', 'ä' * 17)
    find(dialog, 'label', contains='At most 32 bytes')
    fill(dialog, 'text', 'New SO PIN', '12')
    find(dialog, 'label', 'At least 4 characters')
    fill(dialog, 'text', 'Repeat New SO PIN', '1234')
    find(dialog, 'label', 'PINs don’t match')
    fill(dialog, 'text', 'New PIN', PIN)
    fill(dialog, 'text', 'Repeat New PIN', PIN)
    screenshot('test_lifecycle-initialize-invalid')
    expect(not button.sensitive, 'Initialize… is enabled with a wrong form')
    fill(dialog, 'text', 'Label', 'Through UI')
    fill(dialog, 'text', 'New SO PIN', SO_PIN)
    expect(not button.sensitive, 'Initialize… is enabled with SO PINs that differ')


def initialize_blank(tessera, hsm, window):
    select(window, 'Uninitialized token')
    find(window, 'label', 'This token is not initialized')
    screenshot('test_lifecycle-blank')
    click(find(window, 'push button', 'Initialize…'))

    dialog = tessera.window('Initialize “Uninitialized token”')
    find(dialog, 'label', contains='characters long')
    button = find(dialog, 'push button', 'Initialize…')
    expect(not button.sensitive, 'Initialize… is enabled with empty fields')
    expect(find(dialog, 'push button', 'Cancel').sensitive, 'the dialog has no Cancel')
    live_validation(dialog, button)
    fill(dialog, 'text', 'Repeat New SO PIN', SO_PIN)
    wait_for('Initialize… to be enabled', lambda: button.sensitive)
    screenshot('test_lifecycle-initialize-dialog')

    # Tab from the last field goes to Initialize…, not around to Cancel
    press_in(find(dialog, 'text', 'Repeat New PIN'), 'Tab')
    wait_for('Initialize… to have the focus', lambda: button.focused)
    click(button)

    confirmation = tessera.window('Erase “Uninitialized token”?')
    find(confirmation, 'label', contains='will be destroyed')
    # A blank token holds nothing: no label to type
    expect(find_all(confirmation, 'text', 'Token label') == [],
           'a blank token asks for its label to be typed')
    click(find(confirmation, 'push button', 'Erase and Initialize'))

    window_gone(tessera, 'Initialize “Uninitialized token”')
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', 'Through UI', timeout=30)
    wait_for('the new token to be selected', lambda: row.selected)
    find(window, 'label', '“Through UI” initialized')
    screenshot('test_lifecycle-initialized')

    result = pkcs11_tool(hsm.env, '--token-label', 'Through UI', '--login', '--pin', PIN, '-O')
    expect(result.returncode == 0,
           f'pkcs11-tool cannot log in to the new token: {result.stdout}{result.stderr}')


def initialize_keys_token(tessera, window, so_pin):
    """Opens Initialize on the token with keys, fills it and clicks
    Initialize…; returns the dialog and its confirmation."""
    select(window, KEYS_TOKEN)
    token_details(window)
    click(find(window, 'push button', 'Initialize Token…'))

    dialog = tessera.window(f'Initialize “{KEYS_TOKEN}”')
    fill(dialog, 'text', 'Current SO PIN', so_pin)
    fill(dialog, 'text', 'New PIN', PIN)
    fill(dialog, 'text', 'Repeat New PIN', PIN)
    button = find(dialog, 'push button', 'Initialize…')
    wait_for('Initialize… to be enabled', lambda: button.sensitive)
    click(button)
    return dialog, tessera.window(f'Erase “{KEYS_TOKEN}”?')


def escape_after_error(tessera, window):
    """The token refuses the SO PIN; Escape then closes the dialog with the
    focus in a PIN field, and the keys after it must not reach what was
    destroyed (GTK 4.8's password entry kept a caps-lock handler)."""
    dialog, confirmation = initialize_keys_token(tessera, window, '87654321')
    find(confirmation, 'text', 'Token label').text = KEYS_TOKEN
    erase = find(confirmation, 'push button', 'Erase and Initialize')
    wait_for('Erase and Initialize to be enabled', lambda: erase.sensitive)
    click(erase)
    find(dialog, 'label', contains='Wrong SO PIN', timeout=30)
    screenshot('test_lifecycle-wrong-so-pin')

    press_in(find(dialog, 'text', 'Current SO PIN'), 'Escape')
    window_gone(tessera, f'Initialize “{KEYS_TOKEN}”')
    rawinput.absoluteMotion(640, 400)
    for key in ('Tab', 'Shift_L', 'Caps_Lock', 'Caps_Lock', 'Tab'):
        rawinput.pressKey(key)
        time.sleep(0.3)
    time.sleep(1)
    tessera.check_alive()


def initialize_with_keys(tessera, hsm, window):
    dialog, confirmation = initialize_keys_token(tessera, window, SO_PIN)
    find(confirmation, 'label', KEY_LABEL)
    find(confirmation, 'label', contains='Private objects are shown only after you log in')
    erase = find(confirmation, 'push button', 'Erase and Initialize')
    expect(not erase.sensitive, 'the token can be erased without typing its label')
    entry = find(confirmation, 'text', 'Token label')
    entry.text = 'Keys'
    expect(not erase.sensitive, 'a part of the label enables erasing')
    screenshot('test_lifecycle-confirm')
    entry.text = KEYS_TOKEN
    wait_for('Erase and Initialize to be enabled', lambda: erase.sensitive)
    click(erase)

    window_gone(tessera, f'Initialize “{KEYS_TOKEN}”')
    find(window, 'label', f'“{KEYS_TOKEN}” initialized')

    result = pkcs11_tool(hsm.env, '--token-label', KEYS_TOKEN, '--login', '--pin', PIN, '-O')
    expect(result.returncode == 0, f'pkcs11-tool failed: {result.stdout}{result.stderr}')
    expect(KEY_LABEL not in result.stdout and 'Private Key Object' not in result.stdout,
           f'the token still holds objects: {result.stdout}')


def change_pin(tessera, hsm, window):
    select(window, 'Through UI')
    # Not on the token's page: its first screen is the keys
    expect(find_all(window, 'push button', 'Change PIN…', visible=True) == [],
           'the token page offers Change PIN… on a token that asks for nothing')
    token_details(window)
    click(find(window, 'push button', 'Change PIN…'))

    dialog = tessera.window('Change PIN')
    find(dialog, 'label', contains='characters long')
    fill(dialog, 'text', 'Current PIN', PIN)
    fill(dialog, 'text', 'New PIN', NEW_PIN)
    fill(dialog, 'text', 'Repeat New PIN', NEW_PIN)
    button = find(dialog, 'push button', 'Change')
    wait_for('Change to be enabled', lambda: button.sensitive)
    screenshot('test_lifecycle-change-pin')
    click(button)
    window_gone(tessera, 'Change PIN')
    find(window, 'label', 'PIN of “Through UI” changed')

    new = pkcs11_tool(hsm.env, '--token-label', 'Through UI', '--login', '--pin', NEW_PIN, '-O')
    expect(new.returncode == 0, f'the new PIN does not log in: {new.stdout}{new.stderr}')
    old = pkcs11_tool(hsm.env, '--token-label', 'Through UI', '--login', '--pin', PIN, '-O')
    expect(old.returncode != 0, 'the old PIN still logs in')


def final_try_narrow(context, hsm):
    """Change PIN on the final try, in a 360 pixel window: the dialog warns,
    and only a deliberate "Use Last Try" spends the try.  The token asks for
    new PINs, and its page says so."""
    testmod = os.environ.get('TESSERA_TESTMOD')
    if not testmod or not os.path.exists(testmod):
        raise UITestFailure(f'TESSERA_TESTMOD does not name the built test module: {testmod!r}')

    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', 'window-width', '360'], check=True)
    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', 'window-height', '640'], check=True)

    # The token also asks for new PINs, as opencryptoki's fresh token does
    env = dict(hsm.env, TESSERA_MODULES=testmod, TESSERA_TESTMOD_PIN_FINAL_TRY='1',
               TESSERA_TESTMOD_PINS_TO_BE_CHANGED='1')
    tessera = Tessera('test_lifecycle-final-try', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', 'Through UI')
    e = row.queryComponent().getExtents(0)
    rawinput.click(e.x + e.width // 2, e.y + e.height // 2)
    find(window, 'push button', 'Back')
    find(window, 'label', 'This token asks for new PINs')
    find(window, 'push button', 'Change SO PIN…')
    screenshot('test_lifecycle-narrow-token')

    token_details(window)
    screenshot('test_lifecycle-narrow-pins')
    change = find_all(window, 'push button', 'Change PIN…')[-1]
    click(change)
    dialog = tessera.window('Last Try')
    find(dialog, 'label', contains='This is the last try before the PIN is locked')
    find(dialog, 'label', contains='1 try left')
    fill(dialog, 'text', 'Current PIN', NEW_PIN)
    fill(dialog, 'text', 'New PIN', PIN)
    fill(dialog, 'text', 'Repeat New PIN', PIN)
    expect(find_all(dialog, 'push button', 'Change') == [],
           'the last try is offered as a plain Change')
    use_last_try = find(dialog, 'push button', 'Use Last Try')
    wait_for('Use Last Try to be enabled', lambda: use_last_try.sensitive)
    screenshot('test_lifecycle-narrow-final-try')
    click(use_last_try)
    window_gone(tessera, 'Last Try')
    find(window, 'label', 'PIN of “Through UI” changed')

    new = pkcs11_tool(hsm.env, '--token-label', 'Through UI', '--login', '--pin', PIN, '-O')
    expect(new.returncode == 0, f'the new PIN does not log in: {new.stdout}{new.stderr}')
    tessera.quit()
    for key in ('window-width', 'window-height'):
        subprocess.run(['gsettings', 'reset', 'app.tessera.Tessera', key], check=True)


def unblock(context, hsm):
    """A locked PIN cannot be changed: the dialog offers Unblock, which sets
    a new PIN with the SO PIN."""
    testmod = os.environ['TESSERA_TESTMOD']
    env = dict(hsm.env, TESSERA_MODULES=testmod, TESSERA_TESTMOD_PIN_LOCKED='1')
    tessera = Tessera('test_lifecycle-unblock', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    select(window, 'Through UI')

    token_details(window)
    click(find_all(window, 'push button', 'Change PIN…')[-1])
    dialog = tessera.window('PIN Locked')
    find(dialog, 'label', contains='the SO PIN can unblock it')
    expect(find_all(dialog, 'text') == [] or
           all(not on_screen(e) for e in find_all(dialog, 'text')),
           'the locked PIN dialog asks for a PIN')
    click(find(dialog, 'push button', 'Unblock PIN…'))
    window_gone(tessera, 'PIN Locked')

    dialog = tessera.window('Unblock PIN')
    fill(dialog, 'text', 'SO PIN', SO_PIN)
    fill(dialog, 'text', 'New PIN', NEW_PIN)
    fill(dialog, 'text', 'Repeat New PIN', NEW_PIN)
    button = find(dialog, 'push button', 'Unblock')
    wait_for('Unblock to be enabled', lambda: button.sensitive)
    screenshot('test_lifecycle-unblock')
    click(button)
    window_gone(tessera, 'Unblock PIN')
    find(window, 'label', 'PIN of “Through UI” unblocked')

    new = pkcs11_tool(hsm.env, '--token-label', 'Through UI', '--login', '--pin', NEW_PIN, '-O')
    expect(new.returncode == 0, f'the unblocked PIN does not log in: {new.stdout}{new.stderr}')
    tessera.quit()


def software_token(context):
    home = os.environ['HOME']
    config = os.path.join(home, '.config', 'softhsm2', 'softhsm2.conf')
    expect(not os.path.exists(config), f'{config} exists before the test')

    env = dict(os.environ)
    env.pop('SOFTHSM2_CONF', None)
    env.pop('TESSERA_MODULES', None)
    tessera = Tessera('test_lifecycle-software-token', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    menu = find(window, 'push button', 'Main Menu')
    click(find(menu, 'push button', 'Main Menu', visible=None) if find_all(menu, 'push button', 'Main Menu') else menu)
    click(find(tessera.app, 'menu item', 'Create Software Token…'))

    dialog = tessera.window('Create Software Token')
    find(dialog, 'label', contains=config)
    fill(dialog, 'text', 'Label', 'My Software Token')
    fill(dialog, 'text', 'New SO PIN', SO_PIN)
    fill(dialog, 'text', 'Repeat New SO PIN', SO_PIN)
    fill(dialog, 'text', 'New PIN', PIN)
    fill(dialog, 'text', 'Repeat New PIN', PIN)
    screenshot('test_lifecycle-software-token-dialog')
    button = find(dialog, 'push button', 'Create')
    wait_for('Create to be enabled', lambda: button.sensitive)
    click(button)
    window_gone(tessera, 'Create Software Token')

    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', 'My Software Token', timeout=30)
    wait_for('the new token to be selected', lambda: row.selected)
    screenshot('test_lifecycle-software-token')
    expect(os.path.exists(config), f'{config} was not written')

    result = pkcs11_tool(env, '--token-label', 'My Software Token', '--login', '--pin', PIN, '-O')
    expect(result.returncode == 0,
           f'pkcs11-tool cannot log in to the software token: {result.stdout}{result.stderr}')
    tessera.quit()


def test(context):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(KEYS_TOKEN, SO_PIN, PIN)
    hsm.keypairgen(KEYS_TOKEN, PIN, 'EC:prime256v1', '01', KEY_LABEL)

    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE)
    tessera = Tessera('test_lifecycle', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    initialize_blank(tessera, hsm, window)
    escape_after_error(tessera, window)
    initialize_with_keys(tessera, hsm, window)
    change_pin(tessera, hsm, window)
    tessera.quit()

    final_try_narrow(context, hsm)
    unblock(context, hsm)

    software_token(context)


if __name__ == '__main__':
    run('test_lifecycle', test)
