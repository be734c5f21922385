"""The lineage forms of the model page and the version edit page post here (plain POST, no script);
the API is lineage_api.py, the rules community/lineage.py (docs/lineage.md)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import lineage


def _back(request, version):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(f"{version.model.get_absolute_url()}#version-{version.id}")


def _act(request, version_id: int, action) -> object:
    child = lineage.shown_version(request.user, version_id)
    try:
        lineage.owned_version(request.user, version_id)
        message = action(child)
    except lineage.LineageRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, message)
    return _back(request, child)


@login_required
@require_POST
def declare_parent(request, version_id: int):
    def declare(child):
        text = request.POST.get("parent", "")
        parent_id = lineage.parse_version_ref(request.user, text)
        if parent_id is None:
            parent_id = _search(text, lineage.find_versions_named(request.user, text))
        _link, created = lineage.declare_parent(
            user=request.user,
            child=child,
            parent_id=parent_id,
            relation=request.POST.get("relation", ""),
            weight=request.POST.get("weight", "").strip() or None,
        )
        return _("The parent is added.") if created else _("The parent is updated.")

    return _act(request, version_id, declare)


def _search(text: str, found: list) -> int:
    """The one version a name search found; else a message naming the candidates."""
    if len(found) == 1:
        return found[0].id
    if not found:
        raise lineage.LineageRefused(
            400, _("No version matches; give the parent's version id or the address of its model page.")
        )
    names = "; ".join(f"{v.model.name} · {v.name} (id {v.id})" for v in found[:5])
    raise lineage.LineageRefused(
        400, _("Several versions match: %(names)s. Give the id of the one you mean.") % {"names": names}
    )


@login_required
@require_POST
def confirm_parent(request, version_id: int, parent_id: int):
    def confirm(child):
        lineage.confirm_parent(user=request.user, child=child, parent_id=parent_id)
        return _("The parent is confirmed.")

    return _act(request, version_id, confirm)


@login_required
@require_POST
def remove_parent(request, version_id: int, parent_id: int):
    def remove(child):
        lineage.remove_parent(user=request.user, child=child, parent_id=parent_id)
        return _("The parent is removed; it won't be proposed again.")

    return _act(request, version_id, remove)
