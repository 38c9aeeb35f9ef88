# test_narrow_window.py: Tessera is usable on a 360 pixel wide screen
#
# With the window at 360 pixels, the leaflet folds: the sidebar fills the
# window, and the token page is one click away, with a back button; its
# key rows keep their Copy SSH Key button and menu inside the window, and
# the key's name whole.  The window stays 360 pixels wide on the token
# page, the key's details and the token's details: nothing in them asks
# for more.
#
# Whether a name is whole: AT-SPI in GTK 4.8 tells neither where a
# label's characters are nor whether Pango cut it short, but a row's name
# is only as wide as its text (halign start).  So a first window, 900
# pixels wide, shows how wide the name is on one line, and the narrow
# window's name must have as much room, over as many lines as it takes.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dogtail import rawinput

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, absent, click, find,
                        find_all, log, run, screenshot, wait_for)

TOKEN = 'Narrow Test'
KEY = 'A key with a long name that cannot fit'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def extents(node):
    from gi.repository import Atspi
    e = node.queryComponent().getExtents(Atspi.CoordType.WINDOW)
    return e.x, e.y, e.width, e.height


def width(node):
    return extents(node)[2]


def start(context, env, name, window_width):
    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', 'window-width', str(window_width)],
                   check=True)
    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', 'window-height', '640'], check=True)
    tessera = Tessera(name, env)
    context.defer(tessera.stop)
    return tessera, tessera.window('Tessera')


def expect_width(window, what):
    # The window gets bigger a moment after a page that asks for more is shown
    time.sleep(1)
    expect(width(window) == 360, f'the window is {width(window)} px wide {what}')


def wide_row(context, env):
    """In a wide window: the width and height of the key's name, on one
    line, and the width of Copy SSH Key, with its label."""
    tessera, window = start(context, env, 'test_narrow_window-wide', 900)
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', TOKEN)
    sidebar.querySelection().selectChild(row.indexInParent)
    row = find(find(window, 'list', 'Keys'), 'list item', KEY)
    _, _, w, h = extents(find(row, 'label', KEY))
    copy_width = width(find(row, 'push button', f'Copy SSH Key of {KEY}'))
    log(f'# in a 900 px window the name is {w}x{h} px, Copy SSH Key {copy_width} px')
    tessera.stop()
    return w, h, copy_width


def test(context):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(TOKEN, '12345678', '123456')
    hsm.keypairgen(TOKEN, '123456', 'EC:prime256v1', '01', KEY)

    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE)
    name_width, line_height, wide_copy_width = wide_row(context, env)

    tessera, window = start(context, env, 'test_narrow_window', 360)
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', TOKEN)
    wait_for('the window to have a size', lambda: width(window) > 0)
    expect_width(window, 'with the sidebar')
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
    row = find(keys, 'list item', KEY)
    expect_width(window, 'on the token page')
    for button in (f'Copy SSH Key of {KEY}', f'Key Menu of {KEY}'):
        x, y, w, h = extents(find(row, 'push button', button))
        log(f'# {button}: x {x}, width {w}')
        expect(w > 0 and x + w <= width(window), f'{button} is not inside the window: {x} + {w}')

    # The name, whole, before Copy SSH Key: as much room as on one line
    copy_x, _, copy_width, _ = extents(find(row, 'push button', f'Copy SSH Key of {KEY}'))
    x, y, w, h = extents(find(row, 'label', KEY))
    lines = round(h / line_height)
    log(f'# the name: x {x}, {w}x{h} px, {lines} lines')
    expect(x + w <= copy_x, f'the name ({x} + {w}) runs under Copy SSH Key (at {copy_x})')
    expect(w * lines >= name_width,
           f'the name is cut short: {lines} lines of {w} px, where it takes {name_width} px')

    # Copy SSH Key is an icon, by the same name, and leaves its room to the name
    expect(copy_width < wide_copy_width,
           f'Copy SSH Key is {copy_width} px wide, as with its label ({wide_copy_width} px)')

    find(window, 'push button', 'Back')
    find(window, 'label', 'Private keys are hidden until you log in')
    screenshot('test_narrow_window-token')

    # The key's details: its URI breaks only between characters, inside the window
    title = find(row, 'label', KEY)
    x, y, w, h = extents(title)
    rawinput.click(x + w // 2, y + h // 2)
    find(window, 'label', 'SHA-256 fingerprint')
    expect_width(window, 'on the key’s details')
    uri = find(window, 'label', contains='pkcs11:')
    x, y, w, h = extents(uri)
    expect(w > 0 and x + w <= width(window), f'the URI is not inside the window: {x} + {w}')
    screenshot('test_narrow_window-key-details')
    rawinput.pressKey('Escape')
    absent(window, 'label', 'SHA-256 fingerprint')

    # The token's details
    click(find(window, 'push button', 'Token Details'))
    find(window, 'list', 'Token')
    expect_width(window, 'on the token’s details')
    screenshot('test_narrow_window-token-details')
    tessera.check_alive()


if __name__ == '__main__':
    run('test_narrow_window', test)
