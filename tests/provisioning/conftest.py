"""The partner-side world (tests/partner/conftest.py) serves the provisioning tests too; the
real-worker fixtures come from tests/realworker.py."""

from tests.partner.conftest import _fresh_cache, world  # noqa: F401
from tests.realworker import database, smtp  # noqa: F401  (the real-worker test's fixtures)
