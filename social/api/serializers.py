"""Input and output serializers of the social API.

Output serializers describe (for the OpenAPI schema) the dicts that ``social.presenters`` builds;
endpoints return those dicts as they are (no per-row serializer work on the hot path), and
``tests/test_presenters.py`` checks that each serializer names exactly its presenter's keys.
"""

from __future__ import annotations

from rest_framework import serializers

from social.models import ModerationAction, Notification, Post, Report
from social.presenters import REPORT_OUTCOMES

# --- Input ---------------------------------------------------------------------------------------


class PostCreateInputSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, required=False, default="", trim_whitespace=False)
    visibility = serializers.ChoiceField(
        choices=Post.Visibility.choices,
        required=False,
        help_text="Public when omitted; for a reply, the parent's (a reply is never more visible).",
    )
    content_warning = serializers.CharField(allow_blank=True, required=False, default="", max_length=200)
    reply_to_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    images = serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=10)
    alt_texts = serializers.ListField(
        child=serializers.CharField(allow_blank=True, max_length=1000), required=False, default=list
    )


class ReplyCreateInputSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, required=False, default="", trim_whitespace=False)
    visibility = serializers.ChoiceField(
        choices=Post.Visibility.choices,
        required=False,
        help_text="The parent's when omitted; never more visible than the parent.",
    )
    content_warning = serializers.CharField(allow_blank=True, required=False, default="", max_length=200)


class PostEditInputSerializer(serializers.Serializer):
    """A PATCH names what changes: a field left out stays as it is."""

    text = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False)
    content_warning = serializers.CharField(allow_blank=True, required=False, max_length=200)


class MuteInputSerializer(serializers.Serializer):
    duration_minutes = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=60 * 24 * 365,
        help_text="Forever when omitted.",
    )


class ReportInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    comment = serializers.CharField(allow_blank=True, required=False, default="", max_length=1000)
    post_id = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    handle = serializers.CharField(required=False, allow_blank=False, max_length=30)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("post_id") and not attrs.get("handle"):
            raise serializers.ValidationError("Give the post_id of a post or the handle of a user.")
        return attrs


class SearchInputSerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=200, trim_whitespace=True, help_text="What to look for (1-200 characters)."
    )


# --- Output --------------------------------------------------------------------------------------


class AuthorOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    handle = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.CharField()


class ImageOutputSerializer(serializers.Serializer):
    url = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    alt_text = serializers.CharField()


class PostOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = AuthorOutputSerializer()
    text = serializers.CharField()
    html = serializers.CharField(help_text="The text escaped, with mentions, hashtags and links as <a> tags.")
    visibility = serializers.ChoiceField(choices=Post.Visibility.choices)
    content_warning = serializers.CharField()
    reply_to_id = serializers.IntegerField(allow_null=True)
    root_id = serializers.IntegerField(allow_null=True)
    is_pinned = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    like_count = serializers.IntegerField()
    reply_count = serializers.IntegerField()
    repost_count = serializers.IntegerField()
    liked = serializers.BooleanField()
    reposted = serializers.BooleanField()
    bookmarked = serializers.BooleanField()
    repostable = serializers.BooleanField(
        help_text="Whether it can be reposted (public posts of public accounts)."
    )
    images = ImageOutputSerializer(many=True)


class ReposterOutputSerializer(serializers.Serializer):
    handle = serializers.CharField()
    display_name = serializers.CharField()


class TimelineItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    reposted_by = ReposterOutputSerializer(allow_null=True)
    post = PostOutputSerializer()


class PostEditOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    content_warning = serializers.CharField()
    created_at = serializers.DateTimeField(help_text="When this version was replaced.")


class UserRowOutputSerializer(serializers.Serializer):
    handle = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.CharField()
    since = serializers.DateTimeField()


class MuteRowOutputSerializer(UserRowOutputSerializer):
    expires_at = serializers.DateTimeField(allow_null=True)


class FollowResultOutputSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"following", or "requested" for a private account.')


class RelationshipOutputSerializer(serializers.Serializer):
    following = serializers.BooleanField()
    requested = serializers.BooleanField()
    followed_by = serializers.BooleanField()
    blocking = serializers.BooleanField()
    muting = serializers.BooleanField()


class NotificationActorOutputSerializer(serializers.Serializer):
    handle = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.CharField()


class NotificationReportOutputSerializer(serializers.Serializer):
    """The reporter's report, on a ``report_reviewed`` notification (no moderator is named)."""

    target_handle = serializers.CharField(help_text="Whom the report was about (their handle then).")
    about_post = serializers.BooleanField(help_text="Whether the report was about one of their posts.")
    outcome = serializers.ChoiceField(
        choices=[(kind, label) for kind, label in ModerationAction.Kind.choices if kind in REPORT_OUTCOMES],
        help_text="The decision that closed the report.",
    )
    message = serializers.CharField(help_text="The outcome in words, as the notifications page says it.")


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()
    actor = NotificationActorOutputSerializer(
        allow_null=True, help_text="Who did it; null for what the site itself tells (report_reviewed)."
    )
    post_id = serializers.IntegerField(allow_null=True)
    post_excerpt = serializers.CharField(allow_null=True)
    report = NotificationReportOutputSerializer(
        allow_null=True, help_text="For report_reviewed: the report and its outcome; null otherwise."
    )


class UnreadCountOutputSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class NotificationGroupOutputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    post_id = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField()
    latest = serializers.DateTimeField()


class MarkedReadOutputSerializer(serializers.Serializer):
    marked = serializers.IntegerField()


class UserSearchOutputSerializer(serializers.Serializer):
    handle = serializers.CharField()
    display_name = serializers.CharField()
    avatar_url = serializers.CharField()


class HashtagOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    url = serializers.CharField()


class ReportOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
