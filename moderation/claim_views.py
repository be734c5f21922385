"""The pages of copyright claims (docs/moderation.md#copyright-claims): the public claim form, the
moderators' list and a claim's page (decisions for moderators, the counter-notice for the owner)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from models_app.selectors import can_moderate

from . import claims, targets
from .models import MAX_DETAILS_LENGTH, ClaimStatus, CopyrightClaim
from .views import _moderator_only


class ClaimForm(forms.Form):
    claimant_name = forms.CharField(label=_("Your full name"), max_length=200)
    claimant_email = forms.EmailField(
        label=_("Your email address"), help_text=_("Moderators write to you here.")
    )
    work = forms.CharField(
        label=_("Your work"),
        max_length=MAX_DETAILS_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What it is and where it is published (links)."),
    )
    statement = forms.CharField(
        label=_("What is copied, and how"),
        max_length=MAX_DETAILS_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    good_faith = forms.BooleanField(
        label=_(
            "I believe in good faith that this use is not authorised by the owner, their agent or the law."
        )
    )
    accurate = forms.BooleanField(
        label=_(
            "The information in this claim is accurate, and I am the owner or allowed to act for the owner."
        )
    )
    signature = forms.CharField(label=_("Signature: type your full name again"), max_length=200)


def claim_new(request, target_type: str, target_id: int):
    """GET/POST /claims/<type>/<id>: anyone may file a claim about a model, version or image they can see."""
    if target_type not in claims.CLAIMABLE:
        raise Http404
    target = targets.visible_to(request.user, target_type, target_id)
    if target is None:
        raise Http404
    initial = {}
    if request.user.is_authenticated:
        initial = {"claimant_email": request.user.email}
    form = ClaimForm(request.POST or None, initial=initial)
    claim = None
    if request.method == "POST" and form.is_valid():
        try:
            claim = claims.file_claim(
                target_type=target_type, target_id=target_id, claimant=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
    return render(request, "moderation/claim_form.html", {"form": form, "target": target, "claim": claim})


def claim_list(request):
    refused = _moderator_only(request)
    if refused:
        return refused
    status = request.GET.get("status", "")
    if status not in ClaimStatus.values:
        status = ""
    page = Paginator(claims.claim_list(status=status), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "moderation/claims.html",
        {"page_obj": page, "status": status, "statuses": ClaimStatus.choices},
    )


def _claim_for(request, claim_id: int) -> tuple[CopyrightClaim, object, bool]:
    """The claim, its target and whether the visitor moderates; the owner of the content may see it too."""
    claim = get_object_or_404(CopyrightClaim, id=claim_id)
    target = targets.find(claim.target_type, claim.target_id)
    moderator = can_moderate(request.user)
    owner = target is not None and target.owner is not None and target.owner.id == request.user.id
    if not (moderator or owner):
        raise PermissionDenied(gettext("Only moderators and the owner of the content can see this claim."))
    return claim, target, moderator


def claim_detail(request, claim_id: int):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    claim, target, moderator = _claim_for(request, claim_id)
    return render(
        request,
        "moderation/claim_detail.html",
        {
            "claim": claim,
            "target": target,
            "moderator": moderator,
            "restorable_from": claims.restorable_from(claim),
        },
    )


ACTIONS = {"take_down": claims.take_down, "reject": claims.reject, "restore": claims.restore}


@require_POST
def claim_act(request, claim_id: int):
    refused = _moderator_only(request)
    if refused:
        return refused
    action = ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, gettext("Choose take down, reject or restore."))
        return redirect("moderation:claim", claim_id)
    try:
        action(moderator=request.user, claim_id=claim_id, note=request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except CopyrightClaim.DoesNotExist:
        raise Http404 from None
    else:
        messages.success(request, gettext("The claim is updated."))
    return redirect("moderation:claim", claim_id)


@require_POST
def claim_counter(request, claim_id: int):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        claims.counter_notice(
            user=request.user,
            claim_id=claim_id,
            statement=request.POST.get("statement", ""),
            accurate=request.POST.get("accurate") == "on",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except CopyrightClaim.DoesNotExist:
        raise Http404 from None
    else:
        messages.success(request, gettext("Your counter-notice is sent; the claimant is told."))
    return redirect("moderation:claim", claim_id)
