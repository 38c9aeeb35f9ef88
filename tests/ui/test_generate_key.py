# test_generate_key.py: a person makes a key on a token, with its certificate
#
# A fresh SoftHSM token with no keys.  Through AT-SPI, as a screen reader
# user would: Generate Key… offers the kinds SoftHSM can make, ECDSA P-256
# chosen, and Ed25519 marked with why this OpenSSH cannot use it.  Generate
# asks for the PIN, makes the key and its self-signed certificate, and the
# key's row appears.  Then the reference tools judge the result:
# ssh-keygen -D lists the line Copy SSH Key copies, pkcs11-tool shows the
# private key, the public key and the certificate under one ID and label,
# and openssl checks the certificate's signature, subject and public key.
# A second key, RSA 2048, is made while logged in.  A third is made
# without a certificate, and the key menu's Create Certificate… adds one
# with another subject and validity.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import datetime
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dogtail import rawinput

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, absent, add_to_token, click,
                        clipboard,
                        find, find_all, log, plain, run, screenshot, wait_for)

NAME = 'test_generate_key'
TOKEN = 'Generate Test'
SO_PIN = '12345678'
PIN = '123456'
DIALOG = 'Generate Key'
PIN_DIALOG = f'Log In to “{TOKEN}”'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def gone(tessera, title):
    return not any(plain(w.name) == title for w in tessera.app.children)


def extents(node):
    from gi.repository import Atspi
    e = node.queryComponent().getExtents(Atspi.CoordType.WINDOW)
    return e.x, e.y, e.width, e.height


def real_click(node):
    """A mouse click in the middle of a node.  GTK 4.8 gives check buttons
    no accessible action.  Without a window manager every window sits at
    the screen's origin, so window coordinates are screen coordinates."""
    x, y, w, h = extents(node)
    rawinput.click(x + w // 2, y + h // 2)


def key_row(window, label):
    keys = find(window, 'list', 'Keys')
    return find(keys, 'list item', label)


def open_token(window):
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', TOKEN)
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for('the token to be selected', lambda: row.selected)


def key_type(dialog, name):
    """The check button of one kind of key (GTK 4.8 shows grouped check
    buttons as check boxes, not radio buttons)."""
    return find(find(dialog, 'list', 'Key Type'), 'check box', name)


def objects(hsm):
    """pkcs11-tool -O after login, as {kind: [{'label': …, 'ID': …}]}."""
    out = hsm.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', TOKEN,
                  '--login', '--pin', PIN, '-O')
    found = {}
    current = None
    for line in out.splitlines():
        header = re.match(r'^(Private Key|Public Key|Certificate) Object', line)
        if header:
            current = {}
            found.setdefault(header.group(1), []).append(current)
        elif line[:1].isspace() and current is not None and ':' in line:
            name, value = line.strip().split(':', 1)
            current[name.strip()] = value.strip()
        elif line.strip():
            current = None
    return found


def one(found, kind, label):
    matches = [o for o in found.get(kind, []) if o.get('label') == label]
    expect(len(matches) == 1, f'pkcs11-tool shows {len(matches)} {kind} objects '
                              f'labelled {label!r}: {found!r}')
    return matches[0]


def openssl(*argv):
    result = subprocess.run(['openssl', *argv], capture_output=True, text=True)
    if result.returncode != 0:
        raise UITestFailure(f'openssl {argv[0]} failed: {result.stdout}{result.stderr}')
    return result.stdout


def generate(tessera, window, type_name, label, expect_login, certificate=True):
    """Opens Generate Key…, chooses a type and a label, keeps the
    certificate or turns it off, and generates."""
    add_to_token(tessera, window, 'Generate Key…')
    dialog = tessera.window(DIALOG)

    radio = key_type(dialog, type_name)
    if not radio.checked:
        real_click(radio)
        wait_for(f'{type_name} to be chosen', lambda: radio.checked)

    switch = find(dialog, 'check box', 'Create a Self-Signed Certificate')
    expect(switch.checked, 'the certificate switch is off by default')
    if not certificate:
        switch.doActionNamed('toggle')
        wait_for('the certificate switch to be off', lambda: not switch.checked)

    entry = find(dialog, 'text', 'Label')
    entry.text = label
    generate_button = find(dialog, 'push button', 'Generate')
    wait_for('the Generate button to be enabled', lambda: generate_button.sensitive)
    screenshot(f'{NAME}-{label.replace(" ", "-")}-dialog')
    click(generate_button)

    if expect_login:
        pin_dialog = tessera.window(PIN_DIALOG)
        find(pin_dialog, 'password text', 'PIN').text = PIN
        button = find(pin_dialog, 'push button', 'Log In')
        wait_for('the Log In button to be enabled', lambda: button.sensitive)
        click(button)
        wait_for('the PIN dialog to close', lambda: gone(tessera, PIN_DIALOG), timeout=30)

    wait_for('the Generate Key dialog to close', lambda: gone(tessera, DIALOG), timeout=90)
    find(window, 'label', f'Key “{label}” generated')


