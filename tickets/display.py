"""What the agents' request page needs to show a mail: quoted history and signatures
folded away (but kept), and inline images in place."""

import re
from html import escape

_FOLD_STARTS = [
    re.compile(r"^-- ?$"),  # the signature delimiter (RFC 3676)
    re.compile(r"^-{2,}\s*(original message|ursprüngliche nachricht)\s*-{2,}$", re.I),
    re.compile(r"^(on|am|le|el) .{4,200}(wrote|schrieb|a écrit|escribió)\s*:$", re.I),
    re.compile(r"^_{20,}$"),  # Outlook's line above the quoted headers
]


# The stored HTML was sanitized as it was written (tickets.html.sanitize), whose output quotes
# every attribute value with "...": a tag ends at the first > outside quotes.
_IMG_TAG = re.compile(r'<img\b(?:[^>"]|"[^"]*")*>', re.IGNORECASE)
_CID_SRC = re.compile(r'(\ssrc=")cid:([^"]*)(")', re.IGNORECASE)


def inline_html(body_html: str, urls_by_content_id: dict[str, str]) -> str:
    """The message's HTML with its cid: images pointing at their stored attachments."""
    if not urls_by_content_id:
        return body_html

    def replace(match):
        url = urls_by_content_id.get(match.group(2).strip("<>"))
        return f"{match.group(1)}{escape(url)}{match.group(3)}" if url else match.group(0)

    return _IMG_TAG.sub(lambda m: _CID_SRC.sub(replace, m.group(0)), body_html)


def split_quoted(text: str) -> tuple[str, str]:
    """The new part of a mail's text and the part to fold: the signature, an "On ...
    wrote:" or "Original Message" block, or trailing lines quoted with ">". A mail that
    is nothing but quotation is shown whole."""
    lines = text.splitlines()
    cut = len(lines)
    for index, line in enumerate(lines):
        if any(pattern.match(line.strip()) for pattern in _FOLD_STARTS):
            cut = index
            break
    tail = cut
    while tail > 0 and (not lines[tail - 1].strip() or lines[tail - 1].startswith(">")):
        tail -= 1
    if any(line.startswith(">") for line in lines[tail:cut]):
        cut = tail
    visible = "\n".join(lines[:cut]).rstrip()
    if not visible.strip():
        return text, ""
    return visible, "\n".join(lines[cut:]).strip("\n")
