"""Per-version blocks of the model page fetched once for all its versions.

The model page (models_app/views.py model_detail) draws, for each version, blocks that other apps
provide through template tags: examples, lineage, reviews. Fetched one version at a time they cost
a few queries per version, so a page with 20 versions ran 80 more queries than one with 1. Each tag
calls `per_version` instead: the first version asks for the data of every version of the page (the
`versions` list in the template's context) at once and the answer is kept on the version objects of
this request, which the later versions read (docs/performance.md#the-model-page)."""

from collections.abc import Callable


def per_version(context, version, name: str, fetch: Callable[[list], dict]):
    """`fetch(versions)` -> {version id: value} for the page's versions, run once a page and `name`;
    returns this version's value. A version not in the page's list (a tag used elsewhere) is fetched
    alone, so the result is the same either way."""
    attr = f"_page_{name}"
    if attr not in version.__dict__:
        page = list(context.get("versions") or [])
        if not any(v is version for v in page):
            page = [version]
        found = fetch(page)
        for v in page:
            setattr(v, attr, found[v.id])
    return version.__dict__[attr]
