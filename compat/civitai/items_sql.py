"""CivitAI model items built by PostgreSQL (docs/performance.md#the-civitai-models-list-and-by-hash).

`/api/v1/models?limit=100` is the API tools page through most. Built in Python, a page of 100
models (some 2,000 rows of versions, files and images) cost far more than its queries; here one
query builds each item as JSON text, as selectors.browse_models_json does for the hub's own list.

shapes.model_json stays the definition: this is a copy of it in SQL for the common case, and an item
outside that case comes back as None for the caller to build with shapes (the portable path, and
the only one on SQLite). Outside the common case: a viewer who manages the model (they also see
flagged files), a file or image name clean_filename would change, a download query that would need
URL escaping, an image whose generation settings are a ComfyUI graph (shapes.image_meta re-encodes
it) and a virus verdict that is not an object. tests/compat/civitai/test_list_queries.py checks that
both paths give the same items.
"""

import json

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from django.utils.text import slugify

from models_app.levels import ALL
from models_app.levels import in_filter as levels_in_filter
from models_app.models import BaseModel
from models_app.selectors import LIST_CACHE_SECONDS

from . import shapes


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


# The items are JSON text written by concatenation: json_build_object looks up how to write each
# value's type on every call and cost twice as much (docs/performance.md#the-civitai-models-list-and-by-hash).
def _value(expr: str) -> str:
    """Any SQL value as JSON text; SQL NULL as null."""
    return f"COALESCE(to_json({expr})::text, 'null')"


def _number(expr: str) -> str:
    """A number or boolean as JSON text (their SQL text is their JSON); SQL NULL as null."""
    return f"COALESCE(({expr})::text, 'null')"


def _fields(*pairs: tuple[str, str]) -> str:
    """SQL for an object's text without its closing brace, from (key, SQL giving JSON text) pairs."""
    parts = [
        _literal(("{" if n == 0 else ", ") + json.dumps(key) + ": ") + " || " + value
        for n, (key, value) in enumerate(pairs)
    ]
    return " || ".join(parts)


def _object(*pairs: tuple[str, str]) -> str:
    return f"({_fields(*pairs)} || '}}')"


def _plain(expr: str) -> str:
    """A string with nothing to escape (hex digits, a formatted date) as JSON text, or null."""
    return f"""COALESCE('"' || ({expr}) || '"', 'null')"""


