# setup_assistant.py: what the "Set Up for SSH" tests share
#
# Drives the assistant through AT-SPI as a person would: the page is known
# by the header's "Step N of 7: …" line, the Next button by what it says
# ("Initialize", "Generate", "Next", "Done").  The proof at the end is
# real: the copied line goes into a loopback sshd's authorized_keys, the
# token goes into a real ssh-agent with the "Add to SSH Agent" switch, and
# `ssh 127.0.0.1 true` must log in.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tessera_ui import (UITestFailure, click, find, find_all, log, plain,  # noqa: E402
                        screenshot, wait_for)
import tessera_fixtures  # noqa: E402

ASSISTANT = 'Set Up for SSH'
STEPS = ['Initialize the Token', 'Set the User PIN', 'Choose or Create a Key',
         'Self-Signed Certificate', 'Check Pairing', 'Test Signature', 'Use the Key for SSH']


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def step_line(n):
    return f'Step {n} of 7: {STEPS[n - 1]}'


def window_gone(tessera, title, timeout=30):
    wait_for(f'the window {title!r} to close',
             lambda: not any(plain(w.name) == title for w in tessera.app.children),
             timeout=timeout)


def assistant(tessera):
    return tessera.window(ASSISTANT, timeout=30)


def at_step(window, n, timeout=60):
    """Waits until the assistant shows step n, and returns the window."""
    find(window, 'label', step_line(n), visible=None, timeout=timeout)
    wait_for(f'step {n} to be ready', lambda: not busy(window, n), timeout=timeout)
    return window


def busy(window, n):
    """Whether the assistant is at work: it disables Next and the page
    meanwhile.  A page with PINs also disables Next until its fields are
    right, but leaves the fields open."""
    button = next_button(window, must=False)
    if button is not None and button.sensitive:
        return False
    pages = find_all(window, name=STEPS[n - 1])
    return not any(field.sensitive for page in pages for field in pin_fields(page))


def next_button(window, must=True):
    """The header's last push button: Next, Initialize, Generate, Done…"""
    names = ('Next', 'Initialize', 'Generate', 'Done', 'Change PINs', 'Set PIN',
             'Fix Problems', 'Log In…')
    for node in find_all(window, 'push button'):
        if plain(node.name) in names:
            return node
    if must:
        raise UITestFailure('no Next button in the assistant')
    return None


def press_next(window, name):
    button = find(window, 'push button', name, visible=None)
    wait_for(f'{name} to be enabled', lambda: button.sensitive, timeout=30)
    click(button)


def fill(window, role, name, text):
    # GTK 4.8 does not read an entry's text back through AT-SPI.  An entry
    # row, a PIN row too, is a "text" named by its title.
    find(window, role, name, visible=None).text = text


def pin_fields(window):
    """The PIN rows on the assistant's page."""
    return [node for node in find_all(window, 'text') if 'PIN' in plain(node.name)]


def log_in(tessera, token, pin):
    dialog = tessera.window(f'Log In to “{token}”', timeout=30)
    find(dialog, 'password text', 'PIN').text = pin
    button = find(dialog, 'push button', 'Log In')
    wait_for('Log In to be enabled', lambda: button.sensitive)
    click(button)
    window_gone(tessera, f'Log In to “{token}”')


def recommended_type(window):
    """The key type the assistant chose for the person, which says it is
    the recommended one."""
    types = find(window, 'list', 'Key Type', visible=None, timeout=30)
    checked = wait_for('a key type to be chosen',
                       lambda: [c for c in find_all(types, 'check box') if c.checked])
    expect(len(checked) == 1, f'{len(checked)} key types are chosen')
    expect('Recommended' in (checked[0].description or ''),
           f'the chosen type {plain(checked[0].name)!r} is not marked as recommended')
    return plain(checked[0].name)


def clipboard():
    result = subprocess.run(['xclip', '-o', '-selection', 'clipboard'],
                            capture_output=True, text=True, timeout=10)
    return result.stdout if result.returncode == 0 else ''


def list_objects(env, module, token_label, pin):
    return tessera_fixtures.list_objects(env, module, ['--token-label', token_label], pin)


def expect_one_pair_with_certificate(env, module, token_label, pin):
    """pkcs11-tool sees a private key, a public key and a certificate, all
    under one ID."""
    objects = list_objects(env, module, token_label, pin)
    log(f'# objects on “{token_label}”: {objects}')
    kinds = {kind: key_id for kind, label, key_id in objects}
    for kind in ('Private Key', 'Public Key', 'Certificate'):
        expect(kind in kinds, f'no {kind} object on the token: {objects}')
    expect(len(set(kinds.values())) == 1 and list(kinds.values())[0] != '',
           f'the key pair and its certificate do not share one ID: {objects}')
    return objects


