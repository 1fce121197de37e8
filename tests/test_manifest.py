"""app.yaml: a valid Slack app manifest that grants what the app uses and names what it registers."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from bot.constants import COMMAND
from bot.slack.manifest import BOT_EVENTS, REQUIRED_BOT_SCOPES
from bot.subcommands import SUBCOMMANDS, Sub, find_subcommand, usage_hint
from devkit.local_stack import ADMIN, CHANNEL, LocalStack
from devkit.slack_requests import app_home_opened_event, app_uninstalled_event, tokens_revoked_event
from handlers import register_handlers

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "app.yaml"
# Slack's own manifest schema (slackapi/manifest-schema, MIT: see the LICENSE beside it), vendored so the test
# runs offline and from any checkout. The top-level dispatcher schema pulls this file by remote $ref.
SCHEMA = Path(__file__).resolve().parent / "data/slack/manifest.schema.1.0.0.json"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def schema_errors(validator: Draft7Validator, document: dict[str, Any]) -> list[str]:
    errors = sorted(validator.iter_errors(document), key=lambda error: [str(part) for part in error.absolute_path])
    return [f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}" for error in errors]


def test_app_yaml_is_a_valid_manifest(manifest: dict[str, Any], validator: Draft7Validator) -> None:
    errors = schema_errors(validator, manifest)
    assert errors == [], "app.yaml does not match Slack's manifest schema:\n" + "\n".join(errors)


def test_the_schema_check_rejects_a_broken_manifest(manifest: dict[str, Any], validator: Draft7Validator) -> None:
    broken = copy.deepcopy(manifest)
    del broken["display_information"]["name"]
    broken["features"]["slash_commands"][0]["command"] = 42
    broken["settings"]["no_such_setting"] = True

    assert len(schema_errors(validator, broken)) >= 3


def test_scopes_are_exactly_what_the_app_needs(manifest: dict[str, Any]) -> None:
    bot_scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert len(bot_scopes) == len(set(bot_scopes))
    assert set(bot_scopes) == REQUIRED_BOT_SCOPES
    assert not manifest["oauth_config"]["scopes"].get("user")


def test_socket_mode_is_on_and_no_request_url_is_set(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert list(_keys(manifest)).count("request_url") == 0
    assert manifest["features"]["bot_user"]["display_name"]


def test_the_command_s_usage_hint_is_the_subcommand_table(manifest: dict[str, Any]) -> None:
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    assert command["usage_hint"] == usage_hint()


def test_the_readme_documents_every_subcommand_and_its_french_names() -> None:
    readme = (ROOT / "README.md").read_text()
    for entry in SUBCOMMANDS:
        usage = f"{COMMAND} {entry.sub.value} {entry.arguments}".strip()
        assert f"`{usage}" in readme, f"the README's command table lacks {usage}"
        for alias in entry.aliases:
            assert f"`{alias}`" in readme or f"`{COMMAND} {alias}`" in readme, f"the README does not name {alias}"
    # …and names no subcommand the bot does not have.
    named = set(re.findall(rf"`{COMMAND} ([a-z]+)", readme))
    known = {name for entry in SUBCOMMANDS for name in (entry.sub.value, *entry.aliases)}
    assert named <= known, f"the README names unknown subcommands: {sorted(named - known)}"


def test_french_names_and_accents_find_their_subcommand() -> None:
    assert find_subcommand("Expédier") is Sub.SHIP
    assert find_subcommand("COMMANDES") is Sub.ORDERS
    assert find_subcommand("statut") is Sub.STATUS
    assert find_subcommand("") is Sub.HELP
    assert find_subcommand("shipping") is None


class RecordingApp:
    """Stands in for a Bolt App and records what the handlers register on it."""

    def __init__(self) -> None:
        self.registered: dict[str, list[Any]] = {}

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def register(*args: Any, **_: Any) -> Callable[[Any], Any]:
            self.registered.setdefault(method, []).extend(args)
            return lambda listener: listener

        return register


def test_command_and_events_match_what_the_app_registers(manifest: dict[str, Any]) -> None:
    app = RecordingApp()
    register_handlers(app, bot=None)  # type: ignore[arg-type]  # the services are only reached at request time

    manifest_commands = {command["command"] for command in manifest["features"]["slash_commands"]}
    manifest_events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert set(app.registered.get("command", [])) == manifest_commands == {COMMAND}
    assert set(app.registered.get("event", [])) == manifest_events == BOT_EVENTS
    assert not app.registered.get("message")  # message events would need *:history event subscriptions
    assert not app.registered.get("shortcut")  # no shortcut is declared in the manifest


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    with LocalStack(tmp_path / "data") as running:
        yield running


def test_the_running_app_answers_the_manifest_s_command_and_events(stack: LocalStack) -> None:
    assert stack.sender is not None
    assert stack.command("help").status_code == 200
    payloads = {  # in this order: the revocations end the bot's work with Slack
        "app_home_opened": app_home_opened_event(ADMIN),
        "tokens_revoked": tokens_revoked_event(bot_user_ids=[stack.slack.bot_user_id]),
        "app_uninstalled": app_uninstalled_event(),
    }
    assert set(payloads) == BOT_EVENTS, "give each declared event a payload here"
    assert stack.sender.event(payloads["app_home_opened"]).status_code == 200
    stack.slack.wait_for(lambda: stack.slack.published_home(ADMIN) is not None)
    stack.slack.wait_for(lambda: any("How to use" in str(answer.get("text")) for answer in stack.slack.responses))
    for event in ("tokens_revoked", "app_uninstalled"):
        assert stack.sender.event(payloads[event]).status_code == 200
    assert stack.bot.slack_access.revocation is not None
    # Bolt answers 404 to what no listener handles, so the 200s above are the app's own listeners.
    unknown = stack.sender.command(
        command="/not-ours",
        text="",
        user_id=ADMIN,
        channel_id=CHANNEL,
        trigger_id=stack.slack.new_trigger_id(),
        response_url=stack.slack.new_response_url(CHANNEL, user_id=ADMIN),
    )
    assert unknown.status_code == 404


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)
