"""``python -m devkit.stack_server``: the Rakuten simulator and the Slack stand-in in a process of their own.

In production Slack and Rakuten are never inside the bot's process; to measure the bot as it runs there, run
``rakuten-bot run`` as one process and these stand-ins as another. Both are served on loopback with the local
stack's workspace and seller account (``devkit.local_stack.furnish``). The URLs go out as one JSON line on
stdout (and to ``--urls-file``), followed by the environment a bot needs to use them.

Without ``--control`` it serves until Ctrl-C. With ``--control`` (what ``StackServerProcess`` starts) it
reads one JSON request per line on stdin, ``{"op": "cards", "args": {"channel": "C0ORDERS"}}``, answers each
with one line ``{"ok": true, "result": ...}`` (or ``{"ok": false, "error": "..."}``) and stops at the end of
stdin: enough for a driver in a third process to add sales, read the cards, mint the trigger_ids and
response_urls Slack would put in a click, and see what the bot called. The operations are ``OPERATIONS``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from devkit.local_stack import ADMIN, CHANNEL, LOGIN, SIGNING_SECRET, TOKEN, furnish
from devkit.rakuten_simulator import RakutenSimulator
from devkit.slack_standin import SlackStandIn

JsonDict = dict[str, Any]
Operation = Callable[[RakutenSimulator, SlackStandIn, JsonDict], Any]


def _add_account(simulator: RakutenSimulator, slack: SlackStandIn, args: JsonDict) -> None:
    simulator.add_account(args["login"], args["token"])


def _generate_sales(simulator: RakutenSimulator, slack: SlackStandIn, args: JsonDict) -> list[str]:
    return simulator.generate_sales(args["login"], int(args["count"]), new=bool(args.get("new", False)))


def _sale_items(simulator: RakutenSimulator, slack: SlackStandIn, args: JsonDict) -> list[JsonDict]:
    return [{"itemid": item.itemid, "status": item.status.value} for item in simulator.sale(args["purchaseid"]).items]


def _requests(simulator: RakutenSimulator, slack: SlackStandIn, args: JsonDict) -> list[JsonDict]:
    """What Rakuten received (``action`` and ``login`` narrow it), ``at`` in epoch seconds."""
    action, login = args.get("action"), args.get("login")
    return [
        {"action": r.action, "login": r.login, "params": r.params, "at": r.at.timestamp(), "status": r.status}
        for r in simulator.requests
        if action in (None, r.action) and login in (None, r.login)
    ]


def _messages(simulator: RakutenSimulator, slack: SlackStandIn, args: JsonDict) -> list[JsonDict]:
    """A channel's messages as an interaction payload carries them (with their metadata), oldest first."""
    return [message.as_payload() | {"channel": message.channel} for message in slack.messages(args["channel"])]


def _interactions(simulator: RakutenSimulator, slack: SlackStandIn, args: JsonDict) -> list[JsonDict]:
    """A fresh trigger_id and response_url for each click described (``channel``, ``user``, ``message_ts``)."""
    return [
        {
            "trigger_id": slack.new_trigger_id(),
            "response_url": slack.new_response_url(
                click["channel"], user_id=click.get("user"), message_ts=click.get("message_ts")
            ),
        }
        for click in args["clicks"]
    ]


def _views(simulator: RakutenSimulator, slack: SlackStandIn, args: JsonDict) -> list[JsonDict]:
    callback_id = args.get("callback_id")
    return [view for view in slack.views.values() if callback_id in (None, view.get("callback_id"))]


def _calls(simulator: RakutenSimulator, slack: SlackStandIn, args: JsonDict) -> list[JsonDict]:
    """Web API calls to ``method`` (every method without it): when, the channel or trigger_id, the HTTP status;
    not the other arguments."""
    method = args.get("method")
    return [
        {
            "method": call.method,
            "at": call.at,
            "channel": call.params.get("channel"),
            "trigger_id": call.params.get("trigger_id"),
            "status": call.status,
        }
        for call in slack.calls
        if method in (None, call.method)
    ]


OPERATIONS: dict[str, Operation] = {
    "add_account": _add_account,
    "generate_sales": _generate_sales,
    "sale_items": _sale_items,
    "requests": _requests,
    "messages": _messages,
    "interactions": _interactions,
    "views": _views,
    "calls": _calls,
}


