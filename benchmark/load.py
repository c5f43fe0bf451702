"""Requests per second of a desk page or an API read under concurrent load: gunicorn as
in production (the Procfile's web process, DEBUG off, static files collected) on a free
loopback port against the same database, and wrk as the load tool, signed in as the bench
agent (a session cookie) or with one of their API tokens (an Authorization header)."""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import CommandError
from django.db import connection

from benchmark.pages import UNTHROTTLED

# wrk's own summary has no 95th percentile and no machine-readable form: this prints both.
# errors.status counts answers of 400 and above; connect/read/write/timeout, socket errors.
WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "bench-report requests=%d seconds=%.3f p50_ms=%.3f p95_ms=%.3f failed=%d socket_errors=%d\\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass
class Load:
    requests: int
    seconds: float
    median_ms: float
    p95_ms: float
    failed: int  # answered 400 or above
    socket_errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def why_not_measurable() -> str | None:
    """The reason the load cannot be run here, or None when it can."""
    if connection.vendor != "postgresql":
        return "needs PostgreSQL (gunicorn's workers must share this database)"
    if connection.in_atomic_block:
        return "the data is in a transaction gunicorn cannot see"
    if shutil.which("wrk") is None:
        return "wrk is not installed (apt-get install wrk)"
    return None


def page_throughput(
    agent: AbstractBaseUser, path: str, *, workers: int, connections: int, seconds: int
) -> Load:
    with signed_in(agent) as cookie:
        return throughput(
            path, f"Cookie: {cookie}", workers=workers, connections=connections, seconds=seconds
        )


def api_throughput(token: str, path: str, *, workers: int, connections: int, seconds: int) -> Load:
    return throughput(
        path,
        f"Authorization: Bearer {token}",
        workers=workers,
        connections=connections,
        seconds=seconds,
    )


def throughput(path: str, header: str, *, workers: int, connections: int, seconds: int) -> Load:
    """`path` loaded by wrk, each request with `header` ("Name: value") to sign it in."""
    environment = server_environment()
    collect_static(environment)
    with gunicorn(environment, workers=workers) as address:
        check_answers_ok(address, path, header)
        return run_wrk(f"http://{address}{path}", header, connections=connections, seconds=seconds)


def server_environment() -> dict[str, str]:
    """This process's environment, pointed at this process's database, in production mode."""
    db = connection.settings_dict
    url = (
        f"postgres://{quote(db['USER'] or '', safe='')}:{quote(db['PASSWORD'] or '', safe='')}"
        f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"
    )
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        # The server reads the sessions this process signs.
        "SECRET_KEY": settings.SECRET_KEY,
        "API_RATE_LIMIT": UNTHROTTLED,
    }


def collect_static(environment: dict[str, str]) -> None:
    """With DEBUG off WhiteNoise serves the collected, hashed files, and the templates'
    {% static %} needs their manifest."""
    # A fixed command line, no shell.
    subprocess.run(  # nosec B603
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=environment,
        check=True,
    )


@contextmanager
def signed_in(user: AbstractBaseUser) -> Iterator[str]:
    """A session for `user` in the session store the server reads, as a Cookie header."""
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    try:
        yield f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    finally:
        session.delete()


@contextmanager
def gunicorn(environment: dict[str, str], *, workers: int) -> Iterator[str]:
    """gunicorn serving the project on a free loopback port; yields host:port."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        # A fixed command line, no shell.
        process = subprocess.Popen(  # nosec B603
            [sys.executable, "-m", "gunicorn", "helpdesk.wsgi", "--bind", f"127.0.0.1:{port}"]
            + ["--workers", str(workers), "--log-level", "warning"],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_listening(process, port, log)
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_listening(process: subprocess.Popen, port: int, log, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            output = log.read().decode(errors="replace")[-2000:]
            raise CommandError(f"gunicorn stopped ({process.returncode}):\n{output}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise CommandError(f"gunicorn did not listen on port {port} within {timeout:.0f} s")


def check_answers_ok(address: str, path: str, header: str) -> None:
    """The page itself, not a redirect to the sign-in page or a 400 for the host: wrk
    would count either as a fast success."""
    host, port = address.split(":")
    name, value = header.split(": ", 1)
    server = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        server.request("GET", path, headers={name: value})
        response = server.getresponse()
        response.read()
    finally:
        server.close()
    if response.status != 200:
        where = response.getheader("Location") or ""
        raise CommandError(f"gunicorn answered {path} with {response.status} {where}".strip())


def run_wrk(url: str, header: str, *, connections: int, seconds: int) -> Load:
    # One wrk thread keeps up with a few hundred requests a second and leaves the
    # cores to the server.
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_REPORT)
        script.flush()
        # A fixed command line, no shell.
        finished = subprocess.run(  # nosec B603
            ["wrk", "--threads", "1", "--connections", str(connections)]
            + ["--duration", f"{seconds}s", "--timeout", "10s", "--latency"]
            + ["--header", header, "--script", script.name, url],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        )
    found = re.search(r"^bench-report (.+)$", finished.stdout, re.MULTILINE)
    if found is None:
        raise CommandError(f"wrk printed no report:\n{finished.stdout}\n{finished.stderr}")
    figures = dict(pair.split("=") for pair in found.group(1).split())
    return Load(
        requests=int(figures["requests"]),
        seconds=float(figures["seconds"]),
        median_ms=float(figures["p50_ms"]),
        p95_ms=float(figures["p95_ms"]),
        failed=int(figures["failed"]),
        socket_errors=int(figures["socket_errors"]),
    )
