"""Raw mail → a ParsedMail: decoded headers, text and HTML, attachments.

The standard library's `email` package (policy.default) parses the MIME structure. What
it leaves to the caller is done here the way mail clients need it: headers are decoded
from their raw form by our own RFC 2047 decoder (unknown and mislabelled charsets fall
back instead of failing), every text is decoded through `decode_bytes` (declared charset,
then UTF-8, then a statistical guess), a message the default policy cannot walk is walked
again with the lenient compat32 policy, and the walk is bounded in depth, parts and time
so a pathological message cannot hold a worker.
"""

import base64
import binascii
import codecs
import contextlib
import email
import mimetypes
import os
import quopri
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import Message as EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import IO

import charset_normalizer
from django.core.exceptions import SuspiciousFileOperation
from django.utils.text import get_valid_filename

from mailgateway import html as mailhtml

MAX_DEPTH = 30
MAX_PARTS = 1000
TIME_LIMIT = 20.0  # seconds for one message's walk; a 25 MB message takes about one
MAX_TEXT = 1_000_000  # characters of body text kept in the timeline (the raw keeps all)
MAX_HTML = 2_000_000  # characters of HTML kept for display


class ParseError(Exception):
    """The mail cannot be taken in as it is; it goes to the quarantine with this reason."""


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes | IO[bytes]  # a large part is decoded into a (spooled) temporary file
    content_id: str = ""
    inline: bool = False

    @property
    def size(self) -> int:
        if isinstance(self.data, bytes | bytearray):
            return len(self.data)
        return self.data.seek(0, os.SEEK_END)


@dataclass
class ParsedMail:
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    reply_to: str = ""
    to: str = ""
    cc: str = ""
    date: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)
    raw_headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/plain"
    body_text: str = ""
    body_html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    is_report: bool = False
    bounced_message_id: str = ""
    notes: list[str] = field(default_factory=list)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def addresses_from(self) -> list[str]:
        """Candidate sender addresses, best first (From, then Reply-To, Sender, Return-Path)."""
        found = [self.from_address]
        for name in ("reply-to", "sender", "return-path"):
            found += [address for _, address in _addresses(self.raw_headers.get(name, ""))]
        return [a for a in found if a]


# --- charsets --------------------------------------------------------------------------

# What mail clients write and what they mean by it: supersets for labels commonly used
# for text in the larger set, and names Python does not know.
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-gb2312": "gb18030",
    "x-gbk": "gb18030",
    "cn-gb": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "big5": "big5hkscs",
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "",
    "unknown-8bit": "",
    "x-user-defined": "",
    "default": "",
    "utf8": "utf-8",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
}
# Variants to try when text does not decode under its declared charset.
RELATED_CHARSETS = {
    "iso2022_jp_ext": ("cp50220", "iso2022_jp_2"),
    "iso2022_jp": ("cp50220", "iso2022_jp_2"),
    "cp932": ("shift_jis_2004",),
    "euc_jp": ("euc_jis_2004", "cp932"),
}
# Labels under which valid UTF-8 is more likely mislabelled than meant.
_SINGLE_BYTE = {
    codecs.lookup(name).name
    for name in ("ascii", "cp1252", "latin-1", "iso-8859-15", "iso-8859-2", "cp1250")
}


def normalize_charset(charset: str | None) -> str:
    """A codec name Python knows, or "" when the label is missing or unusable."""
    if not charset:
        return ""
    match = re.match(r"[\w.:+-]+", str(charset).strip().strip("\"'").lower())
    if not match:
        return ""
    name = CHARSET_ALIASES.get(match.group(0), match.group(0))
    if not name:
        return ""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return ""


