"""End to end (issue 15): a trial start owes ``trial.started`` in its transaction; a real Celery
worker (its own process, real broker) posts it to an HTTP receiver on loopback, signed; the test
verifies the signature with the documented recipe. The embedded vendor then provisions the
trial in the same worker, which owes and delivers ``provisioning.done``."""

from __future__ import annotations

import json
import subprocess
import time
import uuid

import pytest

from tests.api.receiver import Receiver
from tests.api.test_webhooks import verify
from tests.lifecycle.test_integration import CELERY, PYTHON, ROOT, database  # noqa: F401

pytestmark = pytest.mark.integration


def test_a_real_worker_delivers_signed_events_to_a_local_receiver(tmp_path, database):  # noqa: F811
    with Receiver() as receiver:
        env = {
            **__import__("os").environ,
            "DJANGO_SETTINGS_MODULE": "partnerhub.settings.dev",
            "DEBUG": "false",
            "DATABASE_URL": database,
            "PARTNERHUB_VAR_DIR": str(tmp_path / "var"),
            "CELERY_QUEUE": f"webhooks-{uuid.uuid4().hex[:8]}",
            "WEBHOOK_ALLOW_PRIVATE_URLS": "true",
            "RECEIVER_URL": receiver.url,
            "LOG_LEVEL": "WARNING",
        }

        def manage(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [PYTHON, "manage.py", *args],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
                check=True,
            )

        manage("migrate", "--noinput")
        worker = subprocess.Popen(
            [
                CELERY,
                "-A",
                "partnerhub",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q",
                env["CELERY_QUEUE"],
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            out = manage("shell", "-c", "from tests.api.webhook_world import build; build()").stdout
            secret = json.loads(out.split("SECRET ", 1)[1].splitlines()[0])
            deadline = time.monotonic() + 90
            while len(receiver.received) < 2 and time.monotonic() < deadline:
                if worker.poll() is not None:
                    pytest.fail(f"worker died: {worker.stdout.read() if worker.stdout else ''}")
                time.sleep(0.2)
            time.sleep(1.5)  # a duplicate would arrive now
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        types = sorted(json.loads(body)["type"] for _headers, body in receiver.received)
        assert types == ["provisioning.done", "trial.started"]
        for headers, body in receiver.received:
            assert verify(secret, headers, body)
        state = manage("shell", "-c", "from tests.api.webhook_world import state; state()")
        counts = json.loads(state.stdout.split("STATE ", 1)[1])
        assert counts == {"delivered": 2, "pending": 0, "attempts": 2}
