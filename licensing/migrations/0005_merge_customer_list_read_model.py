from django.db import migrations


class Migration(migrations.Migration):
    """Joins the read model (issue 11) with the provisioning, renewal and buy-request migrations."""

    dependencies = [
        ("licensing", "0002_customer_list_read_model"),
        ("licensing", "0004_buy_requests"),
    ]

    operations = []