def _iso2022jp_to_cp932(data: bytes) -> bytes:
    """Windows' ISO-2022-JP (CP50220, with NEC and IBM extensions such as ①) has no
    Python codec; its JIS X 0208 rows map arithmetically onto Shift_JIS, which cp932 reads."""
    out = bytearray()
    mode = "ascii"
    i = 0
    while i < len(data):
        if data[i] == 0x1B:
            sequence = data[i + 1 : i + 3]
            mode = {b"$B": "jis", b"$@": "jis", b"(I": "kana"}.get(bytes(sequence), "ascii")
            i += 3
        elif mode == "jis" and data[i] > 0x20 and i + 1 < len(data):
            j1, j2 = data[i], data[i + 1]
            s1 = ((j1 + 1) >> 1) + (0x70 if j1 <= 0x5E else 0xB0)
            s2 = j2 + (0x1F if j1 % 2 else 0x7E) + (1 if j1 % 2 and j2 >= 0x60 else 0)
            out += bytes((s1, s2))
            i += 2
        else:
            out.append(data[i] + 0x80 if mode == "kana" and 0x20 < data[i] < 0x60 else data[i])
            i += 1
    return bytes(out)


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Text from bytes, never failing: valid UTF-8 wins over a single-byte label (mail
    clients mislabel UTF-8 as Latin-1 far more often than Latin-1 forms valid UTF-8),
    then the declared charset, then a statistical guess, then Windows-1252."""
    if not data:
        return ""
    declared = normalize_charset(charset)
    if not declared or declared in _SINGLE_BYTE:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    for candidate in [declared, *RELATED_CHARSETS.get(declared, ())] if declared else ():
        try:
            if candidate == "cp50220":
                return _iso2022jp_to_cp932(data).decode("cp932")
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data[:200_000]).best() if len(data) > 8 else None
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding, errors="replace")
        except LookupError:
            pass
    return data.decode(declared or "cp1252", errors="replace")


# --- headers ---------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?(.*?)\?=")


def _raw_bytes(value: str) -> bytes:
    """The header's bytes as received (the bytes parser keeps 8-bit bytes as surrogates)."""
    return value.encode("utf-8", "surrogateescape")


def _decode_word(encoding: str, text: str) -> bytes:
    if encoding.lower() == "b":
        text = re.sub(r"[^A-Za-z0-9+/]", "", text)
        try:
            return base64.b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            return text.encode("ascii", "replace")
    return quopri.decodestring(text.replace("_", " ").encode("ascii", "replace"), header=False)


def decode_header(value) -> str:
    """A header's text: RFC 2047 encoded words decoded (adjacent words of one charset
    joined before decoding, so a character split between them survives), raw 8-bit bytes
    decoded as UTF-8 or guessed, folding removed."""
    if value is None:
        return ""
    value = str(value)
    if not value.isascii():
        value = decode_bytes(_raw_bytes(value))
    value = re.sub(r"\r?\n[ \t]", " ", value)
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []
    position = 0

    def flush():
        if pending:
            charset = pending[0][0]
            out.append(decode_bytes(b"".join(chunk for _, chunk in pending), charset))
            pending.clear()

    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between.strip() or not pending:
            flush()
            out.append(between)
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
        chunk = _decode_word(match.group(2), match.group(3))
        if pending and normalize_charset(pending[0][0]) != normalize_charset(charset):
            flush()
        pending.append((charset, chunk))
        position = match.end()
    flush()
    out.append(value[position:])
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", "".join(out)).strip()


