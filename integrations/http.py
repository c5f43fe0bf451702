"""The one way the helpdesk calls other servers: escalation webhooks today, automations'
webhooks, SMS providers and provisioning next. Whoever may write a URL into the
configuration must not be able to make the server call its own network, so every call:

- is http or https, and https unless an admin trusts the host with plain http;
- resolves the host once, refuses it when any of its addresses is internal (loopback,
  private, link-local, the cloud metadata service, CGNAT, reserved) unless an admin
  trusts it (integrations.models.TrustedTarget), and then connects to exactly the
  address it checked, so a DNS answer that changes in between cannot slip past (TLS is
  still verified against the host name);
- checks every redirect's target the same way (at most MAX_REDIRECTS of them);
- gives up after `timeout` seconds in all, and reads at most `max_bytes` of the answer.

    response = http.request("POST", url, content=body, headers={...}, timeout=5)

A refusal raises Refused (trying again will not help); a failed call raises
OutboundError; any answer, 4xx and 5xx included, is a Response.
"""

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings

from integrations.models import TrustedTarget

MAX_REDIRECTS = 3
USER_AGENT = "helpdesk"
REDIRECTS = {301, 302, 303, 307, 308}


class OutboundError(Exception):
    """The call failed; the message says why, for the delivery log."""


class Refused(OutboundError):
    """The outbound rules do not allow this call."""


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes
    url: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    addresses: list[str]
    path: str

    def pinned_url(self, address: str) -> str:
        address = f"[{address}]" if ":" in address else address
        return urlunsplit((self.scheme, f"{address}:{self.port}", self.path, "", ""))

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = {"http": 80, "https": 443}[self.scheme]
        return host if self.port == default else f"{host}:{self.port}"


def check_url(url: str) -> None:
    """The checks a URL can be given before it is called (for forms): its scheme, its
    host, no credentials in it. Raises Refused with the reason."""
    _shape(url)


def request(
    method: str,
    url: str,
    *,
    content: bytes = b"",
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> Response:
    call = _Call(
        headers=headers or {},
        timeout=timeout or settings.OUTBOUND_HTTP_TIMEOUT,
        max_bytes=max_bytes or settings.OUTBOUND_HTTP_MAX_RESPONSE_BYTES,
    )
    trusted = list(TrustedTarget.objects.all())
    bundle = settings.OUTBOUND_HTTP_CA_BUNDLE
    verify = ssl.create_default_context(cafile=bundle) if bundle else True
    with httpx.Client(trust_env=False, follow_redirects=False, verify=verify) as client:
        for _ in range(MAX_REDIRECTS + 1):
            response = call.send(client, method, url, _checked(url, trusted), content)
            location = response.headers.get("location")
            if response.status not in REDIRECTS or not location:
                return response
            url = urljoin(url, location)
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, content = "GET", b""
    raise OutboundError(f"More than {MAX_REDIRECTS} redirects.")


def _shape(url: str):
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise Refused(f"Not a URL the helpdesk can call: {error}.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused(f"Only http and https URLs are called, not {scheme or 'one without'}:.")
    if not parts.hostname:
        raise Refused("The URL names no host.")
    if parts.username or parts.password:
        raise Refused("Put credentials in a header, not in the URL.")
    return parts, scheme, parts.hostname, port or {"http": 80, "https": 443}[scheme]


def _checked(url: str, trusted: list[TrustedTarget]) -> _Target:
    parts, scheme, host, port = _shape(url)
    addresses = _resolve(host, port)
    rules = [entry for entry in trusted if entry.covers(host, addresses)]
    if scheme == "http" and not any(entry.allow_plain_http for entry in rules):
        raise Refused(
            f"Plain http:// to {host} is refused: use https, or an admin trusts the host "
            "with plain http (Integrations › Trusted outbound targets)."
        )
    internal = [address for address in addresses if _is_internal(address)]
    if internal and not any(entry.allow_internal_address for entry in rules):
        where = f"{host} is" if host == internal[0] else f"{host} is at {internal[0]},"
        raise Refused(
            f"{where} an internal address (loopback, private, "
            "link-local or the metadata service), which the helpdesk does not call unless "
            "an admin trusts it (Integrations › Trusted outbound targets)."
        )
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return _Target(scheme, host, port, addresses, path)


def _resolve(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise OutboundError(f"Cannot find the host {host}: {error}.") from None
    addresses = []
    for *_, sockaddr in found:
        address = sockaddr[0].split("%")[0]  # an IPv6 scope (fe80::1%eth0) is link-local
        if address not in addresses:
            addresses.append(address)
    return addresses


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    return not ip.is_global or ip.is_multicast


class _Call:
    """One call's limits, over its redirects: the time it may take in all, the most it
    reads of an answer."""

    def __init__(self, *, headers: dict[str, str], timeout: float, max_bytes: int):
        self.headers = headers
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.deadline = time.monotonic() + timeout

    def send(self, client, method: str, url: str, target: _Target, content: bytes) -> Response:
        """The request to the first of the checked addresses that takes the connection."""
        for address in target.addresses:
            try:
                return self._send_to(client, method, url, target, address, content)
            except httpx.ConnectError as error:
                failure = error
        raise OutboundError(f"Cannot connect to {target.host}: {failure}")

    def _send_to(self, client, method, url, target: _Target, address, content) -> Response:
        request = client.build_request(
            method,
            target.pinned_url(address),
            content=content or None,
            headers={"User-Agent": USER_AGENT, **self.headers, "Host": target.host_header},
            # TLS is verified against the host name, though the connection is to its address.
            extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
            timeout=self._left(),
        )
        try:
            response = client.send(request, stream=True)
            try:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise OutboundError(f"The answer is larger than {self.max_bytes:,} bytes.")
                    self._left()  # a server trickling its answer is cut off too
            finally:
                response.close()
        except httpx.TimeoutException:
            raise self._timed_out() from None
        except httpx.ConnectError:
            raise  # the next address may take it
        except httpx.HTTPError as error:
            raise OutboundError(f"{type(error).__name__}: {error}") from None
        return Response(
            response.status_code, response.reason_phrase, response.headers, bytes(body), url
        )

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._timed_out()
        return left

    def _timed_out(self) -> OutboundError:
        return OutboundError(f"Timed out after {self.timeout:g} s.")
