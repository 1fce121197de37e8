"""The command line: the demo end to end, and Socket Mode's lifecycle (connect, serve until a signal, close)."""

from __future__ import annotations

import re
import threading
from unittest.mock import Mock

import pytest
from pytest_mock import MockerFixture

from bot import cli
from bot.config import Settings
from devkit.demo import run_demo


def test_the_demo_runs_the_main_job_end_to_end() -> None:
    lines: list[str] = []

    assert run_demo(orders=4, seed=3, out=lines.append) == 0

    output = "\n".join(lines)
    assert "Poll: 4 new orders, 4 cards posted" in output
    assert "⚡ EXPRESS" in output  # the Express order stands out in the terminal as in Slack
    assert "app answered HTTP 200 (the ack)" in output
    received = output.split("What Rakuten received")[1].split("The card, updated in place")[0]
    assert "settrackingpackageinfos -> HTTP 200" in received
    assert "'transporter_name': 'Colissimo'" in received
    assert "'tracking_number': '6A12345678901'" in received
    assert "Shipped via Colissimo" in output.split("The card, updated in place")[1]
    accepted = output.split("acceptsale call(s); the card now:")
    assert re.search(r"Rakuten received [1-9]\d* $", accepted[0])  # one call per item of the new sale
    assert "Awaiting shipment" in accepted[1]
    assert "demo-token" not in output  # the simulator account's token is never printed


def test_socket_mode_connects_serves_until_stopped_then_closes(mocker: MockerFixture) -> None:
    handler = Mock()
    handler_class = mocker.patch("slack_bolt.adapter.socket_mode.SocketModeHandler", return_value=handler)
    mocker.patch.object(cli, "_on_signals")  # a test thread must not install signal handlers
    settings = Settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1")
    stop = threading.Event()
    app = object()

    serving = threading.Thread(target=cli._serve_socket_mode, args=(app, settings, stop))
    serving.start()
    _wait_for(lambda: handler.connect.called)
    assert serving.is_alive()  # serving until told to stop
    handler.close.assert_not_called()

    stop.set()
    serving.join(timeout=5)

    assert not serving.is_alive()
    handler_class.assert_called_once_with(app, "xapp-1")
    handler.close.assert_called_once_with()


def test_a_configuration_problem_exits_2_and_lists_every_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], mocker: MockerFixture
) -> None:
    mocker.patch.object(cli, "configure_logging")  # process-wide logging setup would leak into later tests
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "RAKUTEN_LOGIN", "RAKUTEN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAKUTEN_POLL_SECONDS", "never")

    assert cli.main(["run"]) == 2

    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN is required." in err
    assert "RAKUTEN_POLL_SECONDS must be a positive number" in err
    assert "SLACK_SIGNING_SECRET is required in HTTP mode" in err


def _wait_for(condition: object, timeout: float = 5.0) -> None:
    ticker = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if condition():  # type: ignore[operator]
            return
        ticker.wait(0.01)
    raise AssertionError("condition not met in time")
