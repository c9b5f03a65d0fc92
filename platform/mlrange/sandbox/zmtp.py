"""The worker's end of a kernel channel: a ZMTP 3.0 peer that counts bytes as frames arrive.

libzmq delivers multipart messages atomically, so it buffers a whole message before the
reader sees its first frame; ``MAXMSGSIZE`` caps one frame and ``RCVHWM`` counts whole
messages. One IOPub message of 219 frames of 7 MiB each was buffered whole by the worker
(1.45 GiB) while the kernel itself used 247 MiB. This module speaks the wire protocol
itself (RFC 23, ZMTP 3.0, NULL mechanism) over the kernel's Unix path socket and checks
every frame *header* against the per-message and per-connection byte caps before reading
the frame: a message over a cap raises ``MessageTooLargeError`` with at most one read buffer
(64 KiB) beyond the cap ever held, and the caller kills the kernel.

Only what the worker needs: a SUB peer (IOPub) and a DEALER peer (shell) that connect to the
kernel's bound sockets. Commands other than READY (e.g. PING) are read and ignored. Messages
are lists of frames (bytes); jupyter-client's ``Session`` signs and parses them.
"""

from __future__ import annotations

import contextlib
import errno
import select
import socket
import struct
import time
from collections.abc import Sequence

_SIGNATURE = b"\xff" + b"\x00" * 8 + b"\x7f"
_GREETING_LEN = 64
_FLAG_MORE = 0x01
_FLAG_LONG = 0x02
_FLAG_COMMAND = 0x04
_READ_CHUNK = 65536
_COMMAND_MAX = 4096


class ZmtpError(Exception):
    """The peer broke the protocol, closed the connection, or did not answer in time."""


class ConnectionClosedError(ZmtpError):
    """The peer closed the connection (the kernel died or closed its socket)."""


class MessageTooLargeError(ZmtpError):
    """A message (or the connection's total) went over its byte cap."""


def _greeting() -> bytes:
    mechanism = b"NULL".ljust(20, b"\x00")
    return _SIGNATURE + bytes([3, 0]) + mechanism + b"\x00" + b"\x00" * 31


def _frame(body: bytes, *, more: bool = False, command: bool = False) -> bytes:
    flags = (_FLAG_MORE if more else 0) | (_FLAG_COMMAND if command else 0)
    if len(body) > 255:
        return struct.pack(">BQ", flags | _FLAG_LONG, len(body)) + body
    return struct.pack(">BB", flags, len(body)) + body


def _ready(socket_type: bytes) -> bytes:
    name = b"Socket-Type"
    properties = bytes([len(name)]) + name + struct.pack(">I", len(socket_type)) + socket_type
    return _frame(b"\x05READY" + properties, command=True)


