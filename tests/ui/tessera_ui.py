# tessera_ui.py: what the UI tests share
#
# Starts tessera under the session that run-ui-test.sh set up, finds its
# widgets through AT-SPI the way a screen reader does, and leaves a
# screenshot in TESSERA_UI_LOG_DIR.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from dogtail import config, tree

config.searchShowingOnly = False
config.logDebugToStdOut = False
config.logDebugToFile = False
config.searchCutoffCount = 3
config.defaultDelay = 0.2
config.actionDelay = 0.2

LOG_DIR = os.environ.get('TESSERA_UI_LOG_DIR', os.getcwd())
EXE = os.environ['TESSERA_EXE']
SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so'


class UITestFailure(Exception):
    pass


def log(message):
    print(message, flush=True)


def screenshot(name):
    """Saves the whole X screen as LOG_DIR/name.png and returns the path."""
    path = os.path.join(LOG_DIR, name + '.png')
    if shutil.which('import') is None:
        log(f'# no screenshot: imagemagick is not installed')
        return None
    subprocess.run(['import', '-window', 'root', path], check=False)
    log(f'# screenshot: {path}')
    return path


def wait_for(what, predicate, timeout=20.0, interval=0.2):
    """Polls predicate until it returns something true, or fails."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except Exception as e:  # the tree changes under us; try again
            last_error = e
        time.sleep(interval)
    raise UITestFailure(f'timed out waiting for {what}'
                        + (f' (last error: {last_error})' if last_error else ''))


def plain(name):
    """An accessible name as a person reads it.

    GTK 4.8 names a button that has a mnemonic "_Log In… Log In…": the raw
    label, then the label's text.  This returns "Log In…"."""
    name = name or ''
    for k, c in enumerate(name):
        if c == ' ' and name[:k].replace('_', '') == name[k + 1:]:
            return name[k + 1:]
    # A lone mnemonic label: "_Use the last try"
    return re.sub(r'(^|\s)_(\w)', r'\1\2', name)


def on_screen(node):
    """Whether the node has been given room on the screen.

    GTK 4.8 marks every widget SHOWING and VISIBLE, shown or not, so the
    extents are the only clue: a widget never shown has none.  A widget
    that was shown and then hidden keeps its old extents, so a test that
    needs "gone" checks for a node that left the tree."""
    try:
        from gi.repository import Atspi
        extents = node.queryComponent().getExtents(Atspi.CoordType.WINDOW)
    except Exception:
        return False
    return extents.width > 0 and extents.height > 0


def find_all(root, role=None, name=None, contains=None, visible=None):
    def match(node):
        if role is not None and node.roleName != role:
            return False
        if name is not None and plain(node.name) != name:
            return False
        if contains is not None and contains not in plain(node.name):
            return False
        if visible is not None and on_screen(node) != visible:
            return False
        return True
    return root.findChildren(match)


def find(root, role=None, name=None, contains=None, visible=True, timeout=20.0):
    """Waits for one node with this role and name, and returns it."""
    desc = f'{role or "node"} {name or contains!r}'
    return wait_for(desc, lambda: next(iter(find_all(root, role, name, contains, visible)), None),
                    timeout=timeout)


def absent(root, role=None, name=None, contains=None, timeout=20.0):
    """Waits until no node with this role and name is left in the tree."""
    desc = f'{role or "node"} {name or contains!r} to go away'
    wait_for(desc, lambda: not find_all(root, role, name, contains), timeout=timeout)


def click(node):
    """Activates a button the way a screen reader does."""
    node.doActionNamed('click')


def choose_from_menu(tessera, root, button_name, label):
    """Opens a menu button (GTK 4.8 puts the toggle button that does the
    work inside the menu button) and chooses one of its items."""
    menu_button = find(root, 'push button', button_name)
    inner = [n for n in find_all(menu_button, 'push button', button_name) if n != menu_button]
    click(inner[0] if inner else menu_button)
    click(find(tessera.app, 'menu item', label))


def add_to_token(tessera, window, label):
    """The keys' Add menu: 'Generate Key…' or 'Import Certificate…'."""
    choose_from_menu(tessera, window, 'Add a Key or a Certificate', label)


