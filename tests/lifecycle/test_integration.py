"""A real Celery worker, a real broker (Redis when REDIS_URL is set, else the filesystem
transport), a real SMTP server (aiosmtpd) and two lifecycle ticks running at the same moment.

Everything runs in processes of its own against one database the test creates: a SQLite file, or
a fresh PostgreSQL database next to the test database when DATABASE_URL points at PostgreSQL.
So the worker and the ticks share the data exactly as in production.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CELERY = str(Path(PYTHON).with_name("celery"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def database(tmp_path) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'integration.sqlite3'}"
        return
    import psycopg

    name = f"{os.environ.get('TEST_DB_NAME', 'test_partnerhub')}_integration"
    base = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_worker_delivers_tick_emails_over_smtp_once_with_two_ticks_at_once(
    tmp_path, smtp, database
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

    def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=check,
        )

    manage("migrate", "--noinput")
    manage("shell", "-c", "from tests.lifecycle.integration_world import build; build()")

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
            if worker.poll() is not None:
                pytest.fail(f"worker died: {worker.stdout.read() if worker.stdout else ''}")
            time.sleep(0.2)
        time.sleep(2)  # anything extra (a duplicate) would arrive now
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()

    recipients = sorted(to for m in inbox.messages for to in m.get_all("To", []))
    assert recipients == sorted(
        ["warn0@int.example", "warn1@int.example", "trial-admin@int.example", "sales@int.example"]
    ), [m["Subject"] for m in inbox.messages]
    warning = next(m for m in inbox.messages if m["To"] == "warn0@int.example")
    assert "Warn Me 0 will be deleted on" in warning["Subject"]
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in warning.walk()
        if not part.is_multipart()
    }
    assert "https://hub.example/control-hub/" in parts["text/plain"]
    assert "<html" in parts["text/html"]

    result = manage("shell", "-c", "from tests.lifecycle.integration_world import state; state()")
    state = json.loads(result.stdout.split("STATE ", 1)[1])
    assert state["tombstones"] == 3  # deleted once each, by whichever tick got there first
    assert state["owed"] == 4
    assert state["unsent"] == 0  # the worker marked every one sent
