"""A real worker killed with SIGKILL in the middle of a delivery batch (issue 9, finding 9;
issue 11, the outbox at wire speed): the SMTP server holds the third message of the batch until
the worker is dead, then refuses it (the message was never accepted). A worker restarted under
the same node name must deliver the rest within seconds — not after beat's relay (5 minutes) or
a 10-minute claim timeout — and nobody may get an email twice or not at all."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import threading
import time
from email import message_from_bytes

import pytest

from tests.realworker import free_port, manage, process_env, worker_start, worker_stop

pytestmark = pytest.mark.integration

STALL_AT = 3  # the third message is on the wire when the worker dies


class StallingInbox:
    """Accepts messages, except that the STALL_AT-th waits until ``release`` and is refused."""

    def __init__(self) -> None:
        self.accepted: list = []
        self.received = 0
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.received += 1
        if self.received == STALL_AT:
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 Requested action aborted: try again later"
        self.accepted.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


def test_killed_worker_loses_and_duplicates_nothing_and_restart_delivers_at_once(
    tmp_path, database
):
    from aiosmtpd.controller import Controller

    from tests.lifecycle.outbox_crash_world import COUNT

    inbox = StallingInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    env = process_env(tmp_path=tmp_path, database=database, smtp_port=port, queue_prefix="crash")

    def worker() -> subprocess.Popen:
        return worker_start(env, node="outbox@integration", output=False)

    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", "from tests.lifecycle.outbox_crash_world import build; build()")
    first = worker()
    second = None
    try:
        assert inbox.stalled.wait(timeout=120), "the worker never reached the third message"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        inbox.release.set()
        assert len(inbox.accepted) == STALL_AT - 1

        restarted = time.monotonic()
        second = worker()
        while len(inbox.accepted) < COUNT and time.monotonic() - restarted < 45:
            time.sleep(0.2)
        took = time.monotonic() - restarted
        time.sleep(2)  # a duplicate would arrive now
    finally:
        for proc in (first, second):
            worker_stop(proc)
        controller.stop()

    recipients = sorted(m["To"] for m in inbox.accepted)
    assert recipients == sorted(f"crash{i}@int.example" for i in range(COUNT))
    # Seconds, not minutes: worker start-up plus one relay (well inside the 1-minute timeout).
    assert took < 45, took
    state = json.loads(
        manage(
            env, "shell", "-c", "from tests.lifecycle.outbox_crash_world import state; state()"
        ).stdout.split("STATE ", 1)[1]
    )
    assert state == {"owed": COUNT, "unsent": 0}
