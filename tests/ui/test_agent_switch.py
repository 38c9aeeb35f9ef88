# test_agent_switch.py: a person adds a token to the SSH agent and logs in
#
# A SoftHSM token with an RSA and an EC key pair (pkcs11-tool), a private
# ssh-agent, and, when sshd is installed, a real sshd on 127.0.0.1 that
# trusts the token's keys.  Through AT-SPI: "Add to SSH Agent" asks for the
# PIN; a wrong PIN is shown inline and the dialog stays; the right one
# puts both keys in the agent (ssh-add -l agrees), a toast says so and
# ssh logs in with the card; the agent's keys window marks both keys as
# the token's; turning the switch off empties the agent.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, absent, click,
                        find, find_all, log, plain, run, screenshot, wait_for)

NAME = 'test_agent_switch'
TOKEN = 'Agent Test'
SO_PIN = '12345678'
PIN = '123456'
WRONG_PIN = '654321'
SWITCH = 'Add to SSH Agent'
DIALOG = f'Add “{TOKEN}” to the SSH Agent'


def expect(condition, message):
    if not condition:
        raise UITestFailure(message)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Agent:
    """A private ssh-agent in the foreground, stopped by its PID."""

    def __init__(self, directory, env):
        self.sock = os.path.join(directory, 'agent.sock')
        self.log = open(os.path.join(directory, 'agent.log'), 'w')
        # The agent's PKCS#11 helper loads SoftHSM, which must read the
        # test's token directory
        self.process = subprocess.Popen(['ssh-agent', '-D', '-a', self.sock],
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for('ssh-agent to listen', lambda: os.path.exists(self.sock), timeout=10)
        self.env = dict(env, SSH_AUTH_SOCK=self.sock)

    def list(self):
        result = subprocess.run(['ssh-add', '-l'], env=self.env, capture_output=True, text=True)
        return result.stdout + result.stderr

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


class Sshd:
    """A real sshd on 127.0.0.1 that trusts authorized_keys, or None."""

    @staticmethod
    def start(directory, authorized_keys):
        if not os.path.exists('/usr/sbin/sshd') or os.geteuid() != 0:
            log('# no sshd (not installed, or not root): skipping the ssh login')
            return None
        return Sshd(directory, authorized_keys)

    def __init__(self, directory, authorized_keys):
        self.dir = directory
        self.port = free_port()
        with open(os.path.join(directory, 'authorized_keys'), 'w') as f:
            f.write(authorized_keys)
        subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f',
                        os.path.join(directory, 'host_key')], check=True)
        with open(os.path.join(directory, 'sshd_config'), 'w') as f:
            f.write(f'Port {self.port}\n'
                    'ListenAddress 127.0.0.1\n'
                    f'HostKey {directory}/host_key\n'
                    f'AuthorizedKeysFile {directory}/authorized_keys\n'
                    'PasswordAuthentication no\n'
                    'KbdInteractiveAuthentication no\n'
                    'UsePAM no\n'
                    'StrictModes no\n'
                    f'PidFile {directory}/sshd.pid\n')
        os.makedirs('/run/sshd', exist_ok=True)
        subprocess.run(['/usr/sbin/sshd', '-f', os.path.join(directory, 'sshd_config'),
                        '-E', os.path.join(directory, 'sshd.log')], check=True)
        wait_for('sshd to start', lambda: os.path.exists(os.path.join(directory, 'sshd.pid')),
                 timeout=10)

    def login(self, env):
        """Runs `ssh 127.0.0.1 true` with the agent; returns its exit status."""
        result = subprocess.run(['ssh', '-p', str(self.port), '-o', 'BatchMode=yes',
                                 '-o', 'StrictHostKeyChecking=no',
                                 '-o', 'UserKnownHostsFile=/dev/null',
                                 '-o', 'IdentitiesOnly=no', '-o', 'ConnectTimeout=10',
                                 '-F', '/dev/null', '127.0.0.1', 'true'],
                                env=env, capture_output=True, text=True, timeout=30,
                                stdin=subprocess.DEVNULL)
        log(f'# ssh exited with {result.returncode}: {result.stderr.strip()!r}')
        return result.returncode

    def stop(self):
        with open(os.path.join(self.dir, 'sshd.pid')) as f:
            pid = int(f.read().strip())
        os.kill(pid, 15)


def open_token(window):
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', TOKEN)
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for('the token to be selected', lambda: row.selected)


def switch_row(window):
    return find(window, 'list item', SWITCH)


def agent_switch(window):
    return find(switch_row(window), 'check box', SWITCH)


def toggle(node):
    """Flips a switch with its accessible action, as a screen reader does."""
    node.doActionNamed('toggle')


def wait_for_subtitle(window, text):
    wait_for(f'the switch row to say {text!r}',
             lambda: text in (switch_row(window).description or ''), timeout=20)


def dialog_gone(tessera, title):
    return not any(plain(w.name) == title for w in tessera.app.children)


