"""Users, their profiles and their security log."""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Collection
from functools import cache
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models.functions import Upper
from django.templatetags.static import static
from django.utils import timezone

HANDLE_VALIDATOR = RegexValidator(
    regex=r"^[A-Za-z0-9_]{3,30}$",
    message="Use 3 to 30 letters, digits or underscores.",
    code="invalid_handle",
)

# Words a handle may not be, in any case: they would shadow a page or impersonate staff.
RESERVED_HANDLES = frozenset(
    {
        "about",
        "account",
        "accounts",
        "admin",
        "administrator",
        "api",
        "billing",
        "explore",
        "help",
        "home",
        "login",
        "logout",
        "me",
        "media",
        "moderator",
        "notifications",
        "null",
        "pricing",
        "privacy",
        "root",
        "search",
        "security",
        "settings",
        "signup",
        "static",
        "staff",
        "stripe",
        "support",
        "system",
        "tags",
        "terms",
        "undefined",
        "user",
        "users",
        "www",
    }
)


# The kinds of notification a user can switch on or off, with the label the settings page shows:
# every kind of ``social.models.Notification.Kind`` (a test keeps the two the same).
NOTIFICATION_KINDS: dict[str, str] = {
    "follow": "Someone follows me",
    "follow_request": "Someone asks to follow me",
    "follow_accepted": "Someone accepts my follow request",
    "like": "Someone likes my post",
    "reply": "Someone replies to my post",
    "mention": "Someone mentions me",
    "repost": "Someone reposts my post",
    "report_reviewed": "A moderator reviews my report",
}

# A profile's website is shown as a link: only http and https, never javascript: or data:.
WEBSITE_VALIDATOR = URLValidator(
    schemes=["http", "https"], message="Enter a valid http:// or https:// address."
)


@cache
def available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError("Unknown time zone.", code="invalid_timezone")


def validate_handle(value: str) -> None:
    """The one handle rule (sign-up, admin, anything that saves a user): 3-30 letters, digits or
    underscores, and not a reserved word in any case. Uniqueness in any case is the database's
    ``accounts_user_handle_ci_unique`` constraint, which model validation also checks."""
    HANDLE_VALIDATOR(value)
    if value.lower() in RESERVED_HANDLES:
        raise ValidationError("This handle is reserved. Please choose another.", code="reserved_handle")


def validate_notification_preferences(value: object) -> None:
    """Preferences are ``{kind: bool}`` over ``NOTIFICATION_KINDS`` only."""
    if not isinstance(value, dict):
        raise ValidationError("Expected an object of notification kinds to true or false.", code="invalid")
    unknown = sorted(str(kind) for kind in set(value) - set(NOTIFICATION_KINDS))
    if unknown:
        raise ValidationError(f"Unknown kind: {', '.join(unknown)}.", code="unknown_kind")
    if not all(isinstance(on, bool) for on in value.values()):
        raise ValidationError("Each notification kind must be true or false.", code="invalid")


def avatar_upload_to(instance: Profile, filename: str) -> str:
    """Each user's avatars live in their own folder, so deleting the account can remove it."""
    return f"avatars/{instance.user_id}/{filename}"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        # E-mail login is case-insensitive.
        return self.get(email__iexact=username)

    def _create_user(self, email: str, handle: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), handle=handle, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, handle: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, handle, password, **extra)

    def create_superuser(self, email: str, handle: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, handle, password, **extra)


