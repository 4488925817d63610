"""End to end (issue 15): a trial start owes ``trial.started`` in its transaction; a real Celery
worker (its own process, real broker) posts it to an HTTP receiver on loopback, signed; the test
verifies the signature with the documented recipe. The embedded vendor then provisions the
trial in the same worker, which owes and delivers ``provisioning.done``."""

from __future__ import annotations

import json
import os
import time
import uuid

import pytest

from tests.api.receiver import Receiver
from tests.api.test_webhooks import verify
from tests.realworker import database, manage, worker_died, worker_start, worker_stop  # noqa: F401

pytestmark = pytest.mark.integration


def test_a_real_worker_delivers_signed_events_to_a_local_receiver(tmp_path, database):  # noqa: F811
    with Receiver() as receiver:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "partnerhub.settings.dev",
            "DEBUG": "false",
            "DATABASE_URL": database,
            "PARTNERHUB_VAR_DIR": str(tmp_path / "var"),
            "CELERY_QUEUE": f"webhooks-{uuid.uuid4().hex[:8]}",
            "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
            "RECEIVER_URL": receiver.url,
            "LOG_LEVEL": "WARNING",
        }
        manage(env, "migrate", "--noinput")
        worker = worker_start(env)
        try:
            build = "from tests.api.webhook_world import build; build()"
            out = manage(env, "shell", "-c", build).stdout
            secret = json.loads(out.split("SECRET ", 1)[1].splitlines()[0])
            deadline = time.monotonic() + 90
            while len(receiver.received) < 2 and time.monotonic() < deadline:
                if worker.poll() is not None:
                    worker_died(worker)
                time.sleep(0.2)
            time.sleep(1.5)  # a duplicate would arrive now
        finally:
            worker_stop(worker)
        types = sorted(json.loads(body)["type"] for _headers, body in receiver.received)
        assert types == ["provisioning.done", "trial.started"]
        for headers, body in receiver.received:
            assert verify(secret, headers, body)
        state = manage(env, "shell", "-c", "from tests.api.webhook_world import state; state()")
        counts = json.loads(state.stdout.split("STATE ", 1)[1])
        assert counts == {"delivered": 2, "pending": 0, "attempts": 2}