def test(context):
    hsm = SoftHSM()
    context.defer(hsm.cleanup)
    hsm.init_token(TOKEN, SO_PIN, PIN)
    hsm.keypairgen(TOKEN, PIN, 'rsa:2048', '01', 'RSA key')
    hsm.keypairgen(TOKEN, PIN, 'EC:prime256v1', '02', 'EC key')

    work = tempfile.mkdtemp(prefix='tessera-ui-agent.')
    context.defer(lambda: shutil.rmtree(work, ignore_errors=True))
    agent = Agent(work, hsm.env)
    context.defer(agent.stop)
    expect('no identities' in agent.list(), f'the new agent lists {agent.list()!r}')

    # The server trusts the token's keys, as tessera-cli (else ssh-keygen -D) prints them
    cli = os.environ.get('TESSERA_CLI')
    if cli:
        authorized = hsm.run(cli, 'ssh-keys', '--module', SOFTHSM_MODULE)
    else:
        authorized = hsm.run('ssh-keygen', '-D', SOFTHSM_MODULE)
    expect(len(authorized.splitlines()) == 2, f'the token has these SSH keys: {authorized!r}')
    sshd = Sshd.start(work, authorized)
    if sshd is not None:
        context.defer(sshd.stop)
        expect(sshd.login(agent.env) != 0, 'ssh logged in before the card was in the agent')

    env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE, SSH_AUTH_SOCK=agent.sock)
    tessera = Tessera(NAME, env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    open_token(window)

    # The switch shows the agent's real state: empty
    wait_for_subtitle(window, 'Not in the agent')
    switch = agent_switch(window)
    log(f'# the switch is a {switch.roleName!r}')
    expect(not switch.checked, 'the switch is on for an empty agent')
    screenshot(NAME + '-off')

    # A wrong PIN first: said inline, and the dialog stays for another try
    toggle(switch)
    dialog = tessera.window(DIALOG)
    find(dialog, 'label', contains='Key Lifetime')
    find(dialog, 'label', contains='Confirm Each Use')
    find(dialog, 'check box', contains='Remember PIN')
    find(dialog, 'password text', 'PIN').text = WRONG_PIN
    add = find(dialog, 'push button', 'Add')
    wait_for('the Add button to be enabled', lambda: add.sensitive)
    click(add)
    error = find(dialog, 'label', contains='Wrong PIN')
    log(f'# inline error: {plain(error.name)!r}')
    screenshot(NAME + '-wrong-pin')
    expect('no identities' in agent.list(), 'a wrong PIN put keys in the agent')

    # The right PIN: both keys in the agent, and a toast
    find(dialog, 'password text', 'PIN').text = PIN
    wait_for('the Add button to be enabled', lambda: add.sensitive)
    click(add)
    wait_for('the dialog to close', lambda: dialog_gone(tessera, DIALOG))
    listed = wait_for('ssh-add -l to list both keys',
                      lambda: (lambda out: out if len([l for l in out.splitlines()
                                                       if 'SHA256:' in l]) == 2 else None)(agent.list()),
                      timeout=10)
    log(f'# ssh-add -l:\n{listed}')
    find(window, 'label', f'Keys of “{TOKEN}” added to the SSH agent')
    wait_for_subtitle(window, 'All keys are in the agent')
    expect(agent_switch(window).checked, 'the switch is off with the keys in the agent')
    screenshot(NAME + '-on')

    # A real login with the card
    if sshd is not None:
        expect(sshd.login(agent.env) == 0, 'ssh could not log in with the card in the agent')

    # The agent's keys: both marked as the token's
    click(find(window, 'push button', 'Show the Keys in the Agent'))
    keys_window = tessera.window('Keys in the SSH Agent')
    keys = find(keys_window, 'list', 'Keys in the SSH Agent')
    wait_for('two keys in the agent window',
             lambda: len(find_all(keys, 'list item', contains='')) == 2)
    for row in find_all(keys, 'list item'):
        log(f'# agent key {plain(row.name)!r}: {row.description!r}')
        expect(f'On “{TOKEN}” — added by Tessera' in (row.description or ''),
               f'the key {row.name!r} is not marked as the token\'s: {row.description!r}')
        expect('SHA256:' in (row.description or ''), f'no fingerprint for {row.name!r}')
    screenshot(NAME + '-agent-keys')
    keys_window.queryComponent()
    from dogtail import rawinput
    rawinput.pressKey('Escape')
    wait_for('the agent window to close', lambda: dialog_gone(tessera, 'Keys in the SSH Agent'))

    # Off: the agent is empty again
    toggle(agent_switch(window))
    wait_for('ssh-add -l to say the agent is empty',
             lambda: 'The agent has no identities.' in agent.list(), timeout=10)
    find(window, 'label', f'Keys of “{TOKEN}” removed from the SSH agent')
    wait_for_subtitle(window, 'Not in the agent')
    expect(not agent_switch(window).checked, 'the switch stayed on')
    if sshd is not None:
        expect(sshd.login(agent.env) != 0, 'ssh still logged in after the card left the agent')

    tessera.check_alive()
    tessera.quit()

    # The same group and dialog on a 360 pixel wide screen
    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', 'window-width', '360'], check=True)
    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', 'window-height', '800'], check=True)
    tessera = Tessera(NAME + '-narrow', env)
    context.defer(tessera.stop)
    window = tessera.window('Tessera')
    sidebar = find(window, 'list', 'Cards and Tokens')
    row = find(sidebar, 'list item', TOKEN)
    from gi.repository import Atspi
    e = row.queryComponent().getExtents(Atspi.CoordType.WINDOW)
    rawinput.click(e.x + e.width // 2, e.y + e.height // 2)
    wait_for_subtitle(window, 'Not in the agent')
    screenshot(NAME + '-narrow')
    toggle(agent_switch(window))
    dialog = tessera.window(DIALOG)
    find(dialog, 'password text', 'PIN')
    screenshot(NAME + '-narrow-dialog')
    click(find(dialog, 'push button', 'Cancel'))
    wait_for('the dialog to close', lambda: dialog_gone(tessera, DIALOG))
    wait_for('the switch to be off again', lambda: not agent_switch(window).checked)
    expect('no identities' in agent.list(), 'Cancel put keys in the agent')
    tessera.check_alive()
    tessera.quit()


if __name__ == '__main__':
    run(NAME, test)
