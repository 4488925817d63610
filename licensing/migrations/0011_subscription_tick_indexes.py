"""Issue 11: the partial indexes an idle tick reads T11 and T2 through (see 0010)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0010_subscription_tick_flags"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="subscription",
            index=models.Index(
                condition=models.Q(
                    ("kind", "trial"),
                    ("state", "active"),
                    models.Q(
                        ("ending_soon_noticed_for__isnull", True),
                        models.Q(("ending_soon_noticed_for", models.F("end_date")), _negated=True),
                        _connector="OR",
                    ),
                ),
                fields=["end_date", "id"],
                name="sub_ending_soon_open_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="subscription",
            index=models.Index(
                condition=models.Q(
                    ("kind", "trial"),
                    models.Q(("state", "active"), ("state", "suspended"), _connector="OR"),
                    models.Q(
                        ("end_noticed_for__isnull", True),
                        models.Q(("end_noticed_for", models.F("end_date")), _negated=True),
                        _connector="OR",
                    ),
                ),
                fields=["end_date", "id"],
                name="sub_end_notice_open_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="subscription",
            index=models.Index(
                condition=models.Q(("welcome_decided", False)),
                fields=["created"],
                name="sub_welcome_open_idx",
            ),
        ),
    ]
