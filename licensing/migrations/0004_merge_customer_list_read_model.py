from django.db import migrations


class Migration(migrations.Migration):
    """Joins the read model (issue 11) with the provisioning and renewal migrations (issue 10)."""

    dependencies = [
        ("licensing", "0002_customer_list_read_model"),
        ("licensing", "0003_renewal_and_conversion_safety"),
    ]

    operations = []