def menu_item(tessera, row, label):
    """Opens the row's Key Menu, which names its key, and chooses an item."""
    name = f'Key Menu of {plain(row.name)}'
    menu_button = find(row, 'push button', name)
    # GTK 4.8 puts the toggle button that does the work inside the menu button
    click(find(menu_button, 'push button', name))
    click(find(tessera.app, 'menu item', label))


def check_key(tessera, window, hsm, keygen_lines, label, key_type, bits,
              common_name=None, days=365):
    common_name = common_name or label
    row = key_row(window, label)
    wait_for(f'the row of {label!r} to show its certificate',
             lambda: 'certificate' in (key_row(window, label).description or ''))
    row = key_row(window, label)
    log(f'# {label}: {row.description!r}')
    find(row, 'image', 'Ready for SSH')

    # Copy SSH Key: one of the lines ssh-keygen -D prints
    copy = find(row, 'push button', f'Copy SSH Key of {label}')
    expect(copy.sensitive, f'Copy SSH Key is insensitive on {label!r}')
    click(copy)
    wait_for(f'the line of {label!r} on the clipboard',
             lambda: (clipboard() or b'').decode().endswith(' ' + label))
    line = clipboard().decode()
    expect(line in keygen_lines, f'Copy SSH Key copied {line!r}, which ssh-keygen -D does not print: '
                                 f'{keygen_lines!r}')

    # One ID and one label on the private key, the public key and the certificate
    found = objects(hsm)
    private = one(found, 'Private Key', label)
    public = one(found, 'Public Key', label)
    cert = one(found, 'Certificate', label)
    key_id = private.get('ID')
    expect(key_id, f'the private key has no ID: {private!r}')
    expect(public.get('ID') == key_id, f'the public key has ID {public.get("ID")}, not {key_id}')
    expect(cert.get('ID') == key_id, f'the certificate has ID {cert.get("ID")}, not {key_id}')

    # The certificate: signed by the key itself, named after the key,
    # valid for 365 days, and carrying the key's public key
    der = os.path.join(hsm.dir, f'{key_id}.der')
    pem = os.path.join(hsm.dir, f'{key_id}.pem')
    hsm.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', TOKEN,
            '--read-object', '--type', 'cert', '--id', key_id, '-o', der)
    openssl('x509', '-inform', 'DER', '-in', der, '-out', pem)
    verified = openssl('verify', '-check_ss_sig', '-CAfile', pem, pem)
    expect(verified.strip() == f'{pem}: OK', f'openssl verify says {verified!r}')
    subject = openssl('x509', '-in', pem, '-noout', '-subject', '-nameopt', 'RFC2253').strip()
    expect(subject == f'subject=CN={common_name}', f'the certificate names {subject!r}')
    text = openssl('x509', '-in', pem, '-noout', '-text')
    expect(key_type in text and f'({bits} bit)' in text,
           f'the certificate holds another key than {key_type} {bits}: {text}')
    dates = dict(l.split('=', 1) for l in
                 openssl('x509', '-in', pem, '-noout', '-startdate', '-enddate').splitlines())
    fmt = '%b %d %H:%M:%S %Y %Z'
    start = datetime.datetime.strptime(' '.join(dates['notBefore'].split()), fmt)
    end = datetime.datetime.strptime(' '.join(dates['notAfter'].split()), fmt)
    expect(abs((end - start).days - days) <= 1, f'the certificate is valid {start} to {end}, '
                                                f'not {days} days')

    cert_key = openssl('x509', '-in', pem, '-noout', '-pubkey')
    pub_der = os.path.join(hsm.dir, f'{key_id}-pub.der')
    hsm.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', TOKEN,
            '--read-object', '--type', 'pubkey', '--id', key_id, '-o', pub_der)
    token_key = openssl('pkey', '-pubin', '-inform', 'DER', '-in', pub_der)
    expect(cert_key == token_key, 'the certificate holds another public key than the token')
    return key_id


