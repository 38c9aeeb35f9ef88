#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The metainfo's <screenshots> and data/screenshots/ agree: every image the
# metainfo lists is a PNG file there, as wide and high as its width and
# height say, and every PNG file there is listed.  One screenshot is the
# default, and it shows the window at its default size (the GSettings
# schema's window-width and window-height); a "-narrow" one is as wide as
# the narrowest screen the metainfo says Tessera supports (<display_length>).
# build-aux/screenshots makes the files (HACKING.md: "Screenshots").
#
# Usage: test-screenshots.py METAINFO.xml.in SCREENSHOT_DIR GSCHEMA.xml

import os
import struct
import sys
import xml.etree.ElementTree as ET

from tessera_fixtures import check, report

METAINFO, DIRECTORY, SCHEMA = (os.path.abspath(a) for a in sys.argv[1:4])

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'


def png_size(path):
    """Width and height from the PNG's IHDR chunk, or None if it is not a PNG."""
    with open(path, 'rb') as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != PNG_SIGNATURE or head[12:16] != b'IHDR':
        return None
    return struct.unpack('>II', head[16:24])


def schema_default(key):
    for node in ET.parse(SCHEMA).getroot().iter('key'):
        if node.get('name') == key:
            return int(node.findtext('default'))
    raise KeyError(key)


def main():
    root = ET.parse(METAINFO).getroot()
    screenshots = root.findall('./screenshots/screenshot')
    check('the metainfo lists screenshots', len(screenshots) > 0)

    defaults = [s for s in screenshots if s.get('type') == 'default']
    check('exactly one screenshot is the default', len(defaults) == 1, f'{len(defaults)} are')

    display = root.find("./requires/display_length[@compare='ge']")
    narrowest = int(display.text) if display is not None else None
    window = (schema_default('window-width'), schema_default('window-height'))

    listed = {}
    for shot in screenshots:
        images = shot.findall('image')
        check(f'screenshot {len(listed) + 1} has one image', len(images) == 1, ET.tostring(shot))
        if not images:
            continue
        image = images[0]
        url = (image.text or '').strip()
        name = os.path.basename(url)
        caption = (shot.findtext('caption') or '').strip()
        check(f'{name}: the URL is https and names a PNG file',
              url.startswith('https://') and name.endswith('.png'), url)
        check(f'{name}: listed once', name not in listed)
        check(f'{name}: has a caption', caption != '')
        listed[name] = shot

        path = os.path.join(DIRECTORY, name)
        size = png_size(path) if os.path.isfile(path) else None
        if not check(f'{name}: data/screenshots/{name} is a PNG file', size is not None, path):
            continue
        declared = (int(image.get('width', '0')), int(image.get('height', '0')))
        check(f'{name}: {size[0]}x{size[1]} as the metainfo says', size == declared,
              f'the file is {size[0]}x{size[1]}, the metainfo says {declared[0]}x{declared[1]}')
        if '-narrow' in name and narrowest is not None:
            check(f'{name}: as wide as the narrowest screen ({narrowest} px)',
                  size[0] == narrowest, f'{size[0]} px')
        if shot.get('type') == 'default':
            check(f'{name}: the default shows the window at its default size '
                  f'({window[0]}x{window[1]})', size == window, f'{size[0]}x{size[1]}')
        check(f'{name}: at most 200 KiB', os.path.getsize(path) <= 200 * 1024,
              f'{os.path.getsize(path)} bytes')

    files = sorted(f for f in os.listdir(DIRECTORY) if f.endswith('.png'))
    check('data/screenshots holds PNG files', len(files) > 0, DIRECTORY)
    for f in files:
        check(f'{f}: listed in the metainfo', f in listed)
    others = sorted(f for f in os.listdir(DIRECTORY) if not f.endswith('.png'))
    check('data/screenshots holds nothing but PNG files', others == [], others)
    return report()


if __name__ == '__main__':
    sys.exit(main())
