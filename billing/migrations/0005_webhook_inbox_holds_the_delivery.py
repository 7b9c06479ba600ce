"""The webhook inbox stores the delivery itself (body, headers, address, endpoint): the
endpoint inserts one row, and the worker creates dj-stripe's trigger row when it processes it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0004_billing_role_permissions"),
        ("djstripe", "0003_2_11"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhookinbox",
            name="body",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AddField(
            model_name="webhookinbox",
            name="headers",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="webhookinbox",
            name="remote_ip",
            field=models.GenericIPAddressField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="webhookinbox",
            name="endpoint",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="djstripe.webhookendpoint",
            ),
        ),
        migrations.AlterField(
            model_name="webhookinbox",
            name="trigger",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="billing_inbox",
                to="djstripe.webhookeventtrigger",
            ),
        ),
    ]
