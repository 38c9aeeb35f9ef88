# screenshots.py: takes the screenshots in data/screenshots (see build-aux/screenshots)
#
# Runs inside tests/ui/run-ui-test.sh: its own Xvfb, session bus, AT-SPI
# bus and home.  Starts the real tessera on a SoftHSM token made here from
# fixed key material, drives it through AT-SPI by the names the UI tests
# use, and crops each window out of the X screen.
#
# Deterministic: the keys come from fixed seeds (so fingerprints and
# OpenSSH lines are the same every run), the certificate has fixed dates,
# animations and the text cursor's blinking are off, the font is
# Cantarell, and a window is saved only once two captures in a row agree.
#
# Usage (from build-aux/screenshots): screenshots.py OUTPUT_DIR [NAME...]
#
# SPDX-License-Identifier: GPL-3.0-or-later

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tests', 'ui'))

from dogtail import rawinput  # noqa: E402
from gi.repository import Atspi  # noqa: E402

from tessera_ui import (SOFTHSM_MODULE, SoftHSM, Tessera, UITestFailure, in_empty_state,  # noqa: E402
                        click, dump, find, find_all, log, plain, tree, wait_for)

TOKEN = 'Tessera Demo'
SO_PIN = '12345678'
PIN = '123456'
BLANK = 'Uninitialized token'

# The app's own default size (data/app.tessera.Tessera.gschema.xml), and
# the narrowest screen it supports (<display_length> in the metainfo)
NORMAL = (900, 640)
NARROW = (360, 640)

# (label, curve, CKA_ID, with a certificate)
KEYS = [
    ('Laptop SSH key', 'P-256', '01', True),
    ('Work SSH key', 'P-384', '02', False),
    ('Backup SSH key', 'P-256', '03', False),
]

CURVES = {
    # OID of the curve, and the hash that makes a scalar of its size
    'P-256': ('06082a8648ce3d030107', 'sha256'),
    'P-384': ('06052b81040022', 'sha384'),
}


METAINFO = os.path.join(os.path.dirname(HERE), 'data', 'app.tessera.Tessera.metainfo.xml.in')

# The size of each file written, for the metainfo
SIZES = {}


class ShotFailure(UITestFailure):
    pass


def fail(message):
    raise ShotFailure(message)


# The token --------------------------------------------------------------

def der_length(n):
    if n < 0x80:
        return f'{n:02x}'
    body = f'{n:x}'
    body = ('0' if len(body) % 2 else '') + body
    return f'{0x80 + len(body) // 2:02x}' + body


def der(tag, hex_body):
    return tag + der_length(len(hex_body) // 2) + hex_body


def fixed_ec_key(work, label, curve):
    """An EC private key whose scalar is a hash of its label: the same key,
    fingerprint and OpenSSH line on every run.  Written as SEC1 DER with
    the private part only; openssl adds the public point."""
    oid, digest = CURVES[curve]
    scalar = hashlib.new(digest, f'tessera screenshots: {label}'.encode()).hexdigest()
    sec1 = der('30', '020101' + der('04', scalar) + der('a0', oid))
    base = os.path.join(work, re.sub(r'\W+', '-', label.lower()))
    with open(base + '.sec1', 'wb') as f:
        f.write(bytes.fromhex(sec1))
    for args, out in ((['-outform', 'DER'], '.key.der'),
                      (['-outform', 'PEM'], '.key.pem'),
                      (['-pubout', '-outform', 'DER'], '.pub.der')):
        subprocess.run(['openssl', 'ec', '-inform', 'DER', '-in', base + '.sec1', *args,
                        '-out', base + out], check=True, capture_output=True)
    return base


def make_token(hsm, work):
    hsm.init_token(TOKEN, SO_PIN, PIN)
    for label, curve, key_id, certificate in KEYS:
        base = fixed_ec_key(work, label, curve)
        tool = ['pkcs11-tool', '--module', SOFTHSM_MODULE, '--token-label', TOKEN,
                '--login', '--pin', PIN, '--id', key_id, '--label', label]
        hsm.run(*tool, '--write-object', base + '.key.der', '--type', 'privkey',
                '--usage-sign', '--sensitive')
        hsm.run(*tool, '--write-object', base + '.pub.der', '--type', 'pubkey')
        if certificate:
            template = os.path.join(work, 'cert.cfg')
            with open(template, 'w') as f:
                f.write(f'cn = "{label}"\nserial = 1\n'
                        'activation_date = "2026-01-01 00:00:00 UTC"\n'
                        'expiration_date = "2036-01-01 00:00:00 UTC"\n'
                        'signing_key\ntls_www_client\n')
            hsm.run('certtool', '--generate-self-signed', '--load-privkey', base + '.key.pem',
                    '--template', template, '--outder', '--outfile', base + '.crt.der')
            hsm.run(*tool, '--write-object', base + '.crt.der', '--type', 'cert')


# The session ------------------------------------------------------------

def write_gtk_settings():
    """GTK under X11 without a settings daemon reads settings.ini."""
    path = os.path.join(os.environ['XDG_CONFIG_HOME'], 'gtk-4.0')
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, 'settings.ini'), 'w') as f:
        f.write('[Settings]\n'
                'gtk-font-name = Cantarell 11\n'
                'gtk-enable-animations = false\n'
                'gtk-cursor-blink = false\n'
                'gtk-xft-antialias = 1\n'
                'gtk-xft-hinting = 1\n'
                'gtk-xft-hintstyle = hintslight\n'
                'gtk-xft-rgba = none\n'
                'gtk-icon-theme-name = Adwaita\n')
    # A text cursor shows where the focus is, but it is on or off by the
    # moment of the capture: leave it out
    with open(os.path.join(path, 'gtk.css'), 'w') as f:
        f.write('* { caret-color: transparent; }\n')


