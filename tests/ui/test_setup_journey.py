# test_setup_journey.py: from a blank SoftHSM slot to an SSH login, with "Set Up for SSH…"
#
# Through AT-SPI, as a person would:
# - a blank slot: its sidebar row's "Set Up for SSH…" opens the assistant,
#   which asks for a label and the PINs (Initialize stays disabled until
#   the form is right, PINs that differ say so on the field, and Tab from
#   the last field goes to Initialize, not to Cancel), generates the
#   recommended kind of key, keeps the certificate switch on, tests a
#   signature; Copy SSH Key
#   goes into a loopback sshd's authorized_keys, "Add to SSH Agent" puts
#   the token in a real ssh-agent, and `ssh 127.0.0.1 true` logs in;
#   pkcs11-tool sees the private key, public key and certificate under
#   one ID;
# - a token initialized but empty, from the token page's button: the
#   assistant skips initializing and the PIN and says so, then the same;
# - no token at all: the empty state's button creates a software token
#   and the assistant goes on with it;
# - a token already set up (tessera-cli generate --certificate): after the
#   login it goes straight to the last page and says so;
# - Cancel at every step (the Cancel button, Escape) leaves the objects
#   as they were: a step is done or not started, never half made;
# - a token with no user PIN: step 2 sets it, and Cancel there does not;
# - through the test module: a token that flags both PINs "to be changed"
#   gets both changed on one page, and Cancel while a slow token is
#   making the key leaves no key behind.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import shutil
import subprocess
import sys
import tempfile
import time

from dogtail import rawinput

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, click,  # noqa: E402
                        find, find_all, in_empty_state, log, plain, press_in, run, screenshot,
                        wait_for)
from setup_assistant import (ASSISTANT, Proof, assistant, at_step, expect,  # noqa: E402
                             expect_one_pair_with_certificate, fill, finish_and_log_in,
                             list_objects, log_in, next_button, pin_fields, press_next,
                             recommended_type, window_gone)

NAME = 'test_setup_journey'
SO_PIN = '12345678'
PIN = '123456'


def select(window, label):
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', label, timeout=30)
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for(f'{label!r} to be selected', lambda: row.selected)
    return row


def open_from_page(tessera, window, token):
    select(window, token)
    button = wait_for('the token page’s Set Up for SSH…',
                      lambda: next((b for b in find_all(window, 'push button', 'Set Up for SSH…')
                                    if not in_empty_state(b)), None))
    click(button)
    return assistant(tessera)


def open_from_blank_row(tessera, window):
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', 'Uninitialized token', timeout=30)
    click(find(row, 'push button', 'Set Up “Uninitialized token” for SSH…', visible=None))
    return assistant(tessera)


def initialize(dialog, label):
    at_step(dialog, 1)
    find(dialog, 'label', contains='characters long', visible=None)
    button = next_button(dialog)
    expect(not button.sensitive, 'Initialize is enabled with empty fields')
    fill(dialog, 'text', 'Label', label)
    fill(dialog, 'text', 'New SO PIN', SO_PIN)
    fill(dialog, 'text', 'Repeat New SO PIN', SO_PIN[:-1])
    fill(dialog, 'text', 'New PIN', PIN)
    fill(dialog, 'text', 'Repeat New PIN', PIN)
    find(dialog, 'label', 'PINs don’t match', visible=None)
    expect(not button.sensitive, 'Initialize is enabled with SO PINs that differ')
    fill(dialog, 'text', 'Repeat New SO PIN', SO_PIN)
    wait_for('Initialize to be enabled', lambda: button.sensitive)
    screenshot(NAME + '-initialize')
    # Tab from the last field lands on Initialize, never on Cancel
    press_in(find(dialog, 'text', 'Repeat New PIN'), 'Tab')
    wait_for('Initialize to have the focus', lambda: button.focused)
    expect(not find(dialog, 'push button', 'Cancel').focused, 'Tab went to Cancel')
    press_next(dialog, 'Initialize')


