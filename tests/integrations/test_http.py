"""The outbound HTTP client: each refusal, and the calls it lets through, against real
HTTP and HTTPS servers on loopback (trusted, as an admin would trust an intranet host)."""

import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError

from integrations import http
from integrations.models import TrustedTarget

pytestmark = pytest.mark.django_db


class Handler(BaseHTTPRequestHandler):
    """Answers as the test says: a status, a redirect, a big or slow answer, or none."""

    def do_GET(self):
        self._answer()

    def do_POST(self):
        self._answer()

    def _answer(self):
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        server.seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
        plan = server.plans.get(self.path, (200, {}, b"ok"))
        if plan == "hang":
            server.release.wait(5)
            return
        if plan == "trickle":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                if server.release.wait(0.05):
                    return
                self.wfile.write(b".")
                self.wfile.flush()
            return
        status, headers, body = plan
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(context: ssl.SSLContext | None = None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.seen, server.plans, server.release = [], {}, threading.Event()
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def server():
    server, thread = serve()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def trusted():
    return TrustedTarget.objects.create(
        host="127.0.0.0/8", allow_plain_http=True, allow_internal_address=True
    )


def certificate(tmp_path, name: str):
    """A self-signed certificate for `name`, made by openssl."""
    key, cert = tmp_path / f"{name}.key", tmp_path / f"{name}.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", key, "-out", cert, "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


@pytest.fixture
def https_server(tmp_path, settings):
    """An HTTPS server with a certificate for `localhost`, which the client trusts as an
    internal CA's (OUTBOUND_HTTP_CA_BUNDLE); it records the name the client asked for."""

    def start(name="localhost"):
        key, cert = certificate(tmp_path, name)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        asked = []
        context.sni_callback = lambda sock, server_name, ctx: asked.append(server_name)
        server, thread = serve(context)
        server.asked = asked
        server.port = server.server_address[1]
        settings.OUTBOUND_HTTP_CA_BUNDLE = str(cert)
        started.append((server, thread))
        return server

    started = []
    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Refusals before any connection -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://files.example.com/hook", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("gopher://93.184.216.34:70/", "Only http and https"),
        ("https:///no-host", "names no host"),
        ("https://user:secret@93.184.216.34/hook", "credentials in a header"),
        ("https://93.184.216.34:99999/", "Not a URL"),
        ("http://93.184.216.34/hook", "Plain http:// to 93.184.216.34 is refused"),
    ],
)
def test_a_url_outside_the_rules_is_refused_with_the_reason(url, reason):
    with pytest.raises(http.Refused, match=reason):
        http.request("POST", url)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata service
        "[fd00:ec2::254]",  # its IPv6 address
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "[::ffff:127.0.0.1]",  # loopback dressed as IPv6
        "2130706433",  # 127.0.0.1 written as one number
        "[fe80::1]",
        "224.0.0.1",
    ],
)
def test_an_internal_address_is_refused(host):
    with pytest.raises(http.Refused, match="an internal address"):
        http.request("GET", f"https://{host}/latest/meta-data/")


def test_a_form_can_check_a_url_before_it_is_saved():
    http.check_url("https://crm.example.com/hook")
    with pytest.raises(http.Refused, match="Only http and https"):
        http.check_url("javascript:alert(1)")


# Trusted targets ---------------------------------------------------------------------


def test_a_trusted_internal_server_is_called_and_answers(server, trusted):
    response = http.request("POST", server.url + "/hook", content=b'{"a": 1}')
    assert (response.status, response.body, response.ok) == (200, b"ok", True)
    [(method, path, headers, body)] = server.seen
    assert (method, path, body) == ("POST", "/hook", b'{"a": 1}')
    assert headers["Host"] == f"127.0.0.1:{server.server_address[1]}"


def test_trusting_an_address_does_not_allow_plain_http_to_it(server):
    TrustedTarget.objects.create(host="127.0.0.1", allow_internal_address=True)
    with pytest.raises(http.Refused, match="Plain http://"):
        http.request("GET", server.url)
    assert server.seen == []


def test_allowing_plain_http_does_not_allow_an_internal_address(server):
    TrustedTarget.objects.create(host="127.0.0.1", allow_plain_http=True)
    with pytest.raises(http.Refused, match="an internal address"):
        http.request("GET", server.url)
    assert server.seen == []


