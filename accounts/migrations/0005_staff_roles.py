"""Staff roles: the Support, Moderation and Billing groups with their permissions, and the
custom permissions staff actions check (accounts/roles.py explains them; this is its frozen copy,
as a migration must not follow later changes of the code).

Permissions are created here when missing (on a fresh database Django creates the models'
default ones only after every migration has run), under content types created the same way.
"""

from django.db import migrations

CUSTOM_PERMISSIONS = {
    "accounts.suspend_user": ("user", "Can suspend, unsuspend, deactivate and reactivate users"),
    "accounts.assist_user": ("user", "Can resend verification, mark e-mail verified and end sessions"),
    "accounts.export_csv": ("user", "Can export admin lists as CSV"),
    "integrations.revoke_apikey": ("apikey", "Can revoke API keys"),
}

ROLES = {
    "Billing": [
        "accounts.export_csv",
        "accounts.view_user",
        "audit.view_auditentry",
        "billing.view_billingnotification",
        "billing.view_graceperiod",
        "djstripe.view_charge",
        "djstripe.view_customer",
        "djstripe.view_dispute",
        "djstripe.view_invoice",
        "djstripe.view_price",
        "djstripe.view_product",
        "djstripe.view_refund",
        "djstripe.view_subscription",
        "djstripe.view_webhookeventtrigger",
        "referrals.change_referral",
        "referrals.change_reward",
        "referrals.view_click",
        "referrals.view_referral",
        "referrals.view_referralcode",
        "referrals.view_reward",
        "referrals.view_topreferrer",
    ],
    "Moderation": [
        "accounts.add_signupblock",
        "accounts.change_signupblock",
        "accounts.delete_signupblock",
        "accounts.suspend_user",
        "accounts.view_profile",
        "accounts.view_signupblock",
        "accounts.view_user",
        "audit.view_auditentry",
        "social.change_post",
        "social.change_report",
        "social.view_block",
        "social.view_follow",
        "social.view_moderationaction",
        "social.view_mute",
        "social.view_notification",
        "social.view_post",
        "social.view_report",
    ],
    "Support": [
        "account.view_emailaddress",
        "accounts.assist_user",
        "accounts.export_csv",
        "accounts.view_profile",
        "accounts.view_securityevent",
        "accounts.view_user",
        "audit.view_auditentry",
        "integrations.revoke_apikey",
        "integrations.view_apikey",
        "mfa.delete_authenticator",
        "mfa.view_authenticator",
        "outbox.retry_outboundemail",
        "outbox.view_outboundemail",
        "referrals.view_referral",
        "referrals.view_reward",
        "social.view_moderationaction",
        "social.view_post",
        "social.view_report",
        "usersessions.view_usersession",
    ],
}


def _permission(apps, perm):
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    app_label, codename = perm.split(".")
    if perm in CUSTOM_PERMISSIONS:
        model, name = CUSTOM_PERMISSIONS[perm]
    else:
        action, _, model = codename.partition("_")
        name = f"Can {action} {model}"
    content_type, _ = content_type_model.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = permission_model.objects.get_or_create(
        content_type=content_type, codename=codename, defaults={"name": name}
    )
    return permission


def create_roles(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for perm in CUSTOM_PERMISSIONS:
        _permission(apps, perm)
    for name, perms in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=name)
        group.permissions.add(*[_permission(apps, perm) for perm in perms])


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_signup_blocks"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