def press_in(node, *keys):
    """Clicks into a field and presses keys there, as a person would.
    Without a window manager the X keyboard focus follows the pointer."""
    from dogtail import rawinput
    e = node.queryComponent().getExtents(0)
    rawinput.click(e.x + e.width // 2, e.y + e.height // 2)
    time.sleep(0.5)
    for key in keys:
        rawinput.pressKey(key)
        time.sleep(0.3)


def in_empty_state(node):
    """Whether a node belongs to the window's empty state, which stays in
    the tree behind the token page with a Set Up for SSH… of its own."""
    while node is not None and node.roleName != 'frame':
        if node.roleName == 'panel' and node.name == 'No Cards or Tokens':
            return True
        node = node.parent
    return False


def dump(node, depth=0, out=sys.stdout):
    """Prints the accessible tree, to debug a failing test."""
    state = ' (showing)' if node.showing else ''
    out.write('  ' * depth + f'[{node.roleName}] {node.name!r}{state}\n')
    for child in node.children:
        dump(child, depth + 1, out)


def clipboard():
    """What the app put on the CLIPBOARD selection, as bytes."""
    result = subprocess.run(['xclip', '-o', '-selection', 'clipboard'],
                            capture_output=True, timeout=10)
    return result.stdout if result.returncode == 0 else None


def wait_for_clipboard(what, expected):
    """Waits until the clipboard holds exactly expected (bytes)."""
    last = []

    def check():
        last[:] = [clipboard()]
        return last[0] == expected
    try:
        wait_for(what, check, timeout=10)
    except UITestFailure:
        raise UITestFailure(f'{what}: the clipboard holds {last[0]!r}, not {expected!r}')


class SoftHSM:
    """A private SoftHSM token directory and configuration."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='tessera-ui-softhsm.')
        os.mkdir(os.path.join(self.dir, 'tokens'))
        self.conf = os.path.join(self.dir, 'softhsm2.conf')
        with open(self.conf, 'w') as f:
            f.write(f'directories.tokendir = {self.dir}/tokens\n')
        self.env = dict(os.environ, SOFTHSM2_CONF=self.conf)

    def run(self, *argv):
        result = subprocess.run(argv, env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            raise UITestFailure(f'{argv[0]} failed: {result.stdout}{result.stderr}')
        return result.stdout

    def init_token(self, label, so_pin, pin):
        self.run('softhsm2-util', '--init-token', '--free', '--label', label,
                 '--so-pin', so_pin, '--pin', pin)

    def keypairgen(self, token, pin, key_type, key_id, label):
        self.run('pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', token,
                 '--login', '--pin', pin, '--keypairgen', '--key-type', key_type,
                 '--id', key_id, '--label', label)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Tessera:
    """The app under test, started with its own environment."""

    def __init__(self, name, env, argv=None):
        """argv: another way to start it (a sandbox around it); its own
        environment is then the sandbox's to set."""
        self.name = name
        self.log_path = os.path.join(LOG_DIR, name + '-app.log')
        self.log_file = open(self.log_path, 'w')
        env = dict(env)
        # A critical warning is a bug: make it crash the app and fail the test
        env['G_DEBUG'] = 'fatal-criticals'
        self.process = subprocess.Popen(argv or [EXE], env=env, stdout=self.log_file,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.app = wait_for('tessera on the accessibility bus', self._find_app, timeout=30)

    def _find_app(self):
        if self.process.poll() is not None:
            raise UITestFailure(f'tessera exited with {self.process.returncode}; '
                                f'see {self.log_path}')
        for app in tree.root.applications():
            if app.name == 'tessera':
                return app
        return None

    def window(self, title, timeout=20.0):
        return wait_for(f'window {title!r}',
                        lambda: next((w for w in self.app.children
                                      if plain(w.name) == title), None),
                        timeout=timeout)

    def gone(self, title):
        """Whether no window of this title is left."""
        return not any(plain(w.name) == title for w in self.app.children)

    def check_alive(self):
        if self.process.poll() is not None:
            raise UITestFailure(f'tessera exited with {self.process.returncode}; '
                                f'see {self.log_path}')

    def quit(self):
        """Quits with Ctrl+Q, as a person would, and checks the exit status.

        The app runs with fatal criticals, so a critical warning while the
        windows close and their work is cancelled fails here."""
        from dogtail import rawinput
        rawinput.absoluteMotion(100, 100)
        rawinput.keyCombo('<Control>q')
        try:
            status = self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            raise UITestFailure('tessera did not quit on Ctrl+Q')
        if status != 0:
            raise UITestFailure(f'tessera exited with {status} on Ctrl+Q; see {self.log_path}')

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


class Context:
    """What a test set up, cleaned up after the failure screenshot."""

    def __init__(self):
        self._cleanups = []

    def defer(self, cleanup):
        self._cleanups.append(cleanup)

    def cleanup(self):
        for cleanup in reversed(self._cleanups):
            try:
                cleanup()
            except Exception as e:
                log(f'# cleanup failed: {e}')


def run(name, test):
    """Runs test(context) and exits: 0 if it passed, 1 if not.

    On failure, leaves a screenshot and the accessible tree in LOG_DIR,
    taken before the app is stopped."""
    import traceback

    context = Context()
    ok = False
    # A failure screenshot from an earlier run must not suggest this one failed
    for stale in (name + '-failure.png', name + '-tree.txt'):
        if os.path.exists(os.path.join(LOG_DIR, stale)):
            os.unlink(os.path.join(LOG_DIR, stale))
    try:
        test(context)
        ok = True
    except Exception as e:
        traceback.print_exc()
        log(f'not ok - {name}: {e}')
        screenshot(name + '-failure')
        try:
            with open(os.path.join(LOG_DIR, name + '-tree.txt'), 'w') as out:
                for app in tree.root.applications():
                    dump(app, out=out)
        except Exception as e:
            log(f'# could not dump the accessible tree: {e}')
    finally:
        context.cleanup()

    if ok:
        log(f'ok - {name}')
    sys.exit(0 if ok else 1)
