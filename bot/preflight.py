"""What must hold before ``rakuten-bot run`` starts, judged the same way by ``rakuten-bot check``.

Each problem comes back as one line saying what is wrong and what to do, never as an exception's traceback.
``data_dir_problem`` only looks (``check`` writes nothing); ``prepare_data_dir`` and ``listen_on_port`` are what
``run`` does with the same inputs, and fail with the same kind of line. ``check_before_run`` runs them all, with
the Slack token checks (``bot.slack.connectivity``), before ``run`` opens the store.
"""

from __future__ import annotations

import errno
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from bot.config import PORT_ADVICE, RunMode, Settings
from bot.errors import BotError
from bot.slack.connectivity import SlackSetupError, verify_app_token, verify_bot_token
from bot.slack.poster import build_web_client
from bot.store.data_dir import data_dir_in_use, in_use_message

_DATA_DIR_ADVICE = "choose another RAKUTEN_DATA_DIR, or give the bot's user write access to it"
_PROBE_PREFIX = ".write-check-"


class PreflightError(BotError):
    """``run`` cannot start; the message is one line with what to do."""


def data_dir_problem(data_dir: Path) -> str | None:
    """Whether ``run`` could create (if missing) and write ``data_dir``, judged without writing anything."""
    data_dir = Path(data_dir)
    if data_dir.exists():
        if not data_dir.is_dir():
            return f"RAKUTEN_DATA_DIR {data_dir} is a file, not a directory: {_DATA_DIR_ADVICE}."
        return _writable_problem(data_dir, data_dir)
    ancestor = _nearest_existing(data_dir)
    if not ancestor.is_dir():
        return (
            f"RAKUTEN_DATA_DIR {data_dir} cannot be created: {ancestor} is a file, not a directory. "
            "Choose another RAKUTEN_DATA_DIR."
        )
    return _writable_problem(ancestor, data_dir)


def prepare_data_dir(data_dir: Path) -> None:
    """Create ``data_dir`` (private) if missing and prove it takes a write; PreflightError otherwise.

    The probe is a one-byte file removed at once: the store's own first write would otherwise be the first
    to find a read-only or full disk, deep in its start-up, with a message about the store instead.
    """
    data_dir = Path(data_dir)
    problem = data_dir_problem(data_dir)
    if problem is not None:
        raise PreflightError(problem)
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise PreflightError(
            f"RAKUTEN_DATA_DIR {data_dir} cannot be created ({_reason(error)}): {_advice(error)}."
        ) from None
    probe = data_dir / f"{_PROBE_PREFIX}{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0")
        finally:
            os.close(fd)
    except OSError as error:
        raise PreflightError(
            f"RAKUTEN_DATA_DIR {data_dir} cannot be written ({_reason(error)}): {_advice(error)}."
        ) from None
    finally:
        probe.unlink(missing_ok=True)


def listen_on_port(port: int, host: str = "0.0.0.0") -> socket.socket:  # noqa: S104 - Slack must reach it
    """A listening socket on ``port``, held from now on, so that nothing else takes the port between this check
    and the HTTP server's start (it serves on this very socket)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # As every server does: a port left in TIME_WAIT by the previous run is free to take again.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(1024)
    except OSError as error:
        listener.close()
        raise PreflightError(_port_problem(port, error)) from None
    return listener


def _port_problem(port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return f"PORT {port} is already in use by another program: {PORT_ADVICE}."
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"PORT {port} needs privileges this user does not have (ports below 1024): {PORT_ADVICE}."
    return f"Cannot listen on PORT {port} ({_reason(error)}): {PORT_ADVICE}."


def _writable_problem(existing: Path, data_dir: Path) -> str | None:
    """``existing`` is ``data_dir`` or, when it is missing, the directory it would be created in."""
    what = f"RAKUTEN_DATA_DIR {data_dir}" + ("" if existing == data_dir else f" cannot be created: {existing}")
    try:
        stats = os.statvfs(existing)
    except OSError:
        stats = None
    if stats is not None and stats.f_flag & os.ST_RDONLY:
        return f"{what} is on a read-only file system: {_DATA_DIR_ADVICE}."
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{what} is not writable by this user: {_DATA_DIR_ADVICE}."
    return None


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.absolute().parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _advice(error: OSError) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "free some space on its disk, or choose another RAKUTEN_DATA_DIR"
    return _DATA_DIR_ADVICE


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


@dataclass
class Ready:
    """What the checks before ``run`` hold for it: in HTTP mode, the listening socket on PORT."""

    listener: socket.socket | None = None

    def close(self) -> None:
        if self.listener is not None:
            self.listener.close()


class StartRefused(BotError):
    """Every reason ``run`` cannot start, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def check_before_run(settings: Settings) -> Ready:
    """Everything an operator can get wrong outside the configuration's syntax, found before the store is opened
    or a poll starts: the data dir, the Slack tokens, the port. StartRefused lists every problem at once.

    Only when all are fine is anything written: the data dir is created and takes a probe write.
    """
    problems: list[str] = []
    # With PostgreSQL the data dir holds only the generated key: RAKUTEN_SECRET_KEY makes it unneeded.
    needs_data_dir = not (settings.database_url and settings.secret_key)
    problem = data_dir_problem(settings.data_dir) if needs_data_dir else None
    if problem is not None:
        problems.append(problem)
    elif not settings.database_url and data_dir_in_use(settings.data_dir):
        problems.append(in_use_message(settings.data_dir))
    client = build_web_client(settings.slack_bot_token, settings.slack_api_url, rate_limit_retries=1)
    try:
        verify_bot_token(client, settings.slack_api_url)
        if settings.slack_app_token:
            verify_app_token(client, settings.slack_app_token, settings.slack_api_url)
    except SlackSetupError as error:
        problems.append(str(error))
    ready = Ready()
    if settings.mode is RunMode.HTTP:
        try:
            ready.listener = listen_on_port(settings.port)
        except PreflightError as error:
            problems.append(str(error))
    if not problems and needs_data_dir:
        try:
            prepare_data_dir(settings.data_dir)
        except PreflightError as error:
            problems.append(str(error))
    if problems:
        ready.close()
        raise StartRefused(problems)
    return ready
