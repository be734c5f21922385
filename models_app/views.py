from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from billing.money import format_money

from . import levels, licences, page_cache, preferences, selectors, services
from .forms import BrowsingLevelsForm, EditVersionForm, ModelForm, VersionForm
from .levels import NsfwLevel
from .models import BaseModel, FileStatus, FileType, ModelFile, ModelType, normalize_tag


def _kept_list(request, name: str, build, holes=page_cache.HEADER_HOLES):
    """Answer a list page (search, browse, home) whose content depends on its URL and the viewer's
    language, levels and blur alone: kept for anonymous visitors, and for signed-in ones with their
    part of the header drawn in (models_app/page_cache.py). `build()` gives (template, context);
    `holes` are the parts drawn for each signed-in viewer (none in a fragment without the header)."""
    shared = page_cache.applies(request)
    kept_for_viewer = not shared and page_cache.applies_signed_in(request)
    if shared:
        key = page_cache.shared_page_key(request, name)
        if response := page_cache.cached(request, key, lists=True):
            return response
    elif kept_for_viewer:
        key = page_cache.signed_in_page_key(request, name, preferences.browsing(request))
        if response := page_cache.cached_with_holes(request, key, holes, lists=True):
            return response
    template, context = build()
    if shared:
        return page_cache.render(request, key, template, context, lists=True)
    if kept_for_viewer:
        return page_cache.keep_signed_in_page(request, key, template, context, holes)
    return render(request, template, context)


def home(request):
    def build():
        browsing = preferences.browsing(request)
        models = selectors.latest_models(request.user, levels=browsing.listed)
        selectors.mark_blurred(models, browsing)
        return "models_app/home.html", {"models": models}

    return _kept_list(request, "home-page", build)


def search(request):
    suggestions = request.GET.get("fragment") == "suggestions"  # search as you type, in the header

    def build():
        query = request.GET.get("q", "")
        browsing = preferences.browsing(request)
        results = selectors.mark_blurred(
            selectors.search_models(request.user, query, levels=browsing.listed), browsing
        )
        if suggestions:
            return "models_app/_search_suggestions.html", {"models": results[:8], "query": query}
        # search_text: what the header's search box shows (base.html); other pages leave it empty.
        return "models_app/search.html", {"query": query, "search_text": query, "models": results}

    return _kept_list(request, "search-page", build, holes=[] if suggestions else page_cache.HEADER_HOLES)


MODEL_PAGE = "models_app/model_detail.html"


def model_detail(request, pk: int, slug: str | None = None):
    one_viewer = page_cache.applies_to_one_viewer(request)  # may get a page kept for them
    kept_for_viewer = one_viewer and page_cache.sees_as_others_do(request.user)
    if kept_for_viewer:  # the model's row and what the viewer has of their own on its page, in one query
        model, own, hole_values = page_cache.visible_model_and_state(request.user, pk)
    else:
        model, hole_values = selectors.visible_model(request.user, pk), {}
    if model is None:
        raise Http404(gettext("No such model"))
    if slug != model.slug:
        return redirect(model, permanent=True)
    manage = selectors.can_manage(request.user, model)
    browsing = preferences.browsing(request)
    if model.nsfw_level == NsfwLevel.BLOCKED and not manage:
        raise Http404(gettext("No such model"))
    shared = page_cache.applies(request)  # the page every anonymous visitor gets
    key = page_cache.model_page_key(request, model) if shared else ""
    if shared and (response := page_cache.cached(request, key)):
        return response
    if kept_for_viewer and not manage and not own:
        return _kept_for_signed_in(request, model, browsing, hole_values)
    if one_viewer:  # their own model or things on it; a moderator
        return _kept_for_them(request, model, manage, browsing, hole_values)
    page = _model_page(request, model, manage, browsing)
    if isinstance(page, HttpResponse):
        return page
    if shared:
        return page_cache.render(request, key, MODEL_PAGE, page)
    return render(request, MODEL_PAGE, page)


