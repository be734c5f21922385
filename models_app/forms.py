from django import forms
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from billing import selectors as billing_selectors
from billing.money import parse_money

from . import funding, services
from .levels import CREATOR_LEVELS, NsfwLevel
from .models import (
    MAX_DESCRIPTION_LENGTH,
    MAX_GOAL_DESCRIPTION_LENGTH,
    MAX_GOAL_TITLE_LENGTH,
    MAX_LICENSE_LENGTH,
    MAX_MODEL_NAME_LENGTH,
    MAX_VERSION_NAME_LENGTH,
    OFFERED_USAGE_CONTROLS,
    BaseModel,
    ModelType,
    ModelVersion,
    PublishStatus,
    UsageControl,
)


def _with_count(message, count: int):
    """message % {"count": count} at render time, in the language of the page, the count localised."""
    return lazy(lambda: str(message) % {"count": number_format(count, force_grouping=True)}, str)()


def _creator_levels():
    return [(value, label) for value, label in NsfwLevel.choices if value in CREATOR_LEVELS]


class NsfwLevelField(forms.TypedChoiceField):
    """A content level (models_app/levels.py); Blocked only shows when the content already is."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", gettext_lazy("Content level"))
        kwargs.setdefault(
            "help_text",
            gettext_lazy(
                "PG and PG-13 are safe for work; R, X and XXX are shown only to people who chose them."
            ),
        )
        # Left out of a form post (a script, an old form): PG, the default of a new model.
        kwargs.setdefault("required", False)
        super().__init__(
            choices=_creator_levels, coerce=int, initial=NsfwLevel.PG, empty_value=int(NsfwLevel.PG), **kwargs
        )


def _offer_blocked_when_blocked(form):
    """Keep a blocked item's level selectable, so saving its form does not quietly lift the block."""
    if form.initial.get("nsfw_level") == NsfwLevel.BLOCKED:
        form.fields["nsfw_level"].choices = NsfwLevel.choices


class BrowsingLevelsForm(forms.Form):
    """The levels a signed-in person sees (preferences.browsing) and what happens to the others."""

    levels = forms.TypedMultipleChoiceField(
        choices=_creator_levels, coerce=int, label=gettext_lazy("Show content rated")
    )
    mode = forms.ChoiceField(
        choices=[("hide", gettext_lazy("Hide the rest")), ("blur", gettext_lazy("Blur the rest"))],
        initial="hide",
        required=False,
        label=gettext_lazy("Content above these levels"),
    )

    def clean(self):
        data = super().clean()
        data["mask"] = sum(set(data.get("levels") or []))
        return data


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.replace("\n", ",").split(",") if item.strip()]


class MarkdownField(forms.CharField):
    """A description: at most MAX_DESCRIPTION_LENGTH characters, counted as the browser counts them.

    Browsers send a textarea's line breaks as CRLF but count each as one character against its
    `maxlength`; the text is kept with LF, so a text the browser let through is not refused here."""

    def __init__(self, **kwargs):
        super().__init__(max_length=MAX_DESCRIPTION_LENGTH, required=False, **kwargs)

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


class ModelForm(forms.Form):
    name = forms.CharField(max_length=MAX_MODEL_NAME_LENGTH, label=gettext_lazy("Name"))
    type = forms.ChoiceField(choices=ModelType.choices, label=gettext_lazy("Type"))
    description = MarkdownField(
        widget=forms.Textarea(attrs={"rows": 6}),
        label=gettext_lazy("Description"),
        help_text=_with_count(
            gettext_lazy("Markdown is supported, up to %(count)s characters."), MAX_DESCRIPTION_LENGTH
        ),
    )
    tags = forms.CharField(
        required=False,
        label=gettext_lazy("Tags"),
        help_text=gettext_lazy("Comma-separated, e.g. style, watercolor"),
    )
    nsfw_level = NsfwLevelField()
    license = forms.CharField(
        required=False,
        max_length=MAX_LICENSE_LENGTH,
        label=gettext_lazy("License"),
        help_text=gettext_lazy("e.g. CreativeML OpenRAIL-M"),
    )
    allow_no_credit = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Use without crediting me")
    )
    allow_derivatives = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Share merges of this model")
    )
    allow_different_license = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Share merges under different permissions")
    )
    allow_commercial_images = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Sell images made with it")
    )
    allow_commercial_rent = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Run it on paid generation services")
    )
    allow_commercial_sell = forms.BooleanField(
        required=False, label=gettext_lazy("Sell this model or merges of it")
    )
    require_login = forms.BooleanField(
        required=False, label=gettext_lazy("Only logged-in people may download it")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _offer_blocked_when_blocked(self)

    def clean_tags(self):
        return services.clean_tag_names(_split(self.cleaned_data["tags"]))


class VaeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.model.name} {obj.name}"