def _addresses(value: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of a raw address header. Encoded words are decoded
    after the list is split, so a comma inside an encoded name ("Müller, Bernd") stays."""
    value = re.sub(r"\r?\n[ \t]", " ", str(value or ""))
    try:
        pairs = getaddresses([value])
    except Exception:  # the stdlib's address parser has raised on odd input before
        pairs = []
    result = []
    for name, address in pairs:
        name, address = decode_header(name), decode_header(address).strip("<> ")
        if re.search(r"\s", address) and "@" in address.split()[-1]:
            # "Name name@host" without brackets: the address is the last word
            name, address = name or " ".join(address.split()[:-1]), address.split()[-1]
        if "@" in address:
            result.append((name.strip().strip('"').strip(), address))
    if not result:
        # "Name address@host" and similar: take the last word that looks like an address
        found = re.findall(r"[^\s<>\"',;:]+@[^\s<>\"',;:]+", decode_header(value))
        if found:
            result.append(("", found[-1]))
    return result


def _format_addresses(value: str) -> str:
    pairs = _addresses(value)
    if not pairs:
        return decode_header(value)
    return ", ".join(f"{name} <{address}>" if name else address for name, address in pairs)


def _message_ids(value: str) -> list[str]:
    found = re.findall(r"<[^<>\s]+>", value)
    if not found and value.strip():
        found = [f"<{word.strip('<>')}>" for word in value.split() if "@" in word]
    return found


# --- the walk --------------------------------------------------------------------------


@dataclass
class _Segment:
    text: str | None = None
    html: str | None = None


class _Walk:
    def __init__(self, deadline: float, raw: bytes = b"", blobs: list | None = None):
        self.deadline = deadline
        self.raw = raw
        self.blobs = blobs or []
        self.parts = 0
        self.segments: list[_Segment] = []
        self.attachments: list[ParsedAttachment] = []
        self.bounced_message_id = ""
        self.is_report = False

    def check(self, depth: int) -> None:
        self.parts += 1
        if depth > MAX_DEPTH:
            raise ParseError(f"MIME parts nested more than {MAX_DEPTH} deep")
        if self.parts > MAX_PARTS:
            raise ParseError(f"more than {MAX_PARTS} MIME parts")
        if time.monotonic() > self.deadline:
            raise ParseError(f"parsing took longer than {TIME_LIMIT:.0f} s")


def _content_type(part: EmailMessage) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _param(part: EmailMessage, name: str, header: str = "content-type") -> str:
    try:
        value = part.get_param(name, header=header)
    except Exception:
        return ""
    if isinstance(value, tuple):  # RFC 2231 (charset, language, value)
        charset, _, text = value
        try:
            return email.utils.collapse_rfc2231_value(value)
        except (LookupError, UnicodeError):
            return decode_bytes(_raw_bytes(text), charset)
    return str(value) if value else ""


def _filename(part: EmailMessage) -> str:
    name = _param(part, "filename", "content-disposition") or _param(part, "name")
    return _filename_from(decode_header(name)) if name else ""


def _filename_from(name: str) -> str:
    # no paths, no line breaks, no control characters; the display name keeps its letters
    name = re.sub(r"[\x00-\x1f\x7f]+", "", name.replace("\\", "/")).rsplit("/", 1)[-1]
    return name.strip()[:200]


def _disposition(part: EmailMessage) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _payload(part: EmailMessage, walk: "_Walk | None" = None) -> bytes | IO[bytes]:
    """The decoded body of a leaf part; a transfer encoding the stdlib does not know leaves
    the bytes as they are. A large part set aside before parsing is decoded from the raw
    mail straight into a temporary file."""
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if data is None:
        raw = part.get_payload()
        data = _raw_bytes(raw) if isinstance(raw, str) else b""
    if walk is not None and data.startswith(_LARGE_MARK):
        index = int(data[len(_LARGE_MARK) :])
        return _decode_large(walk.raw, *walk.blobs[index])
    return data


def _text_of(part: EmailMessage, data: bytes | IO[bytes]) -> str:
    if not isinstance(data, bytes):
        data = data.read(MAX_TEXT * 4)  # a huge text part: what the timeline can show
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = _param(part, "charset")
    text = decode_bytes(data, charset).replace("\r\n", "\n").replace("\r", "\n")
    # NUL means nothing in text and PostgreSQL refuses it; the raw .eml keeps the bytes
    return text.replace("\x00", "")


def _attachment(walk: _Walk, part: EmailMessage, content_type: str, data: bytes) -> None:
    filename = _filename(part)
    content_id = str(part.get("content-id", "") or "").strip().strip("<>").strip()
    if not filename and "." in content_id.split("@")[0]:
        filename = _filename_from(content_id.split("@")[0])  # Outlook: <image001.png@01D...>
        if filename in {a.filename for a in walk.attachments}:
            filename = ""
    if not filename:
        filename = _invented_name(walk, content_type)
    walk.attachments.append(
        ParsedAttachment(
            filename=filename,
            content_type=content_type if "/" in content_type else "application/octet-stream",
            data=data,
            content_id=content_id[:255],
            inline=_disposition(part) == "inline" or bool(content_id),
        )
    )


# Types mail clients write that the mimetypes module does not know.
_EXTENSIONS = {"image/jpg": ".jpg", "image/pjpeg": ".jpg", "image/x-png": ".png"}


def _invented_name(walk: _Walk, content_type: str) -> str:
    """A name for a nameless part by its type: image.jpg, then image1.jpg, ..."""
    main = content_type.split("/")[0]
    stem = main if main in ("image", "video", "audio", "text") else "file"
    extension = mimetypes.guess_extension(content_type) or _EXTENSIONS.get(content_type, ".bin")
    taken = {a.filename for a in walk.attachments}
    for n in range(len(taken) + 1):
        name = f"{stem}{n or ''}{extension}"
        if name not in taken:
            return name
    return f"{stem}{extension}"


def _walk(walk: _Walk, part: EmailMessage, depth: int = 0) -> None:
    walk.check(depth)
    content_type = _content_type(part)
    if content_type == "message/rfc822" or content_type == "message/global":
        _walk_forwarded(walk, part, depth)
        return
    if content_type == "message/delivery-status":
        name = _filename(part) or "delivery-status.txt"
        walk.attachments.append(ParsedAttachment(name, "text/plain", _delivery_status(part)))
        return
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, EmailMessage)]
        if content_type == "multipart/alternative":
            _walk_alternative(walk, children, depth)
        elif content_type == "multipart/related" and children:
            root = _related_root(part, children)
            _walk(walk, root, depth + 1)
            for child in children:
                if child is not root:
                    _walk(walk, child, depth + 1)
        else:
            if content_type == "multipart/report":
                walk.is_report = True
            for child in children:
                _walk(walk, child, depth + 1)
        return
    data = _payload(part, walk)
    disposition = _disposition(part)
    is_body = disposition != "attachment" and not _filename(part)
    if content_type == "text/plain" and is_body:
        walk.segments.append(_Segment(text=_text_of(part, data)))
    elif content_type == "text/html" and is_body:
        walk.segments.append(_Segment(html=_text_of(part, data)))
    elif content_type == "text/rfc822-headers":
        headers = _text_of(part, data)
        walk.bounced_message_id = walk.bounced_message_id or _first_id(headers)
        walk.attachments.append(ParsedAttachment("returned-headers.txt", "text/plain", data))
    elif data or _filename(part):
        _attachment(walk, part, content_type, data)


def _walk_alternative(walk: _Walk, children: list[EmailMessage], depth: int) -> None:
    """Prefer the plain text for the text, keep the HTML for display; anything else in
    the alternatives (images of the HTML version) is kept as attachments."""
    chosen = _Segment()
    for child in children:
        inner = _Walk(walk.deadline, walk.raw, walk.blobs)
        inner.parts = walk.parts
        _walk(inner, child, depth + 1)
        walk.parts = inner.parts
        walk.attachments.extend(inner.attachments)
        text = _join_text(inner.segments)
        has_html = any(s.html is not None for s in inner.segments)
        if chosen.text is None and not has_html and text.strip():
            chosen.text = text
        if has_html:
            chosen.html = _join_html(inner.segments)
    if chosen.text is not None or chosen.html is not None:
        walk.segments.append(chosen)


def _related_root(part: EmailMessage, children: list[EmailMessage]) -> EmailMessage:
    start = _param(part, "start").strip("<>")
    for child in children:
        if start and str(child.get("content-id", "")).strip().strip("<>") == start:
            return child
    return children[0]


def _walk_forwarded(walk: _Walk, part: EmailMessage, depth: int) -> None:
    """A forwarded or returned mail: shown in place, readable, with its attachments."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, EmailMessage):
        data = _payload(part)
        if data:
            inner = email.message_from_bytes(data, policy=part.policy)
        else:
            return
    headers, _ = _decoded_headers(inner)
    walk.bounced_message_id = walk.bounced_message_id or _first_id(headers.get("message-id", ""))
    if _disposition(part) == "attachment" or _filename(part):
        # sent as an attachment: kept as one too, besides being shown in place
        name = _filename(part) or f"{_filename_from(headers.get('subject', '')) or 'message'}.eml"
        if not name.lower().endswith(".eml"):
            name += ".eml"
        walk.attachments.append(ParsedAttachment(name, "message/rfc822", _message_bytes(inner)))
    lines = ["---------- Forwarded message ----------"]
    for name in ("from", "date", "subject", "to", "cc"):
        if headers.get(name):
            lines.append(f"{name.capitalize()}: {headers[name]}")
    forwarded = _Walk(walk.deadline, walk.raw, walk.blobs)
    forwarded.parts = walk.parts
    _walk(forwarded, inner, depth + 1)
    walk.parts = forwarded.parts
    walk.attachments.extend(forwarded.attachments)
    header_block = "\n".join(lines)
    text = _join_text(forwarded.segments)
    segment = _Segment(text=f"{header_block}\n\n{text}".strip())
    if any(s.html is not None for s in forwarded.segments):
        segment.html = (
            f"<blockquote>{mailhtml.text_to_html(header_block)}"
            f"{_join_html(forwarded.segments)}</blockquote>"
        )
    walk.segments.append(segment)


def _message_bytes(message: EmailMessage) -> bytes:
    try:
        return message.as_bytes()
    except Exception:  # a broken nested message may not serialize under the default policy
        return message.as_bytes(policy=policy.compat32)


def _delivery_status(part: EmailMessage) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list):
        return "\n".join(str(block) for block in payload).encode("utf-8", "replace")
    return _payload(part)


