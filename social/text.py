"""Post text: what it mentions and tags, and its safe HTML.

The source text is stored as typed; ``render_post_text`` escapes all of it and then turns
@mentions of existing users, #hashtags and http(s) URLs into links. Nothing the author typed
ever reaches the page as markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.html import escape

MENTION_RE = re.compile(r"(?<![\w@/])@([A-Za-z0-9_]{3,30})\b")
HASHTAG_RE = re.compile(r"(?<![\w&#/])#(\w{1,100})", re.UNICODE)
URL_RE = re.compile(r"\bhttps?://[^\s<>\"']+", re.IGNORECASE)
_TOKEN_RE = re.compile(
    r"(?P<url>\bhttps?://[^\s<>\"']+)|(?P<mention>(?<![\w@/])@[A-Za-z0-9_]{3,30}\b)|(?P<tag>(?<![\w&#/])#\w{1,100})",
    re.IGNORECASE | re.UNICODE,
)
_TRAILING_PUNCT = ".,;:!?)]}'\""


def extract_mentions(text: str) -> list[str]:
    """Handles mentioned in ``text`` (as typed, without "@"), in order, without repeats."""
    seen: dict[str, str] = {}
    for match in MENTION_RE.finditer(_strip_urls(text)):
        seen.setdefault(match.group(1).lower(), match.group(1))
    return list(seen.values())


def extract_hashtags(text: str) -> list[str]:
    """Hashtags in ``text``, lower-cased, without "#", in order, without repeats."""
    tags: dict[str, None] = {}
    for match in HASHTAG_RE.finditer(_strip_urls(text)):
        tags.setdefault(match.group(1).lower(), None)
    return list(tags)


def _strip_urls(text: str) -> str:
    return URL_RE.sub(" ", text)


def render_post_text(text: str, *, existing_handles: Iterable[str]) -> str:
    """Escaped HTML for ``text`` with links; ``existing_handles`` are the mentions to link."""
    handles = {h.lower(): h for h in existing_handles}
    out: list[str] = []
    position = 0
    for match in _TOKEN_RE.finditer(text):
        out.append(escape(text[position : match.start()]))
        position = match.end()
        token = match.group(0)
        if match.group("url"):
            trail = ""
            while token and token[-1] in _TRAILING_PUNCT:
                trail = token[-1] + trail
                token = token[:-1]
            href = escape(token)
            out.append(
                f'<a href="{href}" rel="nofollow noopener ugc" target="_blank">{href}</a>{escape(trail)}'
            )
        elif match.group("mention"):
            handle = handles.get(token[1:].lower())
            if handle is None:
                out.append(escape(token))
            else:
                out.append(f'<a class="mention" href="/@{escape(handle)}">@{escape(token[1:])}</a>')
        else:
            tag = token[1:]
            out.append(f'<a class="hashtag" href="/tags/{escape(tag.lower())}/">#{escape(tag)}</a>')
    out.append(escape(text[position:]))
    return "".join(out)
