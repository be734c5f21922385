"""/settings/profile: edit your bio, links and avatar (docs/profiles.md). Thin: parse, call
community/profiles.py, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from . import profiles
from .models import MAX_BIO_LENGTH, MAX_PROFILE_LINKS


@login_required
def edit_profile(request):
    profile = profiles.profile_of(request.user)
    errors = []
    bio = profile.bio if profile else ""
    links = list(profile.links) if profile else []
    if request.method == "POST":
        if request.POST.get("action") == "remove_avatar":
            profiles.remove_avatar(user=request.user)
            messages.success(request, _("Your avatar is removed."))
            return redirect("community_collections:edit_profile")
        bio = request.POST.get("bio", "")
        links = [link for link in request.POST.getlist("links") if link.strip()]
        try:
            profiles.update_profile(user=request.user, changes={"bio": bio, "links": links})
            upload = request.FILES.get("avatar")
            if upload is not None:
                profiles.set_avatar(user=request.user, name=upload.name, content=upload, size=upload.size)
        except profiles.ProfileRefused as refused:
            errors.append(refused.message)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("community_collections:edit_profile")
        profile = profiles.profile_of(request.user)
    return render(
        request,
        "community/profiles/edit.html",
        {
            "errors": errors,
            "bio": bio,
            "links": links + [""] * (MAX_PROFILE_LINKS - len(links)),
            "avatar": profiles.avatar_state(profile),
            "max_bio": MAX_BIO_LENGTH,
        },
    )
