"""The icons the pages use, as one SVG sprite built from the ``heroicons`` package.

Pages draw an icon as ``<svg><use href="icons.svg#mini-heart"></svg>`` (``{% icon %}`` in
``social.templatetags.icons``): a feed of 20 posts then costs one cached file, not 80 inline
SVGs rendered per request (the package's own tags take ~80 µs each). The sprite is a
committed static file; ``python -m social.icons`` rebuilds it after ``ICONS`` changes, and a
test checks it matches the package.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree

SVG_NS = "http://www.w3.org/2000/svg"
SPRITE = Path(__file__).resolve().parent.parent / "static" / "img" / "icons.svg"

# (style, name): outline 24 px for navigation, mini 20 px for buttons and labels.
ICONS: tuple[tuple[str, str], ...] = (
    *(
        ("outline", name)
        for name in (
            "home",
            "globe-alt",
            "magnifying-glass",
            "bell",
            "user-circle",
            "bookmark",
            "user-plus",
            "cog-6-tooth",
            "shield-check",
            "arrow-right-start-on-rectangle",
        )
    ),
    *(
        ("mini", name)
        for name in (
            "chat-bubble-left",
            "heart",
            "arrow-path-rounded-square",
            "bookmark",
            "check",
            "x-mark",
            "exclamation-triangle",
            "globe-alt",
            "magnifying-glass",
            "hashtag",
            "speaker-x-mark",
            "no-symbol",
            "flag",
            "pencil-square",
            "lock-closed",
            "paper-airplane",
            "trash",
            "photo",
        )
    ),
    ("solid", "heart"),
    ("solid", "bookmark"),
)


def _source_zip() -> zipfile.ZipFile:
    import heroicons  # a development dependency: only building and checking the sprite needs it

    return zipfile.ZipFile(Path(heroicons.__file__).parent / "heroicons.zip")


def sprite_build() -> str:
    """The sprite's text: one ``<symbol id="{style}-{name}">`` per icon, with the source SVG's
    drawing attributes (fill, stroke) on the symbol so ``currentColor`` still colours it."""
    ElementTree.register_namespace("", SVG_NS)
    root = ElementTree.Element(f"{{{SVG_NS}}}svg")
    with _source_zip() as source:
        for style, name in ICONS:
            # The pinned package's own files, at build time only: not untrusted input.
            icon = ElementTree.fromstring(source.read(f"{style}/{name}.svg"))  # noqa: S314
            symbol = ElementTree.SubElement(root, f"{{{SVG_NS}}}symbol", id=f"{style}-{name}")
            for attribute in ("viewBox", "fill", "stroke", "stroke-width"):
                if attribute in icon.attrib:
                    symbol.set(attribute, icon.attrib[attribute])
            symbol.extend(list(icon))
    ElementTree.indent(root, space="")
    licence = (
        "<!-- Heroicons (https://heroicons.com), MIT License, Copyright (c) 2020 Refactoring UI Inc.;"
        " built by social/icons.py from the heroicons package. -->\n"
    )
    return licence + ElementTree.tostring(root, encoding="unicode") + "\n"


if __name__ == "__main__":
    SPRITE.write_text(sprite_build(), encoding="utf-8")
    sys.stdout.write(f"wrote {SPRITE} ({len(ICONS)} icons)\n")
