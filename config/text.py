"""The one cleaning rule for every user-written text field (display names, bios, posts, replies,
content warnings, report reasons): what people type, without the characters that let text
pretend to be something else.

Removed: control characters, format characters (bidi overrides and isolates, zero-width spaces
and joiners other than U+200D, which emoji sequences need), surrogates and private-use
characters. Tabs and, unless ``multiline``, newlines become spaces; ``\\r\\n`` becomes ``\\n``.
"""

from __future__ import annotations

import unicodedata

_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_KEPT_FORMAT_CHARACTERS = frozenset({"\u200d"})  # zero-width joiner: 👩‍💻 is one emoji


def clean_user_text(value: str, *, multiline: bool = False) -> str:
    """Plain text as people type it: no control or format characters, trimmed; newlines only
    if ``multiline`` (then at most one blank line in a row)."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for char in value:
        if char == "\n" and multiline:
            kept.append(char)
        elif char in "\n\t":
            kept.append(" ")
        elif unicodedata.category(char) in _REMOVED_CATEGORIES and char not in _KEPT_FORMAT_CHARACTERS:
            continue
        else:
            kept.append(char)
    text = "".join(kept).strip()
    if multiline:
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
    return text