def urls(simulator: RakutenSimulator, slack: SlackStandIn) -> JsonDict:
    return {
        "rakuten_api_url": simulator.url,
        "slack_api_url": slack.api_url,
        "slack_bot_token": slack.bot_token,
        "signing_secret": SIGNING_SECRET,
        "login": LOGIN,
        "token": TOKEN,
        "channel": CHANNEL,
        "admin": ADMIN,
    }


def bot_environment(served: JsonDict) -> dict[str, str]:
    """The variables that point ``rakuten-bot run`` at these stand-ins, with the stack's account connected."""
    return {
        "SLACK_BOT_TOKEN": served["slack_bot_token"],
        "SLACK_SIGNING_SECRET": served["signing_secret"],
        "SLACK_API_URL": served["slack_api_url"],
        "RAKUTEN_API_URL": served["rakuten_api_url"],
        "RAKUTEN_LOGIN": served["login"],
        "RAKUTEN_TOKEN": served["token"],
        "RAKUTEN_CHANNEL": served["channel"],
        "RAKUTEN_ADMINS": served["admin"],
    }


def serve_control(simulator: RakutenSimulator, slack: SlackStandIn, requests: IO[str], answers: IO[str]) -> None:
    """Answer one JSON request per line until the end of ``requests``."""
    for line in requests:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            operation = OPERATIONS[request["op"]]
            answer: JsonDict = {"ok": True, "result": operation(simulator, slack, request.get("args") or {})}
        except Exception as error:  # the driver gets the reason; the stand-ins keep serving
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devkit.stack_server", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated orders (default 7)")
    parser.add_argument("--orders", type=int, default=0, help="sales awaiting shipment to start with (default 0)")
    parser.add_argument("--page-size", type=int, default=50, help="sales per getcurrentsales page (default 50)")
    parser.add_argument("--urls-file", type=Path, help="also write the URLs (the JSON line) to this file")
    parser.add_argument("--control", action="store_true", help="take JSON requests on stdin until its end")
    return parser


def main(argv: Sequence[str] | None = None, *, stop: threading.Event | None = None) -> int:
    args = _parser().parse_args(argv)
    simulator = RakutenSimulator(seed=args.seed, page_size=args.page_size)
    slack = SlackStandIn()
    with simulator, slack:
        furnish(simulator, slack)
        if args.orders:
            simulator.generate_sales(LOGIN, args.orders, new=False)
        served = urls(simulator, slack)
        line = json.dumps(served)
        if args.urls_file is not None:
            args.urls_file.write_text(line + "\n")
        print(line, flush=True)
        if args.control:
            serve_control(simulator, slack, sys.stdin, sys.stdout)
            return 0
        for name, value in bot_environment(served).items():
            print(f"  {name}={value}", file=sys.stderr)
        print("Serving the Rakuten simulator and the Slack stand-in. Ctrl-C to stop.", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            (stop or threading.Event()).wait()
    return 0


class ControlError(RuntimeError):
    """The stand-ins' process refused an operation, or is gone."""


class StackServerProcess:
    """``python -m devkit.stack_server --control`` started from Python: ``urls`` once started, ``call`` to drive it.

    Calls are answered in order, one at a time: use it from one thread.
    """

    def __init__(self, *, seed: int = 7, page_size: int = 50) -> None:
        command = [sys.executable, "-m", "devkit.stack_server", "--control", "--seed", str(seed)]
        command += ["--page-size", str(page_size)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.urls: JsonDict = json.loads(self._read())

    @property
    def pid(self) -> int:
        return self._process.pid

    def call(self, op: str, **args: Any) -> Any:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"op": op, "args": args}) + "\n")
        self._process.stdin.flush()
        answer = json.loads(self._read())
        if not answer["ok"]:
            raise ControlError(f"{op}: {answer['error']}")
        return answer["result"]

    def close(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def __enter__(self) -> StackServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read(self) -> str:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise ControlError(f"the stand-ins' process exited (code {self._process.poll()})")
        return line


if __name__ == "__main__":
    sys.exit(main())
