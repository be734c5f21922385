"""{% chrome "name" %}: a piece of every page's frame (templates/_chrome/name.html), rendered once.

The frame around every page (the stylesheet and scripts, the brand, the links of the header and the
footer, the language buttons) is the same on every request of a process, in a language: a few dozen
URL reversals, static paths and translations that cost the template engine about a millisecond a
page, as much as a search's query. The pieces are rendered without the request (so they hold nothing
of the visitor's: no user, no CSRF token, no current path) and remembered per language by
models_app/rendered_once.py; what is the visitor's stays in base.html.
"""

from django import template
from django.conf import settings
from django.utils.safestring import SafeString

from models_app.rendered_once import RenderedOnce

register = template.Library()

_pieces: dict[str, RenderedOnce] = {}


@register.simple_tag
def chrome(name: str) -> SafeString:
    piece = _pieces.get(name)
    if piece is None:
        piece = _pieces[name] = RenderedOnce(f"_chrome/{name}.html")
    return piece.render((settings.SITE_NAME,), {"SITE_NAME": settings.SITE_NAME})
