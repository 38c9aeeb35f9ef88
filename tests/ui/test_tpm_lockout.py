# test_tpm_lockout.py: a TPM token in the window, and its lockout
#
# A software TPM 2.0 through tpm2-pkcs11, with tpm2-abrmd on the test's
# session bus.  The token shows as a TPM and says how its lockout works; a
# wrong PIN in the PIN dialog warns that the TPM locks out; once the TPM is
# in its dictionary-attack lockout the dialog, the sidebar and the page say
# it is locked out and clears by itself, send nobody to an SO PIN, and let
# the user try again; after tpm2_dictionarylockout --clear-lockout the
# right PIN logs in.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tessera_fixtures import TPM2_PKCS11, Tpm
from tessera_fixtures import run as run_tool
from tessera_ui import Tessera, UITestFailure, click, find, find_all, plain, run, screenshot, wait_for

PIN = '111111'
WRONG = '999999'
CLI = os.environ['TESSERA_CLI']


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def labels(root):
    return [plain(label.name) for label in find_all(root, 'label')]


def try_pin(dialog, pin, button):
    entry = find(dialog, 'password text', 'PIN')
    entry.text = pin
    button = find(dialog, 'push button', button)
    wait_for(f'{button.name} to be enabled', lambda: button.sensitive)
    click(button)


def test(context):
    if shutil.which('swtpm') is None or not os.path.exists(TPM2_PKCS11):
        print('swtpm or tpm2-pkcs11 is not installed: skipping')
        sys.exit(77)

    tmp = tempfile.mkdtemp(prefix='tessera-ui-tpm.')
    context.defer(lambda: shutil.rmtree(tmp, ignore_errors=True))
    tpm = Tpm(tmp, own_bus=False)
    context.defer(tpm.stop)
    env = dict(tpm.env, TESSERA_MODULES=TPM2_PKCS11, XDG_STATE_HOME=os.path.join(tmp, 'state'))
    bad = os.path.join(tmp, 'bad')
    with open(bad, 'w') as f:
        f.write(WRONG + '\n')

    tessera = Tessera('test_tpm_lockout', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', 'tpmA')
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for('the token to be selected', lambda: row.selected)

    # A TPM, and how its lockout works, before anything goes wrong
    find(row, 'label', 'Ready')
    find(window, 'label', 'Wrong PINs on any of this TPM’s tokens count toward its lockout')
    click(find(window, 'push button', 'Token Details'))
    find(window, 'list item', 'Kind')
    find(window, 'label', 'TPM, the computer’s security chip')
    find(window, 'label', contains='counts wrong PINs for all its tokens together')
    click(find(window, 'push button', 'Back'))

    # A wrong PIN: the dialog warns that the TPM locks out
    click(find(window, 'push button', 'Log In…'))
    dialog = tessera.window('Log In to “tpmA”')
    try_pin(dialog, WRONG, 'Log In')
    find(dialog, 'label', contains='locks out after a few failed tries')
    expect(tpm.lockout_counter() == 1, f'the TPM counted {tpm.lockout_counter()} failures, not 1')

    # Two more, elsewhere: the TPM is in lockout.  The right PIN is refused.
    for _ in range(2):
        run_tool([CLI, 'objects', 'pkcs11:token=tpmB', '--login', '--pin-file', bad,
                  '--module', TPM2_PKCS11], env, check_ok=False)
    try_pin(dialog, PIN, 'Log In')
    dialog = tessera.window('TPM Locked Out')
    find(dialog, 'label', contains='clears by itself after the TPM’s recovery time')
    find(dialog, 'label', 'The TPM refused this PIN without checking it.')
    expect(not any('SO PIN' in text for text in labels(dialog)),
           f'the lockout dialog names the SO PIN: {labels(dialog)}')
    find(row, 'label', 'TPM locked out; clears by itself')
    find(window, 'list item', 'The TPM is locked out')
    screenshot('test_tpm_lockout-locked-out')

    # The lockout is cleared with the lockout authorization: trying again works
    run_tool(['tpm2_dictionarylockout', '--clear-lockout'], env)
    try_pin(dialog, PIN, 'Try Again')
    wait_for('the dialog to close',
             lambda: not any(plain(w.name) == 'TPM Locked Out' for w in tessera.app.children))
    find(window, 'list item', 'Logged in')
    find(row, 'label', 'Logged in')
    expect(tpm.lockout_counter() == 0, f'the TPM counted {tpm.lockout_counter()} failures after the clear')
    tessera.check_alive()


if __name__ == '__main__':
    run('test_tpm_lockout', test)
