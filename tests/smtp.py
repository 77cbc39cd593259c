"""A small SMTP server on 127.0.0.1 that keeps what it is sent: the tests' mail relay.

It speaks enough of RFC 5321 for Python's ``smtplib`` (no extensions, no TLS, no auth).
``refuse_recipients`` answers every RCPT with 550, as a server does for an unknown mailbox.
"""

import email
import email.policy
import socket
import socketserver
import threading
from email.message import EmailMessage


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (until someone binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Session(socketserver.StreamRequestHandler):
    server: "_Server"

    def say(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def read_data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)

    def handle(self) -> None:
        self.say("220 test-relay ESMTP")
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip()[:4].upper()
            if verb in ("EHLO", "HELO", "MAIL", "RSET", "NOOP"):
                self.say("250 OK")
            elif verb == "RCPT":
                self.say("550 No such mailbox" if self.server.owner.refuse_recipients else "250 OK")
            elif verb == "DATA":
                self.say("354 End data with <CR><LF>.<CR><LF>")
                self.server.owner.keep(self.read_data())
                self.say("250 OK: queued")
            elif verb == "QUIT":
                self.say("221 Bye")
                return
            else:
                self.say("502 Command not implemented")


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    owner: "SmtpServer"


class SmtpServer:
    def __init__(self, port: int = 0, *, refuse_recipients: bool = False) -> None:
        self.port = port
        self.refuse_recipients = refuse_recipients
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None

    def keep(self, data: bytes) -> None:
        message = email.message_from_bytes(data, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]

    def start(self) -> "SmtpServer":
        self._server = _Server(("127.0.0.1", self.port), _Session)
        self._server.owner = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "SmtpServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
