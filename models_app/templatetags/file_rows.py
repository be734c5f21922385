"""{% file_row file %}: a row of a version's files table, rendered once per distinct content.

The model page shows every file of every version, and the template engine spends over 1,000 Python
calls on a row (translations, filters, two copy buttons). For a visitor who does not manage the model
the row's HTML depends only on the file's own fields shown below and the language, so it is
remembered keyed by exactly those (like cards.py's {% model_card %}): a file that changes gives a new
key, and nothing stale is ever shown. The creator's rows carry forms (CSRF, the page's address) and
are rendered each time (docs/performance.md#the-model-page)."""

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

MAX_REMEMBERED = 4096
_remembered: dict[tuple, str] = {}


def _key(f) -> tuple:
    blob = (f.blob.autov2, f.blob.sha256) if f.blob_id else None
    return (
        f.id, f.version_id, f.name, f.is_primary, f.is_downloadable, f.detection_summary, f.size, f.format,
        f.fp, f.size_variant, f.status, f.status_message, repr(f.metadata.get("hints")), f.scan_message,
        f.type, blob, get_language(),
    )  # fmt: skip


@register.simple_tag
def file_row(model_file) -> SafeString:
    key = _key(model_file)
    html = _remembered.get(key)
    if html is None:
        html = get_template("models_app/_file_row.html").render({"file": model_file, "manage": False})
        if len(_remembered) >= MAX_REMEMBERED:
            _remembered.clear()  # a simple bound; the rows in view come back at once
        _remembered[key] = html
    return mark_safe(html)  # noqa: S308 (rendered by the autoescaping template above)
