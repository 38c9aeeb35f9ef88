# test_empty_state.py: with no token, the window says what to do
#
# TESSERA_MODULES set to an empty string means no module at all.  The
# window shows the empty state, without a sidebar, and its "Add PKCS#11
# Module…" button opens Preferences on the Modules page and asks for a
# module file.  The General page's switches change the settings, and the
# shortcuts window opens with Ctrl+?.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import subprocess
import sys

from dogtail import rawinput

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_ui import (Tessera, UITestFailure, absent, choose_from_menu, click, find, find_all, log,
                        on_screen, plain, run, screenshot, wait_for)


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def gsetting(key):
    return subprocess.run(['gsettings', 'get', 'app.tessera.Tessera', key],
                          capture_output=True, text=True, check=True).stdout.strip()


def test(context):
    env = dict(os.environ, TESSERA_MODULES='')
    tessera = Tessera('test_empty_state', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    find(window, 'label', 'No Cards or Tokens')
    find(window, 'label', contains='appear here by themselves')
    # Set Up for SSH is the one suggested action, first; modules come after
    set_up = find(window, 'push button', 'Set Up for SSH…')
    button = find(window, 'push button', 'Add PKCS#11 Module…')
    buttons = [plain(b.name) for b in find_all(window, 'push button', visible=True)
               if plain(b.name) in ('Set Up for SSH…', 'Create Software Token…', 'Add PKCS#11 Module…')]
    expect(buttons[:1] == ['Set Up for SSH…'] and buttons[-1:] == ['Add PKCS#11 Module…'],
           f"the empty state's buttons are not in order: {buttons}")
    expect('software token' in (set_up.description or ''),
           f'Set Up for SSH… does not say what it does: {set_up.description!r}')

    # No sidebar: nothing to list
    for sidebar in find_all(window, 'list', 'Cards and Tokens'):
        expect(find_all(sidebar, 'list item') == [], 'the sidebar lists something')
        expect(not on_screen(sidebar), 'the sidebar is shown with nothing in it')
    # Nor a token page
    expect(find_all(window, 'list', 'Keys', visible=True) == [], 'a token page is shown')

    screenshot('test_empty_state')

    # The shortcuts window, from its shortcut Ctrl+? (Shift+slash here).
    # Without a window manager the X keyboard focus follows the pointer:
    # put it on the window.
    rawinput.absoluteMotion(400, 300)
    rawinput.keyCombo('<Control><Shift>slash')
    shortcuts = tessera.window('Keyboard Shortcuts')
    find(shortcuts, 'label', 'Reload the Selected Token', visible=None)
    find(shortcuts, 'label', 'Preferences', visible=None)
    rawinput.pressKey('Escape')
    wait_for('the shortcuts window to close',
             lambda: not any(w.name == 'Keyboard Shortcuts' and w.showing for w in tessera.app.children))

    # The About window, with the app's icon even when Tessera runs from
    # its build tree (the icon is a resource too)
    choose_from_menu(tessera, window, 'Main Menu', 'About Tessera')
    about = tessera.window('About')
    screenshot('test_empty_state-about')
    rawinput.pressKey('Escape')
    wait_for('the About window to close', lambda: not any(w.name == 'About' and w.showing
                                                           for w in tessera.app.children))

    # The button leads to adding a module
    click(button)
    preferences = tessera.window('Preferences')
    find(preferences, 'label', 'Your Modules')
    find(preferences, 'list item', 'No modules added')
    chooser = tessera.window('Add PKCS#11 Module')
    screenshot('test_empty_state-add-module')
    click(find(chooser, 'push button', 'Cancel'))
    wait_for('the file chooser to close',
             lambda: not any(w.name == 'Add PKCS#11 Module' for w in tessera.app.children))

    # General preferences are settings
    expect(gsetting('remember-pins') == 'false', 'remember-pins is not false at first')
    click(find(preferences, 'page tab', 'General', visible=None))
    switch = find(preferences, 'check box', 'Remember PINs')
    expect(not switch.checked, 'the Remember PINs switch is on at first')
    switch.doActionNamed('toggle')
    wait_for('remember-pins to be true', lambda: gsetting('remember-pins') == 'true')

    tessera.check_alive()
    tessera.quit()


if __name__ == '__main__':
    run('test_empty_state', test)
