"""The whole bot over loopback for end-to-end tests: simulator, Slack stand-in, the app in HTTP mode.

``stack`` is a started ``LocalStack`` with the harness defaults; ``make_stack`` builds one with other
options (``make_stack(poll_seconds=2, burst_threshold=3)``): one stack per test, as they share the test's
data dir. Every stack is stopped after its test.

Every test built on them runs once per language (``test_x[en]``, ``test_x[fr]``): the ``locale`` fixture is the
bot's default language (``RAKUTEN_DEFAULT_LOCALE``, also for the ``rakuten-bot`` processes of ``bot_process``) and
everyone's Slack language in the stand-in, so cards, alerts, answers and modals all speak it. Tests compare what
the bot shows with ``stack.t`` (the translator of that language, see ``wording``) or with structure (action and
block ids, metadata, the store), never with English prose. A test or module that has nothing to say in a second
language runs in one, marked ``only_in("en")`` with the reason beside it.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from bot.config import Tuning
from devkit.local_stack import LocalStack, StackOptions

StackFactory = Callable[..., LocalStack]
LOCALES = ("en", "fr")

_TUNING_FIELDS = frozenset(field.name for field in fields(Tuning))


def stack_options(**changes: Any) -> StackOptions:
    """StackOptions with some fields changed; names of ``Tuning`` fields change the harness's tuning."""
    options = StackOptions()
    tuning_changes = {name: value for name, value in changes.items() if name in _TUNING_FIELDS}
    option_changes = {name: value for name, value in changes.items() if name not in _TUNING_FIELDS}
    if tuning_changes:
        option_changes["tuning"] = replace(options.tuning, **tuning_changes)
    return replace(options, **option_changes)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(params=LOCALES)
def locale(request: pytest.FixtureRequest) -> str:
    """The bot's default language for this run of the test (``make_stack(locale=...)`` still overrides it)."""
    return str(request.param)


def only_in(language: str) -> pytest.MarkDecorator:
    """Run a test, or a whole module as its ``pytestmark``, in ``language`` only (its id still says which).

    For what has no language (a process's command line, the HTTP layer, the data dir's safety) or a test that sets
    each stack's languages itself: say why where it is used.
    """
    return pytest.mark.parametrize("locale", [language])


@pytest.fixture
def make_stack(data_dir: Path, locale: str) -> Iterator[StackFactory]:
    started: list[LocalStack] = []

    def make(**changes: Any) -> LocalStack:
        stack = LocalStack(data_dir, stack_options(**{"locale": locale, **changes}))
        started.append(stack)
        return stack.start()

    yield make
    for stack in reversed(started):
        stack.stop()


@pytest.fixture
def stack(make_stack: StackFactory) -> LocalStack:
    return make_stack()


@pytest.fixture
def free_port() -> int:
    """A loopback TCP port nothing listens on right now (for a bot run as a real process)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def running_bots() -> Iterator[list[subprocess.Popen[str]]]:
    """``rakuten-bot run`` processes started by a test; any still running afterwards is killed."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)
