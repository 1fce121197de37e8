"""``rakuten-bot run`` stops on SIGTERM whichever thread the kernel hands the signal to.

Each case runs in its own process (signal handlers belong to a process's main thread), which reports on stdout.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from tests.e2e.bot_process import ROOT

WAITER = textwrap.dedent(
    """
    import signal, sys, threading
    from bot.signals import stop_signals

    block_in_main = sys.argv[1] == "elsewhere"
    busy = threading.Event()
    with stop_signals() as signals:
        # A worker that does not block the signal, as the bot's scheduler and server threads.
        worker = threading.Thread(target=busy.wait, daemon=True)
        worker.start()
        if block_in_main:
            # Now only the worker can receive SIGTERM: Event.wait() in the main thread would never wake.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        print("ready", flush=True)
        received = signals.wait()
    print("stopped by", received.name, flush=True)
    """
)


def run_waiter(where: str, signum: signal.Signals) -> str:
    waiter = subprocess.Popen(
        [sys.executable, "-c", WAITER, where], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert waiter.stdout is not None
        assert waiter.stdout.readline() == "ready\n"
        waiter.send_signal(signum)
        stdout, stderr = waiter.communicate(timeout=10)
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.communicate()
    assert waiter.returncode == 0, stderr
    return stdout


def test_sigterm_to_the_main_thread_ends_the_wait() -> None:
    assert run_waiter("main", signal.SIGTERM) == "stopped by SIGTERM\n"


def test_sigint_ends_the_wait_without_a_keyboard_interrupt() -> None:
    assert run_waiter("main", signal.SIGINT) == "stopped by SIGINT\n"


def test_sigterm_delivered_to_another_thread_still_ends_the_wait() -> None:
    assert run_waiter("elsewhere", signal.SIGTERM) == "stopped by SIGTERM\n"
