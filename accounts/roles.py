"""Staff roles: the permissions each staff action checks, and the groups that hold them.

A staff member is ``is_staff`` plus one or more groups; what they may do is what their groups'
permissions (and their own) allow, checked by each admin page and action. Superusers are not a
group: ``is_superuser`` already passes every check, and only a superuser may suspend, reactivate
or reset the two-factor authentication of another superuser, which no group can grant.

The groups are created by ``accounts/migrations/0005_staff_roles.py`` (a frozen copy of
``ROLES`` below, as a migration must be); staff may then change them in the admin.
"""

from __future__ import annotations

# Custom permissions (app_label.codename), created with the roles.
SUSPEND_PERMISSION = "accounts.suspend_user"  # suspend, unsuspend, deactivate, reactivate
ASSIST_PERMISSION = "accounts.assist_user"  # resend verification, mark verified, end sessions
REVOKE_KEYS_PERMISSION = "integrations.revoke_apikey"
# Django's and the apps' own permissions that actions check.
MODERATE_REPORT_PERMISSION = "social.change_report"  # act on a report
MODERATE_POST_PERMISSION = "social.change_post"  # hide and unhide posts
REVIEW_REFERRAL_PERMISSION = "referrals.change_referral"  # approve, reject
REVERSE_REWARD_PERMISSION = "referrals.change_reward"  # cancel or reverse a credit
# (``accounts.services.security.MFA_RESET_PERMISSION``, ``config.admin.EXPORT_PERMISSION`` and
# ``outbox.retry_outboundemail`` are defined next to what they guard.)

_SUPPORT_VIEWS = [
    "accounts.view_user",
    "accounts.view_profile",
    "accounts.view_securityevent",
    "account.view_emailaddress",
    "mfa.view_authenticator",
    "usersessions.view_usersession",
    "integrations.view_apikey",
    "referrals.view_referral",
    "referrals.view_reward",
    "social.view_report",
    "social.view_moderationaction",
    "social.view_post",
    "outbox.view_outboundemail",
    "audit.view_auditentry",
]

ROLES: dict[str, list[str]] = {
    "Support": [
        *_SUPPORT_VIEWS,
        ASSIST_PERMISSION,
        REVOKE_KEYS_PERMISSION,
        "mfa.delete_authenticator",
        "outbox.retry_outboundemail",
        "accounts.export_csv",
        "billing.resync_customer",
        "staff.view_dashboard",
        "staff.view_useroverview",
        "staff.impersonate_user",
    ],
    "Moderation": [
        "accounts.view_user",
        "accounts.view_profile",
        "social.view_post",
        "social.view_report",
        "social.view_moderationaction",
        "social.view_follow",
        "social.view_block",
        "social.view_mute",
        "social.view_notification",
        "accounts.view_signupblock",
        "accounts.add_signupblock",
        "accounts.change_signupblock",
        "accounts.delete_signupblock",
        "audit.view_auditentry",
        MODERATE_REPORT_PERMISSION,
        MODERATE_POST_PERMISSION,
        SUSPEND_PERMISSION,
        "staff.view_dashboard",
        "staff.view_useroverview",
    ],
    "Billing": [
        "accounts.view_user",
        "referrals.view_referral",
        "referrals.view_reward",
        "referrals.view_topreferrer",
        "referrals.view_referralcode",
        "referrals.view_click",
        "djstripe.view_customer",
        "djstripe.view_subscription",
        "djstripe.view_invoice",
        "djstripe.view_charge",
        "djstripe.view_refund",
        "djstripe.view_dispute",
        "djstripe.view_price",
        "djstripe.view_product",
        "djstripe.view_webhookeventtrigger",
        "billing.view_billingnotification",
        "billing.view_graceperiod",
        "audit.view_auditentry",
        REVIEW_REFERRAL_PERMISSION,
        REVERSE_REWARD_PERMISSION,
        "accounts.export_csv",
        # Staff money actions (billing.StaffBillingAction; granted by billing's migration 0004).
        "billing.refund_charge",
        "billing.credit_customer",
        "billing.cancel_subscription",
        "billing.resume_subscription",
        "billing.resync_customer",
        "billing.reprocess_webhook",
        "billing.export_billing",
        # The staff panel (granted by staff's migration 0002).
        "staff.view_dashboard",
        "staff.view_useroverview",
    ],
}

# The permissions above that no model's Meta declares (Django's post-migrate hook creates only
# those), with the model they belong to and their name.
CUSTOM_PERMISSIONS: dict[str, tuple[str, str]] = {
    SUSPEND_PERMISSION: ("user", "Can suspend, unsuspend, deactivate and reactivate users"),
    ASSIST_PERMISSION: ("user", "Can resend verification, mark e-mail verified and end sessions"),
    "accounts.export_csv": ("user", "Can export admin lists as CSV"),
    REVOKE_KEYS_PERMISSION: ("apikey", "Can revoke API keys"),
    "billing.refund_charge": ("staffbillingaction", "Can refund a charge (full or partial)"),
    "billing.credit_customer": ("staffbillingaction", "Can add credit to a customer's balance"),
    "billing.cancel_subscription": ("staffbillingaction", "Can cancel a subscription for its customer"),
    "billing.resume_subscription": ("staffbillingaction", "Can resume a subscription for its customer"),
    "billing.resync_customer": ("staffbillingaction", "Can re-sync a customer from Stripe"),
    "billing.reprocess_webhook": ("staffbillingaction", "Can reprocess a failed webhook delivery"),
    "billing.export_billing": ("staffbillingaction", "Can export subscription and payment lists as CSV"),
    "staff.view_dashboard": ("dailyfigure", "Can view the staff dashboard"),
    "staff.impersonate_user": ("useroverview", "Can sign in as a user for support (impersonate)"),
}


def roles_ensure(**kwargs: object) -> None:
    """Creates the role groups that are missing, with their permissions (post_migrate).

    The migrations create them on a new database; this puts back any that are gone, which a
    test's database flush does (and a staff member deleting a group by mistake). A group that
    exists is left as staff have made it."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    missing = set(ROLES) - set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True))
    for name in sorted(missing):
        group = Group.objects.create(name=name)
        for perm in ROLES[name]:
            app_label, codename = perm.split(".")
            model, label = CUSTOM_PERMISSIONS.get(perm, (codename.partition("_")[2], ""))
            content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type,
                codename=codename,
                defaults={"name": label or f"Can {codename.replace('_', ' ')}"},
            )
            group.permissions.add(permission)
