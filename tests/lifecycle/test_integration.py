"""A real Celery worker, a real broker (Redis when REDIS_URL is set, else the filesystem
transport), a real SMTP server (aiosmtpd) and two lifecycle ticks running at the same moment,
against a database of the test's own (``tests/realworker.py``)."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.realworker import (
    PYTHON,
    ROOT,
    manage,
    message_parts,
    process_env,
    worker_died,
    worker_start,
    worker_stop,
)

pytestmark = pytest.mark.integration


def test_worker_delivers_tick_emails_over_smtp_once_with_two_ticks_at_once(
    tmp_path, smtp, database
):
    inbox, port = smtp
    env = process_env(tmp_path=tmp_path, database=database, smtp_port=port)
    manage(env, "migrate", "--noinput")
    manage(env, "shell", "-c", "from tests.lifecycle.integration_world import build; build()")

    worker = worker_start(env)
    try:
        # Two beat instances firing at once: both ticks run concurrently against one database.
        ticks = [
            subprocess.Popen(
                [PYTHON, "manage.py", "lifecycle_tick", "--quiet"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for tick in ticks:
            _out, err = tick.communicate(timeout=180)
            assert tick.returncode == 0, err
        expected = 2 + 2  # D3 warnings to two full admins; T11 to the customer and partner admin
        deadline = time.monotonic() + 90
        while len(inbox.messages) < expected and time.monotonic() < deadline:
            worker_died(worker)
            time.sleep(0.2)
        time.sleep(2)  # anything extra (a duplicate) would arrive now
    finally:
        worker_stop(worker)

    recipients = sorted(to for m in inbox.messages for to in m.get_all("To", []))
    assert recipients == sorted(
        ["warn0@int.example", "warn1@int.example", "trial-admin@int.example", "sales@int.example"]
    ), [m["Subject"] for m in inbox.messages]
    warning = next(m for m in inbox.messages if m["To"] == "warn0@int.example")
    assert "Warn Me 0 will be deleted on" in warning["Subject"]
    parts = message_parts(warning)
    assert "https://hub.example/control-hub/" in parts["text/plain"]
    assert "<html" in parts["text/html"]

    result = manage(
        env, "shell", "-c", "from tests.lifecycle.integration_world import state; state()"
    )
    state = json.loads(result.stdout.split("STATE ", 1)[1])
    assert state["tombstones"] == 3  # deleted once each, by whichever tick got there first
    assert state["owed"] == 4
    assert state["unsent"] == 0  # the worker marked every one sent