def generate(dialog):
    at_step(dialog, 3, timeout=90)
    generate_check = find(find(dialog, 'list', 'Key', visible=None), 'check box',
                          'Generate a New Key', visible=None)
    expect(generate_check.checked, 'Generate a New Key is not chosen on an empty token')
    kind = recommended_type(dialog)
    log(f'# recommended key type: {kind}')
    expect(kind in ('ECDSA P-256', 'RSA 3072'), f'{kind} is recommended')
    screenshot(NAME + '-key')
    press_next(dialog, 'Generate')
    return kind


def keep_certificate(dialog):
    at_step(dialog, 4, timeout=90)
    find(dialog, 'label', contains='Some cards and programs show keys only through a certificate',
         visible=None)
    switch = find(dialog, 'check box', 'Create a Self-Signed Certificate', visible=None)
    expect(switch.checked, 'the certificate switch is off by default')
    screenshot(NAME + '-certificate')
    press_next(dialog, 'Next')


def test_signature(dialog):
    at_step(dialog, 6, timeout=90)
    find(dialog, 'label', contains='signed the test challenge', visible=None, timeout=60)
    screenshot(NAME + '-test')
    press_next(dialog, 'Next')


def journey(context, name, prepare, open_assistant, token, expect_notes):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    prepare(hsm)
    work = tempfile.mkdtemp(prefix='tessera-ui-setup.')
    context.defer(lambda: shutil.rmtree(work, ignore_errors=True))
    proof = Proof(context, work, hsm.env)

    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE, SSH_AUTH_SOCK=proof.agent.sock)
    tessera = Tessera(name, env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    dialog = open_assistant(tessera, window)
    if token is None:
        initialize(dialog, 'Journey')
        token = 'Journey'
    else:
        log_in(tessera, token, PIN)
    generate(dialog)
    for note in expect_notes:
        find(dialog, 'label', contains=note, visible=None)
    keep_certificate(dialog)
    test_signature(dialog)
    finish_and_log_in(tessera, dialog, proof, token, PIN, name, SOFTHSM_MODULE)
    expect_one_pair_with_certificate(hsm.env, SOFTHSM_MODULE, token, PIN)

    tessera.check_alive()
    tessera.quit()


def from_blank_slot(context):
    journey(context, NAME + '-blank', lambda hsm: None, open_from_blank_row, None,
            ['The token “Journey” was initialized.'])


def from_empty_token(context):
    def prepare(hsm):
        hsm.init_token('Empty', SO_PIN, PIN)
    journey(context, NAME + '-empty', prepare,
            lambda tessera, window: open_from_page(tessera, window, 'Empty'), 'Empty',
            ['The token is already initialized.', 'The user PIN is already set.'])


def already_set_up(context):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token('Ready', SO_PIN, PIN)
    pin_file = os.path.join(hsm.dir, 'pin')
    with open(pin_file, 'w') as f:
        f.write(PIN + '\n')
    hsm.run(os.environ['TESSERA_CLI'], 'generate', '--module', SOFTHSM_MODULE, 'pkcs11:token=Ready',
            '--type', 'ec:p256', '--label', 'Ready key', '--certificate', '--pin-file', pin_file)
    before = list_objects(hsm.env, SOFTHSM_MODULE, 'Ready', PIN)

    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE)
    tessera = Tessera(NAME + '-ready', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    dialog = open_from_page(tessera, window, 'Ready')
    log_in(tessera, 'Ready', PIN)

    at_step(dialog, 7, timeout=60)
    find(dialog, 'label', '“Ready” Is Already Set Up for SSH', visible=None)
    for note in ('The token is already initialized.', 'The user PIN is already set.',
                 'The token already holds a key ready for SSH: “Ready key”.',
                 '“Ready key” already has a certificate.', 'No pairing problems were found.',
                 '“Ready key” passed a test signature.'):
        find(dialog, 'label', contains=note, visible=None)
    # No page before the last was shown: the pages build their fields
    # only when they are shown
    expect(not pin_fields(dialog), 'the assistant asked for a PIN or SO PIN')
    expect(not find_all(dialog, 'list', 'Key'), 'the assistant showed the key step')
    expect(not find_all(dialog, 'check box', 'Create a Self-Signed Certificate'),
           'the assistant showed the certificate step')
    screenshot(NAME + '-ready')
    expect(list_objects(hsm.env, SOFTHSM_MODULE, 'Ready', PIN) == before,
           'the assistant changed a token that was set up')

    # The last page lists each step as a checked row, and offers only Done
    for note in ('The token is already initialized.', '“Ready key” passed a test signature.'):
        find(dialog, 'list item', note, visible=None)
    expect([b for b in find_all(dialog, 'push button', visible=True)
            if plain(b.name) in ('Cancel', 'Back')] == [],
           'the last page still offers Cancel or Back')
    press_next(dialog, 'Done')
    window_gone(tessera, ASSISTANT)
    tessera.check_alive()
    tessera.quit()


def cancel_button(dialog):
    click(find(dialog, 'push button', 'Cancel'))


def escape(dialog):
    rawinput.pressKey('Escape')


def cancel_everywhere(context):
    """Opens the assistant again and again, goes one step further each
    time, and cancels there: the objects are those of the steps done."""
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    # A key whose public part is missing: a pairing problem to stop at,
    # which the doctor can fix (an RSA private key shows its public part)
    hsm.init_token('Cancel', SO_PIN, PIN)
    hsm.keypairgen('Cancel', PIN, 'rsa:2048', 'aa', 'Half key')
    hsm.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', 'Cancel', '--login',
            '--pin', PIN, '--delete-object', '--type', 'pubkey', '--id', 'aa')

    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE)
    tessera = Tessera(NAME + '-cancel', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    def tokens():
        return subprocess.run(['pkcs11-tool', '--module', SOFTHSM_MODULE, '-L'], env=hsm.env,
                              capture_output=True, text=True).stdout.count('token initialized')

    def objects():
        return list_objects(hsm.env, SOFTHSM_MODULE, 'Cancel', PIN)

    def cancelled(dialog, how, what):
        how(dialog)
        window_gone(tessera, ASSISTANT)
        tessera.check_alive()
        log(f'# cancelled at {what}')

    # Step 1 on the blank slot, the fields filled: no token is initialized
    initialized = tokens()
    dialog = open_from_blank_row(tessera, window)
    at_step(dialog, 1)
    fill(dialog, 'text', 'Label', 'Never')
    fill(dialog, 'text', 'New SO PIN', SO_PIN)
    cancelled(dialog, cancel_button, 'Initialize')
    expect(tokens() == initialized, 'Cancel on step 1 initialized a token')

    # Step 3: nothing made yet
    before = objects()
    dialog = open_from_page(tessera, window, 'Cancel')
    log_in(tessera, 'Cancel', PIN)
    at_step(dialog, 3)
    find(dialog, 'label', contains='The token is already initialized.', visible=None)
    cancelled(dialog, escape, 'Choose or Create a Key')
    expect(objects() == before, 'Cancel on step 3 changed the objects')

    # Step 4: the key is made (its step is done), no certificate
    dialog = open_from_page(tessera, window, 'Cancel')
    at_step(dialog, 3)
    recommended_type(dialog)
    fill(dialog, 'text', 'Key Label', 'Kept key')
    press_next(dialog, 'Generate')
    at_step(dialog, 4, timeout=90)
    before = objects()
    expect(len(before) == 3, f'the new key pair is not complete: {before}')
    cancelled(dialog, cancel_button, 'Self-Signed Certificate')
    expect(objects() == before, 'Cancel on step 4 changed the objects')

    # Step 5: the certificate is made, the pairing problem is not fixed
    dialog = open_from_page(tessera, window, 'Cancel')
    at_step(dialog, 4, timeout=60)
    find(dialog, 'label', contains='The token already holds a key ready for SSH: “Kept key”.',
         visible=None)
    press_next(dialog, 'Next')
    at_step(dialog, 5, timeout=90)
    find(dialog, 'label', contains='Half key', visible=None)
    find(dialog, 'push button', 'Fix Problems', visible=None)
    before = objects()
    expect(any(kind == 'Certificate' and label == 'Kept key' for kind, label, _ in before),
           f'no certificate for the kept key: {before}')
    screenshot(NAME + '-cancel-pairing')
    cancelled(dialog, escape, 'Check Pairing')
    expect(objects() == before, 'Cancel on step 5 changed the objects')

    # Step 5 again, Fixed; then step 6 and 7 change nothing when cancelled
    dialog = open_from_page(tessera, window, 'Cancel')
    at_step(dialog, 5, timeout=90)
    press_next(dialog, 'Fix Problems')
    find(dialog, 'label', contains='Fixed:', visible=None, timeout=60)
    at_step(dialog, 5)
    fixed = objects()
    expect(len(fixed) == len(before) + 1, f'the fix did not add a public part: {fixed}')
    press_next(dialog, 'Next')
    at_step(dialog, 6, timeout=60)
    find(dialog, 'label', contains='signed the test challenge', visible=None, timeout=60)
    cancelled(dialog, cancel_button, 'Test Signature')
    expect(objects() == fixed, 'Cancel on step 6 changed the objects')

    dialog = open_from_page(tessera, window, 'Cancel')
    at_step(dialog, 7, timeout=90)
    # Back with Alt+Left, forward with Enter
    rawinput.keyCombo('<Alt>Left')
    at_step(dialog, 6, timeout=60)
    find(dialog, 'label', contains='signed the test challenge', visible=None, timeout=60)
    rawinput.pressKey('Return')
    at_step(dialog, 7, timeout=60)
    cancelled(dialog, escape, 'Use the Key for SSH')
    expect(objects() == fixed, 'Cancel on step 7 changed the objects')

    tessera.quit()


def user_pin_step(context):
    """A token with no user PIN: step 2 sets it with the SO PIN; cancelled
    first, it leaves the PIN unset."""
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '--slot-index', '0', '--init-token',
            '--label', 'No PIN', '--so-pin', SO_PIN)

    def pin_set():
        out = hsm.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '-L')
        block = out.split('No PIN', 1)[1].split('Slot ', 1)[0]
        return 'PIN initialized' in block

    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE)
    tessera = Tessera(NAME + '-user-pin', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')

    dialog = open_from_page(tessera, window, 'No PIN')
    at_step(dialog, 2)
    find(dialog, 'label', contains='The token is already initialized.', visible=None)
    fill(dialog, 'text', 'SO PIN', SO_PIN)
    fill(dialog, 'text', 'New PIN', PIN)
    click(find(dialog, 'push button', 'Cancel'))
    window_gone(tessera, ASSISTANT)
    expect(not pin_set(), 'Cancel on step 2 set the user PIN')

    dialog = open_from_page(tessera, window, 'No PIN')
    at_step(dialog, 2)
    fill(dialog, 'text', 'SO PIN', SO_PIN)
    fill(dialog, 'text', 'New PIN', PIN)
    fill(dialog, 'text', 'Repeat New PIN', PIN)
    screenshot(NAME + '-user-pin')
    press_next(dialog, 'Set PIN')
    # The PIN just set logs in without being asked again
    at_step(dialog, 3, timeout=60)
    find(dialog, 'label', contains='The user PIN was set.', visible=None)
    expect(pin_set(), 'the user PIN is not set')
    expect(pkcs11_accepts(hsm.env, 'No PIN', '--pin', PIN, '-O'), 'the new PIN does not log in')
    # Back: step 2 says the PIN is set
    click(find(dialog, 'push button', 'Back'))
    at_step(dialog, 2)
    find(dialog, 'label', 'The user PIN is set.', visible=None)
    rawinput.pressKey('Escape')
    window_gone(tessera, ASSISTANT)
    tessera.check_alive()
    tessera.quit()


def pkcs11_accepts(env, token, *args):
    return subprocess.run(['pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', token,
                           '--login', *args], env=env, capture_output=True,
                          text=True).returncode == 0


def flagged_and_slow(context):
    testmod = os.environ.get('TESSERA_TESTMOD')
    if not testmod or not os.path.exists(testmod):
        raise UITestFailure(f'TESSERA_TESTMOD does not name the built test module: {testmod!r}')
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token('Flagged', SO_PIN, PIN)
    control = os.path.join(hsm.dir, 'control')

    def set_control(text):
        with open(control + '.new', 'w') as f:
            f.write(text)
        os.replace(control + '.new', control)
    set_control('pins_to_be_changed=1\n')

    env = dict(hsm.env, TESSERA_MODULES=testmod, TESSERA_TESTMOD_CONTROL=control)
    tessera = Tessera(NAME + '-flagged', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    dialog = open_from_page(tessera, window, 'Flagged')

    # Both PINs flagged: one page changes both
    at_step(dialog, 1)
    find(dialog, 'push button', 'Change PINs', visible=None)
    fill(dialog, 'text', 'Current SO PIN', SO_PIN)
    fill(dialog, 'text', 'New SO PIN', '87651234')
    fill(dialog, 'text', 'Repeat New SO PIN', '87651234')
    fill(dialog, 'text', 'Current PIN', PIN)
    fill(dialog, 'text', 'New PIN', '246810')
    fill(dialog, 'text', 'Repeat New PIN', '246810')
    screenshot(NAME + '-both-pins')
    # The token stops asking once they are changed
    set_control('pins_to_be_changed=0\n')
    press_next(dialog, 'Change PINs')
    at_step(dialog, 3, timeout=60)
    find(dialog, 'label', contains='The PINs were changed.', visible=None)
    expect(pkcs11_accepts(hsm.env, 'Flagged', '--pin', '246810', '-O'),
           'the new PIN does not log in')
    expect(not pkcs11_accepts(hsm.env, 'Flagged', '--pin', PIN, '-O'),
           'the old PIN still logs in')
    expect(pkcs11_accepts(hsm.env, 'Flagged', '--login-type', 'so', '--so-pin', '87651234',
                          '--init-pin', '--new-pin', '246810'),
           'the new SO PIN does not log in')

    # A slow token: Cancel while it makes the key leaves no key
    before = list_objects(hsm.env, SOFTHSM_MODULE, 'Flagged', '246810')
    recommended_type(dialog)
    set_control('latency_ms=400\n')
    press_next(dialog, 'Generate')
    find(dialog, 'label', 'Generating the key…', visible=None, timeout=10)
    click(find(dialog, 'push button', 'Cancel'))
    window_gone(tessera, ASSISTANT)
    set_control('')
    # The token finishes what it started; the core then deletes the pair
    time.sleep(5)
    after = list_objects(hsm.env, SOFTHSM_MODULE, 'Flagged', '246810')
    expect(after == before, f'Cancel while generating left objects behind: {after}')
    tessera.check_alive()
    tessera.quit()


def from_empty_state(context):
    """No token at all: the empty state's button creates a software token,
    then the assistant goes on with it."""
    env = dict(os.environ, TESSERA_MODULES='')
    env.pop('SOFTHSM2_CONF', None)
    tessera = Tessera(NAME + '-empty-state', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    find(window, 'label', 'No Cards or Tokens')
    click(find(window, 'push button', 'Set Up for SSH…'))

    dialog = tessera.window('Create Software Token')
    fill(dialog, 'text', 'Label', 'My SSH Token')
    fill(dialog, 'text', 'New SO PIN', SO_PIN)
    fill(dialog, 'text', 'Repeat New SO PIN', SO_PIN)
    fill(dialog, 'text', 'New PIN', PIN)
    fill(dialog, 'text', 'Repeat New PIN', PIN)
    press_next(dialog, 'Create')
    window_gone(tessera, 'Create Software Token')

    setup = assistant(tessera)
    log_in(tessera, 'My SSH Token', PIN)
    at_step(setup, 3, timeout=60)
    find(setup, 'label', contains='The token is already initialized.', visible=None)
    recommended_type(setup)
    screenshot(NAME + '-empty-state')
    click(find(setup, 'push button', 'Cancel'))
    window_gone(tessera, ASSISTANT)
    tessera.check_alive()
    tessera.quit()


def test(context):
    from_empty_state(context)
    from_blank_slot(context)
    from_empty_token(context)
    already_set_up(context)
    cancel_everywhere(context)
    user_pin_step(context)
    flagged_and_slow(context)


if __name__ == '__main__':
    run(NAME, test)

