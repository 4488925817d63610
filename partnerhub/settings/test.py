"""Test profile: fast hashing, in-memory email. DATABASE_URL / REDIS_URL still apply, so the
same suite runs on SQLite and on PostgreSQL + Redis (CI runs both)."""

import os
import re

# Under pytest-xdist every test process gets a Redis database of its own (gw0 → 1, gw1 → 2, …)
# for the cache and the broker alike: one process's cache.clear() is a FLUSHDB, and on a shared
# database it wiped the other's rate-limit counters and the task messages its real worker was
# about to read. Set before the base settings read REDIS_URL, so the real Celery workers a test
# starts (they inherit the environment) use the same database; idempotent for them.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER.startswith("gw") and os.environ.get("REDIS_URL"):
    _db = int(_XDIST_WORKER.removeprefix("gw")) + 1
    os.environ["REDIS_URL"] = re.sub(r"(/\d*)?$", f"/{_db}", os.environ["REDIS_URL"], count=1)

from .base import *  # noqa: E402, F403
from .base import DATABASES  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests get their own database file so they never touch the development one.
    DATABASES["default"]["TEST"] = {"NAME": ""}
else:
    # TEST_DB_NAME lets several checkouts share one PostgreSQL server without clashing.
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DB_NAME", "test_partnerhub")}
SITE_URL = "http://testserver"
# Beat's task runs the tick in-process in tests; tests/lifecycle/test_tick_scale.py runs the
# fanned-out tick with eager tasks.
LIFECYCLE_TICK_FANOUT = False
# Static files come from the finders in tests (live_server serves them); no collectstatic.
MIDDLEWARE = [m for m in MIDDLEWARE if "whitenoise" not in m]  # noqa: F405
if not REDIS_URL:  # noqa: F405
    # Each test process keeps its own cache; with REDIS_URL the suite runs against Redis.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The simulated vendor answers at once in tests (its seconds are for demos).
PROVISIONING_EMBEDDED = {**PROVISIONING_EMBEDDED, "seconds": {}}  # noqa: F405
PROVISIONING_TIMEOUT_SECONDS = 5
# Webhook tests post to a receiver on loopback; production refuses private addresses.
WEBHOOK_ALLOW_PRIVATE_URLS = True
WEBHOOK_TIMEOUT_SECONDS = 2
