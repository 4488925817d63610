"""The Celery app and the one beat schedule of the project."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerhub.settings.dev")

app = Celery("partnerhub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job runs from here. Tasks are named by string so this module imports no app
# code.
app.conf.beat_schedule = {
    "outbox-relay": {
        # Picks up owed emails a crashed worker left unsent (STYLE rule 5).
        "task": "partnerhub.core.tasks.outbox_relay",
        "schedule": crontab(minute="*/5"),
    },
    # P1: services left *Provisioning* past their due time (a lost task) go to the vendor again.
    "provisioning-relay": {
        "task": "licensing.tasks.provisioning_relay",
        "schedule": crontab(minute="*/2"),
    },
    # Issue 3: the lifecycle. Date rules (D1–D4, D6, S1–S2, T11–T13) once a day; every sweep is
    # a due-sweep, so a missed or repeated run does no harm.
    "lifecycle-tick": {
        "task": "customers.tasks.lifecycle_tick",
        "schedule": crontab(hour=2, minute=0),
    },
    # T3 consent runs out by the hour; T2 welcome emails should not wait for tomorrow.
    "consent-expiry": {
        "task": "customers.tasks.consent_expiry_tick",
        "schedule": crontab(minute=15),
    },
}
