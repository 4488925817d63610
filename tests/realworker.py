"""What the real-worker integration tests share: a real SMTP server (aiosmtpd), a database of
their own, and the project's processes (manage.py, a Celery worker) started against both.

Everything runs in processes of its own against one database the test creates: a SQLite file, or
a fresh PostgreSQL database next to the test database when DATABASE_URL points at PostgreSQL.
So the worker and the commands share the data exactly as in production. The fixtures are
registered for the test folders that use them by their conftest.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CELERY = str(Path(PYTHON).with_name("celery"))


def free_port() -> int:
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
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'integration.sqlite3'}"
        return
    import psycopg

    # One per xdist process (two integration tests at once must not drop each other's).
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    name = (
        f"{os.environ.get('TEST_DB_NAME', 'test_partnerhub')}_integration{worker and '_' + worker}"
    )
    base = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def process_env(
    *, tmp_path: Path, database: str, smtp_port: int, queue_prefix: str = "integration"
) -> dict[str, str]:
    """The environment of every process of one test: the dev settings with DEBUG off, the
    test's database, its SMTP server and a Celery queue no other test listens on."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "partnerhub.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": database,
        "PARTNERHUB_VAR_DIR": str(tmp_path / "var"),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "CELERY_QUEUE": f"{queue_prefix}-{uuid.uuid4().hex[:8]}",
        "SITE_URL": "https://hub.example",
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``manage.py <args>`` in a process of its own; its output captured as text."""
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=check,
    )


def worker_start(
    env: dict[str, str], *, node: str | None = None, output: bool = True
) -> subprocess.Popen:
    """A Celery worker (solo pool) on the test's queue. ``output``: keep its log readable
    (``worker.stdout``) for a failure message; ``node``: a fixed node name (a restart)."""
    pipe: Any = subprocess.PIPE if output else subprocess.DEVNULL
    return subprocess.Popen(
        [
            CELERY,
            "-A",
            "partnerhub",
            "worker",
            "--pool=solo",
            *(["-n", node] if node else []),
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            env["CELERY_QUEUE"],
        ],
        cwd=ROOT,
        env=env,
        stdout=pipe,
        stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
        text=True,
    )


def worker_stop(worker: subprocess.Popen | None) -> None:
    """Stop a worker that still runs: terminate, and kill it if it does not stop in 20 s."""
    if worker is None or worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()


def worker_died(worker: subprocess.Popen) -> None:
    """Fail the test at once (with the worker's log) when the worker has exited."""
    if worker.poll() is not None:
        pytest.fail(f"worker died: {worker.stdout.read() if worker.stdout else ''}")


def message_parts(message: Message) -> dict[str, str]:
    """The decoded text of each part of an email, by content type."""
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
