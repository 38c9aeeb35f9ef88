# test_copy_ssh_key.py: a person copies their SSH key and an ssh_config block
#
# A SoftHSM token with an RSA key, an EC key and an Ed25519 key, made with
# pkcs11-tool.  Through AT-SPI, as a screen reader user would: after login
# each key row shows whether OpenSSH can use it, and its details the
# fingerprint; Copy SSH Key puts on the clipboard exactly the line
# ssh-keygen -D prints;
# the Ed25519 key says in one sentence why OpenSSH 9.2 cannot use it;
# Save Public Key… writes a .pub file that ssh-keygen reads; and Copy SSH
# Config names the module and, now that the .pub file exists, that file
# with IdentitiesOnly.  Then the same rows on a 360 pixel wide window.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dogtail import rawinput

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, absent, click, clipboard,
                        find, find_all, log, plain, run, screenshot, wait_for, wait_for_clipboard)

NAME = 'test_copy_ssh_key'
TOKEN = 'SSH Test'
SO_PIN = '12345678'
PIN = '123456'
HOST = 'server.example.com'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def ssh_fingerprint(path):
    """The SHA-256 fingerprint ssh-keygen -l reads from a public key file."""
    result = subprocess.run(['ssh-keygen', '-l', '-E', 'sha256', '-f', path],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise UITestFailure(f'ssh-keygen -l cannot read {path}: {result.stderr}')
    return result.stdout.split()[1]


def ed25519_line(hsm, key_id, comment):
    """The OpenSSH line for an Ed25519 public key, built from the SPKI that
    pkcs11-tool reads, since OpenSSH 9.2 cannot list it."""
    path = os.path.join(hsm.dir, 'ed25519.pem')
    hsm.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', TOKEN,
            '--read-object', '--type', 'pubkey', '--id', key_id, '-o', path)
    with open(path) as f:
        pem = ''.join(l.strip() for l in f if not l.startswith('-----'))
    spki = base64.b64decode(pem)
    point = spki[-32:]

    def string(b):
        return len(b).to_bytes(4, 'big') + b
    blob = string(b'ssh-ed25519') + string(point)
    return f'ssh-ed25519 {base64.b64encode(blob).decode()} {comment}'


def extents(node):
    from gi.repository import Atspi
    e = node.queryComponent().getExtents(Atspi.CoordType.WINDOW)
    return e.x, e.y, e.width, e.height


def key_row(window, label):
    keys = find(window, 'list', 'Keys')
    return find(keys, 'list item', label)


def open_token(window):
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', TOKEN)
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for('the token to be selected', lambda: row.selected)


def log_in(tessera, window):
    click(find(window, 'push button', 'Log In…'))
    dialog = tessera.window(f'Log In to “{TOKEN}”')
    find(dialog, 'password text', 'PIN').text = PIN
    button = find(dialog, 'push button', 'Log In')
    wait_for('the Log In button to be enabled', lambda: button.sensitive)
    click(button)
    wait_for('the PIN dialog to close',
             lambda: not any(plain(w.name) == f'Log In to “{TOKEN}”'
                             for w in tessera.app.children))
    wait_for('the SSH key to show its private key',
             lambda: 'Private' in key_row(window, 'SSH key').description)


def menu_item(tessera, row, label):
    """Opens the row's Key Menu, which names its key, and chooses an item."""
    name = f'Key Menu of {plain(row.name)}'
    menu_button = find(row, 'push button', name)
    # GTK 4.8 puts the toggle button that does the work inside the menu button
    click(find(menu_button, 'push button', name))
    item = find(tessera.app, 'menu item', label)
    click(item)


def copy_button(row):
    """The row's Copy SSH Key button, whose accessible name names the key."""
    return find(row, 'push button', f'Copy SSH Key of {plain(row.name)}')


def toast(window, text):
    """Waits for a toast with this text, then dismisses nothing: it times out."""
    return find(window, 'label', text)


