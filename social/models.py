"""Models of the social app: relationships, posts (replies are posts), interactions, timelines,
notifications and moderation.

Replies are ``Post`` rows with ``reply_to`` (the post answered) and ``root`` (the thread's first
post): likes, mentions, images, edits, reports and search then work the same for posts and
comments, and a thread is one indexed query on ``root``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe


class Follow(models.Model):
    """``follower`` sees ``followee``'s followers-only posts and gets them in the home feed."""

    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following_set"
    )
    followee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follower_set"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="social_follow_unique"),
            models.CheckConstraint(condition=~Q(follower=F("followee")), name="social_follow_not_self"),
        ]
        indexes = [
            models.Index(fields=["followee", "-created_at"], name="social_follow_followee"),
            # Fan-out reads a very-followed author's followers in ranges of follower ids.
            models.Index(fields=["followee", "follower"], name="social_follow_followee_id"),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} -> {self.followee_id}"


class FollowRequest(models.Model):
    """A request to follow a private account, waiting for the owner's answer."""

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_follow_requests"
    )
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="received_follow_requests"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["requester", "target"], name="social_followreq_unique")
        ]
        indexes = [models.Index(fields=["target", "-created_at"], name="social_followreq_target")]

    def __str__(self) -> str:
        return f"{self.requester_id} ?-> {self.target_id}"


class Block(models.Model):
    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_made"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_received"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="social_block_unique"),
            models.CheckConstraint(condition=~Q(blocker=F("blocked")), name="social_block_not_self"),
        ]
        indexes = [models.Index(fields=["blocked"], name="social_block_blocked")]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


class Mute(models.Model):
    """Hides ``muted``'s posts and notifications from ``muter`` until ``expires_at`` (or forever)."""

    muter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mutes_made")
    muted = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mutes_received"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["muter", "muted"], name="social_mute_unique"),
            models.CheckConstraint(condition=~Q(muter=F("muted")), name="social_mute_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.muter_id} mutes {self.muted_id}"


class Hashtag(models.Model):
    name = models.CharField(max_length=100, unique=True)  # lower case, without "#"
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"#{self.name}"


class Post(models.Model):
    """A post or, with ``reply_to`` set, a reply in the thread started by ``root``."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        FOLLOWERS = "followers", "Followers only"
        MENTIONED = "mentioned", "Mentioned people only"

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    text = models.TextField()
    # The text escaped and linkified once, at write time; templates and the API use it as is.
    html = models.TextField(blank=True)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    content_warning = models.CharField(max_length=200, blank=True)
    reply_to = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    root = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="thread_posts"
    )
    is_pinned = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)  # hidden by a moderator
    like_count = models.PositiveIntegerField(default=0)
    reply_count = models.PositiveIntegerField(default=0)
    repost_count = models.PositiveIntegerField(default=0)
    hashtags: models.ManyToManyField[Hashtag, PostHashtag] = models.ManyToManyField(
        Hashtag, through="PostHashtag", related_name="posts"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["author"], condition=Q(is_pinned=True), name="social_post_one_pinned"
            ),
        ]
        indexes = [
            models.Index(fields=["author", "-created_at"], name="social_post_author_created"),
            models.Index(fields=["-created_at"], name="social_post_created"),
            models.Index(fields=["root", "created_at"], name="social_post_root_created"),
        ]

    def __str__(self) -> str:
        return f"Post {self.pk} by {self.author_id}"

    @property
    def safe_html(self) -> SafeString:
        # ``html`` is built by social.text.render_post_text, which escapes everything first.
        return mark_safe(self.html)  # noqa: S308

    @property
    def is_reply(self) -> bool:
        return self.reply_to_id is not None

    @property
    def is_live(self) -> bool:
        return self.deleted_at is None and self.hidden_at is None


class PostEdit(models.Model):
    """A previous version of a post, kept when it is edited."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="edits")
    text = models.TextField()
    content_warning = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)  # when this version was replaced

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"Edit of post {self.post_id}"


class PostHashtag(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE)
    hashtag = models.ForeignKey(Hashtag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hashtag", "post"], name="social_posthashtag_unique")]

    def __str__(self) -> str:
        return f"#{self.hashtag_id} on {self.post_id}"


class Mention(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="social_mention_unique")]
        indexes = [models.Index(fields=["user", "post"], name="social_mention_user")]

    def __str__(self) -> str:
        return f"@{self.user_id} in {self.post_id}"


