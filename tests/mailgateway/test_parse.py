"""Parsing real-world mail: charsets, headers, MIME shapes, HTML, and limits."""

import base64
import time

import pytest

from mailgateway import parse as mailparse
from mailgateway.html import html_to_text
from mailgateway.matching import scheme_pattern
from mailgateway.parse import ParseError, decode_bytes, decode_header, parse
from tickets.html import sanitize


def test_encoded_words_split_inside_a_character_are_joined():
    # "ü" is C3 BC; each encoded word carries one byte of it
    assert decode_header("=?utf-8?q?Gr=C3?= =?utf-8?q?=BC=C3=9Fe?=") == "Grüße"


def test_an_unknown_charset_in_a_header_falls_back_instead_of_failing():
    assert decode_header("=?x-unknown?q?caf=C3=A9?=") == "café"
    assert decode_header("=?utf-8?b?broken base64!?=")  # something, not an exception


def test_raw_8bit_headers_are_read_as_utf8_or_guessed():
    raw = "Subject: Grüße\n\nx\n".encode()
    assert parse(raw).subject == "Grüße"
    assert parse("Subject: Grüße\n\nx\n".encode("cp1252")).subject == "Grüße"


@pytest.mark.parametrize(
    "data, charset, text",
    [
        ("Grüße".encode(), "iso-8859-1", "Grüße"),  # UTF-8 mislabelled as Latin-1
        ("Grüße €".encode("cp1252"), "iso-8859-1", "Grüße €"),  # Windows-1252 as Latin-1
        ("报价单".encode("gbk"), "gb2312", "报价单"),  # GBK labelled GB2312
        ("Привет".encode("koi8-r"), "koi8-r", "Привет"),
        ("hello".encode("utf-7"), "unicode-1-1-utf-7", "hello"),
        ("日本語".encode("iso2022_jp"), "iso-2022-jp", "日本語"),
        ("①".encode("cp932"), "shift_jis", "①"),
        (b"plain", "no-such-charset", "plain"),
        (b"", "utf-8", ""),
    ],
)
def test_text_decodes_under_declared_mislabelled_and_unknown_charsets(data, charset, text):
    assert decode_bytes(data, charset) == text


def test_windows_iso_2022_jp_extensions_are_decoded():
    assert decode_bytes(b"\x1b$B-!\x1b(B", "iso-2022-jp") == "①"


def test_plain_text_is_preferred_and_the_html_kept():
    raw = (
        b"From: a@example.test\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/alternative; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nplain version\n"
        b"--b\nContent-Type: text/html\n\n<p>html <b>version</b></p>\n--b--\n"
    )
    mail = parse(raw)
    assert mail.body_text == "plain version"
    assert mail.body_html == "<p>html <b>version</b></p>"


def test_filenames_are_decoded_and_stripped_of_paths_and_control_characters():
    raw = (
        b"From: a@example.test\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nhi\n'
        b"--b\nContent-Type: application/pdf\n"
        b'Content-Disposition: attachment; filename="..\\\\..\\\\evil\t.pdf"\n\nPDF\n'
        b"--b\nContent-Type: application/pdf\n"
        b"Content-Disposition: attachment; filename*=iso-8859-1''R%E9sum%E9.pdf\n\nPDF\n--b--\n"
    )
    names = [a.filename for a in parse(raw).attachments]
    assert names == ["evil.pdf", "Résumé.pdf"]


def test_storage_names_are_safe_and_never_empty():
    assert mailparse.safe_filename("../../etc/passwd") == "passwd"
    assert mailparse.safe_filename("报价.txt", 3) == "报价.txt"
    assert mailparse.safe_filename("", 3) == "attachment-3"
    assert mailparse.safe_filename("...", 4) == "attachment-4"


def test_sanitizing_removes_active_content_and_defers_remote_images():
    html = sanitize(
        '<p onclick="x()">hi<script>evil()</script></p><iframe src="https://x.test"></iframe>'
        '<img src="http://x.test/a.gif" alt="a"><img src="cid:logo"><a href="vbscript:x">l</a>'
        '<div style="background:url(https://x.test/t.gif)">s</div>'
    )
    assert html == (
        '<p>hi</p><img data-remote-src="http://x.test/a.gif" alt="a"><img src="cid:logo">'
        '<a rel="noopener noreferrer nofollow">l</a><div>s</div>'
    )


