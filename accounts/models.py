"""Users, their profiles and their security log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
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


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account. Logs in by e-mail; known to others by ``@handle``."""

    email = models.EmailField("e-mail address", max_length=254)
    handle = models.CharField(max_length=30, validators=[HANDLE_VALIDATOR])
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["handle"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.UniqueConstraint(Lower("handle"), name="accounts_user_handle_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"@{self.handle}"

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
    website = models.URLField(max_length=200, blank=True)
    location = models.CharField(max_length=60, blank=True)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    avatar_small = models.ImageField(upload_to="avatars/", blank=True)
    is_private = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, default="UTC")
    # Which notifications the user wants, by kind ("follow", "like", "reply", ...). A kind that
    # is missing means "on": new kinds reach people until they switch them off.
    notification_preferences = models.JSONField(default=dict, blank=True)
    email_notifications = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @property
    def name(self) -> str:
        return self.display_name or self.user.handle

    def wants_notification(self, kind: str) -> bool:
        return bool(self.notification_preferences.get(kind, True))


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