def _first_id(text: str) -> str:
    match = re.search(r"^message-id:\s*(<[^>\s]+>)", text, re.IGNORECASE | re.MULTILINE)
    if match:
        return match.group(1)
    ids = _message_ids(text) if "@" in text and "\n" not in text.strip() else []
    return ids[0] if ids else ""


def _join_text(segments: list[_Segment]) -> str:
    texts = [
        s.text if s.text is not None else mailhtml.html_to_text(s.html or "") for s in segments
    ]
    return "\n\n".join(t.strip("\n") for t in texts if t and t.strip())


def _join_html(segments: list[_Segment]) -> str:
    return "\n".join(
        s.html if s.html is not None else mailhtml.text_to_html(s.text or "") for s in segments
    )


def _decoded_headers(message: EmailMessage) -> tuple[dict[str, str], dict[str, str]]:
    """The message's headers decoded, and as received (address headers are split before
    they are decoded). The first of a repeated header counts, unless it is a From without
    an address and a later one has one."""
    decoded: dict[str, str] = {}
    raw: dict[str, str] = {}
    for name, value in message.raw_items():
        key = name.lower().strip()
        if key not in raw or key == "from" and not _addresses(raw[key]):
            raw[key] = str(value)
            decoded[key] = decode_header(value)
    return decoded, raw


