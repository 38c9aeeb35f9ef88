# test_failed_module.py: a module that fails is shown with its error
#
# One module path does not exist, the other is SoftHSM.  The sidebar shows
# the failure under the module's name, the SoftHSM tokens still work,
# choosing the failure explains it, and Preferences show both modules with
# their status.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dogtail import rawinput

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, click, find, find_all,
                        log, on_screen, run, screenshot, wait_for)

MISSING = '/nonexistent/tessera-ui-test/libmissing-pkcs11.so'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def test(context):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token('Still Works', '12345678', '123456')

    env = dict(hsm.env, TESSERA_MODULES=f'{MISSING}:{SOFTHSM_MODULE}')
    tessera = Tessera('test_failed_module', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    sidebar = find(window, 'list', 'Cards and Tokens')
    failed = find(sidebar, 'list item', 'Module failed to load')
    log(f'# the failure reads {failed.description!r}')
    expect(MISSING in failed.description, f'the error does not name the file: {failed.description!r}')
    find(sidebar, 'label', 'libmissing-pkcs11')

    # The other module's tokens are there and open
    find(sidebar, 'list item', 'Still Works')
    find(window, 'list', 'Keys')

    # Choosing the failure explains it
    sidebar.querySelection().selectChild(failed.indexInParent)
    find(window, 'label', '“libmissing-pkcs11” Could Not Be Loaded')
    screenshot('test_failed_module')

    # Preferences list both modules with their status
    rawinput.absoluteMotion(400, 300)
    rawinput.keyCombo('<Control>comma')
    preferences = tessera.window('Preferences')
    missing = find(preferences, 'list item', 'libmissing-pkcs11', visible=None)
    expect('does not exist' in missing.description, f'the module reads {missing.description!r}')
    softhsm = find(preferences, 'list item', 'SoftHSM', visible=None)
    expect('Loaded' in softhsm.description, f'SoftHSM reads {softhsm.description!r}')
    find(softhsm, 'push button', 'Remove module SoftHSM', visible=None)
    screenshot('test_failed_module-preferences')

    # Closing the main window closes Preferences too, and quits cleanly
    close = [b for b in find_all(window, 'push button', 'Close') if b.sensitive and on_screen(b)]
    expect(close, 'the main window has no Close button')
    click(close[0])
    try:
        status = tessera.process.wait(timeout=15)
    except Exception:
        raise UITestFailure('tessera did not quit when its window closed')
    expect(status == 0, f'tessera exited with {status}; see {tessera.log_path}')


if __name__ == '__main__':
    run('test_failed_module', test)
