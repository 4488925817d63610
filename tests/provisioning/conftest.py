"""The partner-side world (tests/partner/conftest.py) serves the provisioning tests too."""

from tests.partner.conftest import _fresh_cache, world  # noqa: F401
