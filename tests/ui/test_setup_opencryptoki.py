# test_setup_opencryptoki.py: "Set Up for SSH…" on opencryptoki's software token
#
# The token as the package leaves it (tests/opencryptoki-reset.sh): not
# initialized, with the SO PIN 87654321.  Through AT-SPI, from its sidebar
# row: the assistant asks for the current SO PIN (filled in with the
# default, which it names), a label and a user PIN; then, because the
# token flags its PINs as ones to change, asks for new PINs and changes
# them; it recommends RSA, since this token makes no EC keys; generates
# the key with its certificate, tests a signature, and the copied key,
# the agent (added once: opencryptoki's module does not survive a second
# add in one ssh-pkcs11-helper) and a loopback sshd log in.  pkcs11-tool
# sees the key pair and certificate under one ID, and the new SO PIN.
#
# Where pkcsslotd cannot run, the test says why and is skipped (77).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_ui import (Tessera, click, find, find_all, log, plain, run,  # noqa: E402
                        screenshot)
from setup_assistant import (Proof, assistant, at_step, expect,  # noqa: E402
                             expect_one_pair_with_certificate, fill, finish_and_log_in,
                             press_next, recommended_type)

NAME = 'test_setup_opencryptoki'
MODULE = '/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so'
RESET = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     'opencryptoki-reset.sh')
LABEL = 'SSH Card'
DEFAULT_SO_PIN = '87654321'
FIRST_PIN = '24681357'
SO_PIN = '11223344'
PIN = '13572468'


def reset():
    return subprocess.run([RESET], capture_output=True, text=True)


def test(context):
    context.defer(reset)
    work = tempfile.mkdtemp(prefix='tessera-ui-ock.')
    context.defer(lambda: shutil.rmtree(work, ignore_errors=True))
    env = dict(os.environ)
    proof = Proof(context, work, env)

    env = dict(env, TESSERA_MODULES=MODULE, SSH_AUTH_SOCK=proof.agent.sock)
    tessera = Tessera(NAME, env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    # The blank token's row offers the assistant
    sidebar = find(window, 'list', 'Cards and Tokens')
    button = find(sidebar, 'push button', contains='for SSH…', visible=None, timeout=30)
    log(f'# the row offers {plain(button.name)!r}')
    click(button)
    dialog = assistant(tessera)

    # Step 1: the current SO PIN, named and filled in
    at_step(dialog, 1)
    find(dialog, 'label', contains='87654321', visible=None)
    expect(not find_all(dialog, 'text', 'New SO PIN'),
           'opencryptoki is asked for a new SO PIN before it is initialized')
    fill(dialog, 'text', 'Current SO PIN', DEFAULT_SO_PIN)
    fill(dialog, 'text', 'Label', LABEL)
    fill(dialog, 'text', 'New PIN', FIRST_PIN)
    fill(dialog, 'text', 'Repeat New PIN', FIRST_PIN)
    screenshot(NAME + '-initialize')
    press_next(dialog, 'Initialize')

    # Step 1 again: the PINs it came with are to be changed
    find(dialog, 'push button', 'Change PINs', visible=None, timeout=60)
    at_step(dialog, 1)
    find(dialog, 'label', contains=f'The token “{LABEL}” was initialized.', visible=None)
    fill(dialog, 'text', 'New SO PIN', SO_PIN)
    fill(dialog, 'text', 'Repeat New SO PIN', SO_PIN)
    user_pin = FIRST_PIN
    if find_all(dialog, 'text', 'Repeat New PIN')[-1:]:
        new_pin_fields = find_all(dialog, 'text', 'New PIN')
        repeat_fields = find_all(dialog, 'text', 'Repeat New PIN')
        # The page was built again: its fields come after the first form's
        if len(new_pin_fields) > 0 and len(repeat_fields) > 0:
            new_pin_fields[-1].text = PIN
            repeat_fields[-1].text = PIN
            user_pin = PIN
    screenshot(NAME + '-change-pins')
    press_next(dialog, 'Change PINs')

    # Step 3: RSA, since the token makes no EC keys
    at_step(dialog, 3, timeout=90)
    find(dialog, 'label', contains='The PINs were changed.', visible=None)
    kind = recommended_type(dialog)
    log(f'# recommended key type: {kind}')
    expect(kind.startswith('RSA'), f'{kind} is recommended on opencryptoki')
    types = find(dialog, 'list', 'Key Type', visible=None)
    expect(not any(plain(c.name).startswith('ECDSA') for c in find_all(types, 'check box')),
           'an EC key type is offered on a token that cannot make one')
    screenshot(NAME + '-key')
    press_next(dialog, 'Generate')

    at_step(dialog, 4, timeout=180)
    switch = find(dialog, 'check box', 'Create a Self-Signed Certificate', visible=None)
    expect(switch.checked, 'the certificate switch is off by default')
    press_next(dialog, 'Next')

    at_step(dialog, 6, timeout=90)
    find(dialog, 'label', contains='signed the test challenge', visible=None, timeout=60)
    press_next(dialog, 'Next')

    finish_and_log_in(tessera, dialog, proof, LABEL, user_pin, NAME, MODULE)
    expect_one_pair_with_certificate(env, MODULE, LABEL, user_pin)

    # The flags no longer ask for new PINs, and the SO PIN is the new one
    # (an SO login wants a read-write session: set the same user PIN again)
    flags = subprocess.run(['pkcsconf', '-t'], capture_output=True, text=True).stdout
    expect('PIN_TO_BE_CHANGED' not in flags.split(LABEL, 1)[-1].split('Token #', 1)[0],
           f'the token still asks for new PINs: {flags}')
    so = subprocess.run(['pkcs11-tool', '--module', MODULE, '--token-label', LABEL, '--login',
                         '--login-type', 'so', '--so-pin', SO_PIN, '--init-pin',
                         '--new-pin', user_pin],
                        env=env, capture_output=True, text=True)
    expect(so.returncode == 0, f'the new SO PIN does not log in: {so.stdout}{so.stderr}')

    tessera.check_alive()
    tessera.quit()


if __name__ == '__main__':
    result = reset()
    if result.returncode != 0:
        print(f'# skipping: opencryptoki cannot run here: {result.stderr.strip()}', flush=True)
        sys.exit(77)
    run(NAME, test)
