"""Forms of the social pages. They only parse input; the rules live in social.services."""

from __future__ import annotations

from typing import Any

from django import forms

from billing.plans import FREE, Entitlements
from social.models import Post, Report


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _count_against_plan(field: forms.Field, *, limits: Entitlements, counter_id: str) -> None:
    """Gives a post text box the live counter of static/js/counter.js: the plan's limit and the
    id of the element that shows what is left (the service enforces the limit)."""
    field.widget.attrs.update({"data-limit": str(limits.max_post_length), "data-counter": counter_id})


class PostForm(forms.Form):
    """The composer. ``limits`` (the author's plan) sets the counter's and the image field's
    numbers; the service enforces them."""

    text = forms.CharField(
        required=False,
        strip=False,
        label="Post text",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What are you working on?"}),
    )
    visibility = forms.ChoiceField(
        choices=Post.Visibility.choices, initial=Post.Visibility.PUBLIC, label="Who can see it"
    )
    content_warning = forms.CharField(
        required=False,
        max_length=200,
        label="Content warning (optional)",
        help_text="Shown in place of the post until the reader chooses Show more.",
    )
    images = MultipleFileField(required=False, label="Images")
    alt_texts = forms.CharField(
        required=False,
        label="Image descriptions, one line per image",
        help_text="Describe each image for people who cannot see it.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, limits: Entitlements = FREE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        _count_against_plan(self.fields["text"], limits=limits, counter_id="compose-counter")
        self.fields["images"].label = f"Images (up to {limits.max_images_per_post})"
        self.fields["images"].widget.attrs.update(
            {"data-max-images": str(limits.max_images_per_post), "data-previews": "compose-previews"}
        )

    def alt_text_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("alt_texts", "").splitlines()]


class ReplyForm(forms.Form):
    """The reply box; ``limits`` (the replier's plan) sets its counter."""

    text = forms.CharField(
        required=False, strip=False, widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Write a reply"})
    )
    # The view sets the initial value to the parent's (services.reply_visibility_default);
    # left empty, the service uses that too, and it refuses anything wider.
    visibility = forms.ChoiceField(choices=Post.Visibility.choices, required=False)

    def __init__(self, *args: Any, limits: Entitlements = FREE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        _count_against_plan(self.fields["text"], limits=limits, counter_id="reply-counter")


class PostEditForm(forms.Form):
    """Editing a post; ``limits`` (the author's plan) sets the text's counter."""

    text = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 4}))
    content_warning = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, limits: Entitlements = FREE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        _count_against_plan(self.fields["text"], limits=limits, counter_id="edit-counter")


class ReportForm(forms.Form):
    reason = forms.ChoiceField(choices=Report.Reason.choices)
    comment = forms.CharField(required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class MuteForm(forms.Form):
    DURATIONS = [("", "Until I unmute"), ("60", "1 hour"), ("1440", "1 day"), ("10080", "1 week")]
    duration_minutes = forms.TypedChoiceField(
        choices=DURATIONS, required=False, coerce=int, empty_value=None, label="For"
    )


class SearchForm(forms.Form):
    TYPES = [("posts", "Posts"), ("users", "People"), ("tags", "Hashtags")]
    q = forms.CharField(max_length=200, required=False, label="Search")
    type = forms.ChoiceField(choices=TYPES, required=False, initial="posts")
