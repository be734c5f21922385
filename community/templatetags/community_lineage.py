"""Lineage on the pages (docs/lineage.md): the graph of a version's ancestors and descendants on the
model page, and the parents form on the version edit page. models_app's templates load these tags;
models_app never imports community."""

from django import template

from community import lineage
from community.models import LineageRelation
from models_app.page_batch import per_version

register = template.Library()


def _level(depth: int, nodes: list, hidden: int, *, up: bool) -> dict:
    rows = []
    for node in nodes:
        edges = []
        for link in node.links:
            nearer = link.child if up else link.parent
            edges.append({"link": link, "nearer": nearer if depth > 1 else None})
        rows.append({"version": node.version, "edges": edges})
    return {"depth": depth, "nodes": rows, "hidden": hidden}


@register.inclusion_tag("community/lineage/_graph.html", takes_context=True)
def version_lineage(context, version, model):
    """The graph: up to GRAPH_DEPTH levels each way, GRAPH_WIDTH versions a level."""
    request = context["request"]
    user = request.user
    # Every version of the page walked together: a few queries a page, not a few a version.
    graph = per_version(context, version, "lineage", lambda versions: lineage.lineage_graphs(user, versions))
    up = [_level(i + 1, nodes, graph.hidden_up[i], up=True) for i, nodes in enumerate(graph.ancestors)]
    down = [_level(i + 1, nodes, graph.hidden_down[i], up=False) for i, nodes in enumerate(graph.descendants)]
    return {
        "version": version,
        "model": model,
        "levels_up": list(reversed(up)),
        "levels_down": down,
        "is_owner": user.is_authenticated and model.owner_id == user.id,
        "user_id": user.id if user.is_authenticated else None,
        "csrf_token": context.get("csrf_token"),
        "here": f"{model.get_absolute_url()}#version-{version.id}",
    }


@register.inclusion_tag("community/lineage/_parents_form.html", takes_context=True)
def lineage_parents_form(context, version):
    """The version edit page's parents: the current ones with Remove, and a form to declare one."""
    request = context["request"]
    links = (
        version.parent_links.select_related("parent__model")
        .filter(parent__in=lineage.visible_versions(request.user).values("id"))
        .order_by("created_at", "id")
    )
    return {
        "version": version,
        "links": links,
        "relations": LineageRelation.choices,
        "csrf_token": context.get("csrf_token"),
        "here": request.get_full_path(),
    }
