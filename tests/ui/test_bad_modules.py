# test_bad_modules.py: a crashing and a hanging module cost only themselves
#
# Each module runs in its own process.  The test module (which forwards to
# SoftHSM) crashes in C_GetSlotList, or hangs in C_GetTokenInfo, beside a
# healthy SoftHSM token.  The window stays up and shows SoftHSM's token at
# once, the bad module is listed with what happened, and Reload Module
# brings it back once the fault is gone.  With a module hung, the app
# still quits at once.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, click, find, log, run,
                        screenshot, wait_for)

TESTMOD = os.environ['TESSERA_TESTMOD']


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def set_fault(control, fault):
    with open(control + '.tmp', 'w') as f:
        f.write(fault + '\n')
    os.rename(control + '.tmp', control)


def test(context):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token('Still Works', '12345678', '123456')
    hsm.keypairgen('Still Works', '123456', 'EC:prime256v1', '01', 'a key')
    control = os.path.join(hsm.dir, 'control')

    # A crash: the module is listed as stopped, SoftHSM works on
    set_fault(control, 'crash_in=C_GetSlotList')
    env = dict(hsm.env, TESSERA_MODULES=f'{TESTMOD}:{SOFTHSM_MODULE}', TESSERA_TESTMOD_CONTROL=control)
    started = time.monotonic()
    tessera = Tessera('test_bad_modules', env)
    context.defer(tessera.stop)
    log(f'# (crash) on the accessibility bus after {time.monotonic() - started:.2f} s')
    window = tessera.window('Tessera')

    sidebar = find(window, 'list', 'Cards and Tokens')
    stopped = find(sidebar, 'list item', 'Module stopped working')
    log(f'# the crash reads {stopped.description!r}')
    expect('Segmentation fault' in stopped.description and 'C_GetSlotList' in stopped.description,
           f'the error does not say what happened: {stopped.description!r}')
    find(sidebar, 'list item', 'Still Works')
    find(window, 'list', 'Keys')
    tessera.check_alive()

    sidebar.querySelection().selectChild(stopped.indexInParent)
    find(window, 'label', '“Tessera test module” Stopped Working')
    screenshot('test_bad_modules-crash')

    # Reload, with the fault gone: the module's tokens come back
    set_fault(control, '')
    click(find(window, 'push button', 'Reload Module'))
    wait_for('the test module\'s token after Reload',
             lambda: sum(1 for item in sidebar.findChildren(
                 lambda n: n.roleName == 'list item' and n.name == 'Still Works')) >= 2,
             timeout=20)
    tessera.quit()

    # A lie (more slots than there was room for): refused, and said so
    set_fault(control, 'lie_slot_count=1')
    tessera = Tessera('test_bad_modules-lie', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    sidebar = find(window, 'list', 'Cards and Tokens')
    lied = find(sidebar, 'list item', 'Module gave invalid answers')
    expect('cannot be right' in lied.description, f'the error reads {lied.description!r}')
    find(sidebar, 'list item', 'Still Works')
    tessera.check_alive()
    tessera.quit()

    # Garbage in the token's strings: shown as text on one line
    set_fault(control, 'garbage_strings=1')
    tessera = Tessera('test_bad_modules-garbage', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    sidebar = find(window, 'list', 'Cards and Tokens')
    find(sidebar, 'list item', 'Still Works')
    garbled = wait_for('the garbled token', lambda: next(
        (n for n in sidebar.findChildren(lambda n: n.roleName == 'list item')
         if n.name.startswith('Still Works') and n.name != 'Still Works'), None))
    log(f'# the garbled label reads {garbled.name!r}')
    expect(not any(c in garbled.name for c in '\n\x1b\x00'),
           f'control characters reach the window: {garbled.name!r}')
    tessera.check_alive()
    tessera.quit()

    # Lengths that cannot be right: the objects are marked, the window lives
    set_fault(control, 'lie_length=1')
    tessera = Tessera('test_bad_modules-lengths', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    sidebar = find(window, 'list', 'Cards and Tokens')
    wait_for('both modules\' tokens',
             lambda: sum(1 for item in sidebar.findChildren(
                 lambda n: n.roleName == 'list item' and n.name == 'Still Works')) >= 2,
             timeout=20)
    for item in [n for n in sidebar.findChildren(lambda n: n.roleName == 'list item')
                 if n.name == 'Still Works']:
        sidebar.querySelection().selectChild(item.indexInParent)
        find(window, 'list', 'Keys')
        time.sleep(1.0)
        tessera.check_alive()
    screenshot('test_bad_modules-lengths')
    tessera.quit()

    # A hang: SoftHSM's token shows while the module is stuck, then the
    # module is marked "not responding" within its deadline
    set_fault(control, 'hang_in=C_GetTokenInfo')
    started = time.monotonic()
    tessera = Tessera('test_bad_modules-hang', dict(env, G_MESSAGES_DEBUG='Tessera-Core'))
    context.defer(tessera.stop)
    log(f'# on the accessibility bus after {time.monotonic() - started:.2f} s')
    window = tessera.window('Tessera')
    log(f'# window after {time.monotonic() - started:.2f} s')
    sidebar = find(window, 'list', 'Cards and Tokens')
    log(f'# sidebar after {time.monotonic() - started:.2f} s')
    find(sidebar, 'list item', 'Still Works')
    shown = time.monotonic() - started
    log(f'# SoftHSM\'s token on screen {shown:.2f} s after start (through AT-SPI), with a module hung')
    hung = find(sidebar, 'list item', 'Module not responding', timeout=15)
    reported = time.monotonic() - started
    log(f'# the hung module reported {reported:.2f} s after start (deadline 5 s)')
    expect('C_GetTokenInfo' in hung.description, f'the error reads {hung.description!r}')
    tessera.check_alive()
    screenshot('test_bad_modules-hang')

    # The app's own clock: SoftHSM's token was there long before the hung
    # module's deadline, not after it
    with open(tessera.log_path) as f:
        app_log = f.read()
    stamps = {}
    for line in app_log.splitlines():
        for what, marker in (('token', 'token=Still%20Works appeared'), ('hung', 'is not responding')):
            clock = re.search(r'DEBUG: (\d+):(\d+):([\d.]+): ', line)
            if marker in line and clock and what not in stamps:
                h, m, sec = clock.groups()
                stamps[what] = int(h) * 3600 + int(m) * 60 + float(sec)
    expect('token' in stamps and 'hung' in stamps, f'the app log lacks the events: {stamps}')
    ahead = stamps['hung'] - stamps['token']
    log(f'# in the app, SoftHSM\'s token came {ahead:.2f} s before the hung module was given up')
    expect(ahead > 3.0, f'SoftHSM\'s token waited for the hung module ({ahead:.2f} s ahead only)')

    tessera.quit()

    # A call hung in flight (the monitor's next look for events, once a
    # second), then quit: under a second
    set_fault(control, '')
    tessera = Tessera('test_bad_modules-quit', dict(env, G_MESSAGES_DEBUG='Tessera-Core,Tessera'))
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    sidebar = find(window, 'list', 'Cards and Tokens')
    wait_for('both modules\' tokens',
             lambda: sum(1 for item in sidebar.findChildren(
                 lambda n: n.roleName == 'list item' and n.name == 'Still Works')) >= 2,
             timeout=20)
    set_fault(control, 'hang_in=C_WaitForSlotEvent')
    time.sleep(2.0)
    tessera.check_alive()
    from dogtail import rawinput
    rawinput.absoluteMotion(100, 100)
    quit_started = time.monotonic()
    rawinput.keyCombo('<Control>q')
    try:
        status = tessera.process.wait(timeout=15)
    except Exception:
        raise UITestFailure('tessera did not quit with a module hung')
    took = time.monotonic() - quit_started
    log(f'# quit with a module hung took {took:.2f} s')
    expect(status == 0, f'tessera exited with {status}')
    expect(took < 1.0, f'quitting took {took:.2f} s with a module hung')


if __name__ == '__main__':
    run('test_bad_modules', test)