class PostImage(models.Model):
    """An image of a post. Its file is served only to whoever may see the post: on the local disk
    by ``social.views.media`` (which finds the row by the file's name, hence the index), in a
    bucket through short-lived signed URLs (``config.storage.media_url``)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="posts/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt_text = models.CharField(max_length=1000, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("position", "id")
        # One plain index (db_index=True would add a second, LIKE-pattern one nobody uses).
        indexes = [models.Index(fields=["image"], name="social_postimage_name")]

    def __str__(self) -> str:
        return f"Image {self.position} of post {self.post_id}"


class Like(models.Model):
    # No single-column indexes of their own: the unique (user, post) and the (post) index below
    # serve every lookup, and each index is one more write per like.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes", db_index=False
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes", db_index=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="social_like_unique")]
        indexes = [models.Index(fields=["post"], name="social_like_post")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.post_id}"


class Repost(models.Model):
    # No single-column indexes of their own: the unique (user, post) and the (post) index below
    # serve every lookup, and each index is one more write per repost.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reposts", db_index=False
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reposts", db_index=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="social_repost_unique")]
        indexes = [models.Index(fields=["post"], name="social_repost_post")]

    def __str__(self) -> str:
        return f"{self.user_id} reposts {self.post_id}"


class Bookmark(models.Model):
    # Both indexes below start with the user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks", db_index=False
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="bookmarks")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="social_bookmark_unique")]
        indexes = [models.Index(fields=["user", "-created_at"], name="social_bookmark_user")]

    def __str__(self) -> str:
        return f"{self.user_id} saved {self.post_id}"


class TimelineEntry(models.Model):
    """One line of a user's home feed, written when the post (or repost) is made (fan-out on write).

    See social/README.md: reading the home feed is then one index range scan on
    ``(owner, -created_at, -id)`` instead of a merge over every followed author.
    """

    # No index of its own: every index below starts with the owner.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    reposter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The post's author, or the reposter for a repost: lets the feed drop muted people without a join.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Only on a very-followed author's own entry for a post or repost that was not pushed to their
    # followers (social/README.md, "Very-followed authors"): their home feeds merge it in at read
    # time. Such entries are never trimmed, so the merge reaches as far back as a reader pages.
    pulled = models.BooleanField(default=False, db_default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "post"],
                condition=Q(reposter__isnull=True),
                name="social_timeline_post_unique",
            ),
            models.UniqueConstraint(
                fields=["owner", "post", "reposter"],
                condition=Q(reposter__isnull=False),
                name="social_timeline_repost_unique",
            ),
        ]
        indexes = [
            # A page is one range of this index: ``(created_at, id) < cursor``, newest first.
            models.Index(fields=["owner", "-created_at", "-id"], name="social_timeline_owner_page"),
            models.Index(fields=["owner", "actor"], name="social_timeline_owner_actor"),
            # A pulled author's own posts among their feed's rows: the merged part of a page.
            models.Index(
                fields=["owner", "-created_at", "-id"],
                condition=Q(pulled=True),
                name="social_timeline_pulled_page",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post_id} in {self.owner_id}'s feed"


class PulledAuthor(models.Model):
    """An author with more followers than ``FEED_FANOUT_MAX_FOLLOWERS`` when they posted or
    reposted: some of their posts or reposts were not pushed to each follower's feed but marked
    ``TimelineEntry.pulled`` in their own, and home feeds merge those in at read time. Kept while
    any such entry may be read (a handful of rows: the home feed statement scans them all)."""

    author = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    since = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.author_id} is merged at read time"


class Notification(models.Model):
    class Kind(models.TextChoices):
        FOLLOW = "follow", "New follower"
        FOLLOW_REQUEST = "follow_request", "Follow request"
        FOLLOW_ACCEPTED = "follow_accepted", "Follow request accepted"
        LIKE = "like", "Like"
        REPLY = "reply", "Reply"
        MENTION = "mention", "Mention"
        REPOST = "repost", "Repost"
        REPORT_REVIEWED = "report_reviewed", "Report reviewed"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # Who did it; none for what the site itself tells (a report's outcome: moderators stay unnamed).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # REPORT_REVIEWED: the decision that closed the reporter's report (its kind is the outcome).
    moderation_action = models.ForeignKey(
        "ModerationAction", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="social_notif_recipient"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="social_notif_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"


class Report(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        HARASSMENT = "harassment", "Harassment or bullying"
        HATE = "hate", "Hate speech"
        VIOLENCE = "violence", "Violence or threats"
        SEXUAL = "sexual", "Sexual content"
        MISINFORMATION = "misinformation", "Misinformation"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made"
    )
    # Reports outlive the account they are about (moderation history): the handle is kept.
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports_received",
    )
    target_handle = models.CharField(max_length=30, blank=True)
    post = models.ForeignKey(Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    comment = models.TextField(max_length=1000, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="social_report_queue")]

    def __str__(self) -> str:
        return f"Report {self.pk} ({self.get_reason_display()})"


class ModerationAction(models.Model):
    """Who did what to whom, and when: every staff decision on a report or a user."""

    class Kind(models.TextChoices):
        HIDE = "hide", "Content hidden"
        WARN = "warn", "User warned"
        SUSPEND = "suspend", "User suspended"
        RESOLVE = "resolve", "Report resolved"
        DISMISS = "dismiss", "Report dismissed"
        UNHIDE = "unhide", "Content restored"
        UNSUSPEND = "unsuspend", "Suspension lifted"

    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    report = models.ForeignKey(
        Report, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    # Kept when the account goes: who was acted on stays readable as the handle.
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_handle = models.CharField(max_length=30, blank=True)
    post = models.ForeignKey(Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.moderator_id}"
