"""Shared start-up of the benchmark scripts: Django on a throw-away SQLite file (never the
development database), migrated, with the worktree on the path."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_on_temp_db(prefix: str, directory: str | None = None) -> Path:
    """Point Django at a new SQLite file (and the broker at a folder) in a temp directory."""
    tmp = Path(directory or tempfile.mkdtemp(prefix=f"partnerhub-{prefix}-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "partnerhub.settings.dev"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.sqlite3'}")
    os.environ["PARTNERHUB_VAR_DIR"] = str(tmp / "var")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return tmp


class QueryCounter:
    """Counts every SQL statement (works for 200,000 of them, unlike the debug query log)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        return execute(sql, params, many, context)
