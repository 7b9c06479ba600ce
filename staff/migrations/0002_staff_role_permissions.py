"""The staff panel's permissions granted to the roles (``accounts/roles.py``): every role sees the
dashboard and the user 360 page; Support may impersonate. A frozen copy, as in
``accounts/migrations/0005_staff_roles.py``: permissions and content types are created here when
missing (on a fresh database Django creates them only after every migration has run)."""

from django.db import migrations

PERMISSIONS = {
    "view_dashboard": ("dailyfigure", "Can view the staff dashboard"),
    "view_useroverview": ("useroverview", "Can view user 360"),
    "impersonate_user": ("useroverview", "Can sign in as a user for support (impersonate)"),
}
ROLES = {
    "Support": ["view_dashboard", "view_useroverview", "impersonate_user"],
    "Moderation": ["view_dashboard", "view_useroverview"],
    "Billing": ["view_dashboard", "view_useroverview"],
}


def grant(apps, schema_editor):
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=name)
        for codename in codenames:
            model, label = PERMISSIONS[codename]
            content_type, _ = content_type_model.objects.get_or_create(app_label="staff", model=model)
            permission, _ = permission_model.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": label}
            )
            group.permissions.add(permission)


def revoke(apps, schema_editor):
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group = apps.get_model("auth", "Group").objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(
                *permission_model.objects.filter(content_type__app_label="staff", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_initial"),
        ("accounts", "0005_staff_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