_HEADER_LINE = re.compile(rb"^(?:[\x21-\x39\x3b-\x7e]+[ \t]*:|[ \t]|From )")


def _repair_header_block(raw: bytes) -> bytes:
    """Some mailers write header lines that are neither a header nor indented (a wrapped
    base64 value, say); the parser would take the rest of the headers for the body. Such
    lines are indented, which makes them part of the header before them."""
    end = raw.find(b"\n\n")
    crlf_end = raw.find(b"\r\n\r\n")
    if crlf_end != -1 and (end == -1 or crlf_end < end):
        end = crlf_end
    if end <= 0:
        return raw
    lines = raw[:end].split(b"\n")
    if all(_HEADER_LINE.match(line) for line in lines):
        return raw
    while lines and not _HEADER_LINE.match(lines[0]):
        lines.pop(0)  # a line of text before the headers ("---- Original message ----")
    if not lines:
        return raw
    fixed = [lines[0]] + [line if _HEADER_LINE.match(line) else b" " + line for line in lines[1:]]
    return b"\n".join(fixed) + raw[end:]


# --- large parts -----------------------------------------------------------------------

LARGE_PART = 2**20  # bytes of base64 above which a part is decoded outside the parser
_CHUNK = 2**20
_LARGE_MARK = b"\x00mailgateway-large-part:"
_BASE64_CTE = re.compile(rb"^content-transfer-encoding:[ \t]*base64[ \t]*\r?$", re.I | re.M)
_BASE64_TEXT = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n \t"


def _set_aside_large_parts(raw: bytes) -> tuple[bytes, list[tuple[int, int]]]:
    """The mail with each large base64 body replaced by a short marker, and where those
    bodies are in the raw mail. The stdlib parser keeps a body as a list of lines and then
    as one string, several times its size; a 20 MB attachment would need 200 MB."""
    if len(raw) < LARGE_PART:
        return raw, []
    pieces, blobs, position = [], [], 0
    for match in _BASE64_CTE.finditer(raw):
        if match.start() < position:
            continue
        header_end = (raw.find(b"\n\n", match.start()), raw.find(b"\r\n\r\n", match.start()))
        ends = [e for e in header_end if e != -1]
        if not ends:
            continue
        start = min(ends) + (2 if raw.startswith(b"\n\n", min(ends)) else 4)
        end = raw.find(b"\n--", start)
        end = len(raw) if end == -1 else end + 1
        if end - start < LARGE_PART or any(
            raw[i : min(i + _CHUNK, end)].translate(None, _BASE64_TEXT)
            for i in range(start, end, _CHUNK)
        ):
            continue  # small, or not a base64 body after all
        marker = base64.b64encode(_LARGE_MARK + str(len(blobs)).encode())
        pieces += [raw[position:start], marker + b"\n"]
        blobs.append((start, end))
        position = end
    if not blobs:
        return raw, []
    pieces.append(raw[position:])
    return b"".join(pieces), blobs