class Proof:
    """A private ssh-agent and a loopback sshd that trusts nothing yet."""

    def __init__(self, context, work, env):
        if not os.path.exists('/usr/sbin/sshd') or os.geteuid() != 0:
            raise UITestFailure('the journey needs sshd and root to run it on 127.0.0.1')
        self.agent = tessera_fixtures.Agent(work, env)
        context.defer(self.agent.stop)
        self.agent_env = dict(env, SSH_AUTH_SOCK=self.agent.sock)
        self.sshd = tessera_fixtures.Sshd(work, env, '')
        context.defer(self.sshd.stop)

    def trust(self, line):
        with open(os.path.join(self.sshd.dir, 'authorized_keys'), 'w') as f:
            f.write(line.strip() + '\n')

    def agent_keys(self):
        result = subprocess.run(['ssh-add', '-l'], env=self.agent_env, capture_output=True,
                                text=True)
        return [l for l in result.stdout.splitlines() if 'SHA256:' in l]

    def login(self):
        return self.sshd.login(self.agent_env)


def finish_and_log_in(tessera, window, proof, token, pin, name, module):
    """On the last page: Copy SSH Key into authorized_keys, Save Public
    Key… and Copy SSH Config name the same file, Add to SSH Agent, and ssh
    must log in."""
    at_step(window, 7)
    expect(proof.login() != 0, 'ssh logged in before anything was set up')
    find(window, 'label', contains='~/.ssh/authorized_keys', visible=None)
    # The key with its fingerprint, an identifier that can be copied
    fingerprint = find(window, 'list item', 'SHA-256 fingerprint', visible=None)
    expect((fingerprint.description or '').startswith('SHA256:'),
           f'the fingerprint reads {fingerprint.description!r}')
    # Only Done: nothing is left to cancel or go back to
    expect([b for b in find_all(window, 'push button', visible=True)
            if plain(b.name) in ('Cancel', 'Back')] == [],
           'the last page still offers Cancel or Back')
    # The ssh-copy-id line names a file: it is shown once the file exists
    expect(find_all(window, 'label', contains='ssh-copy-id -f -i ', visible=True) == [],
           'the last page offers ssh-copy-id for a file not saved yet')
    screenshot(name + '-finish')

    click(find(window, 'push button', 'Copy SSH Key', visible=None))
    line = wait_for('the SSH key on the clipboard',
                    lambda: (lambda c: c if c.startswith(('ecdsa-', 'ssh-rsa', 'ssh-ed25519'))
                             else None)(clipboard()))
    log(f'# copied: {line.strip()!r}')
    proof.trust(line)

    # Save Public Key…: without portals a GtkFileChooserDialog, which
    # opens in ~/.ssh with a name made from the key's label
    ssh_dir = os.path.join(os.environ['HOME'], '.ssh')
    os.makedirs(ssh_dir, exist_ok=True)
    # An earlier journey's file would make the chooser ask to replace it
    for f in os.listdir(ssh_dir):
        if f.endswith('.pub'):
            os.unlink(os.path.join(ssh_dir, f))
    click(find(window, 'push button', 'Save Public Key…', visible=None))
    chooser = tessera.window('Save Public Key')
    find(chooser, 'text', 'Name:')
    click(find(chooser, 'push button', 'Save'))
    saved = wait_for('the .pub file to be written',
                     lambda: next((os.path.join(ssh_dir, f) for f in os.listdir(ssh_dir)
                                   if f.endswith('.pub')), None))
    wait_for(f'{saved} to hold the key', lambda: open(saved).read() == line.strip() + '\n')
    find(window, 'label', f'ssh-copy-id -f -i {saved} user@host', visible=None)

    # Copy SSH Config: the module, and the saved file as the only identity
    click(find(window, 'push button', 'Copy SSH Config', visible=None))
    config = wait_for('the Host block on the clipboard',
                      lambda: (lambda c: c if c.startswith('Host ') else None)(clipboard()))
    log(f'# copied config:\n{config}')
    expect(f'PKCS11Provider {module}' in config, f'the Host block names another module: {config!r}')
    expect(f'IdentityFile {saved}' in config and 'IdentitiesOnly yes' in config,
           f'the Host block does not offer only the saved key: {config!r}')

    switch = find(find(window, 'list item', 'Add to SSH Agent', visible=None),
                  'check box', 'Add to SSH Agent', visible=None)
    wait_for('the switch to know the agent',
             lambda: 'Not in the agent' in (find(window, 'list item', 'Add to SSH Agent',
                                                  visible=None).description or ''))
    switch.doActionNamed('toggle')
    dialog = tessera.window(f'Add “{token}” to the SSH Agent', timeout=30)
    find(dialog, 'password text', 'PIN').text = pin
    add = find(dialog, 'push button', 'Add')
    wait_for('Add to be enabled', lambda: add.sensitive)
    click(add)
    window_gone(tessera, f'Add “{token}” to the SSH Agent')
    keys = wait_for('the agent to hold the key', proof.agent_keys, timeout=30)
    log(f'# ssh-add -l: {keys}')
    wait_for('the switch to be on', lambda: switch.checked)
    screenshot(name + '-agent')

    status = proof.login()
    expect(status == 0, f'ssh could not log in with the card: exit status {status}')
    log('# ssh 127.0.0.1 true: logged in with the card')

    press_next(window, 'Done')
    window_gone(tessera, ASSISTANT)
