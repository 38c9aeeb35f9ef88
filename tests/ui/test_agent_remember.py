# test_agent_remember.py: a remembered PIN, and forgetting it
#
# gnome-keyring as the Secret Service in the test's own session, a SoftHSM
# token with an EC key pair and a private ssh-agent.  With "Remember PINs"
# on: the first "Add to SSH Agent" asks for the PIN, with Remember PIN
# checked, and stores it in the keyring (secret-tool finds it); the next
# time the switch adds the keys without asking.  Preferences' "Forget
# All…" asks first, then empties the keyring, and the switch asks for the
# PIN again; Cancel leaves it off.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, click, find, log,
                        plain, run, screenshot, wait_for)
from test_agent_switch import (Agent, SWITCH, agent_switch, dialog_gone, open_token, toggle,
                               wait_for_subtitle)

NAME = 'test_agent_remember'
TOKEN = 'Agent Test'
SO_PIN = '12345678'
PIN = '123456'
DIALOG = f'Add “{TOKEN}” to the SSH Agent'
SCHEMA = 'app.tessera.Tessera.Pin'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def remembered():
    """What the keyring holds for Tessera's PIN schema, as secret-tool prints it."""
    result = subprocess.run(['secret-tool', 'search', '--all', 'xdg:schema', SCHEMA],
                            capture_output=True, text=True, timeout=10)
    return result.stdout + result.stderr


def n_keys(agent):
    return len([l for l in agent.list().splitlines() if 'SHA256:' in l])


def start_keyring(context):
    """gnome-keyring in this test's D-Bus session, unlocked with a password
    (an empty one would need a prompter)."""
    if shutil.which('gnome-keyring-daemon') is None or shutil.which('secret-tool') is None:
        log('# gnome-keyring-daemon or secret-tool is missing: skipping')
        sys.exit(77)
    keyring = subprocess.Popen(['gnome-keyring-daemon', '--foreground', '--unlock',
                                '--components=secrets'],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    keyring.stdin.write(b'testpass')
    keyring.stdin.close()

    def stop():
        keyring.terminate()
        keyring.wait(timeout=10)
    context.defer(stop)
    wait_for('the keyring to answer',
             lambda: subprocess.run(['secret-tool', 'search', '--all', 'xdg:schema', SCHEMA],
                                    capture_output=True, timeout=10).returncode in (0, 1),
             timeout=10)


def test(context):
    start_keyring(context)

    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(TOKEN, SO_PIN, PIN)
    hsm.keypairgen(TOKEN, PIN, 'EC:prime256v1', '01', 'EC key')

    work = tempfile.mkdtemp(prefix='tessera-ui-agent.')
    context.defer(lambda: shutil.rmtree(work, ignore_errors=True))
    agent = Agent(work, hsm.env)
    context.defer(agent.stop)

    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', 'remember-pins', 'true'],
                   check=True)
    expect(SCHEMA not in remembered(), 'the keyring holds a PIN before the test')

    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE, SSH_AUTH_SOCK=agent.sock)
    tessera = Tessera(NAME, env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    open_token(window)
    wait_for_subtitle(window, 'Not in the agent')

    # Nothing remembered yet: the dialog asks, with Remember PIN checked
    toggle(agent_switch(window))
    dialog = tessera.window(DIALOG)
    remember = find(dialog, 'check box', contains='Remember PIN')
    expect(remember.checked, 'Remember PIN is not checked with remember-pins on')
    find(dialog, 'password text', 'PIN').text = PIN
    add = find(dialog, 'push button', 'Add')
    wait_for('the Add button to be enabled', lambda: add.sensitive)
    click(add)
    wait_for('the dialog to close', lambda: dialog_gone(tessera, DIALOG))
    wait_for('the key in the agent', lambda: n_keys(agent) == 1, timeout=10)
    wait_for('the PIN in the keyring', lambda: SCHEMA in remembered(), timeout=10)
    expect(f'secret = {PIN}' in remembered(), f'the keyring holds another PIN: {remembered()!r}')
    wait_for_subtitle(window, 'All keys are in the agent')

    # Off, then on again: the remembered PIN, no dialog
    toggle(agent_switch(window))
    wait_for('the agent to be empty', lambda: n_keys(agent) == 0, timeout=10)
    wait_for_subtitle(window, 'Not in the agent')
    toggle(agent_switch(window))
    wait_for('the key back in the agent', lambda: n_keys(agent) == 1, timeout=10)
    expect(dialog_gone(tessera, DIALOG), 'the PIN dialog opened with a remembered PIN')
    wait_for_subtitle(window, 'All keys are in the agent')
    find(window, 'label', f'Keys of “{TOKEN}” added to the SSH agent')
    screenshot(NAME + '-remembered')

    # Preferences: Forget All… asks first, then empties the keyring
    from dogtail import rawinput
    rawinput.absoluteMotion(400, 300)
    rawinput.keyCombo('<Control>comma')
    preferences = tessera.window('Preferences')
    click(find(preferences, 'page tab', 'General', visible=None))
    forget = find(preferences, 'push button', 'Forget All Remembered PINs')
    screenshot(NAME + '-preferences')
    click(forget)
    confirm = tessera.window('Forget All Remembered PINs?')
    find(confirm, 'label', contains='asked for its PIN again')
    screenshot(NAME + '-forget-confirm')
    click(find(confirm, 'push button', 'Forget PINs'))
    find(preferences, 'label', 'Remembered PINs forgotten')
    wait_for('the keyring to be empty', lambda: SCHEMA not in remembered(), timeout=10)
    click(find(preferences, 'push button', 'Close'))
    wait_for('Preferences to close', lambda: dialog_gone(tessera, 'Preferences'))

    # The switch asks again; Cancel leaves it off
    toggle(agent_switch(window))
    wait_for('the agent to be empty', lambda: n_keys(agent) == 0, timeout=10)
    wait_for_subtitle(window, 'Not in the agent')
    toggle(agent_switch(window))
    dialog = tessera.window(DIALOG)
    click(find(dialog, 'push button', 'Cancel'))
    wait_for('the dialog to close', lambda: dialog_gone(tessera, DIALOG))
    wait_for('the switch to be off', lambda: not agent_switch(window).checked)
    expect(n_keys(agent) == 0, 'Cancel put keys in the agent')

    tessera.check_alive()
    tessera.quit()


if __name__ == '__main__':
    run(NAME, test)
