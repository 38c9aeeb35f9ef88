# test_key_actions.py: a person repairs, renames, exports and deletes keys
#
# A SoftHSM token with two keys made by tessera-cli and, for the first, a
# certificate that openssl made for its public key and pkcs11-tool wrote
# under another ID, as tools that know nothing of pairing do.  Through
# AT-SPI: after login the Problems group names the mismatch and the key
# row is marked; Fix gives the certificate the private key's ID, which
# pkcs11-tool confirms, and the problem goes away.  The certificate's
# details show what openssl reads from it.  Rename… relabels the key's
# three objects; Export Certificate… writes the PEM and the DER that
# pkcs11-tool and openssl read from the token; Delete… names the objects
# it will destroy, and after the confirmation they are gone.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, absent, add_to_token, click,
                        find, find_all, log, plain, run, screenshot, wait_for)

NAME = 'test_key_actions'
TOKEN = 'Keys Test'
URI = 'pkcs11:token=Keys%20Test'
SO_PIN = '12345678'
PIN = '123456'
PAIRED = 'Paired key'
RENAMED = 'Renamed key'
DOOMED = 'Doomed key'
BARE = 'Bare key'
WRONG_ID = '99'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def generate(hsm, pin_file, label):
    """A key pair made by tessera-cli; returns its ID in hex."""
    out = hsm.run(os.environ['TESSERA_CLI'], 'generate', '--module', SOFTHSM_MODULE, URI,
                  '--type', 'rsa:2048', '--label', label, '--pin-file', pin_file)
    key_id = out.strip()
    expect(re.fullmatch(r'[0-9a-f]+', key_id), f'tessera-cli generate printed {out!r}')
    return key_id


def token_objects(hsm):
    """What pkcs11-tool -O --login lists: (kind, label, ID) per object."""
    listing = hsm.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', TOKEN,
                      '-O', '--login', '--pin', PIN)
    objects = []
    for block in re.split(r'\n(?=\S)', listing):
        kind = block.split(' Object')[0].strip()
        label = re.search(r'^\s*label:\s*(.*)$', block, re.M)
        key_id = re.search(r'^\s*ID:\s*(\S+)', block, re.M)
        if 'Object' in block.splitlines()[0]:
            objects.append((kind, label.group(1) if label else '', key_id.group(1) if key_id else ''))
    return objects


def make_certificate(hsm, key_id, label, name):
    """A certificate for the public key with this ID (or, with None, for a
    key that is not on the token), as DER in hsm.dir/name.der.

    openssl signs it with a key of its own: what matters to the pairing
    is the public key it holds, and no tool signs with the token's key
    without an engine Debian does not install."""
    d = hsm.dir
    pub_der, pub_pem = os.path.join(d, name + '.pub.der'), os.path.join(d, name + '.pub.pem')
    ca_key, ext = os.path.join(d, name + '.ca.key'), os.path.join(d, 'ext.cnf')
    cert = os.path.join(d, name + '.der')
    hsm.run('openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256',
            '-out', ca_key)
    if key_id is not None:
        hsm.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', TOKEN,
                '--read-object', '--type', 'pubkey', '--id', key_id, '-o', pub_der)
        hsm.run('openssl', 'pkey', '-pubin', '-inform', 'DER', '-in', pub_der, '-out', pub_pem)
    else:
        hsm.run('openssl', 'pkey', '-in', ca_key, '-pubout', '-out', pub_pem)
    with open(ext, 'w') as f:
        f.write('[v3]\nkeyUsage = critical, digitalSignature\nbasicConstraints = CA:FALSE\n')
    hsm.run('openssl', 'x509', '-new', '-subj', f'/CN={label}', '-key', ca_key,
            '-force_pubkey', pub_pem, '-days', '30', '-extfile', ext, '-extensions', 'v3',
            '-outform', 'DER', '-out', cert)
    return cert


def make_wrong_id_certificate(hsm, key_id, label):
    """A certificate for the key, written under WRONG_ID."""
    cert = make_certificate(hsm, key_id, label, 'wrong-id')
    hsm.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', TOKEN,
            '--login', '--pin', PIN, '--write-object', cert, '--type', 'cert',
            '--id', WRONG_ID, '--label', label)
    return cert