def test_an_error_status_is_an_answer_not_an_exception(server, trusted):
    server.plans["/hook"] = (503, {}, b"busy")
    response = http.request("POST", server.url + "/hook")
    assert (response.status, response.reason, response.ok) == (503, "Service Unavailable", False)


def test_a_redirect_to_an_untrusted_internal_address_is_not_followed(server, trusted):
    server.plans["/hook"] = (302, {"Location": "https://10.1.2.3/admin"}, b"")
    with pytest.raises(http.Refused, match="10.1.2.3 is an internal address"):
        http.request("GET", server.url + "/hook")
    assert [path for _, path, _, _ in server.seen] == ["/hook"]


def test_a_redirect_within_the_rules_is_followed_as_the_status_says(server, trusted):
    server.plans["/old"] = (307, {"Location": "/new"}, b"")
    server.plans["/form"] = (303, {"Location": "/done"}, b"")
    assert http.request("POST", server.url + "/old", content=b"x").url == server.url + "/new"
    assert http.request("POST", server.url + "/form", content=b"x").status == 200
    kept, changed = server.seen[1], server.seen[3]
    assert (kept[0], kept[1], kept[3]) == ("POST", "/new", b"x")  # 307 keeps method and body
    assert (changed[0], changed[1], changed[3]) == ("GET", "/done", b"")  # 303 turns to GET


def test_a_redirect_loop_stops(server, trusted):
    server.plans["/loop"] = (302, {"Location": "/loop"}, b"")
    with pytest.raises(http.OutboundError, match="More than 3 redirects"):
        http.request("GET", server.url + "/loop")
    assert len(server.seen) == 4


def test_an_answer_over_the_size_cap_is_refused(server, trusted):
    server.plans["/big"] = (200, {}, b"x" * 200_000)
    with pytest.raises(http.OutboundError, match="larger than 100,000 bytes"):
        http.request("GET", server.url + "/big", max_bytes=100_000)


def test_a_server_that_does_not_answer_times_out(server, trusted):
    server.plans["/hang"] = "hang"
    started = time.monotonic()
    with pytest.raises(http.OutboundError, match="Timed out after 0.3 s"):
        http.request("GET", server.url + "/hang", timeout=0.3)
    assert time.monotonic() - started < 2


def test_a_server_trickling_its_answer_is_cut_off_at_the_time_limit(server, trusted):
    server.plans["/slow"] = "trickle"  # a byte every 50 ms: never a read timeout
    started = time.monotonic()
    with pytest.raises(http.OutboundError, match="Timed out after 0.5 s"):
        http.request("GET", server.url + "/slow", timeout=0.5)
    assert time.monotonic() - started < 2


def test_a_closed_port_is_a_failed_call(trusted):
    with pytest.raises(http.OutboundError, match="Cannot connect to 127.0.0.1"):
        http.request("GET", "http://127.0.0.1:9/")


# HTTPS: the connection goes to the checked address, TLS to the name ---------------------


def test_https_connects_to_the_checked_address_and_verifies_the_name(https_server):
    server = https_server("localhost")
    TrustedTarget.objects.create(host="localhost", allow_internal_address=True)
    response = http.request("GET", f"https://localhost:{server.port}/status")
    assert response.status == 200
    assert server.asked == ["localhost"]  # SNI: the name, not the address
    assert server.seen[0][2]["Host"] == f"localhost:{server.port}"


def test_a_certificate_for_another_name_is_refused(https_server):
    server = https_server("other.example")
    TrustedTarget.objects.create(host="localhost", allow_internal_address=True)
    with pytest.raises(http.OutboundError, match="CERTIFICATE_VERIFY_FAILED|certificate"):
        http.request("GET", f"https://localhost:{server.port}/status")
    assert server.seen == []


# The allow-list as an admin writes it -----------------------------------------------


@pytest.mark.parametrize("host", ["crm.intranet.example", "10.20.0.0/16", "fd00::/8", "[::1]"])
def test_a_trusted_target_is_a_host_name_an_address_or_a_network(host):
    TrustedTarget(host=host).full_clean()


@pytest.mark.parametrize("host", ["not a host", "http://crm.example", "crm..example", "-x.example"])
def test_anything_else_is_refused_with_what_to_write(host):
    with pytest.raises(ValidationError, match="Write a host name, an IP address or a network"):
        TrustedTarget(host=host).full_clean()