def gsettings_set(key, value):
    subprocess.run(['gsettings', 'set', 'app.tessera.Tessera', key, str(value)], check=True)


# Windows on the X screen ------------------------------------------------

def x_windows():
    """The X windows that are shown: (id, title, width, height, x, y)."""
    out = subprocess.run(['xwininfo', '-root', '-children'], capture_output=True, text=True,
                         check=True).stdout
    found = []
    for m in re.finditer(r'^\s+(0x[0-9a-f]+) "(.*)": \(.*\)\s+(\d+)x(\d+)\+(-?\d+)\+(-?\d+)',
                         out, re.M):
        wid = m.group(1)
        info = subprocess.run(['xwininfo', '-id', wid], capture_output=True, text=True).stdout
        if 'IsViewable' in info:
            found.append((wid, m.group(2), *map(int, m.groups()[2:])))
    return found


def content_rect(node):
    """Where the window's content is on the screen.

    Without a compositor GTK draws a plain frame (the resize border) around
    a window, inside its X window; AT-SPI reports the content's size.  The
    frame is the same on every side."""
    title = node.name
    e = node.queryComponent().getExtents(Atspi.CoordType.WINDOW)
    windows = [w for w in x_windows() if w[1] == title]
    if len(windows) != 1:
        fail(f'cannot tell which X window is {title!r}: '
             f'shown windows are {[w[1] for w in x_windows()]}')
    _, _, width, height, x, y = windows[0]
    mx, my = (width - e.width) // 2, (height - e.height) // 2
    if mx < 0 or my < 0:
        fail(f'the window {title!r} is {e.width}x{e.height} but its X window is {width}x{height}')
    return x + mx, y + my, e.width, e.height


