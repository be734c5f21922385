"""Untrusted text from users: Markdown rendering with an allow-list sanitiser, safe filenames."""

import re
import unicodedata

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from .files.safetensors import clean_text as _clean_text

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "u", "s", "del", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a", "img", "table", "thead", "tbody",
    "tr", "th", "td", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
}

# A path on this hub: one leading slash, not two (`//host/x` is another site), no backslash (browsers
# read `/\host` as `//host`). markdown-it has already percent-encoded spaces and control characters.
_LOCAL_PATH = re.compile(r"^/(?![/\\])[^\\]*$")


def _image(renderer, tokens, idx, options, env) -> str:
    """An image on this hub stays an image; any other becomes a link to it (or, inside a link, its
    text), so a visitor's browser never fetches an address the creator chose: no tracking pixels
    (docs/hostile-input.md, item 13)."""
    token = tokens[idx]
    src = token.attrGet("src") or ""
    if _LOCAL_PATH.match(src):
        return renderer.image(tokens, idx, options, env)
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    if env.get("open_links"):  # [![badge](https://remote/x.svg)](https://target): the link keeps the text
        return escapeHtml(alt)
    return f'<a href="{escapeHtml(src)}">{escapeHtml(alt or src)}</a>'


def _table_cell(renderer, tokens, idx, options, env) -> str:
    """A column's alignment as the `align` attribute the sanitiser keeps (it drops every `style`)."""
    token = tokens[idx]
    align = (token.attrGet("style") or "").removeprefix("text-align:")
    if align in ("left", "center", "right"):
        token.attrs.pop("style")
        token.attrSet("align", align)
    return renderer.renderToken(tokens, idx, options, env)


def _link_open(renderer, tokens, idx, options, env) -> str:
    env["open_links"] = env.get("open_links", 0) + 1
    return renderer.renderToken(tokens, idx, options, env)


def _link_close(renderer, tokens, idx, options, env) -> str:
    env["open_links"] = env.get("open_links", 0) - 1
    return renderer.renderToken(tokens, idx, options, env)


# CommonMark parses in linear time (bench/bench_markdown.py measures it on adversarial inputs); the
# parser's nesting limit (20) caps deep block quotes and lists. `html` off: raw HTML in a description
# is shown as text, never passed through. Tables and ~~strikethrough~~ as on GitHub.
_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_markdown.add_render_rule("image", _image)
_markdown.add_render_rule("link_open", _link_open)
_markdown.add_render_rule("link_close", _link_close)
_markdown.add_render_rule("th_open", _table_cell)
_markdown.add_render_rule("td_open", _table_cell)


def render_markdown(source: str) -> str:
    """Markdown to HTML that is safe to show on the hub's pages: no scripts, styles or event handlers,
    links only to http(s), mailto or this hub and marked nofollow so spam earns nothing, images only
    from this hub.

    Called when a description is written (HasDescription.set_description in models.py), never when
    a page is read: the result is stored beside the text."""
    source = _clean_text(source or "")[0]  # a lone surrogate would stop nh3 (item 5)
    html = _markdown.render(source, {}).rstrip("\n")  # markdown-it ends every block with one
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener ugc",
    )


_UNSAFE_FILENAME_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|\u200e\u200f\u202a-\u202e\u2066-\u2069]')


def clean_filename(name: str, fallback: str = "file") -> str:
    """A filename that is safe to show and to offer in Content-Disposition.

    Strips directories, control characters and bidi overrides, and caps the length. It is only ever
    a label: storage keys come from the content hash (docs/hostile-input.md, item 14).
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME_CHARS.sub("_", name).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 16 else name[:200]
    return name or fallback


def clean_text(value: str) -> str:
    """Text PostgreSQL will store: no NUL characters, no lone surrogates (docs/hostile-input.md, item 5)."""
    return _clean_text(value)[0]


def clean_json(value):
    """clean_text applied to every string (keys too) of a JSON-shaped value read from a file."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value