def test(context):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(TOKEN, SO_PIN, PIN)
    hsm.keypairgen(TOKEN, PIN, 'rsa:2048', '01', 'SSH key')
    hsm.keypairgen(TOKEN, PIN, 'EC:prime256v1', '02', 'EC key')
    hsm.keypairgen(TOKEN, PIN, 'EC:edwards25519', '03', 'ed key')
    # A private key alone: OpenSSH cannot see it, and SoftHSM does not show
    # an EC private key's public point, so there is no line to copy
    hsm.keypairgen(TOKEN, PIN, 'EC:prime256v1', '04', 'bare key')
    hsm.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', TOKEN, '--login',
            '--pin', PIN, '--delete-object', '--type', 'pubkey', '--id', '04')

    # What OpenSSH itself sees on this token
    keygen = hsm.run('ssh-keygen', '-D', SOFTHSM_MODULE)
    rsa_lines = [l for l in keygen.splitlines() if l.endswith(' SSH key')]
    expect(len(rsa_lines) == 1, f'ssh-keygen -D printed {keygen!r}')
    rsa_line = rsa_lines[0]
    expect(rsa_line.startswith('ssh-rsa '), f'the RSA line is {rsa_line!r}')
    expect('ed key' not in keygen, 'this OpenSSH lists Ed25519 keys: update the test')
    ed_line = ed25519_line(hsm, '03', 'ed key')

    out_dir = tempfile.mkdtemp(prefix='tessera-ui-pub.')
    context.defer(lambda: shutil.rmtree(out_dir, ignore_errors=True))
    rsa_file = os.path.join(out_dir, 'rsa.pub')
    with open(rsa_file, 'w') as f:
        f.write(rsa_line + '\n')
    rsa_fingerprint = ssh_fingerprint(rsa_file)

    # The harness gives the app a private HOME
    ssh_dir = os.path.join(os.environ['HOME'], '.ssh')
    os.makedirs(ssh_dir, mode=0o700, exist_ok=True)

    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE)
    tessera = Tessera(NAME, env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    open_token(window)

    # Before login: the rows say what is missing, and the Ed25519 key why
    # OpenSSH cannot use it
    ssh_key = key_row(window, 'SSH key')
    find(ssh_key, 'image', 'Log in to check SSH readiness')
    log_in(tessera, window)

    # The RSA key: ready, in one line under its name (the fingerprint is
    # in its details, below)
    ssh_key = key_row(window, 'SSH key')
    log(f'# SSH key: {ssh_key.description!r}')
    find(ssh_key, 'image', 'Ready for SSH')
    find(ssh_key, 'label', 'RSA 2048 · Ready for SSH')
    expect('Ready for SSH.' in ssh_key.description,
           f'the row does not say the key is ready: {ssh_key.description!r}')
    find(key_row(window, 'EC key'), 'image', 'Ready for SSH')

    # The Ed25519 key: not usable by OpenSSH 9.2, and the row says so
    ed_key = key_row(window, 'ed key')
    log(f'# ed key: {ed_key.description!r}')
    find(ed_key, 'image', 'Not usable by SSH')
    reason = find(ed_key, 'label', contains='OpenSSH 10.1')
    expect('Ed25519' in plain(reason.name), f'the reason is {reason.name!r}')

    # The bare private key: the row says why, and Copy SSH Key is
    # insensitive with an explanation
    bare_key = key_row(window, 'bare key')
    log(f'# bare key: {bare_key.description!r}')
    find(bare_key, 'image', 'Not usable by SSH')
    find(bare_key, 'label', contains='OpenSSH cannot see this key')
    copy = copy_button(bare_key)
    expect(not copy.sensitive, 'Copy SSH Key is sensitive on a key with no public key')
    expect('no SSH key to copy' in copy.description,
           f'the insensitive button says {copy.description!r}')
    # A mouse user reads why in the row's subtitle, beside the button (no
    # tooltips on rows: each costs an X round trip)
    screenshot(NAME + '-keys')

    # The keyboard: Ctrl+C in a key row copies its key.  AT-SPI cannot move
    # the focus in GTK 4.8, so a real click opens the row's menu and Escape
    # closes it, which leaves the focus on the menu button.
    ec_key = key_row(window, 'EC key')
    x, y, w, h = extents(find(ec_key, 'push button', 'Key Menu of EC key'))
    rawinput.click(x + w // 2, y + h // 2)
    find(tessera.app, 'menu item', 'Copy SSH Config')
    rawinput.pressKey('Escape')
    absent(tessera.app, 'menu item', 'Copy SSH Config')
    rawinput.keyCombo('<Control>c')
    wait_for('the EC key on the clipboard', lambda: (clipboard() or b'').startswith(b'ecdsa-sha2-nistp256 ')
             and clipboard().endswith(b' EC key'))
    expect(clipboard().decode() in keygen.splitlines(), 'Ctrl+C copied another line than ssh-keygen -D')

    # Copy SSH Key: exactly ssh-keygen -D's line
    copy = copy_button(ssh_key)
    expect(copy.sensitive, 'Copy SSH Key is insensitive on the RSA key')
    click(copy)
    wait_for_clipboard('the RSA line on the clipboard', rsa_line.encode())
    toast(window, 'SSH key “SSH key” copied')
    screenshot(NAME + '-copied')

    # The Ed25519 key can still be copied, for a newer OpenSSH elsewhere
    copy = copy_button(ed_key)
    expect(copy.sensitive, 'Copy SSH Key is insensitive on the Ed25519 key')
    click(copy)
    wait_for_clipboard('the Ed25519 line on the clipboard', ed_line.encode())
    toast(window, 'SSH key “ed key” copied')

    # Save Public Key…: without portals, GtkFileChooserNative is a
    # GtkFileChooserDialog.  It opens in ~/.ssh with a name made from the
    # key's label; AT-SPI cannot read a GtkText back in GTK 4.8, so the
    # file that appears is the proof.
    saved = os.path.join(ssh_dir, 'ssh-key.pub')
    menu_item(tessera, key_row(window, 'SSH key'), 'Save Public Key…')
    chooser = tessera.window('Save Public Key')
    find(chooser, 'text', 'Name:')
    click(find(chooser, 'push button', 'Save'))
    wait_for(f'{saved} to be written', lambda: os.path.exists(saved)
             and open(saved).read() == rsa_line + '\n')
    with open(saved, 'rb') as f:
        contents = f.read()
    expect(contents == (rsa_line + '\n').encode(), f'{saved} holds {contents!r}')
    expect(ssh_fingerprint(saved) == rsa_fingerprint, 'ssh-keygen -l reads another key')
    toast(window, 'Saved “ssh-key.pub”')

    # A file that cannot be written: a dialog says why, and nothing is
    # remembered.  A path typed into the name entry is taken as it is.
    menu_item(tessera, key_row(window, 'SSH key'), 'Save Public Key…')
    chooser = tessera.window('Save Public Key')
    find(chooser, 'text', 'Name:').text = '/proc/ssh-key.pub'
    click(find(chooser, 'push button', 'Save'))
    error = tessera.window('Could Not Save the Public Key')
    body = find(error, 'label', contains='/proc/ssh-key.pub')
    log(f'# save error: {plain(body.name)!r}')
    screenshot(NAME + '-save-error')
    click(find(error, 'push button', 'Close'))
    wait_for('the error dialog to close',
             lambda: not any(plain(w.name) == 'Could Not Save the Public Key'
                             for w in tessera.app.children))

    # Copy SSH Config: the module, and this key only
    menu_item(tessera, key_row(window, 'SSH key'), 'Copy SSH Config')
    config = (f'Host {HOST}\n'
              f'    PKCS11Provider {SOFTHSM_MODULE}\n'
              f'    IdentityFile {saved}\n'
              f'    IdentitiesOnly yes\n')
    wait_for_clipboard('the SSH config on the clipboard', config.encode())
    find(window, 'label', 'Copied — replace the host name')
    screenshot(NAME + '-config')

    # ssh reads it as meant
    config_file = os.path.join(out_dir, 'config')
    with open(config_file, 'w') as f:
        f.write(config)
    resolved = subprocess.run(['ssh', '-G', '-F', config_file, HOST],
                              capture_output=True, text=True, check=True).stdout.splitlines()
    for line in (f'pkcs11provider {SOFTHSM_MODULE}', f'identityfile {saved}',
                 'identitiesonly yes'):
        expect(line in resolved, f'ssh -G does not print {line!r}')

    # A key whose .pub was not saved gets the module alone
    menu_item(tessera, key_row(window, 'EC key'), 'Copy SSH Config')
    wait_for_clipboard('the EC key config on the clipboard',
                       f'Host {HOST}\n    PKCS11Provider {SOFTHSM_MODULE}\n'.encode())

    # The key's details: the line, the fingerprint and the verdict
    menu_item(tessera, key_row(window, 'SSH key'), 'Show Details')
    find(window, 'label', 'Ready for SSH.')
    line_label = find(window, 'label', rsa_line)
    expect(line_label.name == rsa_line, f'the details show {line_label.name!r}')
    find(window, 'label', rsa_fingerprint)
    click(find(window, 'push button', 'Copy OpenSSH public key'))
    wait_for_clipboard('the line copied from the details', rsa_line.encode())
    screenshot(NAME + '-details')
    click(find(window, 'push button', 'Back'))
    absent(window, 'label', 'Ready for SSH.')

    tessera.check_alive()
    tessera.quit()

    # The same rows on a 360 pixel wide screen
    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', 'window-width', '360'], check=True)
    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', 'window-height', '800'], check=True)
    tessera = Tessera(NAME + '-narrow', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', TOKEN)
    # Without a window manager the window sits at the screen's origin, so
    # window coordinates are screen coordinates
    x, y, w, h = extents(row)
    rawinput.click(x + w // 2, y + h // 2)
    log_in(tessera, window)
    ed_key = key_row(window, 'ed key')
    find(ed_key, 'label', contains='OpenSSH 10.1')
    keys = find(window, 'list', 'Keys')
    width = extents(keys)[2]
    expect(width <= 360, f'the keys list is {width} px wide')
    # A new window remembers no .pub file: the module alone, and a toast
    # that wraps rather than hiding what to replace
    menu_item(tessera, key_row(window, 'SSH key'), 'Copy SSH Config')
    wait_for_clipboard('the SSH config in the new window',
                       f'Host {HOST}\n    PKCS11Provider {SOFTHSM_MODULE}\n'.encode())
    find(window, 'label', 'Copied — replace the host name')
    screenshot(NAME + '-narrow')
    tessera.check_alive()
    tessera.quit()


if __name__ == '__main__':
    run(NAME, test)