class VersionForm(forms.Form):
    name = forms.CharField(max_length=MAX_VERSION_NAME_LENGTH, initial="v1.0", label=gettext_lazy("Name"))
    base_model = forms.ModelChoiceField(
        queryset=BaseModel.objects.filter(is_active=True),
        to_field_name="name",
        label=gettext_lazy("Base model"),
    )
    trained_words = forms.CharField(
        required=False,
        label=gettext_lazy("Trigger words"),
        help_text=gettext_lazy("Comma-separated words that activate the model."),
    )
    nsfw_level = NsfwLevelField(
        help_text=gettext_lazy(
            "May be above the model's level: then only people who chose it see this version."
        )
    )
    description = MarkdownField(
        widget=forms.Textarea(attrs={"rows": 4}),
        label=gettext_lazy("Changelog / notes"),
        help_text=_with_count(gettext_lazy("Markdown, up to %(count)s characters."), MAX_DESCRIPTION_LENGTH),
    )
    early_access_days = forms.IntegerField(
        min_value=0,
        max_value=services.MAX_EARLY_ACCESS_DAYS,
        initial=0,
        label=gettext_lazy("Early access (days)"),
        help_text=gettext_lazy(
            "After publishing, only you, moderators and people you grant access may download it "
            "for this many days. 0 for none."
        ),
    )
    usage_control = forms.ChoiceField(
        choices=OFFERED_USAGE_CONTROLS,
        initial=UsageControl.DOWNLOAD,
        label=gettext_lazy("Who may download the files"),
    )

    recommended_vae = VaeChoiceField(
        queryset=ModelVersion.objects.none(),
        required=False,
        label=gettext_lazy("Recommended VAE"),
        empty_label=gettext_lazy("None"),
        help_text=gettext_lazy("A published VAE on this hub that works best with this version."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _offer_blocked_when_blocked(self)
        # Built per form, so a VAE published a moment ago is offered (services checks it again).
        self.fields["recommended_vae"].queryset = (
            ModelVersion.objects.filter(
                status=PublishStatus.PUBLISHED,
                model__status=PublishStatus.PUBLISHED,
                model__type=ModelType.VAE,
            )
            .select_related("model")
            .order_by("model__name", "name")
        )

    def clean_trained_words(self):
        return services.clean_trigger_words(_split(self.cleaned_data["trained_words"]))


class EditVersionForm(VersionForm):
    """The version edit page: VersionForm plus who the early-access window is open to
    (docs/billing.md#paid-early-access)."""

    early_access_members = forms.BooleanField(
        required=False,
        label=gettext_lazy("Open early access to members"),
        help_text=gettext_lazy(
            "Members of a tier with the early-access perk may download during the window."
        ),
    )
    early_access_tiers = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Only these tiers"),
        help_text=gettext_lazy("None ticked: every tier with the early-access perk."),
    )
    early_access_price = forms.CharField(
        required=False,
        max_length=20,
        label=gettext_lazy("Early access price"),
        help_text=gettext_lazy(
            "A one-time price to unlock the version during the window, such as 4.50. Empty or 0 for none."
        ),
    )
    early_access_currency = forms.CharField(
        required=False, initial="usd", label=gettext_lazy("Currency"), help_text="usd, eur, …"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        tiers = billing_selectors.tier_names()
        if tiers:
            self.fields["early_access_tiers"].choices = [(name, name) for name in tiers]
        else:  # no tiers on offer: nothing to choose
            del self.fields["early_access_tiers"]

    def clean(self):
        cleaned = super().clean()
        price, currency = cleaned.get("early_access_price"), cleaned.get("early_access_currency")
        if currency and price is not None:
            try:
                cleaned["early_access_price"] = parse_money(price or "0", currency)
            except ValueError:
                self.add_error(
                    "early_access_price",
                    gettext_lazy("Write the price as an amount, such as 4.50, or leave it empty."),
                )
        return cleaned

    def clean_early_access_currency(self):
        return services.clean_currency(self.cleaned_data["early_access_currency"] or "usd")


class PlainTextField(forms.CharField):
    """A textarea kept with LF line breaks before its length is checked, as MarkdownField does: the
    browser counts a CRLF as one character against `maxlength`."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n")


class GoalTextForm(forms.Form):
    """What a creator may change on an open goal (docs/billing.md#crowdfunding-goals)."""

    title = forms.CharField(max_length=MAX_GOAL_TITLE_LENGTH, label=gettext_lazy("Title"))
    description = PlainTextField(
        max_length=MAX_GOAL_DESCRIPTION_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=gettext_lazy("What the money is for"),
        help_text=_with_count(
            gettext_lazy("Plain text, up to %(count)s characters."), MAX_GOAL_DESCRIPTION_LENGTH
        ),
    )


class GoalForm(GoalTextForm):
    """Opening a goal: the text, the target (typed in major units), how long it runs and what it unlocks."""

    target = forms.CharField(
        max_length=20,
        label=gettext_lazy("Target"),
        help_text=gettext_lazy("The amount to raise, such as 1000 or 1000.00."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    days = forms.IntegerField(
        min_value=funding.MIN_DAYS,
        max_value=funding.MAX_DAYS,
        initial=30,
        label=gettext_lazy("Runs for (days)"),
        help_text=gettext_lazy("1 to 90 days. The target, deadline and version can't be changed later."),
    )
    unlocks_version = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        label=gettext_lazy("Reaching it makes this version free for everyone"),
        help_text=gettext_lazy("A version of this model in early access; none to unlock nothing."),
    )

    def __init__(self, *args, currency: str, versions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["target"].label = gettext_lazy("Target (%(currency)s)") % {"currency": currency.upper()}
        self.fields["unlocks_version"].choices = [("", gettext_lazy("Nothing"))] + [
            (version.id, version.name) for version in versions
        ]

    def clean_target(self):
        try:
            return parse_money(self.cleaned_data["target"], self.currency)
        except ValueError:
            raise forms.ValidationError(gettext_lazy("Enter an amount, such as 1000 or 1000.00.")) from None