def capture(node, path, expect_size=None):
    """Saves the window's content, once two captures in a row agree."""
    x, y, w, h = content_rect(node)
    if expect_size and (w, h) != tuple(expect_size):
        fail(f'{os.path.basename(path)}: the window is {w}x{h}, not {expect_size[0]}x{expect_size[1]}')
    # The pointer rests on the top edge of the header bar, where nothing
    # lights up under it, and the window keeps the keyboard focus (X
    # focus follows the pointer without a window manager)
    rawinput.absoluteMotion(x + w // 2, y + 2)
    time.sleep(1.0)
    previous = None
    for attempt in range(20):
        shot = path + f'.{attempt}.png'
        subprocess.run(['import', '-silent', '-window', 'root', '-crop', f'{w}x{h}+{x}+{y}',
                        '+repage', '-strip', shot], check=True)
        with open(shot, 'rb') as f:
            data = f.read()
        os.unlink(shot)
        if data == previous:
            break
        previous = data
        time.sleep(0.5)
    else:
        fail(f'{os.path.basename(path)}: the window never settled')
    with open(path, 'wb') as f:
        f.write(data)
    if shutil.which('optipng'):
        subprocess.run(['optipng', '-quiet', '-o2', '-strip', 'all', path], check=True)
    log(f'# {os.path.basename(path)}: {w}x{h}, {os.path.getsize(path) // 1024} KiB')
    SIZES[os.path.basename(path)] = (w, h)


# Driving the app --------------------------------------------------------

def new_window(tessera, what, pattern, timeout=30):
    """A window of the app whose title matches pattern, e.g. a dialog that
    is being redesigned: found by what its title says, not by its class."""
    def lookup():
        tessera.check_alive()
        return next((w for w in tessera.app.children if re.search(pattern, plain(w.name))),
                    None)
    try:
        return wait_for(what, lookup, timeout=timeout)
    except UITestFailure:
        shown = [plain(w.name) for w in tessera.app.children]
        raise ShotFailure(f'could not find {what} (a window titled like /{pattern}/); '
                          f'the app shows {shown}') from None


def find_or_fail(root, what, role, names, timeout=20):
    """The first node on screen of this role whose name is one of names (or
    matches a pattern in names), failing with a message that says what was
    there.  On screen: a page the window does not show (the empty state
    behind a token's page) has buttons of the same names."""
    def match():
        found = [node for node in find_all(root, role, visible=True)
                 if any((n.search(plain(node.name)) if hasattr(n, 'search') else n == plain(node.name))
                        for n in names)]
        # The empty state stays in the tree behind a token's page, with a
        # Set Up for SSH… of its own: a page's button comes first
        found.sort(key=in_empty_state)
        return found[0] if found else None
    try:
        return wait_for(what, match, timeout=timeout)
    except UITestFailure:
        there = sorted({plain(n.name) for n in find_all(root, role)})
        wanted = [getattr(n, 'pattern', n) for n in names]
        raise ShotFailure(f'could not find {what} ({role} named {wanted}); '
                          f'{role}s there: {there}') from None


def gone(tessera, node, what, timeout=30):
    title = node.name
    wait_for(f'{what} to close',
             lambda: not any(w.name == title for w in tessera.app.children), timeout=timeout)


def select_token(window, label):
    sidebar = find(window, 'list', 'Cards and Tokens', timeout=30)
    row = find_or_fail(sidebar, f'the token {label!r} in the sidebar', 'list item', [label])
    sidebar.querySelection().selectChild(row.indexInParent)
    wait_for(f'{label!r} to be selected', lambda: row.selected)
    return row


def click_node(node):
    """A pointer click in the middle of a node: the window sits at the
    screen's origin, inside its frame."""
    e = node.queryComponent().getExtents(Atspi.CoordType.WINDOW)
    top = node
    while top.parent is not None and top.roleName not in ('frame', 'dialog', 'window'):
        top = top.parent
    x, y, _, _ = content_rect(top)
    rawinput.click(x + e.x + e.width // 2, y + e.y + e.height // 2)


def log_in(tessera, window):
    button = find_or_fail(window, 'the token page’s Log In button', 'push button', ['Log In…'])
    click(button)
    dialog = new_window(tessera, 'the PIN dialog', rf'^(Log In|Unlock|Enter PIN).*{TOKEN}')
    entry = find_or_fail(dialog, 'the PIN entry', 'password text',
                         ['PIN', re.compile(r'\bPIN\b')])
    entry.text = PIN
    ok = find_or_fail(dialog, 'the PIN dialog’s Log In button', 'push button',
                      ['Log In', 'Unlock', 'OK'])
    wait_for('Log In to be enabled', lambda: ok.sensitive)
    click(ok)
    gone(tessera, dialog, 'the PIN dialog')


def fill_label(dialog):
    """Types a label for the new token, if the dialog asks for one."""
    label = [n for n in find_all(dialog, 'text') if plain(n.name) == 'Label']
    if label:
        label[0].text = 'Work Card'


def key_rows_ready(window):
    keys = find(window, 'list', 'Keys', timeout=30)
    for label, *_ in KEYS:
        wait_for(f'“{label}” to read Ready for SSH',
                 lambda: 'Ready for SSH' in (find(keys, 'list item', label).description or ''),
                 timeout=30)
    return keys


def wait_quiet(window):
    """Waits until the toasts that a login or a change shows are gone:
    their text and their timing do not belong in the picture."""
    wait_for('the toasts to go away',
             lambda: not find_all(window, 'label', contains='Logged in to'), timeout=30)
    time.sleep(0.5)


class Session:
    """One run of tessera on the demo token, with a window size and a style."""

    pad = None  # the frame GTK puts around a window without a compositor

    def __init__(self, name, env, size, dark=False):
        self.name, self.env, self.size = name, dict(env), size
        self.env['ADW_DEBUG_COLOR_SCHEME'] = 'prefer-dark' if dark else 'prefer-light'
        self.tessera = None
        self.start()

    def start(self):
        pad = Session.pad or (0, 0)
        gsettings_set('window-width', self.size[0] + pad[0])
        gsettings_set('window-height', self.size[1] + pad[1])
        gsettings_set('window-maximized', 'false')
        self.tessera = Tessera('screenshots-' + self.name, self.env)
        self.window = self.tessera.window('Tessera', timeout=30)
        e = wait_for('the window to have a size', lambda: (lambda e: e if e.width > 0 else None)(
            self.window.queryComponent().getExtents(Atspi.CoordType.WINDOW)))
        if (e.width, e.height) != tuple(self.size):
            if Session.pad is not None:
                fail(f'the window is {e.width}x{e.height}, not {self.size[0]}x{self.size[1]}')
            # The first window tells how much the frame takes; start again
            Session.pad = (pad[0] + self.size[0] - e.width, pad[1] + self.size[1] - e.height)
            log(f'# the window frame takes {Session.pad[0]}x{Session.pad[1]} px; starting again')
            self.stop()
            self.start()
        elif Session.pad is None:
            Session.pad = pad

    def stop(self):
        if self.tessera is not None:
            self.tessera.stop()
            self.tessera = None


# The screenshots --------------------------------------------------------

def shoot_empty_state(out, env):
    s = Session('empty', dict(env, TESSERA_MODULES=''), NORMAL)
    try:
        find_or_fail(s.window, 'the empty state', 'label', ['No Cards or Tokens'])
        capture(s.window, os.path.join(out, 'empty-state.png'), NORMAL)
    finally:
        s.stop()


def shoot_main(out, env, dark):
    suffix = '-dark' if dark else ''
    s = Session('main' + suffix, env, NORMAL, dark)
    try:
        window, tessera = s.window, s.tessera
        select_token(window, TOKEN)
        log_in(tessera, window)
        keys = key_rows_ready(window)
        wait_quiet(window)
        capture(window, os.path.join(out, f'main-window{suffix}.png'), NORMAL)
        if dark:
            return

        # A key's details: a click on its row, as in test_main_window
        row = find(keys, 'list item', KEYS[0][0])
        click_node(find(row, 'label', KEYS[0][0]))
        find_or_fail(window, 'the key details', 'label', ['SHA-256 fingerprint'])
        find_or_fail(window, 'the key details', 'label', ['Readiness'])
        capture(window, os.path.join(out, 'key-details.png'), NORMAL)
        click(find_or_fail(window, 'the key details’ Back button', 'push button', ['Back']))
        find(window, 'list', 'Keys')

        # The last page of Set Up for SSH: the demo token is set up, so
        # after the checks the assistant goes straight to it
        click(find_or_fail(window, 'the token page’s Set Up for SSH button', 'push button',
                           ['Set Up for SSH…']))
        assistant = new_window(tessera, 'the Set Up for SSH assistant', r'^Set Up for SSH$')
        find_or_fail(assistant, 'the assistant’s last step', 'label',
                     [re.compile(r'^Step 7 of 7\b')], timeout=90)
        find_or_fail(assistant, 'the Done button', 'push button', ['Done'], timeout=60)
        capture(assistant, os.path.join(out, 'setup-last.png'))
        click(find_or_fail(assistant, 'the Done button', 'push button', ['Done']))
        gone(tessera, assistant, 'the assistant')

        # The Initialize dialog of a blank slot
        select_token(window, BLANK)
        click(find_or_fail(window, 'the blank token’s Initialize button', 'push button',
                           ['Initialize…', 'Initialize Token…']))
        dialog = new_window(tessera, 'the Initialize dialog', rf'^Initiali[sz]e\b.*{BLANK}')
        fill_label(dialog)
        capture(dialog, os.path.join(out, 'initialize.png'))
        cancel = [n for n in find_all(dialog, 'push button') if plain(n.name) == 'Cancel']
        if cancel:
            click(cancel[0])
        else:
            rawinput.pressKey('Escape')
        gone(tessera, dialog, 'the Initialize dialog')

        # The first page of Set Up for SSH, from the blank slot
        click(find_or_fail(window, 'the blank token’s Set Up for SSH button', 'push button',
                           ['Set Up for SSH…', f'Set Up “{BLANK}” for SSH…']))
        assistant = new_window(tessera, 'the Set Up for SSH assistant', r'^Set Up for SSH$')
        find_or_fail(assistant, 'the assistant’s first step', 'label',
                     [re.compile(r'^Step 1 of \d+\b')], timeout=60)
        find_or_fail(assistant, 'the Initialize button', 'push button', ['Initialize'], timeout=60)
        fill_label(assistant)
        capture(assistant, os.path.join(out, 'setup-first.png'))
    finally:
        s.stop()


def shoot_narrow(out, env):
    s = Session('narrow', env, NARROW)
    try:
        window, tessera = s.window, s.tessera
        # Folded: the sidebar fills the window; a tap on the token opens it
        sidebar = find(window, 'list', 'Cards and Tokens', timeout=30)
        row = find_or_fail(sidebar, f'the token {TOKEN!r}', 'list item', [TOKEN])
        click_node(row)
        log_in(tessera, window)
        key_rows_ready(window)
        find_or_fail(window, 'the folded window’s Back button', 'push button', ['Back'])
        wait_quiet(window)
        capture(window, os.path.join(out, 'main-window-narrow.png'), NARROW)
    finally:
        s.stop()


def update_metainfo():
    """Writes each new file's size into its <image> in the metainfo: a
    dialog that was redesigned has another size.  A file that the metainfo
    does not list is reported, not added: it needs a caption."""
    with open(METAINFO, encoding='utf-8') as f:
        text = f.read()
    for name, (w, h) in sorted(SIZES.items()):
        pattern = re.compile(r'(<image\b[^>]*?)\s+width="\d+"\s+height="\d+"([^>]*>[^<]*/'
                             + re.escape(name) + r'</image>)')
        text, n = pattern.subn(rf'\1 width="{w}" height="{h}"\2', text)
        if n != 1:
            log(f'screenshots: {name} is not listed in {METAINFO} (with width and height): '
                'add a <screenshot> with a caption for it')
    with open(METAINFO, 'w', encoding='utf-8') as f:
        f.write(text)


SHOTS = {
    'empty-state': lambda out, env: shoot_empty_state(out, env),
    'main': lambda out, env: shoot_main(out, env, False),
    'dark': lambda out, env: shoot_main(out, env, True),
    'narrow': lambda out, env: shoot_narrow(out, env),
}


def main():
    out = os.path.abspath(sys.argv[1])
    wanted = sys.argv[2:] or list(SHOTS)
    for name in wanted:
        if name not in SHOTS:
            sys.exit(f'unknown group {name!r}: choose from {", ".join(SHOTS)}')
    os.makedirs(out, exist_ok=True)
    if not sys.argv[2:]:
        # All of them: a screenshot that is no longer taken goes
        for f in os.listdir(out):
            if f.endswith('.png'):
                os.unlink(os.path.join(out, f))
    write_gtk_settings()

    work = tempfile.mkdtemp(prefix='tessera-screenshots.')
    hsm = SoftHSM()
    agent = None
    ok = False
    try:
        make_token(hsm, work)
        env = dict(hsm.env, TESSERA_MODULES=SOFTHSM_MODULE)
        # A private ssh-agent, as build-aux/demo starts one: the window
        # shows its SSH Agent group as on a desktop
        env['SSH_AUTH_SOCK'] = os.path.join(work, 'agent.sock')
        agent = subprocess.Popen(['ssh-agent', '-D', '-a', env['SSH_AUTH_SOCK'],
                                  '-P', env.get('TESSERA_AGENT_ALLOWLIST', '/usr/lib*/*')],
                                 stdout=subprocess.DEVNULL, env=env)
        wait_for('the ssh-agent', lambda: os.path.exists(env['SSH_AUTH_SOCK']))
        for name in wanted:
            log(f'# {name}')
            SHOTS[name](out, env)
        update_metainfo()
        ok = True
    except Exception as e:
        import traceback
        traceback.print_exc()
        log(f'screenshots: {e}')
        log_dir = os.environ.get('TESSERA_UI_LOG_DIR', out)
        subprocess.run(['import', '-silent', '-window', 'root',
                        os.path.join(log_dir, 'screenshots-failure.png')], check=False)
        try:
            with open(os.path.join(log_dir, 'screenshots-tree.txt'), 'w') as f:
                for app in tree.root.applications():
                    dump(app, out=f)
            log(f'# the screen and the accessible tree are in {log_dir}')
        except Exception:
            pass
    finally:
        if agent is not None:
            agent.terminate()
            agent.wait()
        hsm.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
