"""Real servers for the mail gateway's tests: Dovecot (IMAP and POP3) and an aiosmtpd sink.

Dovecot runs once per test module from a throwaway directory on fresh loopback ports and
is stopped by its PID; each test gets its own account in it, so tests never see each
other's mail. A machine without Dovecot skips these tests, CI (REQUIRE_SERVICES=1) fails.
"""

import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap
import time
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from django.utils import timezone

from mailgateway.models import Mailbox
from tests.conftest import free_port, needs
from tests.factories import QueueFactory

PASSWORD = "s3cret"
ACCOUNTS = 50  # per test module


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"dovecot did not listen on {port}")


class Dovecot:
    def __init__(self, root: Path, imap_port: int, pop3_port: int, accounts: list[str]):
        self.root = root
        self.imap_port = imap_port
        self.pop3_port = pop3_port
        self.config = root / "dovecot.conf"
        self.accounts = iter(accounts)

    def add_account(self) -> str:
        """A mailbox account no other test has used."""
        return next(self.accounts)

    def imap(self, user: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        conn.login(user, PASSWORD)
        return conn

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        conn = self.imap(user)
        try:
            typ, data = conn.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
            assert typ == "OK", data
        finally:
            conn.logout()

    def flags(self, user: str) -> list[bytes]:
        conn = self.imap(user)
        try:
            typ, count = conn.select("INBOX")
            if int(count[0]) == 0:
                return []
            typ, data = conn.fetch("1:*", "(FLAGS)")
            return [d for d in data if d]
        finally:
            conn.logout()

    def change_uid_validity(self, user: str) -> None:
        subprocess.run(
            ["doveadm", "-c", str(self.config), "mailbox", "update", "-u", user,
             "--uid-validity", str(int(time.time()) + 1000), "INBOX"],
            check=True, capture_output=True,
        )  # fmt: skip


@pytest.fixture(scope="module")
def dovecot():
    needs("Dovecot (dovecot-imapd, dovecot-pop3d)", shutil.which("dovecot") is not None)
    root = Path(tempfile.mkdtemp(prefix="dovecot-"))
    os.chmod(root, 0o755)
    (root / "mail").mkdir()
    # Dovecot rereads its passwd file only when its mtime changes (to the second), so the
    # accounts the module's tests will use are all written before it starts.
    accounts = [f"u{uuid.uuid4().hex[:10]}@example.test" for _ in range(ACCOUNTS)]
    (root / "passwd").write_text("".join(f"{user}:{{PLAIN}}{PASSWORD}\n" for user in accounts))
    imap_port, pop3_port = free_port(), free_port()
    if os.geteuid() == 0:
        shutil.chown(root / "mail", "nobody", "nogroup")
        users = {"user": "dovecot", "group": "dovecot", "login": "dovenull"}
        uid, gid, chroot = 65534, 65534, ""
    else:  # rootless, as test-servers.md describes
        me = pwd.getpwuid(os.getuid())
        users = {"user": me.pw_name, "group": me.pw_name, "login": me.pw_name}
        uid, gid, chroot = os.getuid(), os.getgid(), "  chroot =\n"
    (root / "dovecot.conf").write_text(
        textwrap.dedent(
            f"""\
            protocols = imap pop3
            listen = 127.0.0.1
            base_dir = {root}/run
            state_dir = {root}/state
            log_path = {root}/dovecot.log
            ssl = no
            disable_plaintext_auth = no
            auth_mechanisms = plain login
            default_internal_user = {users["user"]}
            default_internal_group = {users["group"]}
            default_login_user = {users["login"]}
            mail_location = maildir:{root}/mail/%u
            passdb {{
              driver = passwd-file
              args = scheme=PLAIN username_format=%u {root}/passwd
            }}
            userdb {{
              driver = static
              args = uid={uid} gid={gid} home={root}/mail/%u
            }}
            """
        )
        + f"service imap-login {{\n{chroot}  inet_listener imap {{\n    port = {imap_port}\n  }}\n"
        "  inet_listener imaps {\n    port = 0\n  }\n}\n"
        f"service pop3-login {{\n{chroot}  inet_listener pop3 {{\n    port = {pop3_port}\n  }}\n"
        "  inet_listener pop3s {\n    port = 0\n  }\n}\n"
        + ("service anvil {\n  chroot =\n}\n" if chroot else "")
    )
    process = subprocess.Popen(
        ["dovecot", "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(imap_port, process, root / "dovecot.log")
        _wait_for_port(pop3_port, process, root / "dovecot.log")
        yield Dovecot(root, imap_port, pop3_port, accounts)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def make_mail(
    *,
    subject: str = "My printer is on fire",
    sender: str = "Dana Customer <dana@example.test>",
    to: str = "support@helpdesk.test",
    body: str = "Please help, the printer smokes.",
    message_id: str | None = None,
    in_reply_to: str = "",
    html: str = "",
    headers: dict | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = message_id or make_msgid(domain="example.test")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    return message.as_bytes()


@pytest.fixture
def support_queue(db):
    return QueueFactory(
        name="Support", email_address="support@helpdesk.test", numbering_scheme="SUP-{seq:05}"
    )


@pytest.fixture
def imap_mailbox(dovecot, support_queue):
    user = dovecot.add_account()
    return Mailbox.objects.create(
        name=f"imap-{user}",
        protocol=Mailbox.Protocol.IMAP,
        host="127.0.0.1",
        port=dovecot.imap_port,
        security=Mailbox.Security.PLAIN,
        username=user,
        password=PASSWORD,
        queue=support_queue,
        poll_interval=60,
    )


@pytest.fixture
def pop3_mailbox(dovecot, support_queue):
    user = dovecot.add_account()
    return Mailbox.objects.create(
        name=f"pop3-{user}",
        protocol=Mailbox.Protocol.POP3,
        host="127.0.0.1",
        port=dovecot.pop3_port,
        security=Mailbox.Security.PLAIN,
        username=user,
        password=PASSWORD,
        queue=support_queue,
        delete_after_fetch=True,
    )


@pytest.fixture
def maildir_mailbox(tmp_path, support_queue):
    root = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    return Mailbox.objects.create(
        name="local",
        protocol=Mailbox.Protocol.MAILDIR,
        folder=str(root),
        queue=support_queue,
    )


MAIL_DIR = Path(__file__).resolve().parent / "mail"


def fixture_mail(name: str) -> bytes:
    return (MAIL_DIR / name).read_bytes()
