"""Fixtures shared by the renewal tests (S1–S3) and the conversion-safety tests (T9)."""

from tests.renewal.worlds import mm_trial, paid_world  # noqa: F401
