"""The list's search on its read model (issue 11): every admin's email on the row, and on
PostgreSQL trigram GIN indexes for the name and those emails (a no-op elsewhere)."""

from collections import defaultdict

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

CUSTOMER_ADMIN_ROLES = ("customer_full_admin", "customer_read_only")
CHUNK = 2000


def admin_emails_fill(apps, schema_editor):
    """Rows already there get their admins' key, as ``licensing.readmodel`` computes it."""
    CustomerRow = apps.get_model("licensing", "CustomerRow")
    Membership = apps.get_model("accounts", "Membership")
    ids = sorted(set(CustomerRow.objects.values_list("customer_id", flat=True)))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        emails = defaultdict(set)
        for org_id, email in Membership.objects.filter(
            org_id__in=chunk, role__in=CUSTOMER_ADMIN_ROLES
        ).values_list("org_id", "user__email"):
            emails[org_id].add(email)
        rows = list(CustomerRow.objects.filter(customer_id__in=list(emails)).only("pk"))
        for row in rows:
            found = sorted(emails[row.customer_id])
            row.admin_emails_key = f" {' '.join(found)} "
        CustomerRow.objects.bulk_update(rows, ["admin_emails_key"], batch_size=500)


def _search_indexes():
    # As ``licensing.models.customer_row_search_indexes`` (frozen here).
    from django.contrib.postgres.indexes import GinIndex

    return [
        GinIndex(fields=["name_key"], opclasses=["gin_trgm_ops"], name="crow_name_trgm"),
        GinIndex(fields=["admin_emails_key"], opclasses=["gin_trgm_ops"], name="crow_admins_trgm"),
    ]


def search_indexes_add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("licensing", "CustomerRow")
    for index in _search_indexes():
        schema_editor.add_index(model, index)


def search_indexes_remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("licensing", "CustomerRow")
    for index in _search_indexes():
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0006_merge_20261201_2209"),
        ("accounts", "0003_merge_0002_notifications_0002_org_deletion_recheck"),
    ]

    operations = [
        migrations.AddField(
            model_name="customerrow",
            name="admin_emails_key",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(admin_emails_fill, migrations.RunPython.noop),
        TrigramExtension(),  # PostgreSQL only (Django skips it elsewhere)
        migrations.RunPython(search_indexes_add, search_indexes_remove),
    ]
