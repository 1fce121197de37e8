"""The command line in-process: the demo end to end, and configuration problems. ``rakuten-bot run`` and ``check``
as real processes are in tests/e2e (test_run_modes, test_operator_mistakes, test_check_truth)."""

from __future__ import annotations

import re

import pytest
from pytest_mock import MockerFixture

from bot import cli
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

