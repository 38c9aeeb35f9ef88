# test_narrow_window.py: Tessera is usable on a 360 pixel wide screen
#
# With the window at 360 pixels, the leaflet folds: the sidebar fills the
# window, and the token page is one click away, with a back button.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dogtail import rawinput

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, find, find_all, log,
                        run, screenshot, wait_for)

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
    find(window, 'push button', 'Back')
    find(window, 'label', 'Private keys are hidden until you log in')
    screenshot('test_narrow_window-token')
    tessera.check_alive()


if __name__ == '__main__':
    run('test_narrow_window', test)