def openssl_fingerprint(der, digest):
    out = subprocess.run(['openssl', 'x509', '-inform', 'DER', '-in', der, '-noout',
                          '-fingerprint', '-' + digest],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split('=', 1)[1]


def open_token(window):
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', TOKEN)
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for('the token to be selected', lambda: row.selected)


def key_row(window, label):
    keys = find(window, 'list', 'Keys')
    return find(keys, 'list item', label)


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


def menu_item(tessera, row, label):
    """Opens the row's Key Menu, which names its key, and chooses an item."""
    name = f'Key Menu of {plain(row.name)}'
    menu_button = find(row, 'push button', name)
    # GTK 4.8 puts the toggle button that does the work inside the menu button
    click(find(menu_button, 'push button', name))
    click(find(tessera.app, 'menu item', label))


def window_gone(tessera, title):
    wait_for(f'{title!r} to close',
             lambda: not any(plain(w.name) == title for w in tessera.app.children))


def export(tessera, window, path):
    menu_item(tessera, key_row(window, RENAMED), 'Export Certificate…')
    chooser = tessera.window('Export Certificate')
    # A path typed into the name entry is taken as it is
    find(chooser, 'text', 'Name:').text = path
    click(find(chooser, 'push button', 'Export'))
    wait_for(f'{path} to be written', lambda: os.path.exists(path) and os.path.getsize(path) > 0)
    find(window, 'label', f'Exported “{os.path.basename(path)}”')
    window_gone(tessera, 'Export Certificate')
    with open(path, 'rb') as f:
        return f.read()


def import_file(tessera, window, path):
    """Import Certificate…, with the file typed into the location entry."""
    from dogtail import rawinput
    from gi.repository import Atspi

    add_to_token(tessera, window, 'Import Certificate…')
    chooser = tessera.window('Import Certificate')
    # Without a window manager the keyboard goes to the window under the
    # pointer; Ctrl+L opens the chooser's location entry
    e = chooser.queryComponent().getExtents(Atspi.CoordType.SCREEN)
    rawinput.absoluteMotion(e.x + e.width // 2, e.y + e.height // 2)
    rawinput.keyCombo('<Control>l')
    wait_for('the location entry', lambda: find_all(chooser, 'text', visible=True))
    # Typed, as a person would: the chooser follows what is typed, not
    # text set through AT-SPI
    rawinput.typeText(path)
    click(find(chooser, 'push button', 'Import'))
    window_gone(tessera, 'Import Certificate')


def test(context):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(TOKEN, SO_PIN, PIN)
    pin_file = os.path.join(hsm.dir, 'pin')
    with open(pin_file, 'w') as f:
        f.write(PIN + '\n')

    paired_id = generate(hsm, pin_file, PAIRED)
    doomed_id = generate(hsm, pin_file, DOOMED)
    bare_id = generate(hsm, pin_file, BARE)
    cert_der = make_wrong_id_certificate(hsm, paired_id, PAIRED)
    before = token_objects(hsm)
    log(f'# before: {before}')
    expect(('Certificate', PAIRED, WRONG_ID) in before, f'no certificate under {WRONG_ID}: {before}')

    out_dir = tempfile.mkdtemp(prefix='tessera-ui-export.')
    context.defer(lambda: shutil.rmtree(out_dir, ignore_errors=True))
    # Certificates to import: one for the bare key, as PEM, and one for
    # a key that is not on the token, as DER
    bare_pem = os.path.join(out_dir, 'bare.pem')
    hsm.run('openssl', 'x509', '-inform', 'DER', '-in', make_certificate(hsm, bare_id, BARE, 'bare'),
            '-out', bare_pem)
    stranger_der = os.path.join(out_dir, 'stranger.der')
    shutil.copy(make_certificate(hsm, None, 'Stranger', 'stranger'), stranger_der)

    help_log = os.path.join(hsm.dir, 'help.log')
    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE, TESSERA_TEST_HELP_LOG=help_log)
    tessera = Tessera(NAME, env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    open_token(window)

    # Before login the doctor keeps quiet: private keys are hidden
    find(key_row(window, DOOMED), 'image', 'Log in to check SSH readiness')
    expect(not [item for problems in find_all(window, 'list', 'Problems')
                for item in find_all(problems, 'list item')],
           'problems are listed before login')
    log_in(tessera, window)

    # The Problems group names the mismatch, with a fix that says what it does
    problems = find(window, 'list', 'Problems')
    problem = find(problems, 'list item', contains='has a different ID from its private key')
    log(f'# problem: {plain(problem.name)!r}: {problem.description!r}')
    expect(PAIRED in plain(problem.name), f'the problem is {problem.name!r}')
    fix = find(problem, 'push button', 'Fix')
    expect(paired_id in fix.description, f'the Fix button says {fix.description!r}')
    # The key row is marked too, with the same fix
    row = key_row(window, PAIRED)
    find(row, 'label', contains='has a different ID from its private key')
    row_fix = find(row, 'push button', 'Fix')
    expect(row_fix.description == fix.description,
           f'the row\'s Fix says {row_fix.description!r}, the group\'s {fix.description!r}')
    screenshot(NAME + '-problem')
    # The key's details say it in full, with the same fix
    menu_item(tessera, row, 'Show Details')
    details_problem = find(window, 'list item', contains='has a different ID from its private key')
    details_fix = find(details_problem, 'push button', 'Fix')
    expect(details_fix.description == fix.description,
           f'the details\' Fix says {details_fix.description!r}, the group\'s {fix.description!r}')
    screenshot(NAME + '-problem-details')
    click(find(window, 'push button', 'Back'))
    absent(window, 'label', 'SHA-256 fingerprint')

    click(fix)
    find(window, 'label', contains='Fixed: ')
    absent(problems, 'list item', timeout=30)
    after_fix = token_objects(hsm)
    log(f'# after the fix: {after_fix}')
    expect(('Certificate', PAIRED, paired_id) in after_fix,
           f'pkcs11-tool does not show the certificate with ID {paired_id}: {after_fix}')
    expect(not [o for o in after_fix if o[2] == WRONG_ID],
           f'an object still has ID {WRONG_ID}: {after_fix}')
    # The row now has all three parts and no mark
    wait_for('the key to show its certificate, and no problem',
             lambda: 'certificate' in key_row(window, PAIRED).description
             and 'different ID' not in key_row(window, PAIRED).description)
    row = key_row(window, PAIRED)
    screenshot(NAME + '-fixed')

    # The certificate's details: what openssl reads
    menu_item(tessera, row, 'Show Details')
    find(window, 'label', openssl_fingerprint(cert_der, 'sha1'))
    find(window, 'label', openssl_fingerprint(cert_der, 'sha256'))
    find(window, 'label', 'Digital signature')
    find(window, 'label', 'CN=Paired key')
    screenshot(NAME + '-details')
    click(find(window, 'push button', 'Back'))
    absent(window, 'label', 'Digital signature')

    # Rename…: every object of the key gets the new name
    menu_item(tessera, key_row(window, PAIRED), 'Rename…')
    dialog = tessera.window(f'Rename “{PAIRED}”')
    find(dialog, 'text', 'New name').text = RENAMED
    rename = find(dialog, 'push button', 'Rename')
    wait_for('Rename to be enabled', lambda: rename.sensitive)
    click(rename)
    find(window, 'label', f'Renamed to “{RENAMED}”')
    key_row(window, RENAMED)
    renamed = [o for o in token_objects(hsm) if o[2] == paired_id]
    log(f'# renamed: {renamed}')
    expect(len(renamed) == 3 and all(o[1] == RENAMED for o in renamed),
           f'pkcs11-tool shows {renamed}')

    # Export Certificate…: PEM by default, DER for a .der name
    reference_der = os.path.join(out_dir, 'reference.der')
    hsm.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', TOKEN,
            '--read-object', '--type', 'cert', '--id', paired_id, '-o', reference_der)
    reference_pem = subprocess.run(['openssl', 'x509', '-inform', 'DER', '-in', reference_der,
                                    '-outform', 'PEM'],
                                   capture_output=True, check=True).stdout
    with open(reference_der, 'rb') as f:
        reference = f.read()
    pem = export(tessera, window, os.path.join(out_dir, 'exported.pem'))
    expect(pem.strip() == reference_pem.strip(), f'the PEM export differs from openssl\'s: {pem!r}')
    der = export(tessera, window, os.path.join(out_dir, 'exported.der'))
    expect(der == reference, 'the DER export differs from what pkcs11-tool reads')

    # Import Certificate…: the certificate takes its private key's ID
    import_file(tessera, window, bare_pem)
    find(window, 'label', 'Imported “bare.pem”')
    imported = [o for o in token_objects(hsm) if o[0] == 'Certificate' and o[2] == bare_id]
    expect(imported, f'pkcs11-tool shows no certificate with ID {bare_id}: {token_objects(hsm)}')
    wait_for('the bare key to show its certificate',
             lambda: 'certificate' in key_row(window, BARE).description)
    # A certificate for no key on the token: a dialog says why not
    count = len(token_objects(hsm))
    import_file(tessera, window, stranger_der)
    error = tessera.window('Could Not Import the Certificate')
    reason = find(error, 'label', contains='No private key on the token matches')
    log(f'# import error: {plain(reason.name)!r}')
    screenshot(NAME + '-import-error')
    # The dialog's Help opens the page about certificates
    click(find(error, 'push button', 'Help'))
    window_gone(tessera, 'Could Not Import the Certificate')
    opened = wait_for('the help page to be opened',
                      lambda: os.path.exists(help_log) and open(help_log).read().split())
    expect(opened == ['help:tessera/certificates'], f'Help opened {opened}')
    expect(len(token_objects(hsm)) == count, 'the stranger certificate was written anyway')

    # Delete…: the confirmation names what will be lost, then it is gone
    menu_item(tessera, key_row(window, DOOMED), 'Delete…')
    confirmation = tessera.window(f'Delete “{DOOMED}”?')
    find(confirmation, 'label', contains='This cannot be undone')
    doomed_list = find(confirmation, 'list', 'Objects to be deleted')
    named = [(plain(r.name), r.description) for r in find_all(doomed_list, 'list item')]
    log(f'# to be deleted: {named}')
    for kind in ('Private key', 'Public key'):
        expect((DOOMED, f'{kind} · ID {doomed_id}') in named,
               f'the confirmation does not name the {kind.lower()}: {named}')
    expect(len(named) == 2, f'the confirmation names {named}')
    screenshot(NAME + '-delete')
    delete = find(confirmation, 'push button', 'Delete')
    click(delete)
    find(window, 'label', f'“{DOOMED}” deleted')
    absent(find(window, 'list', 'Keys'), 'list item', DOOMED)
    left = token_objects(hsm)
    log(f'# left: {left}')
    expect(not [o for o in left if o[2] == doomed_id], f'pkcs11-tool still shows {left}')
    expect(len([o for o in left if o[2] == paired_id]) == 3, f'the other keys are hurt: {left}')
    expect(len([o for o in left if o[2] == bare_id]) == 3, f'the other keys are hurt: {left}')

    # Delete Certificate…: one object only, named, and the key stays
    menu_item(tessera, key_row(window, BARE), 'Delete Certificate…')
    confirmation = tessera.window(f'Delete the Certificate of “{BARE}”?')
    doomed_list = find(confirmation, 'list', 'Objects to be deleted')
    named = [r.description for r in find_all(doomed_list, 'list item')]
    expect(named == [f'Certificate · ID {bare_id}'], f'the confirmation names {named}')
    click(find(confirmation, 'push button', 'Delete'))
    find(window, 'label', f'The certificate of “{BARE}” was deleted')
    left = sorted(o[0] for o in token_objects(hsm) if o[2] == bare_id)
    expect(left == ['Private Key', 'Public Key'], f'after deleting the certificate pkcs11-tool shows {left}')

    tessera.check_alive()
    tessera.quit()


if __name__ == '__main__':
    run(NAME, test)
