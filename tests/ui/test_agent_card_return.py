# test_agent_card_return.py: a card leaves the agent when pulled, and comes back
#
# The test module forwards to SoftHSM and makes its token come and go on
# demand; pkcs11-spy (under /usr/lib, so ssh-agent loads it) forwards to
# the test module, in the app and in the agent alike.  With the PIN
# remembered: pulling the card takes its key out of the agent and a toast
# says so; putting it back puts the key back, with a toast.  Without a
# remembered PIN, the toast on return offers "Add", which asks for the PIN.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_ui import (SoftHSM, Tessera, UITestFailure, click, find, find_all, log, run,
                        screenshot, wait_for)
from test_agent_remember import SCHEMA, n_keys, remembered, start_keyring
from test_agent_switch import Agent, agent_switch, dialog_gone, toggle, wait_for_subtitle

NAME = 'test_agent_card_return'
TOKEN = 'Card'
SO_PIN = '12345678'
PIN = '123456'
DIALOG = f'Add “{TOKEN}” to the SSH Agent'
SPY = '/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def toast(window, text):
    """Waits for a toast and dismisses it.  Without a window manager the
    window is never active, so libadwaita never times a toast out, and the
    next one would wait behind it."""
    label = find(window, 'label', text)
    toast = label.parent.parent
    buttons = [b for b in toast.children if b.roleName == 'push button']
    click(buttons[-1])
    wait_for(f'the toast {text!r} to go', lambda: not find_all(window, 'label', text))


def test(context):
    testmod = os.environ.get('TESSERA_TESTMOD')
    if not testmod or not os.path.exists(testmod):
        raise UITestFailure(f'TESSERA_TESTMOD does not name the built test module: {testmod!r}')
    if not os.path.exists(SPY):
        log(f'# {SPY} is missing (opensc): skipping')
        sys.exit(77)
    start_keyring(context)

    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(TOKEN, SO_PIN, PIN)
    hsm.keypairgen(TOKEN, PIN, 'EC:prime256v1', '01', 'card key')

    control = os.path.join(hsm.dir, 'control')

    def present(value):
        with open(control, 'w') as f:
            f.write(f'present={1 if value else 0}\n')
    present(True)

    env = dict(hsm.env, TESSERA_TESTMOD_CONTROL=control, PKCS11SPY=testmod,
               PKCS11SPY_OUTPUT='/dev/null')
    work = tempfile.mkdtemp(prefix='tessera-ui-agent.')
    context.defer(lambda: shutil.rmtree(work, ignore_errors=True))
    agent = Agent(work, env)
    context.defer(agent.stop)

    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', 'remember-pins', 'true'],
                   check=True)
    tessera = Tessera(NAME, dict(env, TESSERA_MODULES=SPY, SSH_AUTH_SOCK=agent.sock))
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', TOKEN)
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for('the token to be selected', lambda: row.selected)
    wait_for_subtitle(window, 'Not in the agent')

    toggle(agent_switch(window))
    dialog = tessera.window(DIALOG)
    find(dialog, 'password text', 'PIN').text = PIN
    add = find(dialog, 'push button', 'Add')
    wait_for('the Add button to be enabled', lambda: add.sensitive)
    click(add)
    wait_for('the dialog to close', lambda: dialog_gone(tessera, DIALOG))
    wait_for('the key in the agent', lambda: n_keys(agent) == 1, timeout=10)
    wait_for('the PIN in the keyring', lambda: SCHEMA in remembered(), timeout=10)
    toast(window, f'Keys of “{TOKEN}” added to the SSH agent')

    # Pulled: the key leaves the agent, and a toast says so
    present(False)
    wait_for('the key to leave the agent', lambda: n_keys(agent) == 0, timeout=15)
    find(window, 'label', f'“{TOKEN}” was removed; its keys left the SSH agent')
    screenshot(NAME + '-removed')
    toast(window, f'“{TOKEN}” was removed; its keys left the SSH agent')

    # Back, with the PIN remembered: the key is back
    present(True)
    wait_for('the key back in the agent', lambda: n_keys(agent) == 1, timeout=15)
    find(window, 'label', f'“{TOKEN}” is back; its keys are back in the SSH agent')
    wait_for_subtitle(window, 'All keys are in the agent')
    screenshot(NAME + '-returned')
    toast(window, f'“{TOKEN}” is back; its keys are back in the SSH agent')

    # Without a remembered PIN: the toast offers Add, which asks for the PIN
    subprocess.run(['secret-tool', 'clear', 'xdg:schema', SCHEMA], check=True)
    wait_for('the keyring to be empty', lambda: SCHEMA not in remembered(), timeout=10)
    present(False)
    wait_for('the key to leave the agent', lambda: n_keys(agent) == 0, timeout=15)
    toast(window, f'“{TOKEN}” was removed; its keys left the SSH agent')
    present(True)
    find(window, 'label', f'“{TOKEN}” is back; add its keys to the SSH agent again?')
    screenshot(NAME + '-offer')
    click(find(window, 'push button', 'Add'))
    dialog = tessera.window(DIALOG)
    find(dialog, 'password text', 'PIN').text = PIN
    add = find(dialog, 'push button', 'Add')
    wait_for('the Add button to be enabled', lambda: add.sensitive)
    click(add)
    wait_for('the dialog to close', lambda: dialog_gone(tessera, DIALOG))
    wait_for('the key back in the agent', lambda: n_keys(agent) == 1, timeout=10)

    tessera.check_alive()
    tessera.quit()


if __name__ == '__main__':
    run(NAME, test)
