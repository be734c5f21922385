from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from . import selectors
from .text import render_markdown


def home(request):
    return render(request, "models_app/home.html", {"models": selectors.latest_models(request.user)})


def search(request):
    query = request.GET.get("q", "")
    results = selectors.search_models(request.user, query)
    return render(request, "models_app/search.html", {"query": query, "models": results})


def model_detail(request, pk: int, slug: str | None = None):
    model = get_object_or_404(selectors.visible_models(request.user).prefetch_related("tags"), pk=pk)
    if slug != model.slug:
        return redirect(model, permanent=True)
    versions = list(selectors.visible_versions(request.user, model))
    if not versions and not selectors.can_moderate(request.user) and model.owner_id != request.user.id:
        raise Http404("No such model")
    return render(
        request,
        "models_app/model_detail.html",
        {
            "model": model,
            "versions": versions,
            "description_html": render_markdown(model.description),
            "is_owner": request.user.is_authenticated and model.owner_id == request.user.id,
        },
    )