class ZmtpPeer:
    """One connection to a kernel socket. Not thread-safe; ``close`` always."""

    def __init__(
        self, path: str, socket_type: bytes, *, max_message_bytes: int, max_total_bytes: int
    ) -> None:
        self.path = path
        self.socket_type = socket_type
        self.max_message_bytes = max_message_bytes
        self.max_total_bytes = max_total_bytes
        self.received_bytes = 0
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._frames: list[bytes] = []
        self._message_bytes = 0
        self._header_counted = False
        self._messages: list[list[bytes]] = []

    # Connection -------------------------------------------------------------------------

    def connect(self, deadline: float) -> None:
        """Connect (retrying while the kernel has not bound yet) and complete the handshake."""
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
            try:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
                sock.connect(self.path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                if time.monotonic() > deadline:
                    raise ZmtpError(f"kernel socket {self.path} did not appear in time") from None
                time.sleep(0.005)
            except OSError as exc:
                sock.close()
                raise ZmtpError(f"cannot connect to {self.path}: {exc}") from exc
        self._sock = sock
        try:
            sock.sendall(_greeting() + _ready(self.socket_type))
            greeting = self._recv_exact(_GREETING_LEN, deadline)
            if greeting[0] != 0xFF or greeting[9] != 0x7F or greeting[10] < 3:
                raise ZmtpError("the kernel's socket does not speak ZMTP 3")
            if greeting[12:32].rstrip(b"\x00") != b"NULL":
                raise ZmtpError("the kernel's socket asks for a security mechanism other than NULL")
            self._await_ready(deadline)
        except OSError as exc:
            self.close()
            raise ZmtpError(f"handshake with {self.path} failed: {exc}") from exc
        except ZmtpError:
            self.close()
            raise
        sock.setblocking(False)

    def _recv_exact(self, size: int, deadline: float) -> bytes:
        sock = self._socket()
        data = bytearray()
        while len(data) < size:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                chunk = sock.recv(size - len(data))
            except TimeoutError:
                raise ZmtpError("the kernel did not finish the handshake in time") from None
            if not chunk:
                raise ConnectionClosedError("the kernel closed its socket during the handshake")
            data += chunk
        return bytes(data)

    def _await_ready(self, deadline: float) -> None:
        head = self._recv_exact(2, deadline)
        flags = head[0]
        if not flags & _FLAG_COMMAND:
            raise ZmtpError("the kernel's first frame is not a command")
        size = head[1]
        if flags & _FLAG_LONG:
            size = struct.unpack(">Q", head[1:2] + self._recv_exact(7, deadline))[0]
        if size > _COMMAND_MAX:
            raise ZmtpError("the kernel's READY command is too large")
        body = self._recv_exact(size, deadline)
        if body[:6] != b"\x05READY":
            raise ZmtpError(f"expected READY from the kernel, got {body[:16]!r}")

    def fileno(self) -> int:
        return self._socket().fileno()

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    def _socket(self) -> socket.socket:
        if self._sock is None:
            raise ConnectionClosedError("not connected")
        return self._sock

    # Sending ----------------------------------------------------------------------------

    def send(self, frames: Sequence[bytes], deadline: float) -> None:
        """Send one multipart message (small: requests and subscriptions), waiting for room."""
        data = b"".join(_frame(frame, more=index < len(frames) - 1) for index, frame in enumerate(frames))
        sock = self._socket()
        view = memoryview(data)
        while view:
            try:
                sent = sock.send(view)
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ZmtpError("the kernel is not reading its socket") from None
                select.select([], [sock], [], min(remaining, 0.05))
                continue
            except OSError as exc:
                raise ConnectionClosedError(f"sending to the kernel failed: {exc}") from exc
            view = view[sent:]

    def subscribe_all(self, deadline: float) -> None:
        """SUB: subscribe to every topic (ZMTP 3.0 form: a message whose body is 0x01 + topic)."""
        self.send([b"\x01"], deadline)

    # Receiving --------------------------------------------------------------------------

    def read_available(self) -> list[list[bytes]]:
        """Read what the socket holds now, without blocking; return the complete messages.

        Raises MessageTooLargeError as soon as a frame header takes a message or the total
        over its cap, and ConnectionClosedError on EOF (after returning nothing more).
        """
        sock = self._socket()
        while True:
            try:
                chunk = sock.recv(_READ_CHUNK)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                raise ConnectionClosedError(f"reading from the kernel failed: {exc}") from exc
            if not chunk:
                self._parse()
                raise ConnectionClosedError("the kernel closed its socket")
            self.received_bytes += len(chunk)
            if self.received_bytes > self.max_total_bytes:
                raise MessageTooLargeError(f"the kernel sent more than {self.max_total_bytes:,} bytes in all")
            self._buffer += chunk
            self._parse()
            if len(chunk) < _READ_CHUNK:
                break
        messages, self._messages = self._messages, []
        return messages

    def _parse(self) -> None:
        buffer = self._buffer
        offset = 0
        while len(buffer) - offset >= 2:
            flags = buffer[offset]
            if flags & _FLAG_LONG:
                if len(buffer) - offset < 9:
                    break
                size = struct.unpack_from(">Q", buffer, offset + 1)[0]
                header = 9
            else:
                size = buffer[offset + 1]
                header = 2
            if not self._header_counted:
                # Checked once per frame, from its header, before its body is read.
                self._header_counted = True
                if flags & _FLAG_COMMAND:
                    if size > _COMMAND_MAX:
                        raise MessageTooLargeError("the kernel sent an oversized command")
                else:
                    self._message_bytes += size
                    if self._message_bytes > self.max_message_bytes:
                        raise MessageTooLargeError(
                            f"the kernel sent a message over {self.max_message_bytes:,} bytes"
                        )
            if len(buffer) - offset < header + size:
                break
            body = bytes(buffer[offset + header : offset + header + size])
            offset += header + size
            self._header_counted = False
            if flags & _FLAG_COMMAND:
                continue
            self._frames.append(body)
            if not flags & _FLAG_MORE:
                self._messages.append(self._frames)
                self._frames = []
                self._message_bytes = 0
        del buffer[:offset]


def wait_readable(peers: Sequence[ZmtpPeer], timeout: float) -> list[ZmtpPeer]:
    """The peers whose socket has data (or EOF) within ``timeout`` seconds."""
    try:
        readable, _, _ = select.select(peers, [], [], max(timeout, 0))
    except (OSError, ValueError):
        return list(peers)
    return list(readable)
