"""{% file_row file %}: a row of a version's files table, rendered once per distinct content.

The model page shows every file of every version, and the template engine spends over 1,000 Python
calls on a row (translations, filters, two copy buttons). For a visitor who does not manage the model
the row's HTML depends only on the file's own fields shown below and the language, so it is
remembered keyed by exactly those (models_app/rendered_once.py, as {% model_card %} is): a file that
changes gives a new key, and nothing stale is ever shown. The creator's rows carry forms (CSRF, the
page's address) and are rendered each time (docs/performance.md#the-model-page)."""

from django import template
from django.utils.safestring import SafeString

from models_app.rendered_once import RenderedOnce

register = template.Library()

_rows = RenderedOnce("models_app/_file_row.html")


def _key(f) -> tuple:
    blob = (f.blob.autov2, f.blob.sha256) if f.blob_id else None
    return (
        f.id, f.version_id, f.name, f.is_primary, f.is_downloadable, f.detection_summary, f.size, f.format,
        f.fp, f.size_variant, f.status, f.status_message, repr(f.metadata.get("hints")), f.scan_message,
        f.type, blob,
    )  # fmt: skip


@register.simple_tag
def file_row(model_file) -> SafeString:
    return _rows.render(_key(model_file), {"file": model_file, "manage": False})
