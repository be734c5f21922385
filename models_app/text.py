"""Untrusted text from users: Markdown rendering with an allow-list sanitiser, safe filenames."""

import functools
import re
import unicodedata

import markdown
import nh3

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


MARKDOWN_CACHE_MAX_CHARS = 16_000  # longer texts are rendered each time: the cache stays small


def render_markdown(source: str) -> str:
    """Markdown to HTML that is safe to show on the hub's pages: no scripts, styles or event handlers,
    links only to http(s)/mailto and marked nofollow so spam earns nothing.

    Lists of models (CivitAI's API sends 100 models with their versions) render the same texts over
    and over, so short ones are remembered."""
    source = source or ""
    if len(source) <= MARKDOWN_CACHE_MAX_CHARS:
        return _render_markdown_cached(source)
    return _render_markdown(source)


@functools.lru_cache(maxsize=2048)
def _render_markdown_cached(source: str) -> str:
    return _render_markdown(source)


def _render_markdown(source: str) -> str:
    html = markdown.markdown(source, extensions=["tables", "fenced_code", "sane_lists"])
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
