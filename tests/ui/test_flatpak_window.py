# test_flatpak_window.py: the window in the Flatpak stood in for by bubblewrap
#
# The sandbox of tests/sandbox/flatpak_sandbox.py (the host's SoftHSM token
# through the host's p11-kit server, Flatpak's trust server, the host's
# ssh-agent), with the X server's socket, the session bus and the
# accessibility bus bound in at their paths.  Through AT-SPI, a person
# finds the token under "Your computer’s tokens", copies a key (equal to
# the host's ssh-keygen -D line) and its SSH config (the host's path of
# the module), and adds the token to the host's agent with the PIN, after
# which ssh logs in to sshd on 127.0.0.1.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'sandbox'))
sys.path.insert(0, os.path.join(HERE, '..'))

from tessera_ui import (Tessera, UITestFailure, choose_from_menu, click, find, find_all,  # noqa: E402
                        log, plain, run, screenshot, wait_for, wait_for_clipboard)
from flatpak_sandbox import MODULE_NAME, PIN, Host, bwrap_works  # noqa: E402
from tessera_fixtures import SOFTHSM, Sshd  # noqa: E402

NAME = 'test_flatpak_window'
TOKEN = 'Host'
DIALOG = f'Add “{TOKEN}” to the SSH Agent'
SWITCH = 'Add to SSH Agent'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def key_row(window, label):
    return find(find(window, 'list', 'Keys'), 'list item', label)


def agent_keys(host):
    out = subprocess.run(['ssh-add', '-l'], env=host.agent_env, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if 'SHA256:' in line]


def test(context):
    why = bwrap_works()
    if why is not None:
        print(f'bwrap cannot make the sandbox\'s namespaces here: {why}')
        sys.exit(77)

    tmp = tempfile.mkdtemp(prefix='tessera-ui-flatpak.')
    context.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    exe, module_host = os.environ['TESSERA_EXE'], os.environ['TESSERA_MODULE_HOST']
    schemas = os.environ['TESSERA_SCHEMA_DIR']
    roots = [os.path.realpath(os.path.join(HERE, '..', '..')),
             os.path.commonpath([exe, module_host, schemas])]
    host = Host(tmp, module_host, roots)
    context.defer(host.stop)
    host.start_server()
    host.start_trust_server()
    host.start_agent()

    keygen = subprocess.run(['ssh-keygen', '-D', SOFTHSM], env=host.softhsm_env, capture_output=True,
                            text=True, check=True).stdout
    rsa_line = next(line for line in keygen.splitlines() if line.endswith(' rsa key'))
    sshd = Sshd(tmp, host.env, keygen)
    context.defer(sshd.stop)
    expect(sshd.login(host.agent_env) != 0, 'ssh logged in before the token was in the agent')

    # What a Flatpak gives a GTK app: the X socket, the session bus (through
    # a proxy there) and the accessibility bus, at the same paths
    session_bus = os.environ['DBUS_SESSION_BUS_ADDRESS']
    expect(session_bus.startswith('unix:path='), f'the session bus is at {session_bus}')
    session_socket = session_bus[len('unix:path='):].split(',')[0]
    a11y_dir = os.path.join(os.environ['XDG_RUNTIME_DIR'], 'at-spi')
    binds = [('/tmp/.X11-unix', '/tmp/.X11-unix'), (session_socket, session_socket), (a11y_dir, a11y_dir)]
    env = [('DISPLAY', os.environ['DISPLAY']), ('DBUS_SESSION_BUS_ADDRESS', session_bus),
           ('GSETTINGS_SCHEMA_DIR', schemas), ('GSETTINGS_BACKEND', 'memory'), ('GDK_BACKEND', 'x11'),
           ('GTK_A11Y', 'atspi'), ('NO_AT_BRIDGE', '0'), ('G_DEBUG', 'fatal-criticals')]
    tessera = Tessera(NAME, os.environ, argv=host.sandbox_argv([os.environ['TESSERA_EXE']],
                                                           binds=binds, env=env))
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    # The token, under the module named for what it is
    find(window, 'label', MODULE_NAME)
    sidebar = find(window, 'list', 'Cards and Tokens')
    rows = find_all(sidebar, 'list item')
    log(f'# sidebar: {[plain(r.name) for r in rows]}')
    row = find(sidebar, 'list item', TOKEN)
    expect(not any('Trust' in plain(r.name) for r in rows), 'the trust module\'s token is listed')
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for('the token to be selected', lambda: row.selected)
    screenshot(NAME + '-token')

    # Copy SSH Key: the host's ssh-keygen -D line
    rsa = key_row(window, 'rsa key')
    click(find(rsa, 'push button', f'Copy SSH Key of {plain(rsa.name)}'))
    wait_for_clipboard('the RSA line on the clipboard', rsa_line.encode())

    # Copy SSH Config: the host's path of the module
    row = key_row(window, 'rsa key')
    choose_from_menu(tessera, row, f'Key Menu of {plain(row.name)}', 'Copy SSH Config')
    wait_for_clipboard('the SSH config on the clipboard',
                       f'Host server.example.com\n    PKCS11Provider {host.client}\n'.encode())

    # Add to SSH Agent, with the PIN: the host's agent, then an ssh login
    switch_row = find(window, 'list item', SWITCH)
    find(switch_row, 'check box', SWITCH).doActionNamed('toggle')
    dialog = tessera.window(DIALOG)
    find(dialog, 'password text', 'PIN').text = PIN
    add = find(dialog, 'push button', 'Add')
    wait_for('the Add button to be enabled', lambda: add.sensitive)
    click(add)
    wait_for('the dialog to close', lambda: tessera.gone(DIALOG), timeout=30)
    keys = wait_for('the host\'s ssh-add -l to list the token\'s keys',
                    lambda: (lambda k: k if len(k) == len(keygen.splitlines()) else None)(agent_keys(host)),
                    timeout=15)
    log(f'# ssh-add -l on the host: {keys}')
    wait_for('the switch row to say all keys are in the agent',
             lambda: 'All keys are in the agent' in (find(window, 'list item', SWITCH).description or ''))
    screenshot(NAME + '-agent')
    expect(sshd.login(host.agent_env) == 0, 'ssh could not log in with the token in the host\'s agent')
    result = subprocess.run(['ssh-add', '-e', host.client], env=host.agent_env, capture_output=True,
                            text=True)
    expect(result.returncode == 0, f'the agent does not hold {host.client}: {result.stderr}')


if __name__ == '__main__':
    run(NAME, test)