def test(context):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(TOKEN, SO_PIN, PIN)

    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE)
    tessera = Tessera(NAME, env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    open_token(window)
    find(window, 'label', 'No public keys. Log in to see private keys.')

    # The dialog: the token's kinds of key, ECDSA P-256 first choice, and
    # Ed25519 offered with the reason this OpenSSH cannot use it
    add_to_token(tessera, window, 'Generate Key…')
    dialog = tessera.window(DIALOG)
    p256 = key_type(dialog, 'ECDSA P-256')
    expect(p256.checked, 'ECDSA P-256 is not the default')
    for name in ('RSA 2048', 'RSA 3072', 'ECDSA P-384'):
        expect(not key_type(dialog, name).checked, f'{name} is chosen too')
    ed25519 = find_all(find(dialog, 'list', 'Key Type'), 'check box', 'Ed25519')
    if ed25519:
        reason = ed25519[0].description or ''
        log(f'# Ed25519: {reason!r}')
        expect('needs OpenSSH 10.1' in reason, f'Ed25519 is offered without the reason: {reason!r}')
    screenshot(NAME + '-types')
    click(find(dialog, 'push button', 'Cancel'))
    wait_for('the dialog to close', lambda: gone(tessera, DIALOG))

    # ECDSA P-256, logging in first
    generate(tessera, window, 'ECDSA P-256', 'EC key', expect_login=True)
    keygen = hsm.run('ssh-keygen', '-D', SOFTHSM_MODULE).splitlines()
    log(f'# ssh-keygen -D: {keygen!r}')
    ec_id = check_key(tessera, window, hsm, keygen, 'EC key', 'id-ecPublicKey', 256)
    screenshot(NAME + '-ec')

    # RSA 2048, already logged in
    generate(tessera, window, 'RSA 2048', 'RSA key', expect_login=False)
    keygen = hsm.run('ssh-keygen', '-D', SOFTHSM_MODULE).splitlines()
    rsa_id = check_key(tessera, window, hsm, keygen, 'RSA key', 'rsaEncryption', 2048)
    expect(rsa_id != ec_id, 'both keys have the same ID')
    find(key_row(window, 'EC key'), 'image', 'Ready for SSH')
    screenshot(NAME + '-rsa')

    # No certificate at first; then Create Certificate… in the key's menu
    generate(tessera, window, 'ECDSA P-256', 'Bare key', expect_login=False, certificate=False)
    row = wait_for('the row of the key without a certificate',
                   lambda: key_row(window, 'Bare key'))
    expect('certificate' not in (row.description or ''),
           f'the key has a certificate it was not asked for: {row.description!r}')
    found = objects(hsm)
    one(found, 'Private Key', 'Bare key')
    expect(not [o for o in found.get('Certificate', []) if o.get('label') == 'Bare key'],
           f'pkcs11-tool shows a certificate for the key without one: {found!r}')

    menu_item(tessera, key_row(window, 'Bare key'), 'Create Certificate…')
    dialog = tessera.window('Create Certificate')
    find(dialog, 'label', contains='signs the certificate on the token')
    find(dialog, 'text', 'Subject Common Name').text = 'Bare CN'
    days = find(dialog, 'spin button', contains='Days the certificate is valid')
    days.value = 30
    wait_for('the validity to be 30 days', lambda: days.value == 30)
    create = find(dialog, 'push button', 'Create')
    wait_for('the Create button to be enabled', lambda: create.sensitive)
    screenshot(NAME + '-certificate-dialog')
    click(create)
    wait_for('the Create Certificate dialog to close',
             lambda: gone(tessera, 'Create Certificate'), timeout=60)
    find(window, 'label', 'Certificate for “Bare key” created')
    keygen = hsm.run('ssh-keygen', '-D', SOFTHSM_MODULE).splitlines()
    check_key(tessera, window, hsm, keygen, 'Bare key', 'id-ecPublicKey', 256,
              common_name='Bare CN', days=30)
    screenshot(NAME + '-certificate')

    tessera.check_alive()
    tessera.quit()


if __name__ == '__main__':
    run(NAME, test)
