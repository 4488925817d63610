"""Shared fixtures. Browser tests use Playwright with Debian's Chromium (never a downloaded
browser): set CHROMIUM_PATH to point elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compiled catalogs (.mo) are built from the committed .po files, never committed (issue
    14; ``make messages``). A plain ``pytest`` compiles any that is missing or older than its
    .po, once, before the workers start, so the tests read the catalogs as written. A catalog
    msgfmt refuses is left as it is: tests/i18n says why."""
    if hasattr(session.config, "workerinput") or shutil.which("msgfmt") is None:
        return
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        partial = mo.with_suffix(".mo.partial")
        done = subprocess.run(["msgfmt", "-o", str(partial), str(po)], capture_output=True)
        if done.returncode == 0:
            partial.replace(mo)
        else:
            partial.unlink(missing_ok=True)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session. Missing Chromium fails loudly: CI installs it."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        pytest.fail("Chromium is not installed: run `make setup` (apt-get install chromium).")
    # Playwright's sync API runs an event loop; Django must allow sync ORM calls beside it.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh browser context per test, pointed at the live server."""
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


def browser_login(page, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture(autouse=True)
def _customer_rows_stay_exact(request) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """After every test that used the database, the customer list's read model must equal its
    source tables: a service (or factory) that changed a listed fact without calling
    ``customer_rows_refresh`` fails here, whichever test exercised it."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    uses_db = marker is not None or names & {"db", "transactional_db", "live_server"}
    if not uses_db or request.node.get_closest_marker("no_read_model_check"):
        yield
        return
    transactional = (marker is not None and marker.kwargs.get("transaction")) or bool(
        names & {"transactional_db", "live_server"}
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    from customers.readmodel_check import customer_rows_differences

    differences = customer_rows_differences(limit=20)
    assert not differences, "customer list read model drifted:\n" + "\n".join(map(str, differences))
