"""Demo content: posts, follows (alice <-> bob, alice -> carol pending), likes, a repost."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from accounts.models import User
from social import services
from social.models import Follow, FollowRequest, Post

DEMO_POSTS = {
    "alice": [
        "Hello, Relay! Trying out #python and #django today.",
        "Reading about fan-out timelines: https://docs.djangoproject.com/ is still my favourite manual.",
    ],
    "bob": ["Built a shed this weekend. #diy", "@alice want to pair on the feed code?"],
    "carol": ["Only my followers can read this. #private"],
}


def seed(*, users: list[User], stdout: Any) -> None:
    """Creates the demo posts and relationships once; running it again adds nothing."""
    by_handle = {u.handle: u for u in users}
    alice, bob, carol = by_handle.get("alice"), by_handle.get("bob"), by_handle.get("carol")
    if alice is None or bob is None or carol is None:
        return
    with override_settings(SOCIAL_RATE_LIMITS={"post": "1000/m", "reply": "1000/m", "follow": "1000/m"}):
        for handle, texts in DEMO_POSTS.items():
            author = by_handle[handle]
            for text in texts:
                if not Post.objects.filter(author=author, text=text).exists():
                    services.post_create(author=author, text=text)
        if not Follow.objects.filter(follower=alice, followee=bob).exists():
            services.follow_create(follower=alice, followee=bob)
        if not Follow.objects.filter(follower=bob, followee=alice).exists():
            services.follow_create(follower=bob, followee=alice)
        if not (
            Follow.objects.filter(follower=alice, followee=carol).exists()
            or FollowRequest.objects.filter(requester=alice, target=carol).exists()
        ):
            services.follow_create(follower=alice, followee=carol)
        first_alice = Post.objects.filter(author=alice).order_by("created_at").first()
        first_bob = Post.objects.filter(author=bob).order_by("created_at").first()
        if first_alice and first_bob:
            services.like_create(user=bob, post_id=first_alice.pk)
            services.like_create(user=alice, post_id=first_bob.pk)
            services.repost_create(user=bob, post_id=first_alice.pk)
            if not Post.objects.filter(reply_to=first_alice, author=bob).exists():
                services.post_create(author=bob, text="Welcome, @alice!", reply_to_id=first_alice.pk)
    stdout.write("Social: demo posts, follows (alice<->bob, alice->carol pending), likes and a repost.")