def _kept_for_signed_in(request, model, browsing, hole_values: dict):
    """The page kept for signed-in viewers with nothing of their own on it, with their holes
    (models_app/page_cache.py): built for a blank viewer on a miss."""
    key = page_cache.signed_in_model_page_key(request, model, browsing)
    if response := page_cache.cached_signed_in(request, key, model, hole_values):
        return response
    if _warns_first(request, model, browsing):  # nothing to keep: the warning, built for them
        return _model_page(request, model, False, browsing)
    with page_cache.as_blank_viewer(request):  # no warning now (above), so the page's context
        page = _model_page(request, model, False, browsing)
        pieces = page_cache.keep_signed_in(request, key, MODEL_PAGE, page, model)
    if pieces is not None:
        return page_cache.answer_signed_in(request, pieces, model, hole_values)
    # A page whose holes were not found once: built for them.
    return render(request, MODEL_PAGE, _model_page(request, model, False, browsing))


def _kept_for_them(request, model, manage: bool, browsing, hole_values: dict):
    """The page built for a viewer with something of their own on it (its creator, a draft of theirs
    in its lineage...) or for a moderator, kept for them alone until they change something or its
    versions or files change, with their header drawn in (models_app/page_cache.py)."""
    key = page_cache.own_model_page_key(request, model, browsing, hole_values)
    if response := page_cache.cached_with_holes(request, key, page_cache.OWN_PAGE_HOLES, model, hole_values):
        return response
    page = _model_page(request, model, manage, browsing)
    if isinstance(page, HttpResponse):
        return page
    return page_cache.keep_own(request, key, MODEL_PAGE, page, model, hole_values)


def _model_page(request, model, manage: bool, browsing) -> dict | HttpResponse:
    """The model page's context for request.user, or the warning before a model above their levels."""
    prefetch_related_objects([model], "tags")
    versions = list(selectors.visible_versions(request.user, model))
    # "Show it" on the warning below reveals this page up to the model's own level.
    revealed = request.GET.get("mature") == "show"
    if not manage:
        # A version above the viewer's levels is hidden from them, or blurred when they chose that.
        versions = [
            v
            for v in versions
            if browsing.shows(v.nsfw_level)
            or browsing.blurs(v.nsfw_level)
            or (revealed and v.nsfw_level <= model.nsfw_level)
        ]
    for version in versions:
        version.visible_files = selectors.visible_files(request.user, version)
        version.blurred = (
            not manage
            and browsing.blurs(version.nsfw_level)
            and not (revealed and version.nsfw_level <= model.nsfw_level)
        )
    if not versions and not manage:
        raise Http404(gettext("No such model"))
    if not manage and _warns_first(request, model, browsing):
        return render(request, "models_app/mature_interstitial.html", {"model": model})
    return {
        "model": model,
        "versions": versions,
        "is_owner": request.user.is_authenticated and model.owner_id == request.user.id,
        "can_manage": manage,
        # "Show it" on the warning reveals the page's images up to the model's level too.
        "revealed_level": model.nsfw_level if revealed else 0,
        # The licence check, once per base model shown (docs/moderation.md#licence-check).
        "licence_problems": list(
            dict.fromkeys(
                sentence
                for base in {v.base_model_id: v.base_model for v in versions}.values()
                for sentence in licences.contradictions(model, base)
            )
        ),
    }


def _warns_first(request, model, browsing) -> bool:
    """A direct link to a model above the viewer's levels warns first, as lists leave it out;
    "Show it" on the warning (?mature=show) goes on to the page."""
    return not browsing.shows(model.nsfw_level) and request.GET.get("mature") != "show"


def _own_model(request, pk: int):
    """The caller's own model: 404 when they may not even see it (a draft stays unconfirmed), 403 when
    they see it but it is someone else's."""
    model = get_object_or_404(selectors.visible_models(request.user), pk=pk)
    if model.owner_id != request.user.id:
        raise PermissionDenied(gettext("Only the creator of this model can change it."))
    return model


