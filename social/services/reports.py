"""Reports to the moderators."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from config.errors import ApplicationError
from config.text import clean_user_text
from social.models import Post, Report
from social.ratelimit import rate_limit_hit
from social.selectors.visibility import post_get_for_user

REPORT_COMMENT_MAX = 1000


@transaction.atomic
def report_create(
    *,
    reporter: User,
    reason: str,
    comment: str = "",
    post_id: int | None = None,
    target_user: User | None = None,
) -> Report:
    """Reports a post or reply (that the reporter can see) or a user to the moderators.

    Exactly one of ``post_id`` and ``target_user``: a report about a post is about its author.
    Rate-limited per reporter (``SOCIAL_RATE_LIMITS["report"]``), so one account cannot flood
    the moderators' queue (or mail-bomb itself with outcomes).
    """
    if reason not in Report.Reason.values:
        raise ApplicationError("Choose a reason.", fields={"reason": ["Choose a valid reason."]})
    comment = clean_user_text(comment or "", multiline=True)
    if len(comment) > REPORT_COMMENT_MAX:
        raise ApplicationError("The comment is too long.", fields={"comment": ["At most 1000 characters."]})
    if post_id is not None and target_user is not None:
        raise ApplicationError(
            "Report either a post or a user, not both.",
            fields={"post_id": ["Give a post or a user, not both."]},
        )
    post: Post | None = None
    if post_id is not None:
        post = post_get_for_user(user=reporter, post_id=post_id)
        target_user = post.author
    if target_user is None:
        raise ApplicationError("Say what you are reporting.", fields={"post_id": ["Give a post or a user."]})
    if target_user.pk == reporter.pk:
        raise ApplicationError("You cannot report yourself.", code="self_report")
    rate_limit_hit(action="report", user_id=reporter.pk)
    return Report.objects.create(
        reporter=reporter,
        target_user=target_user,
        target_handle=target_user.handle,
        post=post,
        reason=reason,
        comment=comment,
    )