_CI_UNIQUE_FIELDS = {"accounts_user_email_ci_unique": "email", "accounts_user_handle_ci_unique": "handle"}


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account. Logs in by e-mail; known to others by ``@handle``."""

    email = models.EmailField("e-mail address", max_length=254)
    handle = models.CharField(max_length=30, validators=[validate_handle])
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["handle"]

    class Meta:
        # Upper, not Lower: Django's ``iexact`` on PostgreSQL compares ``UPPER(column)``, so only
        # an index on that expression serves a handle or e-mail lookup (every profile page, every
        # mention, every sign-in); with Lower each was a scan of the whole table.
        constraints = [
            models.UniqueConstraint(
                Upper("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with this e-mail address already exists.",
            ),
            models.UniqueConstraint(
                Upper("handle"),
                name="accounts_user_handle_ci_unique",
                violation_error_message="A user with this handle already exists.",
            ),
        ]
        indexes = [
            # The few deactivated accounts: a profile's follower and following counts leave them
            # out by probing this small set (social.selectors.discovery.profile_counts_sql),
            # where a join to every user's row made PostgreSQL read the whole table.
            models.Index(
                fields=["id"], name="accounts_user_inactive_ids", condition=models.Q(is_active=False)
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.handle}"

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """Model validation of the constraints, with the case-insensitive unique ones reported on
        their field (``email``, ``handle``) so a form shows the error next to it."""
        errors: dict[str, list[ValidationError]] = {}
        for constraint in self._meta.constraints:
            field = _CI_UNIQUE_FIELDS.get(constraint.name, NON_FIELD_ERRORS)
            if exclude and field in exclude:
                continue
            try:
                # django-stubs lack BaseConstraint.validate (Django 4.1+).
                constraint.validate(type(self), self, exclude=exclude)  # type: ignore[attr-defined]  # BaseConstraint.validate is untyped in the stubs
            except ValidationError as exc:
                errors.setdefault(field, []).append(exc)
        if errors:
            raise ValidationError(errors)

    @property
    def timezone(self) -> str:
        profile = getattr(self, "profile", None)
        return profile.timezone if profile is not None else ""


class Profile(models.Model):
    """What a user shows of themself. Created with the user (see accounts.services)."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        PRIVATE = "private", "Private (followers approved by me)"

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="profile")
    display_name = models.CharField(max_length=50, blank=True)
    bio = models.CharField(max_length=300, blank=True)
    website = models.URLField(max_length=200, blank=True, validators=[WEBSITE_VALIDATOR])
    location = models.CharField(max_length=60, blank=True)
    avatar = models.ImageField(upload_to=avatar_upload_to, blank=True)
    avatar_small = models.ImageField(upload_to=avatar_upload_to, blank=True)
    is_private = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # Which notifications the user wants, by kind ("follow", "like", "reply", ...). A kind that
    # is missing means "on": new kinds reach people until they switch them off.
    notification_preferences = models.JSONField(
        default=dict, blank=True, validators=[validate_notification_preferences]
    )
    email_notifications = models.BooleanField(default=True)
    # Kinds whose e-mails the user stopped with an unsubscribe link (``{kind: false}``; missing
    # means "on"), apart from the in-app choices above: unsubscribing from e-mails about likes
    # must not hide likes from the notifications page.
    notification_email_preferences = models.JSONField(
        default=dict, blank=True, validators=[validate_notification_preferences]
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @property
    def name(self) -> str:
        return self.display_name or self.user.handle

    def wants_notification(self, kind: str) -> bool:
        return bool(self.notification_preferences.get(kind, True))

    def wants_notification_email(self, kind: str) -> bool:
        """An e-mail for ``kind``: the kind is on, "Send me notification e-mails" is on, and the user has
        not unsubscribed from that kind's e-mails."""
        return (
            self.email_notifications
            and self.wants_notification(kind)
            and bool(self.notification_email_preferences.get(kind, True))
        )

    @property
    def avatar_url(self) -> str:
        """The 400x400 avatar, or the default picture."""
        return self.avatar.url if self.avatar else static("img/avatar-default.svg")

    @property
    def avatar_small_url(self) -> str:
        """The 96x96 avatar, or the default picture."""
        return self.avatar_small.url if self.avatar_small else static("img/avatar-default.svg")

    @property
    def website_display(self) -> str:
        """The website without its scheme, for showing as link text."""
        parts = urlsplit(self.website)
        return (parts.netloc + parts.path).rstrip("/") or self.website


class NotificationEmailState(models.Model):
    """Where a user's notification e-mails stand (social.notification_emails keeps it).

    ``cursor`` is the id of the last notification an e-mail dealt with (sent or skipped as
    already read); ``last_sent_at`` paces the digests; ``due_at`` is set while a digest waits
    for its turn, and the beat sweep sends it then.
    """

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="notification_email_state"
    )
    cursor = models.PositiveBigIntegerField(default=0)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweep's query: digests whose turn has come.
            models.Index(
                fields=["due_at"], name="accounts_notif_email_due", condition=models.Q(due_at__isnull=False)
            )
        ]

    def __str__(self) -> str:
        return f"Notification e-mails of {self.user_id}"