@login_required
def create_model(request):
    """Step 1 of the upload wizard: what the model is and what others may do with it."""
    form = ModelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            model = services.create_model(owner=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("models_app:create_version", pk=model.pk)
    return render(request, "models_app/create_model.html", {"form": form, "step": 1})


@login_required
def create_version(request, pk: int):
    """Step 2: a version of the model (base model, trigger words, changelog)."""
    model = _own_model(request, pk)
    form = VersionForm(request.POST or None, initial={"name": "v1.0" if not model.versions.exists() else ""})
    if request.method == "POST" and form.is_valid():
        try:
            version = services.create_version(model=model, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("models_app:upload_files", pk=model.pk, version_id=version.id)
    return render(request, "models_app/create_version.html", {"form": form, "model": model, "step": 2})


@login_required
def upload_files(request, pk: int, version_id: int):
    """Step 3: attach files (resumable uploads, straight to storage) and publish."""
    model = _own_model(request, pk)
    version = get_object_or_404(selectors.visible_versions(request.user, model), id=version_id)
    return render(
        request,
        "models_app/upload_files.html",
        {
            "model": model,
            "version": version,
            "files": selectors.visible_files(request.user, version),
            "step": 3,
            "upload_config": {
                "versionId": version.id,
                "maxFileSize": services.upload_limit(request.user),
                "allowedExtensions": settings.ALLOWED_UPLOAD_EXTENSIONS,
                "partSize": settings.UPLOAD_PART_SIZE,
                "fileTypes": FileType.choices,
                "filesUrl": reverse("models_app:api_version_files", args=[version.id]),
            },
        },
    )


@login_required
@require_POST
def publish_version(request, pk: int, version_id: int):
    model = _own_model(request, pk)
    version = get_object_or_404(model.versions, id=version_id)
    try:
        version = services.publish_version(version=version, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("models_app:upload_files", pk=model.pk, version_id=version.id)
    if version.publish_when_ready:
        messages.info(
            request,
            gettext("%(name)s will be published as soon as its files pass their checks.")
            % {"name": f"{model.name} {version.name}"},
        )
        return redirect("models_app:upload_files", pk=model.pk, version_id=version.id)
    messages.success(request, gettext("%(name)s is published.") % {"name": f"{model.name} {version.name}"})
    return redirect(model)


def _browse(request, *, fixed: dict | None = None, template="models_app/browse.html", extra=None):
    cards_only = request.GET.get("fragment") == "cards"  # "load more" asks for the next cards only
    return _kept_list(
        request,
        "browse-page",
        lambda: _browse_page(request, fixed=fixed, template=template, extra=extra, cards_only=cards_only),
        holes=[] if cards_only else page_cache.HEADER_HOLES,
    )


def _browse_page(request, *, fixed, template, extra, cards_only: bool) -> tuple[str, dict]:
    params = request.GET.copy()
    for key, value in (fixed or {}).items():
        params[key] = value
    browsing = preferences.browsing(request)
    try:
        query = selectors.BrowseQuery.from_params(params, levels=browsing.listed)
        page, next_cursor = selectors.browse_models(request.user, query)
        selectors.mark_blurred(page, browsing)
        error = None
    except selectors.BadQuery as exc:
        query, page, next_cursor, error = selectors.BrowseQuery(), [], None, str(exc)
    next_params = request.GET.copy()
    next_params.pop("fragment", None)
    if next_cursor:
        next_params["cursor"] = next_cursor
    context = {
        "models": page,
        "query": query,
        "error": error,
        "next_url": f"?{next_params.urlencode()}" if next_cursor else None,
        "browsing": browsing,
        "level_choices": [(v, label) for v, label in NsfwLevel.choices if v in levels.CREATOR_LEVELS],
        "type_choices": ModelType.choices,
        "base_model_choices": BaseModel.objects.filter(is_active=True).values_list("name", flat=True),
        "sort_choices": [(key, label) for key, (_, label) in selectors.SORTS.items()],
        "periods": [
            ("all", gettext("All time")),
            ("day", gettext("Day")),
            ("week", gettext("Week")),
            ("month", gettext("Month")),
            ("year", gettext("Year")),
        ],
        **(extra or {}),
    }
    return ("models_app/_card_page.html" if cards_only else template), context


def browse(request):
    """All published models, with filters and sorts that live in the URL."""
    return _browse(request)


def tag_page(request, tag: str):
    tag = normalize_tag(tag)
    return _browse(request, fixed={"tag": tag}, extra={"tag": tag})


@require_POST
def toggle_nsfw(request):
    """Signed-in visitors choose the levels they see and whether the others are hidden or blurred;
    everyone else sees PG only. The old switch (`show=1`/`show=0`) still works: all levels or PG."""
    if request.user.is_authenticated:
        form = BrowsingLevelsForm(request.POST)
        if "show" in request.POST and "levels" not in request.POST:
            current = preferences.stored(request.user)
            mask = levels.ALL if request.POST.get("show") == "1" else levels.DEFAULT_MASK
            services.set_browsing_levels(request.user, mask=mask, blur=current.blur)
        elif form.is_valid():
            services.set_browsing_levels(
                request.user, mask=form.cleaned_data["mask"], blur=form.cleaned_data["mode"] == "blur"
            )
            messages.success(request, gettext("Your content levels are saved."))
        else:
            messages.error(request, gettext("Choose the levels you want to see."))
    return redirect(safe_next(request) or "models_app:browse")


def safe_next(request) -> str | None:
    """The `next` the form sent, when it is a path on this site: never another host (an open redirect)
    nor a `javascript:` URL, and never a bare word that redirect() would try to reverse."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def compare_versions(request, pk: int):
    """Two versions of a model side by side, differences highlighted (?a=<id>&b=<id>)."""
    model = get_object_or_404(selectors.visible_models(request.user), pk=pk)
    versions = {v.id: v for v in selectors.visible_versions(request.user, model)}
    try:
        a, b = versions[int(request.GET.get("a", 0))], versions[int(request.GET.get("b", 0))]
    except (KeyError, ValueError):
        ordered = sorted(versions.values(), key=lambda v: v.created_at)
        if len(ordered) < 2:
            messages.info(
                request, gettext("This model has only one version, so there is nothing to compare.")
            )
            return redirect(model)
        a, b = ordered[-2], ordered[-1]
    return render(
        request,
        "models_app/compare.html",
        {
            "model": model,
            "a": a,
            "b": b,
            "rows": selectors.compare_versions(a, b),
            "versions": versions.values(),
        },
    )


# --- Editing, unpublishing and deleting (issue 12, docs/editing.md): the creator or a moderator.


def _managed_model(request, pk: int):
    """A model the caller may change: 404 when they may not even see it, 403 when they see it but are
    neither its creator nor a moderator."""
    model = get_object_or_404(selectors.visible_models(request.user), pk=pk)
    if not selectors.can_manage(request.user, model):
        raise PermissionDenied(gettext("Only the creator of this model or a moderator can change it."))
    return model


def _managed_version(request, pk: int, version_id: int):
    model = _managed_model(request, pk)
    version = get_object_or_404(selectors.visible_versions(request.user, model), id=version_id)
    return model, version


def _model_initial(model) -> dict:
    initial = {name: getattr(model, name) for name in services.MODEL_EDITABLE if name != "tags"}
    return {**initial, "tags": ", ".join(tag.name for tag in model.tags.all())}


@login_required
def edit_model(request, pk: int):
    model = _managed_model(request, pk)
    form = ModelForm(request.POST or None, initial=_model_initial(model))
    if request.method == "POST" and form.is_valid():
        try:
            model = services.update_model(model=model, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, gettext("%(name)s is saved.") % {"name": model.name})
            return redirect(model)
    return render(request, "models_app/edit_model.html", {"form": form, "model": model})


@login_required
def edit_version(request, pk: int, version_id: int):
    model, version = _managed_version(request, pk, version_id)
    initial = {
        "name": version.name,
        "nsfw_level": version.nsfw_level,
        "base_model": version.base_model.name,
        "trained_words": ", ".join(version.trained_words),
        "description": version.description,
        "early_access_days": version.early_access_days,
        "usage_control": version.usage_control,
        "recommended_vae": version.recommended_vae_id,
        "early_access_members": version.early_access_members,
        "early_access_tiers": version.early_access_tiers,
        "early_access_price": format_money(version.early_access_price, version.early_access_currency).split()[
            0
        ]
        if version.early_access_price
        else "",
        "early_access_currency": version.early_access_currency,
    }
    form = EditVersionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.update_version(version=version, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, gettext("%(name)s is saved.") % {"name": f"{model.name} {version.name}"}
            )
            return redirect(model)
    return render(
        request,
        "models_app/edit_version.html",
        {"form": form, "model": model, "version": version, "detected": services.detected_base_model(version)},
    )


@login_required
@require_POST
def fix_base_model(request, pk: int, version_id: int):
    """The one-click fix: the version takes the base model its primary file was detected as."""
    model, version = _managed_version(request, pk, version_id)
    detected = services.detected_base_model(version)
    if detected is None:
        messages.info(request, gettext("The detected base model already matches; nothing to fix."))
    else:
        services.update_version(version=version, by=request.user, base_model=detected)
        messages.success(
            request,
            gettext("%(name)s now says %(base_model)s.")
            % {"name": f"{model.name} {version.name}", "base_model": detected.name},
        )
    return redirect("models_app:edit_version", pk=model.pk, version_id=version.id)


def _act(request, action, done: str, target):
    """Run one service; its refusal becomes a message on the page the caller goes back to."""
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect(target)


@login_required
@require_POST
def unpublish_model(request, pk: int):
    model = _managed_model(request, pk)
    return _act(
        request,
        lambda: services.unpublish_model(model=model, by=request.user),
        gettext("%(name)s is unpublished: only you and moderators see it now.") % {"name": model.name},
        model,
    )


@login_required
@require_POST
def unpublish_version(request, pk: int, version_id: int):
    model, version = _managed_version(request, pk, version_id)
    return _act(
        request,
        lambda: services.unpublish_version(version=version, by=request.user),
        gettext("%(name)s is unpublished: only you and moderators see it now.")
        % {"name": f"{model.name} {version.name}"},
        model,
    )


@login_required
@require_POST
def republish_version(request, pk: int, version_id: int):
    model, version = _managed_version(request, pk, version_id)
    return _act(
        request,
        lambda: services.republish_version(version=version, by=request.user),
        gettext("%(name)s is published again.") % {"name": f"{model.name} {version.name}"},
        model,
    )


@login_required
def delete_model(request, pk: int):
    """GET asks to confirm; POST deletes."""
    model = _managed_model(request, pk)
    if request.method == "POST":
        services.delete_model(model=model, by=request.user)
        messages.success(request, gettext("%(name)s is deleted.") % {"name": model.name})
        return redirect("community:user_profile", model.owner.username)
    return render(request, "models_app/confirm_delete.html", {"model": model, "what": model.name})


@login_required
def delete_version(request, pk: int, version_id: int):
    model, version = _managed_version(request, pk, version_id)
    if request.method == "POST":
        services.delete_version(version=version, by=request.user)
        messages.success(request, gettext("%(name)s is deleted.") % {"name": f"{model.name} {version.name}"})
        return redirect(model)
    return render(
        request,
        "models_app/confirm_delete.html",
        {"model": model, "version": version, "what": f"{model.name} {version.name}"},
    )


def _managed_file(request, pk: int, file_id: int):
    model = _managed_model(request, pk)
    model_file = get_object_or_404(
        ModelFile.objects.select_related("version").exclude(status=FileStatus.DELETED),
        id=file_id,
        version__model=model,
    )
    return model, model_file


@login_required
@require_POST
def delete_file(request, pk: int, file_id: int):
    """The Remove button: deletes a file, or cancels its unfinished upload and deletes the parts."""
    model, model_file = _managed_file(request, pk, file_id)
    uploading = model_file.status == FileStatus.UPLOADING
    services.delete_file(model_file=model_file, by=request.user)
    if uploading:
        done = gettext("%(name)s upload is cancelled.") % {"name": model_file.name}
    else:
        done = gettext("%(name)s is removed.") % {"name": model_file.name}
    messages.success(request, done)
    return redirect(safe_next(request) or model.get_absolute_url())


@login_required
@require_POST
def make_primary(request, pk: int, file_id: int):
    model, model_file = _managed_file(request, pk, file_id)
    return _act(
        request,
        lambda: services.set_primary_file(model_file=model_file, by=request.user),
        gettext("%(name)s is now the primary file.") % {"name": model_file.name},
        model,
    )