def test_html_becomes_readable_text():
    text = html_to_text(
        "<style>p{}</style><h1>Title</h1><p>One&nbsp;&amp; two</p><table><tr><td>a</td>"
        "<td>b</td></tr></table><pre>  keep\n  this</pre>"
    )
    assert text == "Title\n\nOne & two\n\na b\n\nkeep\nthis"


def test_mime_nested_deeper_than_the_limit_is_refused():
    inner = b"Content-Type: text/plain\n\ndeep\n"
    for level in range(mailparse.MAX_DEPTH + 2):
        inner = (
            f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'.encode()
            + inner
            + f"--b{level}--\n".encode()
        )
    with pytest.raises(ParseError, match="nested"):
        parse(b"From: a@example.test\nMIME-Version: 1.0\n" + inner)


def test_a_pathological_message_is_parsed_within_the_time_limit():
    links = "".join(f'<a href="https://example.test/{n}">link {n}</a> ' for n in range(5000))
    images = "".join(f'<img src="cid:img{n}">' for n in range(40))
    parts = [f"--b\nContent-Type: text/html; charset=utf-8\n\n<p>{links}{images}</p>\n"]
    png = base64.encodebytes(b"\x89PNG" + b"\0" * 2000).decode()
    parts += [
        f"--b\nContent-Type: image/png\nContent-ID: <img{n}>\n"
        f"Content-Transfer-Encoding: base64\n\n{png}"
        for n in range(40)
    ]
    big = base64.encodebytes(b"\xff" * (18 * 2**20)).decode()
    parts.append(
        "--b\nContent-Type: application/octet-stream\n"
        'Content-Disposition: attachment; filename="big.bin"\n'
        f"Content-Transfer-Encoding: base64\n\n{big}"
    )
    raw = (
        'From: a@example.test\nMIME-Version: 1.0\nContent-Type: multipart/related; boundary="b"\n\n'
        + "".join(parts)
        + "--b--\n"
    ).encode()
    assert len(raw) > 24 * 2**20
    started = time.monotonic()
    mail = parse(raw)
    assert time.monotonic() - started < mailparse.TIME_LIMIT
    assert len(mail.attachments) == 41 and mail.attachments[-1].size == 18 * 2**20
    assert mail.body_html.count("<a ") == 5000 and "link 4999" in mail.body_text


def test_an_empty_message_is_refused():
    with pytest.raises(ParseError, match="empty"):
        parse(b"  \r\n")


def test_numbering_schemes_become_patterns():
    assert scheme_pattern("REQ-{year}-{seq:06}") == r"REQ\-\d{4}\-\d+"
    assert scheme_pattern("{year}{month}.{seq}") == r"\d{4}\d{2}\.\d+"


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_large_attachment_is_decoded_outside_the_parser_byte_for_byte(newline):
    data = bytes(range(256)) * (3 * 2**20 // 256)
    encoded = base64.encodebytes(data).decode()
    raw = (
        "From: a@example.test\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nhi\n'
        "--b\nContent-Type: application/octet-stream\n"
        'Content-Disposition: attachment; filename="big.bin"\n'
        f"Content-Transfer-Encoding: base64\n\n{encoded}--b--\n"
    ).replace("\n", newline)
    (attachment,) = parse(raw.encode()).attachments
    assert attachment.filename == "big.bin" and attachment.data.read() == data


def test_nul_bytes_leave_the_text_but_not_the_mail():
    raw = (
        b"From: dana@example.test\nSubject: Printer\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/alternative; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain; charset=utf-8\n\nThe printer\x00 smokes\x00\n"
        b"--b\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        + base64.b64encode(b"<p>The printer\x00 smokes</p>")
        + b"\n--b--\n"
    )
    mail = parse(raw)
    assert mail.body_text == "The printer smokes"
    assert "\x00" not in mail.body_html and "The printer smokes" in mail.body_html
