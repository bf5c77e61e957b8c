"""Real receivers for the delivery tests (issue 22): a local SMTP server (aiosmtpd) that insists on
STARTTLS with a self-signed certificate made for the test, and a local HTTP server standing in for a
WeCom / DingTalk group robot that checks DingTalk's signature. Both record what reached them, and
deduplicate as a receiver should: by the mail's Message-ID, by the robot body's `msgid`."""
from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER, SMTP_PASSWORD = "claims-mailer", "s3cret-mail-password"
ROBOT_SECRET = "SEC-test-robot-secret"


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost and its key (openssl; the cryptography package is
    not installed here). The certificate is also the CA file the client trusts (SMTP_CA_FILE)."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class MailReceived:
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    login: str | None


@dataclass
class MailRecorder:
    """The aiosmtpd handler: every DATA it was given, in order; `on_data` runs before it answers."""
    received: list[MailReceived] = field(default_factory=list)
    on_data: Callable[[MailReceived], None] | None = None

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        got = MailReceived(list(envelope.rcpt_tos), message, session.ssl is not None, login)
        self.received.append(got)
        if self.on_data is not None:
            self.on_data(got)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        return [r.message["Message-ID"] for r in self.received]

    def delivered(self) -> dict[str, MailReceived]:
        """What a mailbox that drops a repeated Message-ID keeps: one per id, the first."""
        kept: dict[str, MailReceived] = {}
        for r in self.received:
            kept.setdefault(r.message["Message-ID"], r)
        return kept


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(), SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@contextmanager
def smtp_server(folder: Path) -> Iterator[tuple[MailRecorder, dict[str, str]]]:
    """A running SMTP server requiring STARTTLS and a login; yields its recorder and the environment
    that points the product at it."""
    cert, key = self_signed_certificate(folder)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recorder = MailRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=_authenticate, auth_require_tls=True)
    controller.start()
    try:
        yield recorder, {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_USER": SMTP_USER,
                         "SMTP_PASSWORD": SMTP_PASSWORD, "SMTP_FROM": "claims@example.com",
                         "SMTP_CA_FILE": str(cert)}
    finally:
        controller.stop()


@dataclass
class RobotCall:
    body: dict
    query: dict[str, str]
    signature_ok: bool
    status: int


@dataclass
class RobotServer:
    """A group robot: answers each POST with the next (status, errcode) of `answers` (then 200, 0)."""
    answers: list[tuple[int, int]] = field(default_factory=list)
    calls: list[RobotCall] = field(default_factory=list)
    secret: str | None = ROBOT_SECRET

    def delivered(self) -> dict[str, dict]:
        """What the group shows when the receiver drops a repeated msgid: the accepted ones, once each."""
        kept: dict[str, dict] = {}
        for call in self.calls:
            if call.status == 200 and call.signature_ok:
                kept.setdefault(call.body["msgid"], call.body)
        return kept


def _signature_ok(query: dict[str, str], secret: str | None) -> bool:
    if secret is None:
        return "sign" not in query
    if "timestamp" not in query or "sign" not in query:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), f"{query['timestamp']}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, query["sign"])


@contextmanager
def robot_server(robot: RobotServer) -> Iterator[str]:
    """The robot on a local port; yields its URL (with an access token in the query, as the real ones)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
            status, errcode = robot.answers.pop(0) if robot.answers else (200, 0)
            ok = _signature_ok(query, robot.secret)
            if ok is False and status == 200:
                errcode = 310000  # DingTalk's "sign not match"
            robot.calls.append(RobotCall(body, query, ok, status))
            answer = json.dumps({"errcode": errcode, "errmsg": "ok" if errcode == 0 else "refused"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/robot/send?access_token=tok-123"
    finally:
        server.shutdown()
        server.server_close()
