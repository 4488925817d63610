"""Pure rules of the automatic deletion of unused organizations (D1–D5).

No ORM and no clock: the instant is passed in as ``now``. The countdown is carried by three
instants kept on the org: when it was marked, when the warning was sent, the latest activity.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .choices import DeletionStage

QUIET_DAYS_BEFORE_WARNING = 30  # D3
DAYS_FROM_WARNING_TO_DELETION = 30  # D4
# Control Hub: an invitation link to set a password works this long (a resend starts it again).
INVITATION_VALID_DAYS = 7


def is_markable(*, holds_licenses: bool, is_partner: bool, manages_customers: bool) -> bool:
    """D1: an org with no paid or trial licenses at all (active, pending or suspended in a
    renewal period) and, for a partner, no customers, is marked for deletion."""
    return not holds_licenses and not (is_partner and manages_customers)


def countdown_start(*, marked_at: datetime, last_activity_at: datetime | None) -> datetime:
    """D3/D5: the quiet period is counted from the later of the mark and the last activity."""
    if last_activity_at is not None and last_activity_at > marked_at:
        return last_activity_at
    return marked_at


def warning_is_current(*, warned_at: datetime | None, last_activity_at: datetime | None) -> bool:
    """D3/D5: a warning stands only while the org has been quiet for the 30 days before it and
    since. Any activity later than 30 days before the warning voids it, including one that
    happened before the warning but was reported after it (the warning was premature: the
    countdown restarts from that activity, D5)."""
    if warned_at is None:
        return False
    return last_activity_at is None or last_activity_at <= warned_at - timedelta(
        days=QUIET_DAYS_BEFORE_WARNING
    )


def warning_due_at(*, marked_at: datetime, last_activity_at: datetime | None) -> datetime:
    """D3: the warning is owed once 30 quiet days have passed."""
    start = countdown_start(marked_at=marked_at, last_activity_at=last_activity_at)
    return start + timedelta(days=QUIET_DAYS_BEFORE_WARNING)


def deletion_due_at(*, warned_at: datetime) -> datetime:
    """D4: 30 quiet days after the warning, the org is deleted."""
    return warned_at + timedelta(days=DAYS_FROM_WARNING_TO_DELETION)


def deletion_stage(
    *,
    marked_at: datetime | None,
    warned_at: datetime | None,
    last_activity_at: datetime | None,
    now: datetime,
) -> DeletionStage:
    """Where an org stands in the countdown as of ``now`` (D1–D5)."""
    if marked_at is None:
        return DeletionStage.NOT_MARKED
    if warning_is_current(warned_at=warned_at, last_activity_at=last_activity_at):
        assert warned_at is not None
        if now >= deletion_due_at(warned_at=warned_at):
            return DeletionStage.DELETION_DUE
        return DeletionStage.WARNED
    if now >= warning_due_at(marked_at=marked_at, last_activity_at=last_activity_at):
        return DeletionStage.WARNING_DUE
    return DeletionStage.MARKED


def planned_deletion_at(
    *,
    marked_at: datetime,
    warned_at: datetime | None,
    last_activity_at: datetime | None,
    now: datetime,
) -> datetime:
    """D2: the date shown in the banner and beside the name: the earliest the org can go if
    nobody uses it from now on."""
    if warning_is_current(warned_at=warned_at, last_activity_at=last_activity_at):
        assert warned_at is not None
        return deletion_due_at(warned_at=warned_at)
    warn_at = max(warning_due_at(marked_at=marked_at, last_activity_at=last_activity_at), now)
    return warn_at + timedelta(days=DAYS_FROM_WARNING_TO_DELETION)


def warned_at_after_activity(
    *, warned_at: datetime | None, activity_at: datetime
) -> datetime | None:
    """D5: an activity voids a warning it makes premature or stale: one at or after the
    warning, or one reported late from the 30 quiet days the warning counted on. An activity
    from before those 30 days changes nothing."""
    if warned_at is not None and not warning_is_current(
        warned_at=warned_at, last_activity_at=activity_at
    ):
        return None
    return warned_at