def _decode_large(raw: bytes, start: int, end: int) -> IO[bytes]:
    out = tempfile.SpooledTemporaryFile(max_size=LARGE_PART)  # noqa: SIM115 (the caller closes it)
    carry = b""
    for i in range(start, end, _CHUNK):
        chunk = carry + raw[i : min(i + _CHUNK, end)].translate(None, b"\r\n \t")
        usable = len(chunk) - len(chunk) % 4
        out.write(binascii.a2b_base64(chunk[:usable]))
        carry = chunk[usable:]
    if carry.strip(b"="):
        with contextlib.suppress(binascii.Error):
            out.write(binascii.a2b_base64(carry + b"=" * (-len(carry) % 4)))
    out.seek(0)
    return out


# --- entry point -----------------------------------------------------------------------


def parse(raw: bytes) -> ParsedMail:
    """Parse one message. Raises ParseError when it cannot be taken in."""
    if not raw or raw.isspace():
        raise ParseError("the message is empty")
    try:
        return _parse(raw, policy.default)
    except ParseError:
        raise
    except Exception as error:  # the default policy chokes on some broken headers
        try:
            return _parse(raw, policy.compat32)
        except ParseError:
            raise
        except Exception:
            raise ParseError(f"cannot parse the message: {error!r}") from error


def _parse(raw: bytes, mail_policy) -> ParsedMail:
    small, blobs = _set_aside_large_parts(raw)
    message = email.message_from_bytes(_repair_header_block(small), policy=mail_policy)
    del small
    headers, raw_headers = _decoded_headers(message)
    mail = ParsedMail(headers=headers, raw_headers=raw_headers, content_type=_content_type(message))
    mail.message_id = (_message_ids(headers.get("message-id", "")) or [""])[0][:998]
    mail.in_reply_to = (_message_ids(headers.get("in-reply-to", "")) or [""])[0][:998]
    mail.references = _message_ids(headers.get("references", ""))
    mail.subject = re.sub(r"\s+", " ", headers.get("subject", "")).strip()
    senders = _addresses(raw_headers.get("from", ""))
    if senders:
        mail.from_name, mail.from_address = senders[0]
    mail.reply_to = _format_addresses(raw_headers.get("reply-to", ""))
    mail.to = _format_addresses(raw_headers.get("to", ""))
    mail.cc = _format_addresses(raw_headers.get("cc", ""))
    try:
        mail.date = parsedate_to_datetime(headers["date"]) if headers.get("date") else None
    except (TypeError, ValueError, IndexError):
        mail.date = None

    walk = _Walk(time.monotonic() + TIME_LIMIT, raw, blobs)
    _walk(walk, message)
    mail.is_report = walk.is_report
    mail.bounced_message_id = walk.bounced_message_id if walk.is_report else ""
    mail.attachments = walk.attachments
    text = _join_text(walk.segments)
    html = _join_html(walk.segments) if any(s.html is not None for s in walk.segments) else ""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
        mail.notes.append("The text was shortened for display; the original mail is kept.")
    if len(html) > MAX_HTML:
        mail.attachments.append(ParsedAttachment("message.html", "text/html", html.encode()))
        html = html[:MAX_HTML]
        mail.notes.append("The HTML was shortened for display; it is attached in full.")
    mail.body_text = text
    mail.body_html = html if html.strip() else ""  # sanitized as the message is written
    return mail


def peek(raw: bytes) -> tuple[str, str]:
    """Subject and sender address of a mail that may not parse, for the quarantine's list."""
    try:
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw[:262_144])
        senders = _addresses(str(headers.get("from", "")))
        subject = decode_header(headers.get("subject", ""))
        return subject, senders[0][1] if senders else ""
    except Exception:  # it is only a label; the mail itself is kept whole either way
        return "", ""


def safe_filename(name: str, index: int = 0) -> str:
    """A storage name for an attachment: no paths, no odd characters, never empty."""
    extension = mimetypes.guess_extension(mimetypes.guess_type(name)[0] or "") or ""
    try:
        cleaned = get_valid_filename(name.replace("\\", "/").rsplit("/", 1)[-1]).lstrip(".")
    except SuspiciousFileOperation:
        cleaned = ""
    if not cleaned.strip("._"):
        cleaned = f"attachment-{index}{extension}"
    return cleaned[-100:]
