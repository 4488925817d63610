"""P1 + T2 with a real Celery worker, a real broker and a real SMTP server: a trial started in
one process is provisioned by the worker after commit; a Calling location entered later is
provisioned too, and the welcome email arrives once."""

from __future__ import annotations

import json
import time

import pytest

from tests import realworker

pytestmark = pytest.mark.integration


def test_P1_T2_worker_provisions_after_commit_and_the_welcome_arrives_once(
    tmp_path, smtp, database
):
    inbox, port = smtp
    env = realworker.process_env(tmp_path=tmp_path, database=database, smtp_port=port)

    def shell(code: str) -> str:
        return realworker.manage(env, "shell", "-c", code).stdout

    def state() -> dict:
        out = shell("from tests.provisioning.integration_world import state; state()")
        return json.loads(out.split("STATE ", 1)[1])

    def wait_for(predicate, seconds: float = 60) -> dict:
        deadline = time.monotonic() + seconds
        while True:
            current = state()
            if predicate(current) or time.monotonic() > deadline:
                return current
            realworker.worker_died(worker)
            time.sleep(0.5)

    realworker.manage(env, "migrate", "--noinput")
    worker = realworker.worker_start(env)
    try:
        shell("from tests.provisioning.integration_world import start; start()")
        after_start = wait_for(lambda s: s["services"].get("calling") == "awaiting_details")
        assert after_start["services"] == {
            "messaging": "provisioned",
            "calling": "awaiting_details",
        }
        assert after_start["welcome"] == 0
        shell("from tests.provisioning.integration_world import enter_location; enter_location()")
        done = wait_for(lambda s: s["welcome"] == 1 and s["unsent"] == 0)
        deadline = time.monotonic() + 30
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # a duplicate would arrive now
    finally:
        realworker.worker_stop(worker)

    assert done["services"] == {"messaging": "provisioned", "calling": "provisioned"}
    assert [m["To"] for m in inbox.messages] == ["admin@worker.example"]
    parts = realworker.message_parts(inbox.messages[0])
    assert "https://hub.example" in parts["text/plain"]
    assert "<" in parts["text/html"]
