"""The wildcard panel on a Wildcards model's page: each list previewed, and the try-it box."""

from django import template

from resources import wildcard_packs, wildcards

register = template.Library()


@register.inclusion_tag("resources/wildcards/panel.html", takes_context=True)
def wildcard_panel(context, version):
    lists = wildcard_packs.version_lists(version)
    return {
        "version": version,
        "lists": wildcards.preview(lists),
        "list_count": len(lists),
        "csrf_token": context.get("csrf_token"),
        "max_prompts": wildcards.MAX_PROMPTS,
        "max_template": wildcards.MAX_TEMPLATE_CHARS,
        "example": f"__{min(lists)}__" if lists else "a {red|blue} cat",
    }
