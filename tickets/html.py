"""The HTML a message may hold: sanitized once, by the workflow, as the message is written.

HTML from outside (mail today, the API next) is never trusted. nh3 keeps a conservative
set of tags and attributes, drops scripts, styles, event handlers and unknown URL
schemes, and remote images are not loaded: their address moves to `data-remote-src`,
which the page may restore when the agent asks. `cid:` images stay as they are;
tickets.display.inline_html points them at their stored attachments. What is stored is
therefore safe to show as it is (the request page's `message_html` tag relies on it).
"""

import re

import nh3

TAGS = set(nh3.ALLOWED_TAGS) | {"font", "tfoot"}
ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
ATTRIBUTES.setdefault("img", set()).update({"src", "alt", "title", "width", "height"})
for _cell in ("td", "th", "table", "tr"):
    ATTRIBUTES.setdefault(_cell, set()).update({"valign", "width", "bgcolor", "border"})
ATTRIBUTES["table"].update({"cellpadding", "cellspacing"})
ATTRIBUTES["font"] = {"color", "size", "face"}
ATTRIBUTES["*"] = {"title", "dir", "lang"}

_CLEANER = nh3.Cleaner(
    tags=TAGS,
    attributes=ATTRIBUTES,
    url_schemes={"http", "https", "mailto", "cid", "tel"},
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)
# nh3's output quotes every attribute value with "...", so a tag ends at the first > that
# is outside quotes.
_IMG_TAG = re.compile(r'<img\b(?:[^>"]|"[^"]*")*>', re.IGNORECASE)
_REMOTE_SRC = re.compile(r'\ssrc="(https?://[^"]*)"', re.IGNORECASE)


def sanitize(html: str) -> str:
    """Safe HTML for the agents' page: no scripts, no remote loads."""
    cleaned = _CLEANER.clean(html)
    return _IMG_TAG.sub(
        lambda m: _REMOTE_SRC.sub(r' data-remote-src="\1"', m.group(0)), cleaned
    ).strip()
