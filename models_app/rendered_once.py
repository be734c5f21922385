"""HTML fragments rendered once per distinct content, for template tags that draw the same fragment
again and again (model cards, file rows).

A fragment whose HTML depends only on values the caller lists in its key (and on the language,
added here) is remembered under that key: anything that changes gives a new key, so nothing stale is
ever shown. Each process keeps at most MAX_REMEMBERED fragments per template."""

from django.template.loader import get_template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

MAX_REMEMBERED = 4096
# A fragment with a form is remembered with this in place of the CSRF token, which is each
# request's own (letters only: no escaping changes it); `render` puts the caller's token there.
TOKEN_STAND_IN = "renderedoncecsrftoken"


class RenderedOnce:
    def __init__(self, template_name: str):
        self.template_name = template_name
        self._remembered: dict[tuple, str] = {}

    def render(self, key: tuple, context: dict, csrf_token=None) -> SafeString:
        """The template rendered with `context`; `key` must hold every value the HTML shows but
        `csrf_token`, which a fragment with a form is given here."""
        if csrf_token is None:
            return self.render_all([(key, context)])
        html = self.render_all([(key, {**context, "csrf_token": TOKEN_STAND_IN})])
        token = conditional_escape(str(csrf_token))
        return mark_safe(html.replace(TOKEN_STAND_IN, token))  # noqa: S308 (an escaped token in rendered HTML)

    def render_all(self, fragments: list[tuple[tuple, dict]]) -> SafeString:
        """Each (key, context) rendered as `render` does, joined: a list of cards in one call, the
        language looked up once (a template tag per card cost ten times the lookups themselves)."""
        language = get_language()
        remembered = self._remembered
        parts = []
        for key, context in fragments:
            key = (*key, language)
            html = remembered.get(key)
            if html is None:
                html = get_template(self.template_name).render(context)
                if len(remembered) >= MAX_REMEMBERED:
                    remembered.clear()  # a simple bound; the fragments in view come back at once
                remembered[key] = html
            parts.append(html)
        return mark_safe("".join(parts))  # noqa: S308 (rendered by the autoescaping template above)
