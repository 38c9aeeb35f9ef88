# test_agent_pin_guard.py: "Add to SSH Agent" guards the last try and a locked PIN
#
# The test module reports the token's PIN state on demand.  Without an
# agent, the switch row says so, and turning it on explains the fix at
# once, before any PIN is asked.  On the final try the add
# dialog warns, Enter does nothing and only "Use Last Try" would add; with
# a locked PIN the dialog asks for no PIN and explains the SO PIN.  Closing
# either leaves the switch off.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import shutil
import sys
import tempfile
import time

from dogtail import rawinput

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_ui import (SoftHSM, Tessera, UITestFailure, click, find, find_all, plain, run,
                        screenshot, wait_for)
from test_agent_switch import (Agent, agent_switch, dialog_gone, switch_row, toggle,
                               wait_for_subtitle)

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
    return window


def environment(hsm, testmod, agent, **flags):
    env = dict(hsm.env, TESSERA_MODULES=testmod, **flags)
    if agent is None:
        env.pop('SSH_AUTH_SOCK', None)
    else:
        env['SSH_AUTH_SOCK'] = agent.sock
    return env


def no_agent(context, hsm, testmod):
    tessera = Tessera('test_agent_pin_guard-no-agent',
                      environment(hsm, testmod, None, TESSERA_TESTMOD_PIN_FINAL_TRY='1'))
    context.defer(tessera.stop)
    window = open_token(tessera)

    # The row says why, and the switch explains it without asking a PIN
    wait_for_subtitle(window, 'SSH_AUTH_SOCK is not set')
    toggle(agent_switch(window))
    error = tessera.window('No SSH Agent')
    find(error, 'label', contains='SSH_AUTH_SOCK')
    expect(dialog_gone(tessera, 'Last PIN Try'), 'a PIN was asked with no agent to take it')
    screenshot('test_agent_pin_guard-no-agent')
    click(find(error, 'push button', 'Close'))
    wait_for('the error to close', lambda: dialog_gone(tessera, 'No SSH Agent'))
    wait_for('the switch to be off', lambda: not agent_switch(window).checked)
    tessera.check_alive()
    tessera.stop()


def final_try(context, hsm, testmod, agent):
    tessera = Tessera('test_agent_pin_guard-final-try',
                      environment(hsm, testmod, agent, TESSERA_TESTMOD_PIN_FINAL_TRY='1'))
    context.defer(tessera.stop)
    window = open_token(tessera)
    wait_for_subtitle(window, 'Not in the agent')

    toggle(agent_switch(window))
    dialog = tessera.window('Last PIN Try')
    find(dialog, 'label', contains='This is the last try before the PIN is locked')
    find(dialog, 'password text', 'PIN').text = PIN
    expect(find_all(dialog, 'push button', 'Add') == [], 'the last try is offered as a plain Add')
    use_last_try = find(dialog, 'push button', 'Use Last Try')
    wait_for('Use Last Try to be enabled', lambda: use_last_try.sensitive)
    screenshot('test_agent_pin_guard-final-try')

    # Enter must not spend the last try (the X focus follows the pointer)
    rawinput.absoluteMotion(60, 60)
    rawinput.pressKey('Return')
    time.sleep(2)
    tessera.window('Last PIN Try', timeout=1)
    expect(find_all(dialog, 'label', contains='Wrong PIN') == [] and 'no identities' in agent.list(),
           'Enter tried to add with the last try')

    click(find(dialog, 'push button', 'Cancel'))
    wait_for('the dialog to close', lambda: dialog_gone(tessera, 'Last PIN Try'))
    wait_for('the switch to be off', lambda: not agent_switch(window).checked)
    tessera.check_alive()
    tessera.stop()


def locked(context, hsm, testmod, agent):
    tessera = Tessera('test_agent_pin_guard-locked',
                      environment(hsm, testmod, agent, TESSERA_TESTMOD_PIN_LOCKED='1'))
    context.defer(tessera.stop)
    window = open_token(tessera)
    find(switch_row(window), 'label', 'Add to SSH Agent')

    toggle(agent_switch(window))
    dialog = tessera.window('PIN Locked')
    find(dialog, 'label', contains='unblocked with the SO PIN')
    expect(all(not e.showing or not e.sensitive
               for e in find_all(dialog, 'password text', visible=True)),
           'the locked PIN dialog asks for a PIN')
    expect(find_all(dialog, 'push button', 'Add') == [], 'the locked PIN dialog offers to add')
    screenshot('test_agent_pin_guard-locked')

    click(find(dialog, 'push button', 'Close'))
    wait_for('the dialog to close', lambda: dialog_gone(tessera, 'PIN Locked'))
    wait_for('the switch to be off', lambda: not agent_switch(window).checked)
    tessera.check_alive()


def test(context):
    testmod = os.environ.get('TESSERA_TESTMOD')
    if not testmod or not os.path.exists(testmod):
        raise UITestFailure(f'TESSERA_TESTMOD does not name the built test module: {testmod!r}')

    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(TOKEN, '12345678', PIN)
    hsm.keypairgen(TOKEN, PIN, 'EC:prime256v1', '01', 'Guarded key')

    no_agent(context, hsm, testmod)

    work = tempfile.mkdtemp(prefix='tessera-ui-agent.')
    context.defer(lambda: shutil.rmtree(work, ignore_errors=True))
    agent = Agent(work, hsm.env)
    context.defer(agent.stop)
    final_try(context, hsm, testmod, agent)
    locked(context, hsm, testmod, agent)


if __name__ == '__main__':
    run('test_agent_pin_guard', test)
