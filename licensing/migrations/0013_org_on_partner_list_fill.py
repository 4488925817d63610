"""Issue 16: ``Organization.on_partner_list`` for the orgs that have rows in the customer list's
read model (the read model keeps it from now on)."""

from django.db import migrations


def fill(apps, schema_editor):
    Organization = apps.get_model("accounts", "Organization")
    CustomerRow = apps.get_model("licensing", "CustomerRow")
    Organization.objects.filter(pk__in=CustomerRow.objects.values("customer_id")).update(
        on_partner_list=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_org_on_partner_list"),
        ("licensing", "0012_merge_20261202_0631"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
