"""HTML from mail: sanitized for display, and turned into plain text.

Inbound HTML is never trusted. nh3 keeps a conservative set of tags and attributes, drops
scripts, styles, event handlers and unknown URL schemes, and remote images are not loaded:
their address moves to `data-remote-src`, which the page may restore when the agent asks.
`cid:` images stay as they are; tickets.display.inline_html points them at their stored
attachments.
"""

import re
from html import escape
from html.parser import HTMLParser

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


def text_to_html(text: str) -> str:
    return "<p>" + escape(text).replace("\n", "<br>\n") + "</p>" if text.strip() else ""


_BLOCKS = {
    "p", "div", "br", "tr", "table", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "hr", "dl", "dt", "dd", "section", "article", "header", "footer",
}  # fmt: skip
_SKIPPED = {"script", "style", "head", "title", "template"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.pre = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in _BLOCKS:
            self.out.append("\n")
        if tag == "pre":
            self.pre += 1
        elif tag in ("td", "th"):
            self.out.append(" ")

    def handle_endtag(self, tag):
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCKS and tag != "li":  # the next item's "- " starts its own line
            self.out.append("\n")
        if tag == "pre":
            self.pre = max(0, self.pre - 1)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self.skipping:
            return
        self.out.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body (for HTML-only mail, search and replies)."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.out).replace("\xa0", " ").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
