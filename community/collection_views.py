"""Collection pages (docs/collections.md): the heart and "Save to collection" forms on model and image
pages (plain form POSTs, no script), /collections/ (yours) and /collections/<id>. Thin: parse, call
community/collections.py, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from models_app import preferences
from models_app.selectors import model_cards
from models_app.views import safe_next

from . import collections
from .models import CollectionVisibility


def _refused_message(request, refused: collections.CollectionRefused):
    if refused.status == 404:
        raise Http404
    messages.error(request, refused.message)


@login_required
@require_POST
def favourite_toggle(request, item_type: str, item_id: int):
    """Add to (action=add) or remove from (action=remove) your Favourites, then go back."""
    target = collections.find_target(request.user, item_type, item_id)
    if target is None:
        raise Http404
    try:
        collections.set_favourite(user=request.user, target=target, on=request.POST.get("action") != "remove")
    except collections.CollectionRefused as refused:
        _refused_message(request, refused)
    return redirect(safe_next(request) or "community_collections:my_collections")


@login_required
@require_POST
def save_to_collection(request, item_type: str, item_id: int):
    """The picker: add the thing to the chosen collection, or to a new one named in the form."""
    target = collections.find_target(request.user, item_type, item_id)
    if target is None:
        raise Http404
    try:
        new_name = request.POST.get("new_name", "").strip()
        if new_name:
            collection = collections.create_collection(
                owner=request.user, name=new_name, visibility=request.POST.get("visibility", "public")
            )
        elif request.POST.get("collection", "").isdigit():
            collection = collections.writable_collection(request.user, request.POST["collection"])
        else:
            raise collections.CollectionRefused(400, _("Choose a collection, or name a new one."))
        collections.add_item(collection=collection, by=request.user, target=target)
    except collections.CollectionRefused as refused:
        _refused_message(request, refused)
    else:
        messages.success(request, _("Saved to “%(name)s”.") % {"name": collection.name})
    return redirect(safe_next(request) or "community_collections:my_collections")


@login_required
def my_collections(request):
    """Your collections, and a form to make one."""
    if request.method == "POST":
        try:
            collection = collections.create_collection(
                owner=request.user,
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
                visibility=request.POST.get("visibility", CollectionVisibility.PUBLIC),
            )
        except collections.CollectionRefused as refused:
            messages.error(request, refused.message)
        else:
            return redirect("community_collections:collection", collection_id=collection.id)
    rows = list(collections.collections_of(request.user, request.user))
    if not any(c.is_favorites for c in rows):
        rows.insert(0, None)  # the built-in Favourites, shown before it is made
    return render(request, "community/collections/mine.html", {"collections": rows})


@login_required
def my_favourites(request):
    return redirect(
        "community_collections:collection",
        collection_id=collections.favourites_of(request.user, create=True).id,
    )


def collection_detail(request, collection_id: int):
    """A collection's items as cards; its owner edits, removes items or deletes it here."""
    collection = collections.viewable_collection(request.user, collection_id)
    is_owner = request.user.is_authenticated and collection.owner_id == request.user.id
    items = collections.visible_items(
        collection, request.user, levels=preferences.browsing(request).mask
    ).select_related("version__model", "image")
    page = Paginator(items, collections.PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    cards = {c.id: c for c in model_cards([i.model_id for i in shown if i.model_id])}
    entries = [{"item": i, "card": cards.get(i.model_id)} for i in shown]
    return render(
        request,
        "community/collections/detail.html",
        {
            "collection": collection,
            "is_owner": is_owner,
            "entries": entries,
            "page": page,
            "visibilities": CollectionVisibility.choices,
        },
    )


@login_required
@require_POST
def edit_collection(request, collection_id: int):
    try:
        collection = collections.writable_collection(request.user, collection_id)
        changes = {k: request.POST[k] for k in ("name", "description", "visibility") if k in request.POST}
        collections.update_collection(collection=collection, by=request.user, changes=changes)
    except collections.CollectionRefused as refused:
        _refused_message(request, refused)
    else:
        messages.success(request, _("The collection is saved."))
    return redirect("community_collections:collection", collection_id=collection_id)


@login_required
@require_POST
def delete_collection(request, collection_id: int):
    try:
        collection = collections.writable_collection(request.user, collection_id)
        collections.delete_collection(collection=collection, by=request.user)
    except collections.CollectionRefused as refused:
        _refused_message(request, refused)
        return redirect("community_collections:collection", collection_id=collection_id)
    messages.success(request, _("The collection “%(name)s” is deleted.") % {"name": collection.name})
    return redirect("community_collections:my_collections")


@login_required
@require_POST
def remove_item(request, collection_id: int, item_id: int):
    try:
        collection = collections.writable_collection(request.user, collection_id)
        item = collection.items.filter(id=item_id).first()
        if item is not None:
            collections.remove_item(collection=collection, by=request.user, item=item)
    except collections.CollectionRefused as refused:
        _refused_message(request, refused)
    return redirect(safe_next(request) or f"/collections/{collection_id}")