def _iso(column: str) -> str:
    """A timestamp as shapes.iso writes it (UTC, milliseconds, Z), or null."""
    return _plain(f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')""")


def _model_type(column: str) -> str:
    return f"""CASE WHEN {column} IN ({{emitted_types}}) THEN to_json({column})::text ELSE '"Other"' END"""


_FILE_HASHES = _fields(
    ("AutoV1", _plain("f.autov1")),
    ("AutoV2", _plain("left(f.sha256, 10)")),
    ("SHA256", _plain("f.sha256")),
    ("CRC32", _plain("f.crc32")),
    ("BLAKE3", _plain("f.blake3")),
)
_FILE = _object(
    ("id", "f.id::text"),
    ("name", "to_json(f.name)::text"),
    ("type", """CASE WHEN f.type IN ({file_types}) THEN to_json(f.type)::text ELSE '"Other"' END"""),
    ("sizeKB", "(f.blob_size::float8 / 1024)::text"),
    (
        "metadata",
        _object(
            ("format", _value("f.format")),
            ("size", _value("NULLIF(f.size_variant, '')")),
            ("fp", _value("NULLIF(f.fp, '')")),
        ),
    ),
    ("pickleScanResult", _value("{scan_results}")),
    ("pickleScanMessage", _value("NULLIF(f.scan_message, '')")),
    ("virusScanResult", _value("COALESCE(NULLIF(f.virus ->> 'result', ''), {scan_results})")),
    (
        "virusScanMessage",
        """COALESCE(CASE WHEN f.virus ->> 'result' IS NOT NULL AND f.virus ->> 'result' <> 'Success'
        THEN (f.virus -> 'message')::text END, 'null')""",
    ),
    ("scannedAt", _iso("f.scanned_at")),
    (
        "hashes",
        f"""{_FILE_HASHES} || CASE WHEN COALESCE(f.autov3, '') = '' THEN '}}'
        ELSE ', "AutoV3": "' || left(f.autov3, 12) || '"}}' END""",
    ),
    ("primary", "(f.id = p.primary_id)::text"),
    (
        "downloadUrl",
        """to_json(%(origin)s || '/api/download/models/' || f.version_id || CASE
        WHEN f.id = p.primary_id THEN ''
        -- shapes._file_query: type/format/size/fp when they lead pick_file to this file.
        WHEN f.dl AND f.id NOT IN (SELECT id FROM beaten)
        THEN '?type=' || replace(f.type, ' ', '+') || '&format=' || replace(f.format, ' ', '+')
            || CASE WHEN f.size_variant <> '' THEN '&size=' || replace(f.size_variant, ' ', '+') ELSE '' END
            || CASE WHEN f.fp <> '' THEN '&fp=' || replace(f.fp, ' ', '+') ELSE '' END
        ELSE '?fileId=' || f.id END)::text""",
    ),
)
_IMAGE = _object(
    ("id", "id::text"),
    ("url", "to_json(%(origin)s || %(image_prefix)s || id || '/' || name)::text"),
    ("nsfwLevel", _number("level")),
    ("width", _number("width")),
    ("height", _number("height")),
    ("hash", _value("COALESCE(NULLIF(blurhash, ''), %(placeholder)s)")),
    ("type", """CASE WHEN mime_type LIKE 'video/%%' THEN '"video"' ELSE '"image"' END"""),
    ("hasMeta", "COALESCE(jsonb_typeof(meta) = 'object', false)::text"),
    ("onSite", "'false'"),
    ("meta", "CASE WHEN jsonb_typeof(meta) = 'object' THEN meta::text ELSE 'null' END"),
)
_VERSION = _fields(
    ("id", "v.id::text"),
    ("modelId", "v.model_id::text"),
    ("index", "v.idx::text"),
    ("name", _value("v.name")),
    ("description", _value("NULLIF(v.description_html, '')")),
    ("baseModel", _value("v.base_model_name")),
    ("baseModelType", """'"Standard"'"""),
    ("status", _value("{version_statuses}")),
    (
        "availability",
        """CASE WHEN v.early THEN '"EarlyAccess"'
        WHEN v.status IN ('published', 'archived') THEN '"Public"' ELSE '"Private"' END""",
    ),
    ("nsfwLevel", _number("v.nsfw_level")),
    ("createdAt", _iso("v.created_at")),
    ("updatedAt", _iso("v.updated_at")),
    ("publishedAt", _iso("v.published_at")),
    (
        "trainedWords",
        "CASE WHEN jsonb_typeof(v.trained_words) = 'array' THEN v.trained_words::text ELSE '[]' END",
    ),
    ("trainingStatus", "'null'"),
    ("trainingDetails", "'null'"),
    ("vaeId", "'null'"),
    ("uploadType", """'"Created"'"""),
    ("usageControl", _value("v.usage_control")),
    (
        "earlyAccessConfig",
        """CASE WHEN COALESCE(v.early_access_days, 0) <> 0
        THEN '{"timeframe": ' || v.early_access_days || '}' ELSE '{}' END""",
    ),
    ("earlyAccessEndsAt", _iso("CASE WHEN v.early THEN v.early_access_ends_at END")),
    ("earlyAccessDeadline", _iso("CASE WHEN v.early THEN v.early_access_ends_at END")),
    ("paidAccess", "'null'"),
    ("supportsGeneration", "'false'"),
    (
        "air",
        _value("""'urn:air:'
        || CASE WHEN m.type IN ({emitted_types}) AND m.type = 'Upscaler' THEN 'other'
                ELSE COALESCE(v.ecosystem, 'other') END
        || ':' || COALESCE({air_types}, CASE WHEN m.type IN ({emitted_types})
                THEN lower(m.type) ELSE 'other' END)
        || ':' || %(source)s || ':' || m.id || '@' || v.id"""),
    ),
    (
        "stats",
        _object(
            ("downloadCount", _number("v.download_count")),
            ("thumbsUpCount", _number("v.thumbs_up_count")),
            ("thumbsDownCount", _number("v.thumbs_down_count")),
        ),
    ),
    (
        "model",
        f"""{
            _fields(
                ("name", _value("m.name")),
                ("type", _model_type("m.type")),
                ("nsfw", "(m.nsfw_level > 2)::text"),
                ("poi", "'false'"),
            )
        } || CASE WHEN v.archived THEN ', "mode": "Archived"}}' ELSE '}}' END""",
    ),
    ("files", "CASE WHEN v.archived THEN '[]' ELSE fa.files END"),
    ("images", "COALESCE(ia.images, '[]')"),
)
# Without its closing brace: model_items adds the stats, rounded in Python as shapes rounds them.
_MODEL = _fields(
    ("id", "m.id::text"),
    ("name", _value("m.name")),
    ("description", _value("m.description_html")),
    ("type", _model_type("m.type")),
    ("poi", "'false'"),
    ("nsfw", "(m.nsfw_level > 2)::text"),
    ("minor", "'false'"),
    ("sfwOnly", "'false'"),
    ("nsfwLevel", _number("m.nsfw_level")),
    ("availability", """CASE WHEN m.status IN ('published', 'archived') THEN '"Public"' ELSE '"Private"' END"""),
    ("allowNoCredit", _number("m.allow_no_credit")),
    ("allowDerivatives", _number("m.allow_derivatives")),
    ("allowDifferentLicense", _number("m.allow_different_license")),
    ("allowCommercialUse", """to_json(array_remove(ARRAY[
        CASE WHEN m.allow_commercial_images THEN 'Image' END,
        CASE WHEN m.allow_commercial_rent THEN 'Rent' END,
        CASE WHEN m.allow_commercial_sell THEN 'Sell' END], NULL))::text"""),
    ("userId", _number("m.owner_id")),
    ("supportsGeneration", "'false'"),
    ("cosmetic", "'null'"),
    ("createdAt", _iso("m.created_at")),
    ("publishedAt", _iso("m.published_at")),
    ("updatedAt", _iso("m.updated_at")),
    ("creator", _object(("username", _value("m.username")), ("image", "'null'"))),
    ("tags", "CASE WHEN jsonb_typeof(m.tag_names) = 'array' THEN m.tag_names::text ELSE '[]' END"),
    ("modelVersions", "'[' || COALESCE(string_agg(vj.doc, ', ' ORDER BY vj.idx), '') || ']'"),
)  # fmt: skip


_TEMPLATE = """
WITH m AS (
    SELECT m.id, m.name, m.description_html, m.type, m.nsfw_level, m.status, m.allow_no_credit,
        m.allow_derivatives, m.allow_different_license, m.allow_commercial_images, m.allow_commercial_rent,
        m.allow_commercial_sell, m.owner_id, m.created_at, m.published_at, m.updated_at, m.tag_names,
        m.download_count, m.thumbs_up_count, m.thumbs_down_count, m.comment_count, m.like_count, m.rating,
        -- One index probe per model: a join hashed the whole user table.
        (SELECT u.username FROM auth_user u WHERE u.id = m.owner_id) AS username
    FROM models_app_aimodel m
    WHERE m.id IN ({ids})
),
v AS (
    SELECT v.id, v.model_id, v.name, v.description_html, v.base_model_id, v.status, v.nsfw_level,
        v.created_at, v.updated_at, v.published_at, v.trained_words, v.usage_control, v.early_access_days,
        v.early_access_ends_at, v.download_count, v.thumbs_up_count, v.thumbs_down_count,
        bm.name AS base_model_name, eco.value AS ecosystem,
        row_number() OVER (PARTITION BY v.model_id ORDER BY v.created_at DESC, v.id DESC) - 1 AS idx,
        (m.status = 'archived' OR v.status = 'archived') AS archived,
        (v.early_access_ends_at IS NOT NULL AND v.early_access_ends_at > %(now)s) AS early
    FROM models_app_modelversion v
    JOIN m ON m.id = v.model_id
    JOIN models_app_basemodel bm ON bm.id = v.base_model_id
    LEFT JOIN jsonb_each_text(%(ecosystems)s::jsonb) eco ON eco.key = v.base_model_id::text
    WHERE v.status IN ('published', 'archived')
        AND {version_levels}
),
f AS (
    SELECT f.id, f.version_id, f.name, f.type, f.format, f.fp, f.size_variant, f.is_primary,
        f.scan_status, f.scan_message, f.scanned_at, f.metadata -> 'virus_scan' AS virus,
        b.size AS blob_size, b.sha256, b.autov1, b.autov3, b.crc32, b.blake3,
        f.scan_status = 'clean' AS dl,
        (CASE WHEN lower(f.format) = 'safetensor' THEN 100 ELSE 0 END
         + CASE WHEN lower(f.size_variant) = 'pruned' THEN 10 ELSE 0 END
         + CASE WHEN lower(f.fp) = 'fp16' THEN 1 ELSE 0 END) AS score
    FROM models_app_modelfile f
    JOIN models_app_contentblob b ON b.id = f.blob_id
    WHERE f.version_id IN (SELECT id FROM v) AND f.type <> 'Image' AND f.status = 'ready'
),
-- shapes.primary_file: the marked downloadable file, else downloads.pick_file's choice.
p AS (
    SELECT DISTINCT ON (version_id) version_id, id AS primary_id
    FROM f
    ORDER BY version_id, dl DESC, is_primary DESC,
        (NOT is_primary AND type IN ('Model', 'Pruned Model')) DESC,
        (CASE WHEN is_primary THEN 0 ELSE score END) DESC, id
),
-- Files another downloadable file of their version would win pick_file against, asked for by
-- their own type/format/size/fp (shapes._file_query): those are named by fileId instead.
beaten AS (
    SELECT f.id FROM f JOIN f g ON g.version_id = f.version_id
    WHERE f.dl AND g.dl AND g.id <> f.id AND lower(g.type) = lower(f.type)
        AND lower(g.format) = lower(f.format)
        AND (f.size_variant = '' OR lower(g.size_variant) = lower(f.size_variant))
        AND (f.fp = '' OR lower(g.fp) = lower(f.fp))
        AND (g.score, g.is_primary, -g.id) > (f.score, f.is_primary, -f.id)
),
fj AS (
    SELECT f.version_id, f.is_primary, f.id, f.id = p.primary_id AS primary_file,
        -- No bounded repetition ({1,200}) in these patterns: PostgreSQL's regex engine makes it slow.
        (f.name !~ '^[A-Za-z0-9 _.,;=+()@&!#$%%~''^-]+$' OR length(f.name) > 200 OR f.name ~ '^[ .]|[ .]$'
         OR concat(f.type, f.format, f.size_variant, f.fp) !~ '^[A-Za-z0-9 _.~-]*$'
         OR (f.virus IS NOT NULL AND jsonb_typeof(f.virus) NOT IN ('object', 'null'))) AS odd,
        {file_doc}
         AS doc
    FROM f JOIN p ON p.version_id = f.version_id
    WHERE {primary_only}
),
fa AS (
    SELECT version_id, bool_or(odd) AS odd,
        '[' || string_agg(doc, ', ' ORDER BY is_primary DESC, id) || ']' AS files
    FROM fj GROUP BY version_id
),
i AS (
    SELECT iv.version_id, iv.image_id, i.id, i.name, i.width, i.height, i.blurhash, i.mime_type, i.meta,
        greatest(i.nsfw_level, m.nsfw_level, v.nsfw_level) AS level,
        (i.name !~ '^[A-Za-z0-9_.-]+$' OR length(i.name) > 200 OR i.name ~ '^[.]|[.]$'
         OR (jsonb_typeof(i.meta) IS DISTINCT FROM 'object'
             AND (COALESCE(i.workflow, '') <> '' OR COALESCE(i.prompt_graph, '') <> ''))) AS odd,
        row_number() OVER (PARTITION BY iv.version_id ORDER BY iv.image_id) AS n
    FROM resources_imageversion iv
    JOIN v ON v.id = iv.version_id
    JOIN m ON m.id = v.model_id
    JOIN resources_image i ON i.id = iv.image_id
    LEFT JOIN models_app_modelfile sf ON sf.id = i.source_file_id
    WHERE iv.role = 'example' AND i.status = 'ready' AND i.blob_id IS NOT NULL
        AND (sf.id IS NULL OR sf.status <> 'deleted')
        AND {image_levels}
),
ia AS (
    SELECT version_id, bool_or(odd) AS odd,
        '[' || string_agg({image_doc}, ', ' ORDER BY image_id, n) || ']' AS images
    FROM i WHERE n <= {max_images} GROUP BY version_id
),
vj AS (
    SELECT v.model_id, v.idx, fa.odd OR COALESCE(ia.odd, false) AS odd,
        {version_doc} || CASE WHEN v.archived THEN '}' ELSE ', "downloadUrl": '
            || to_json(%(origin)s || '/api/download/models/' || v.id)::text || '}' END AS doc
    FROM v
    JOIN fa ON fa.version_id = v.id
    LEFT JOIN ia ON ia.version_id = v.id
    JOIN m ON m.id = v.model_id
)
SELECT m.id, bool_or(COALESCE(vj.odd, false)),
    {model_doc} || CASE WHEN m.status = 'archived' THEN ', "mode": "Archived"' ELSE '' END,
    m.owner_id, m.download_count, m.thumbs_up_count, m.thumbs_down_count, m.comment_count,
    m.like_count, m.rating
FROM m LEFT JOIN vj ON vj.model_id = m.id
GROUP BY m.id, m.name, m.description_html, m.type, m.nsfw_level, m.status, m.allow_no_credit,
    m.allow_derivatives, m.allow_different_license, m.allow_commercial_images, m.allow_commercial_rent,
    m.allow_commercial_sell, m.owner_id, m.created_at, m.published_at, m.updated_at, m.username,
    m.tag_names, m.download_count, m.thumbs_up_count, m.thumbs_down_count, m.comment_count,
    m.like_count, m.rating
"""


def _case(column: str, mapping: dict) -> str:
    """The mapping as a CASE on `column` (constants in the SQL text: a parameter cast to jsonb
    would be parsed again for every row)."""
    whens = " ".join(f"WHEN {_literal(k)} THEN {_literal(v)}" for k, v in mapping.items())
    return f"(CASE {column} {whens} END)"


_SQL = _TEMPLATE
for _name, _text in {
    "file_doc": _FILE,
    "image_doc": _IMAGE,
    "version_doc": _VERSION,
    "model_doc": _MODEL,
}.items():
    _SQL = _SQL.replace("{" + _name + "}", _text)
for _name, _text in {
    "scan_results": _case("f.scan_status", shapes.SCAN_RESULTS),
    "file_types": ", ".join(map(_literal, shapes.FILE_TYPES)),
    "version_statuses": _case("v.status", shapes.VERSION_STATUSES),
    "emitted_types": ", ".join(map(_literal, shapes.EMITTED_MODEL_TYPES)),
    "air_types": _case("m.type", shapes.AIR_TYPES),
}.items():
    _SQL = _SQL.replace("{" + _name + "}", _text)


def available(user) -> bool:
    """The SQL path serves PostgreSQL; a moderator sees flagged files everywhere: shapes for them."""
    from models_app.selectors import can_moderate

    return connection.vendor == "postgresql" and not can_moderate(user)


def _ecosystems() -> str:
    """shapes.air's ecosystem of every base model, by id, as JSON (a small table that moderators
    edit; remembered as the list's totals are, for LIST_CACHE_SECONDS)."""

    def read() -> str:
        return json.dumps({
            str(pk): shapes.AIR_ECOSYSTEMS.get(name) or slugify(name.replace(".", "")) or "other"
            for pk, name in BaseModel.objects.values_list("id", "name")
        })  # fmt: skip

    return cache.get_or_set("civitai-ecosystems", read, LIST_CACHE_SECONDS)


def model_items(user, ids: list[int], viewer, *, primary_file_only: bool, now) -> dict[int, str | None]:
    """{model id: the item as JSON text, or None when shapes.model_json must build it} for the
    models with these ids that exist. Versions as selectors.api_models shows them to `user`, who
    must not be a moderator (available()); models `user` owns come back as None."""
    if not ids:
        return {}
    levels = viewer.levels
    image_prefix = reverse("serve_image", kwargs={"image_id": 1, "name": "n"})[: -len("1/n")]
    # The ids and levels are written into the text as numbers, not sent as parameters: once
    # psycopg prepares a statement, PostgreSQL may switch to a generic plan, and with an unknown
    # list of ids that plan was four times slower.
    if levels is None:
        version_levels = "v.nsfw_level <> 32"
        image_levels = "true"
    else:
        version_levels = f"v.nsfw_level IN ({', '.join(str(int(b)) for b in levels_in_filter(levels & ALL))})"
        image_levels = f"greatest(i.nsfw_level, m.nsfw_level, v.nsfw_level) & {int(levels)} <> 0"
    sql = _SQL
    for name, text in {
        "ids": ", ".join(str(int(i)) for i in ids),
        "version_levels": version_levels,
        "image_levels": image_levels,
        "primary_only": "f.id = p.primary_id" if primary_file_only else "true",
        "max_images": str(int(shapes.MAX_VERSION_IMAGES)),
    }.items():
        sql = sql.replace("{" + name + "}", text)
    params = {
        "now": now,
        "origin": viewer.origin,
        "image_prefix": image_prefix,
        "placeholder": shapes.PLACEHOLDER_BLURHASH,
        "ecosystems": _ecosystems(),
        "source": slugify(settings.SITE_NAME) or "hub",
    }
    owner = user.id if user.is_authenticated else None
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    items: dict[int, str | None] = {}
    for model_id, odd, head, owner_id, downloads, up, down, comments, likes, rating in rows:
        if odd or owner_id == owner:
            items[model_id] = None
            continue
        votes = up + down
        stars = json.dumps(round(rating * 5, 2) if votes else 0)  # Python's rounding, as shapes.model_json
        items[model_id] = (
            f'{head}, "stats": {{"downloadCount": {downloads}, "thumbsUpCount": {up}, "thumbsDownCount": {down}, '
            f'"commentCount": {comments}, "tippedAmountCount": 0, "favoriteCount": {likes}, '
            f'"ratingCount": {votes}, "rating": {stars}}}}}'
        )
    return items
