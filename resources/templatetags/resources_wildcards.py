"""The wildcard panel on a Wildcards model's page: each list previewed, and the try-it box."""

from django import template

from resources import wildcard_packs, wildcards

register = template.Library()


@register.inclusion_tag("resources/wildcards/panel.html", takes_context=True)
def wildcard_panel(context, version):
    lists = wildcard_packs.version_lists(version)
    request = context.get("request")
    tried = _try_without_js(request, version, lists) if request is not None else {}
    return {
        **tried,
        "version": version,
        "lists": wildcards.preview(lists),
        "list_count": len(lists),
        "csrf_token": context.get("csrf_token"),
        "max_prompts": wildcards.MAX_PROMPTS,
        "max_template": wildcards.MAX_TEMPLATE_CHARS,
        "example": f"__{min(lists)}__" if lists else "a {red|blue} cat",
    }


def _try_without_js(request, version, lists) -> dict:
    """Without JavaScript the try-it form submits as GET to the page itself: expand here, over this
    pack only, with the API's checks and rate limit."""
    from resources.wildcard_worker import ExpansionError
    from resources.wildcards_api import ExpandInput, over_expand_limit

    if request.GET.get("wc_version") != str(version.id) or "template" not in request.GET:
        return {}
    data = ExpandInput(data={k: v for k, v in request.GET.items() if k in ExpandInput().fields and v != ""})
    if not data.is_valid():
        return {"tried_error": " ".join(str(m) for msgs in data.errors.values() for m in msgs)}
    if over_expand_limit(request):
        return {"tried_error": "Too many expansions this minute; wait a moment and try again."}
    args = data.validated_data
    try:
        result = wildcards.expand_template(
            lists,
            template=args["template"],
            mode=args["mode"],
            count=args["count"],
            seed=args.get("seed") if args.get("seed") is not None else 0,
            with_count=args["with_count"],
        )
    except (wildcards.WildcardError, ExpansionError) as exc:
        return {"tried_error": str(exc), "tried_template": args["template"]}
    return {"tried": result, "tried_template": args["template"]}
