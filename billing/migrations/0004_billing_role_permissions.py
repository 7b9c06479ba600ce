"""The staff money-action permissions (``billing.StaffBillingAction``) granted to the roles that
use them: all of them to Billing, re-syncing a customer to Support too. A frozen copy of
``accounts/roles.py``'s billing entries, as in ``accounts/migrations/0005_staff_roles.py``:
permissions and content types are created here when missing (on a fresh database Django creates
them only after every migration has run)."""

from django.db import migrations

PERMISSIONS = {
    "refund_charge": "Can refund a charge (full or partial)",
    "credit_customer": "Can add credit to a customer's balance",
    "cancel_subscription": "Can cancel a subscription for its customer",
    "resume_subscription": "Can resume a subscription for its customer",
    "resync_customer": "Can re-sync a customer from Stripe",
    "reprocess_webhook": "Can reprocess a failed webhook delivery",
    "export_billing": "Can export subscription and payment lists as CSV",
}
ROLES = {"Billing": list(PERMISSIONS), "Support": ["resync_customer"]}


def grant(apps, schema_editor):
    content_type, _ = apps.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="billing", model="staffbillingaction"
    )
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=name)
        for codename in codenames:
            permission, _ = permission_model.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": PERMISSIONS[codename]}
            )
            group.permissions.add(permission)


def revoke(apps, schema_editor):
    permission_model = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group = apps.get_model("auth", "Group").objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(
                *permission_model.objects.filter(
                    content_type__app_label="billing", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_staff_billing_action_permissions"),
        ("accounts", "0005_staff_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
