"""Reports and moderation actions outlive the accounts (and posts) they are about: the user
link becomes SET_NULL and the handle is kept as a snapshot, filled in for existing rows."""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import OuterRef, Subquery


def snapshot_handles(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    user_model = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    handle = Subquery(user_model.objects.filter(pk=OuterRef("target_user_id")).values("handle")[:1])
    for name in ("Report", "ModerationAction"):
        apps.get_model("social", name).objects.filter(target_user__isnull=False).update(target_handle=handle)


class Migration(migrations.Migration):
    dependencies = [
        ("social", "0004_drop_duplicate_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="target_handle",
            field=models.CharField(blank=True, max_length=30),
        ),
        migrations.AddField(
            model_name="moderationaction",
            name="target_handle",
            field=models.CharField(blank=True, max_length=30),
        ),
        migrations.AlterField(
            model_name="report",
            name="target_user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="reports_received",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="post",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="reports",
                to="social.post",
            ),
        ),
        migrations.AlterField(
            model_name="moderationaction",
            name="target_user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(snapshot_handles, migrations.RunPython.noop),
    ]
