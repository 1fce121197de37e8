"""`SlackStandIn`: what the demo, the tests and the benches drive.

It builds the workspace, serves it (`start`/`stop`, or as a context manager), and offers the fixture, fault
and observation calls, each under the workspace lock and returning copies, so a test can hold what it was
given while app threads keep calling the stand-in.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Iterable

from devkit.slack_standin.server import StandInServer
from devkit.slack_standin.workspace import DEFAULT_SCOPES, ApiCall, Fault, Hold, StoredMessage, Workspace

_RECHECK_SECONDS = 0.05


class SlackStandIn:
    """A small Slack workspace served over loopback HTTP; see the package docstring."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-standin",  # noqa: S107 - the stand-in's own fixture value, not a credential
        team_id: str = "T0STANDIN",
        bot_user_id: str = "U0BOT",
        clock: Callable[[], float] = time.time,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        bot_id: str = "B0STANDIN",
        app_id: str = "A0STANDIN",
        team_domain: str = "standin",
    ) -> None:
        self._workspace = Workspace(
            bot_token=bot_token,
            team_id=team_id,
            bot_user_id=bot_user_id,
            clock=clock,
            scopes=scopes,
            bot_id=bot_id,
            app_id=app_id,
            team_domain=team_domain,
        )
        self._server = StandInServer(self._workspace)

    # ------------------------------------------------------------------ identity

    @property
    def bot_token(self) -> str:
        return self._workspace.bot_token

    @property
    def team_id(self) -> str:
        return self._workspace.team_id

    @property
    def bot_user_id(self) -> str:
        return self._workspace.bot_user_id

    @property
    def bot_id(self) -> str:
        return self._workspace.bot_id

    @property
    def app_id(self) -> str:
        return self._workspace.app_id

    @property
    def team_domain(self) -> str:
        return self._workspace.team_domain

    @property
    def scopes(self) -> tuple[str, ...]:
        return self._workspace.scopes

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackStandIn:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def api_url(self) -> str:
        return self._server.api_url

    @property
    def response_url_base(self) -> str:
        return self._server.response_url_base

    # ------------------------------------------------------------------ workspace fixture

    def add_channel(
        self,
        channel_id: str,
        *,
        members: Iterable[str] = (),
        name: str | None = None,
        is_private: bool = False,
        bot_is_member: bool = True,
    ) -> None:
        with self._workspace.lock:
            self._workspace.add_channel(
                channel_id, members=members, name=name, is_private=is_private, bot_is_member=bot_is_member
            )

    def add_user(
        self,
        user_id: str,
        *,
        name: str = "",
        is_admin: bool = False,
        is_owner: bool = False,
        real_name: str = "",
        locale: str = "en-US",
    ) -> None:
        """A member of the workspace; ``locale`` is their Slack language (``fr-FR``, ``en-US``…)."""
        with self._workspace.lock:
            self._workspace.add_user(
                user_id, name=name, is_admin=is_admin, is_owner=is_owner, real_name=real_name, locale=locale
            )

    def set_locale(self, user_id: str, locale: str) -> None:
        """The user changes their Slack language."""
        with self._workspace.lock:
            users = self._workspace.users
            users[user_id] = dataclasses.replace(users[user_id], locale=locale)

    def add_usergroup(self, group_id: str, members: Iterable[str], handle: str = "") -> None:
        with self._workspace.lock:
            self._workspace.add_usergroup(group_id, members, handle)

    # ------------------------------------------------------------------ faults

    def rate_limit(self, method: str, *, times: int = 1, retry_after: int = 1, after: int = 0) -> None:
        """The next `times` calls to `method` get HTTP 429 with `Retry-After: retry_after`, once `after` more
        calls to it have gone through."""
        with self._workspace.lock:
            self._workspace.inject_fault(method, Fault("pass"), times=after)
            self._workspace.inject_fault(method, Fault("rate_limit", "ratelimited", retry_after), times=times)

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """The next `times` calls to `method` are refused with `error` (HTTP 200, as Slack does)."""
        with self._workspace.lock:
            self._workspace.inject_fault(method, Fault("error", error), times=times)

    def hold(self, method: str, *, timeout: float = 30.0, drop: bool = False) -> Hold:
        """The next call to `method` is carried out (a message is posted) but its answer waits for
        ``Hold.release()``: how a test stops the caller between Slack doing something and the caller learning it,
        to crash it there. ``drop``: on release the connection closes with no answer at all, as in a network cut
        after Slack did it."""
        hold = Hold(timeout, drop=drop)
        with self._workspace.lock:
            self._workspace.inject_fault(method, Fault("hold", hold=hold), times=1)
        return hold

    def revoke_token(self) -> None:
        """The bot token is revoked (the app uninstalled): every later call with it is refused `token_revoked`,
        as Slack does. The app learns it from the events a test sends (`tokens_revoked`, `app_uninstalled`)."""
        with self._workspace.lock:
            self._workspace.token_revoked = True

    def go_offline(self, offline: bool = True) -> None:
        """While offline, Web API calls get no answer (the connection closes), as in a network cut or an outage;
        each is still recorded, with status 0. ``go_offline(False)`` brings Slack back."""
        with self._workspace.lock:
            self._workspace.offline = offline

    # ------------------------------------------------------------------ observation

    @property
    def calls(self) -> list[ApiCall]:
        with self._workspace.lock:
            return list(self._workspace.calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        with self._workspace.lock:
            return [call for call in self._workspace.calls if call.method == method]

    def messages(self, channel: str) -> list[StoredMessage]:
        """Current state of every message in `channel` (thread replies included), oldest first."""
        with self._workspace.lock:
            return copy.deepcopy(self._workspace.messages.get(channel, []))

    def message(self, channel: str, ts: str) -> StoredMessage:
        with self._workspace.lock:
            found = self._workspace.find_message(channel, ts)
            if found is None:
                raise KeyError(f"no message {ts} in {channel}")
            return copy.deepcopy(found)

    def ephemerals(self, user: str | None = None) -> list[dict]:
        with self._workspace.lock:
            return [copy.deepcopy(e) for e in self._workspace.ephemerals if user is None or e["user"] == user]

    @property
    def responses(self) -> list[dict]:
        """Bodies POSTed to response URLs (what `respond()` sent), oldest first."""
        with self._workspace.lock:
            return [copy.deepcopy(r) for r in self._workspace.responses]

    @property
    def views(self) -> dict[str, dict]:
        with self._workspace.lock:
            return copy.deepcopy(self._workspace.views)

    def published_home(self, user_id: str) -> dict | None:
        with self._workspace.lock:
            view_id = self._workspace.home_views.get(user_id)
            return copy.deepcopy(self._workspace.views[view_id]) if view_id else None

    def view_stack(self, root_view_id: str) -> list[str]:
        """View ids on the modal stack opened as `root_view_id`, bottom first."""
        with self._workspace.lock:
            return list(self._workspace.view_stacks.get(root_view_id, []))

    # ------------------------------------------------------------------ what interaction payloads carry

    def new_trigger_id(self, *, view_id: str | None = None) -> str:
        """A trigger_id as an interaction payload carries it; `view_id` ties it to an interaction in that modal."""
        with self._workspace.lock:
            return self._workspace.new_trigger_id(view_id)

    def new_response_url(self, channel_id: str, *, user_id: str | None = None, message_ts: str | None = None) -> str:
        """A response_url bound to a channel (and to a message for `replace_original` / `delete_original`)."""
        with self._workspace.lock:
            key = self._workspace.new_response_url_key(channel_id, user_id, message_ts)
        return self.response_url_base + key

    # ------------------------------------------------------------------ waiting

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Block until `predicate()` holds, re-checking after every request served and at least every 50 ms.

        The predicate runs without the stand-in's lock held, so it may look at app state (a store, say) whose
        lock an app thread holds while it is calling the stand-in.
        """
        workspace = self._workspace
        deadline = time.monotonic() + timeout
        while True:
            with workspace.lock:
                seen = workspace.version
            if predicate():
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout} s")
            pause = min(remaining, _RECHECK_SECONDS)
            with workspace.changed:
                workspace.changed.wait_for(lambda seen=seen: workspace.version != seen, timeout=pause)

    def wait_for_calls(self, method: str, count: int, timeout: float = 5.0) -> list[ApiCall]:
        try:
            self.wait_for(lambda: len(self.calls_to(method)) >= count, timeout)
        except AssertionError:
            seen = len(self.calls_to(method))
            raise AssertionError(f"expected {count} call(s) to {method} within {timeout} s, saw {seen}") from None
        return self.calls_to(method)
