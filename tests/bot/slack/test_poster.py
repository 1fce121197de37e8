"""The paced Slack sender: per-channel pacing, 429 Retry-After honoured, other errors raised as SlackWriteError."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web.slack_response import SlackResponse

from bot.slack.poster import PostedMessage, SlackPoster, SlackWriteError, build_web_client, without_blind_retries
from devkit.slack_standin import SlackStandIn


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def slack_error(error: str, *, status: int = 200, headers: dict[str, Any] | None = None) -> SlackApiError:
    response = SlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError(f"The request to the Slack API failed. (error: {error})", response)


def rate_limited(retry_after: Any = "1") -> SlackApiError:
    return slack_error("ratelimited", status=429, headers={"Retry-After": retry_after})


class FakeWebClient:
    """Answers chat.postMessage / chat.update from a script of errors, else with a fresh ts; records calls."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self.failures: deque[SlackApiError] = deque()
        self.calls: list[tuple[str, float, dict[str, Any]]] = []
        self.called = threading.Event()

    def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:
        return self._answer("chat.postMessage", kwargs)

    def chat_update(self, **kwargs: Any) -> dict[str, Any]:
        return self._answer("chat.update", kwargs)

    def _answer(self, method: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((method, self._clock(), kwargs))
        self.called.set()
        if self.failures:
            raise self.failures.popleft()
        return {"ok": True, "channel": kwargs["channel"], "ts": f"{len(self.calls)}.000100"}

    def times(self, channel: str) -> list[float]:
        return [at for _, at, kwargs in self.calls if kwargs["channel"] == channel]


class InstantPoster(SlackPoster):
    """The real sender whose waits move the fake clock instead of sleeping, and are recorded."""

    def __init__(self, client: FakeWebClient, clock: FakeClock, **options: Any) -> None:
        super().__init__(client, clock=clock, **options)  # type: ignore[arg-type]
        self.waits: list[float] = []
        self._fake_clock = clock

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.waits.append(round(seconds, 6))
            self._fake_clock.advance(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(clock: FakeClock) -> FakeWebClient:
    return FakeWebClient(clock)


@pytest.fixture
def poster(client: FakeWebClient, clock: FakeClock) -> InstantPoster:
    return InstantPoster(client, clock, interval=1.0, max_rate_limit_waits=3)


# --------------------------------------------------------------------------------------------- pacing


def test_messages_to_one_channel_are_a_second_apart(poster: InstantPoster, client: FakeWebClient) -> None:
    for text in ("one", "two", "three"):
        poster.post("C1", text=text)

    times = client.times("C1")
    assert [later - earlier for earlier, later in itertools.pairwise(times)] == [1.0, 1.0]
    assert poster.waits == [1.0, 1.0]


def test_channels_are_paced_independently(poster: InstantPoster, client: FakeWebClient) -> None:
    poster.post("C1", text="one")
    poster.post("C2", text="other channel")
    poster.post("C3", text="third channel")

    assert poster.waits == []
    assert len(set(client.times("C1") + client.times("C2") + client.times("C3"))) == 1


def test_only_the_rest_of_the_interval_is_waited(poster: InstantPoster, clock: FakeClock) -> None:
    poster.post("C1", text="one")
    clock.advance(0.25)
    poster.post("C1", text="two")
    clock.advance(5)
    poster.post("C1", text="long after")

    assert poster.waits == [0.75]


def test_updates_share_the_channel_s_pace(poster: InstantPoster, client: FakeWebClient) -> None:
    posted = poster.post("C1", text="card")
    poster.update("C1", posted.ts, text="card, updated")

    assert poster.waits == [1.0]
    assert [method for method, _, _ in client.calls] == ["chat.postMessage", "chat.update"]
    assert client.calls[1][2]["ts"] == posted.ts


def test_post_returns_where_slack_put_the_message(poster: InstantPoster, client: FakeWebClient) -> None:
    posted = poster.post("C1", thread_ts="99.000001", text="reply", blocks=[], metadata={"event_type": "x"})

    assert posted == PostedMessage(channel="C1", ts="1.000100")
    sent = client.calls[0][2]
    assert sent["thread_ts"] == "99.000001"
    assert sent["metadata"] == {"event_type": "x"}


# ----------------------------------------------------------------------------------------- rate limits


def test_a_429_past_the_web_client_s_retries_is_waited_out(poster: InstantPoster, client: FakeWebClient) -> None:
    client.failures.extend([rate_limited("3"), rate_limited("3")])

    posted = poster.post("C1", text="card")

    assert posted.channel == "C1"
    assert poster.waits == [3.0, 3.0]
    assert len(client.calls) == 3
    times = client.times("C1")
    assert times[2] - times[0] == 6.0


@pytest.mark.parametrize(("header", "expected"), [(["2"], 2.0), ("0.5", 0.5), ("soon", 1.0)])
def test_retry_after_in_its_various_shapes(
    poster: InstantPoster, client: FakeWebClient, header: Any, expected: float
) -> None:
    client.failures.append(rate_limited(header))
    poster.post("C1", text="card")
    assert poster.waits == [expected]


def test_a_429_without_retry_after_waits_a_second(poster: InstantPoster, client: FakeWebClient) -> None:
    client.failures.append(slack_error("ratelimited", status=429))
    poster.post("C1", text="card")
    assert poster.waits == [1.0]


def test_an_endless_rate_limit_gives_up_as_a_write_error(poster: InstantPoster, client: FakeWebClient) -> None:
    client.failures.extend(rate_limited("2") for _ in range(10))

    with pytest.raises(SlackWriteError) as raised:
        poster.post("C1", text="card")

    assert (raised.value.method, raised.value.error) == ("chat.postMessage", "ratelimited")
    assert len(client.calls) == 4  # the first try and max_rate_limit_waits retries
    assert poster.waits == [2.0, 2.0, 2.0]


def test_close_ends_a_rate_limit_wait_at_once(client: FakeWebClient) -> None:
    # A real sender, really waiting: shutting down must not sit out a 30 s Retry-After.
    real = SlackPoster(client, interval=0.0)  # type: ignore[arg-type]
    client.failures.extend([rate_limited("30"), rate_limited("30")])
    outcome: list[BaseException] = []

    def post() -> None:
        try:
            real.post("C1", text="card")
        except SlackWriteError as error:
            outcome.append(error)

    worker = threading.Thread(target=post)
    worker.start()
    assert client.called.wait(5)
    real.close()
    worker.join(timeout=5)

    assert not worker.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], SlackWriteError)
    assert outcome[0].error == "ratelimited"
    assert len(client.calls) == 1  # the cut wait ends the write: no last try while shutting down


