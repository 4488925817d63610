"""P1 + T2 with a real Celery worker, a real broker and a real SMTP server: a trial started in
one process is provisioned by the worker after commit; a Calling location entered later is
provisioned too, and the welcome email arrives once."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import pytest

from tests.lifecycle.test_integration import CELERY, PYTHON, ROOT, database, smtp  # noqa: F401

pytestmark = pytest.mark.integration


def test_P1_T2_worker_provisions_after_commit_and_the_welcome_arrives_once(
    tmp_path,
    smtp,  # noqa: F811
    database,  # noqa: F811
):
    inbox, port = smtp
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "partnerhub.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": database,
        "PARTNERHUB_VAR_DIR": str(tmp_path / "var"),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "CELERY_QUEUE": f"integration-{uuid.uuid4().hex[:8]}",
        "SITE_URL": "https://hub.example",
        "LOG_LEVEL": "WARNING",
    }

    def shell(code: str) -> str:
        return subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        ).stdout

    def state() -> dict:
        out = shell("from tests.provisioning.integration_world import state; state()")
        return json.loads(out.split("STATE ", 1)[1])

    def wait_for(predicate, seconds: float = 60) -> dict:
        deadline = time.monotonic() + seconds
        while True:
            current = state()
            if predicate(current) or time.monotonic() > deadline:
                return current
            if worker.poll() is not None:
                pytest.fail(f"worker died: {worker.stdout.read() if worker.stdout else ''}")
            time.sleep(0.5)

    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=180,
        capture_output=True,
    )
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
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()

    assert done["services"] == {"messaging": "provisioned", "calling": "provisioned"}
    assert [m["To"] for m in inbox.messages] == ["admin@worker.example"]
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in inbox.messages[0].walk()
        if not part.is_multipart()
    }
    assert "https://hub.example" in parts["text/plain"]
    assert "<" in parts["text/html"]
