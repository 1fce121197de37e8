"""Socket Mode as the stand-in serves it: the WebSocket that ``apps.connections.open`` hands out.

Enough of RFC 6455 for slack_sdk's built-in client, over plain ``ws://`` on loopback: the opening handshake,
Slack's ``hello`` on a new connection, pings, a pong for every ping, and the closing handshake. Text frames the
app sends (envelope acknowledgements) are kept on the connection's record. Payloads are never fragmented here:
the client sends whole frames, and so does this side.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

# RFC 6455 §1.3: the key the server hashes with the client's Sec-WebSocket-Key.
_ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OPCODE_TEXT, OPCODE_CLOSE, OPCODE_PING, OPCODE_PONG = 0x1, 0x8, 0x9, 0xA
_MAX_PAYLOAD = 1 << 20  # far above what a client sends; a larger length means a broken frame
CLOSE_NORMAL = 1000
# Slack pings its connections now and then; the stand-in does it often, because slack_sdk's client closes only once
# its pending receive returns: a frame every 0.2 s closes it in a fraction of a second, not its 3-second timeout.
PING_INTERVAL = 0.2


@dataclass
class SocketConnection:
    """One Socket Mode connection, as a test looks at it."""

    connection_id: int
    opened_at: float
    closed_at: float | None = None
    closed_by: str | None = None  # "client" (a close frame or a hang-up) or "server" (the stand-in stopped)
    received: list[str] = field(default_factory=list)  # text frames from the app (acks)

    @property
    def open(self) -> bool:
        return self.closed_at is None


def accept_key(client_key: str) -> str:
    digest = hashlib.sha1((client_key + _ACCEPT_GUID).encode("ascii")).digest()  # noqa: S324 - RFC 6455 says SHA-1
    return base64.b64encode(digest).decode("ascii")


def frame(opcode: int, payload: bytes) -> bytes:
    """A final, unmasked frame: what a server sends."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return header + payload


def read_frame(stream: BinaryIO) -> tuple[int, bytes] | None:
    """The next frame's opcode and (unmasked) payload; None when the peer hung up or sent nonsense."""
    head = _read_exactly(stream, 2)
    if head is None:
        return None
    opcode, masked, length = head[0] & 0x0F, head[1] & 0x80, head[1] & 0x7F
    if length == 126:
        extended = _read_exactly(stream, 2)
        length = struct.unpack("!H", extended)[0] if extended else -1
    elif length == 127:
        extended = _read_exactly(stream, 8)
        length = struct.unpack("!Q", extended)[0] if extended else -1
    if not 0 <= length <= _MAX_PAYLOAD:
        return None
    mask = _read_exactly(stream, 4) if masked else b"\0\0\0\0"
    payload = _read_exactly(stream, length)
    if mask is None or payload is None:
        return None
    return opcode, bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


def hello_message(app_id: str, connection_count: int) -> str:
    """What Slack sends first on every new Socket Mode connection."""
    return json.dumps(
        {
            "type": "hello",
            "num_connections": connection_count,
            "debug_info": {"host": "slack-standin", "approximate_connection_time": 18060},
            "connection_info": {"app_id": app_id},
        }
    )


def serve_connection(
    connection: socket.socket,
    reader: BinaryIO,
    *,
    greeting: str,
    on_text: Callable[[str], None],
    ping_interval: float = PING_INTERVAL,
) -> None:
    """Talk to one upgraded connection until the client closes it, hangs up, or the socket is shut down."""
    send_lock = threading.Lock()
    ended = threading.Event()

    def send(opcode: int, payload: bytes) -> None:
        with send_lock:
            connection.sendall(frame(opcode, payload))

    def keep_pinging() -> None:
        while not ended.wait(ping_interval):
            try:
                send(OPCODE_PING, b"standin")
            except OSError:
                return

    pinger = threading.Thread(target=keep_pinging, name="slack-standin-ping", daemon=True)
    try:
        send(OPCODE_TEXT, greeting.encode("utf-8"))
        pinger.start()
        _answer_frames(reader, send, on_text)
    except OSError:
        return
    finally:
        ended.set()


def _answer_frames(reader: BinaryIO, send: Callable[[int, bytes], None], on_text: Callable[[str], None]) -> None:
    while True:
        received = read_frame(reader)
        if received is None:
            return
        opcode, payload = received
        if opcode == OPCODE_PING:
            send(OPCODE_PONG, payload)
        elif opcode == OPCODE_CLOSE:
            send(OPCODE_CLOSE, payload[:2] or struct.pack("!H", CLOSE_NORMAL))
            return
        elif opcode == OPCODE_TEXT:
            on_text(payload.decode("utf-8", errors="replace"))


def _read_exactly(stream: BinaryIO, count: int) -> bytes | None:
    data = stream.read(count) if count else b""
    return data if data is not None and len(data) == count else None
