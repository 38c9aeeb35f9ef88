# test_narrow_window.py: Tessera is usable on a 360 pixel wide screen
#
# With the window at 360 pixels, the leaflet folds: the sidebar fills the
# window, and the token page is one click away, with a back button; its
# key rows keep their Copy SSH Key button and menu inside the window.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dogtail import rawinput

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, find, find_all, log,
                        plain, run, screenshot, wait_for)

TOKEN = 'Narrow Test'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def extents(node):
    from gi.repository import Atspi
    e = node.queryComponent().getExtents(Atspi.CoordType.WINDOW)
    return e.x, e.y, e.width, e.height


def width(node):
    return extents(node)[2]


def test(context):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(TOKEN, '12345678', '123456')
    hsm.keypairgen(TOKEN, '123456', 'EC:prime256v1', '01', 'A key with a long name that cannot fit')

    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', 'window-width', '360'], check=True)
    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', 'window-height', '640'], check=True)

    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE)
    tessera = Tessera('test_narrow_window', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', TOKEN)
    wait_for('the window to be 360 pixels wide', lambda: width(window) <= 370)
    log(f'# window {width(window)} px, sidebar {width(sidebar)} px')
    expect(width(sidebar) >= 300, f'the sidebar is {width(sidebar)} px wide in a 360 px window')

    # Folded: nothing is selected for the user, the content waits off screen
    expect(not row.selected, 'a token was opened without being asked for')
    expect(find_all(window, 'list', 'Keys', visible=True) == [], 'the token page is showing')
    screenshot('test_narrow_window')

    # A click on the token opens its page, with a way back.  Without a
    # window manager the window sits at the screen's origin, so window
    # coordinates are screen coordinates.
    x, y, w, h = extents(row)
    rawinput.click(x + w // 2, y + h // 2)
    keys = find(window, 'list', 'Keys')
    expect(width(keys) <= 360, f'the keys list is {width(keys)} px wide')
    row = find(keys, 'list item', 'A key with a long name that cannot fit')
    for button in (f'Copy SSH Key of {plain(row.name)}', f'Key Menu of {plain(row.name)}'):
        x, y, w, h = extents(find(row, 'push button', button))
        log(f'# {button}: x {x}, width {w}')
        expect(w > 0 and x + w <= width(window), f'{button} is not inside the window: {x} + {w}')
    find(window, 'push button', 'Back')
    find(window, 'label', 'Private keys are hidden until you log in')
    screenshot('test_narrow_window-token')
    tessera.check_alive()


if __name__ == '__main__':
    run('test_narrow_window', test)