# -------------------------------------------------------------------------------------- other errors


@pytest.mark.parametrize("method", ["post", "update"])
def test_other_errors_raise_a_write_error_without_retry(
    poster: InstantPoster, client: FakeWebClient, method: str
) -> None:
    client.failures.append(slack_error("channel_not_found"))

    def write() -> None:
        if method == "post":
            poster.post("C1", text="card")
        else:
            poster.update("C1", "1.000100", text="card")

    with pytest.raises(SlackWriteError) as raised:
        write()

    expected_method = "chat.postMessage" if method == "post" else "chat.update"
    assert (raised.value.method, raised.value.error) == (expected_method, "channel_not_found")
    assert str(raised.value) == f"Slack {expected_method} failed: channel_not_found"
    assert len(client.calls) == 1
    assert poster.waits == []


def test_a_server_error_status_is_not_taken_for_a_rate_limit(poster: InstantPoster, client: FakeWebClient) -> None:
    client.failures.append(slack_error("internal_error", status=500, headers={"Retry-After": "5"}))

    with pytest.raises(SlackWriteError) as raised:
        poster.post("C1", text="card")

    assert raised.value.error == "internal_error"
    assert poster.waits == []


def test_the_pace_holds_after_a_failed_call(poster: InstantPoster, client: FakeWebClient) -> None:
    client.failures.append(slack_error("fatal_error"))
    with pytest.raises(SlackWriteError):
        poster.post("C1", text="card")

    poster.post("C1", text="card again")

    assert poster.waits == [1.0]


# --------------------------------------------------------------------------------------- the WebClient


def test_the_shared_web_client_retries_rate_limits_itself_first() -> None:
    client = build_web_client("xoxb-test", "http://127.0.0.1:9/api/", rate_limit_retries=4)

    assert client.base_url == "http://127.0.0.1:9/api/"
    handlers = [handler for handler in client.retry_handlers if isinstance(handler, RateLimitErrorRetryHandler)]
    assert len(handlers) == 1
    assert handlers[0].max_retry_count == 4


def test_slack_not_answering_is_a_write_error_like_a_refusal() -> None:
    with SlackStandIn() as slack:
        slack.add_channel("C1")
        poster = SlackPoster(build_web_client(slack.bot_token, slack.api_url), interval=0)
        slack.go_offline()

        with pytest.raises(SlackWriteError, match=r"chat.postMessage failed: no answer from Slack \(") as failed:
            poster.post("C1", text="a card")

        assert failed.value.method == "chat.postMessage"
        assert [call.status for call in slack.calls] == [0, 0, 0]  # the client's own retries, then the error
        slack.go_offline(False)
        assert poster.post("C1", text="a card").channel == "C1"


def test_a_write_that_must_happen_once_is_retried_on_rate_limits_only() -> None:
    client = build_web_client("xoxb-test", "http://127.0.0.1:9/api/")
    once = without_blind_retries(client)
    assert [type(handler) for handler in once.retry_handlers] == [RateLimitErrorRetryHandler]
    assert len(client.retry_handlers) == 3  # the shared client keeps its own retries
    assert (once.token, once.base_url) == (client.token, client.base_url)