class SecurityEvent(models.Model):
    """One line of a user's security log: what happened to their account, from where."""

    class Kind(models.TextChoices):
        LOGIN = "login", "Signed in"
        LOGIN_FAILED = "login_failed", "Failed sign-in"
        LOGOUT = "logout", "Signed out"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PASSWORD_RESET = "password_reset", "Password reset"
        EMAIL_CHANGED = "email_changed", "E-mail address changed"
        EMAIL_VERIFIED = "email_verified", "E-mail address verified"
        MFA_ENABLED = "mfa_enabled", "Two-factor method added"
        MFA_DISABLED = "mfa_disabled", "Two-factor method removed"
        RECOVERY_CODES_GENERATED = "recovery_codes_generated", "Recovery codes generated"
        SESSION_REVOKED = "session_revoked", "Session ended"
        API_KEY_CREATED = "api_key_created", "API key created"
        API_KEY_ROTATED = "api_key_rotated", "API key rotated"
        API_KEY_REVOKED = "api_key_revoked", "API key revoked"
        API_KEY_NEW_IP = "api_key_new_ip", "API key used from a new IP"
        ACCOUNT_DEACTIVATED = "account_deactivated", "Account deactivated"
        DATA_EXPORTED = "data_exported", "Data exported"
        SUPPORT_IMPERSONATION_STARTED = "support_impersonation_started", "Support staff signed in as you"
        SUPPORT_IMPERSONATION_ENDED = (
            "support_impersonation_ended",
            "Support staff signed out of your account",
        )

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="security_events")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="accounts_secev_user_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.user_id} at {self.created_at:%Y-%m-%d %H:%M}"


def validate_email_domain(value: str) -> None:
    """A bare domain name (``example.com``), lower case, without ``@`` or a scheme."""
    if not re.fullmatch(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", value):
        raise ValidationError("Enter a domain name such as example.com, in lower case.", code="invalid")


def validate_ip_network(value: str) -> None:
    """An IPv4 or IPv6 address or network in CIDR notation (``203.0.113.7``, ``2001:db8::/32``)."""
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise ValidationError("Enter an IP address or a network such as 203.0.113.0/24.") from exc


class SignupBlock(models.Model):
    """Staff refusing new accounts from an e-mail domain (and its sub-domains) or an IP network.

    Checked at sign-up by the account adapter (pages and the SPA's headless API alike); existing
    accounts are not touched. Added and removed in the admin, which records each change.
    """

    class Kind(models.TextChoices):
        EMAIL_DOMAIN = "email_domain", "E-mail domain"
        IP_NETWORK = "ip_network", "IP address or network"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(
        max_length=253,
        help_text="A domain (example.com: also blocks its sub-domains) or an IP/network (203.0.113.0/24).",
    )
    note = models.TextField(blank=True, help_text="Why it is blocked (shown to staff only).")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("kind", "value")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "value"],
                name="accounts_signupblock_unique",
                violation_error_message="This domain or network is already blocked.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    def clean(self) -> None:
        self.value = self.value.strip().lower()
        if self.kind == self.Kind.EMAIL_DOMAIN:
            self.value = self.value.lstrip("@")
            validate_email_domain(self.value)
        elif self.kind == self.Kind.IP_NETWORK:
            validate_ip_network(self.value)
            self.value = str(ipaddress.ip_network(self.value, strict=False))
