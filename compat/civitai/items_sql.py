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
from django.db import connection
from django.urls import reverse
from django.utils.text import slugify

from models_app.levels import ALL
from models_app.levels import in_filter as levels_in_filter
from models_app.models import BaseModel

from . import shapes

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
        json_build_object(
            'id', f.id,
            'name', f.name,
            'type', CASE WHEN f.type IN ({file_types}) THEN f.type ELSE 'Other' END,
            'sizeKB', f.blob_size::float8 / 1024,
            'metadata', json_build_object(
                'format', f.format, 'size', NULLIF(f.size_variant, ''), 'fp', NULLIF(f.fp, '')),
            'pickleScanResult', {scan_results},
            'pickleScanMessage', NULLIF(f.scan_message, ''),
            'virusScanResult', COALESCE(NULLIF(f.virus ->> 'result', ''), {scan_results}),
            'virusScanMessage', CASE WHEN f.virus ->> 'result' IS NOT NULL AND f.virus ->> 'result' <> 'Success'
                THEN f.virus -> 'message' END,
            'scannedAt', to_char(f.scanned_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'hashes', CASE WHEN COALESCE(f.autov3, '') = ''
                THEN json_build_object('AutoV1', f.autov1, 'AutoV2', left(f.sha256, 10), 'SHA256', f.sha256,
                    'CRC32', f.crc32, 'BLAKE3', f.blake3)
                ELSE json_build_object('AutoV1', f.autov1, 'AutoV2', left(f.sha256, 10), 'SHA256', f.sha256,
                    'CRC32', f.crc32, 'BLAKE3', f.blake3, 'AutoV3', left(f.autov3, 12)) END,
            'primary', f.id = p.primary_id,
            'downloadUrl', %(origin)s || '/api/download/models/' || f.version_id || CASE
                WHEN f.id = p.primary_id THEN ''
                -- shapes._file_query: type/format/size/fp when they lead pick_file to this file.
                WHEN f.dl AND f.id NOT IN (SELECT id FROM beaten)
                THEN '?type=' || replace(f.type, ' ', '+') || '&format=' || replace(f.format, ' ', '+')
                    || CASE WHEN f.size_variant <> '' THEN '&size=' || replace(f.size_variant, ' ', '+') ELSE '' END
                    || CASE WHEN f.fp <> '' THEN '&fp=' || replace(f.fp, ' ', '+') ELSE '' END
                ELSE '?fileId=' || f.id END
        ) AS doc
    FROM f JOIN p ON p.version_id = f.version_id
    WHERE {primary_only}
),
fa AS (
    SELECT version_id, bool_or(odd) AS odd,
        json_agg(doc ORDER BY is_primary DESC, id) AS files
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
        json_agg(json_build_object(
            'id', id,
            'url', %(origin)s || %(image_prefix)s || id || '/' || name,
            'nsfwLevel', level,
            'width', width,
            'height', height,
            'hash', COALESCE(NULLIF(blurhash, ''), %(placeholder)s),
            'type', CASE WHEN mime_type LIKE 'video/%%' THEN 'video' ELSE 'image' END,
            'hasMeta', COALESCE(jsonb_typeof(meta) = 'object', false),
            'onSite', false,
            'meta', CASE WHEN jsonb_typeof(meta) = 'object' THEN meta END
        ) ORDER BY image_id, n) AS images
    FROM i WHERE n <= {max_images} GROUP BY version_id
),
vj AS (
    SELECT v.model_id, v.idx, fa.odd OR COALESCE(ia.odd, false) AS odd,
        (CASE WHEN v.archived THEN o::text
              ELSE left(o::text, -1) || ', "downloadUrl": '
                   || to_json(%(origin)s || '/api/download/models/' || v.id)::text || '}' END) AS doc
    FROM v
    JOIN fa ON fa.version_id = v.id
    LEFT JOIN ia ON ia.version_id = v.id
    JOIN m ON m.id = v.model_id
    CROSS JOIN LATERAL (SELECT json_build_object(
        'id', v.id,
        'modelId', v.model_id,
        'index', v.idx,
        'name', v.name,
        'description', NULLIF(v.description_html, ''),
        'baseModel', v.base_model_name,
        'baseModelType', 'Standard',
        'status', {version_statuses},
        'availability', CASE WHEN v.early THEN 'EarlyAccess'
            WHEN v.status IN ('published', 'archived') THEN 'Public' ELSE 'Private' END,
        'nsfwLevel', v.nsfw_level,
        'createdAt', to_char(v.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'updatedAt', to_char(v.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'publishedAt', to_char(v.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'trainedWords', CASE WHEN jsonb_typeof(v.trained_words) = 'array' THEN v.trained_words ELSE '[]'::jsonb END,
        'trainingStatus', NULL,
        'trainingDetails', NULL,
        'vaeId', NULL,
        'uploadType', 'Created',
        'usageControl', v.usage_control,
        'earlyAccessConfig', CASE WHEN COALESCE(v.early_access_days, 0) <> 0
            THEN json_build_object('timeframe', v.early_access_days) ELSE '{}'::json END,
        'earlyAccessEndsAt', CASE WHEN v.early THEN
            to_char(v.early_access_ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
        'earlyAccessDeadline', CASE WHEN v.early THEN
            to_char(v.early_access_ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') END,
        'paidAccess', NULL,
        'supportsGeneration', false,
        'air', 'urn:air:'
            || CASE WHEN m.type IN ({emitted_types}) AND m.type = 'Upscaler' THEN 'other'
                    ELSE COALESCE(v.ecosystem, 'other') END
            || ':' || COALESCE({air_types}, CASE WHEN m.type IN ({emitted_types})
                    THEN lower(m.type) ELSE 'other' END)
            || ':' || %(source)s || ':' || m.id || '@' || v.id,
        'stats', json_build_object('downloadCount', v.download_count,
            'thumbsUpCount', v.thumbs_up_count, 'thumbsDownCount', v.thumbs_down_count),
        'model', CASE WHEN v.archived
            THEN json_build_object('name', m.name, 'type', CASE WHEN m.type IN ({emitted_types})
                THEN m.type ELSE 'Other' END, 'nsfw', m.nsfw_level > 2, 'poi', false, 'mode', 'Archived')
            ELSE json_build_object('name', m.name, 'type', CASE WHEN m.type IN ({emitted_types})
                THEN m.type ELSE 'Other' END, 'nsfw', m.nsfw_level > 2, 'poi', false) END,
        'files', CASE WHEN v.archived THEN '[]'::json ELSE fa.files END,
        'images', COALESCE(ia.images, '[]'::json)
    ) AS o) built
)
-- The versions' texts are joined as text, not parsed again by a json_agg: the object ends with a
-- 0 that is cut off ("0}") for that list, then "mode" as json_build_object writes it.
SELECT m.id, bool_or(COALESCE(vj.odd, false)),
    left(json_build_object(
        'id', m.id,
        'name', m.name,
        'description', m.description_html,
        'type', CASE WHEN m.type IN ({emitted_types}) THEN m.type ELSE 'Other' END,
        'poi', false,
        'nsfw', m.nsfw_level > 2,
        'minor', false,
        'sfwOnly', false,
        'nsfwLevel', m.nsfw_level,
        'availability', CASE WHEN m.status IN ('published', 'archived') THEN 'Public' ELSE 'Private' END,
        'allowNoCredit', m.allow_no_credit,
        'allowDerivatives', m.allow_derivatives,
        'allowDifferentLicense', m.allow_different_license,
        'allowCommercialUse', array_remove(ARRAY[
            CASE WHEN m.allow_commercial_images THEN 'Image' END,
            CASE WHEN m.allow_commercial_rent THEN 'Rent' END,
            CASE WHEN m.allow_commercial_sell THEN 'Sell' END], NULL),
        'userId', m.owner_id,
        'supportsGeneration', false,
        'cosmetic', NULL,
        'createdAt', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'publishedAt', to_char(m.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'updatedAt', to_char(m.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'creator', json_build_object('username', m.username, 'image', NULL),
        'tags', CASE WHEN jsonb_typeof(m.tag_names) = 'array' THEN m.tag_names ELSE '[]'::jsonb END,
        'modelVersions', 0
    )::text, -2) || '[' || COALESCE(string_agg(vj.doc, ', ' ORDER BY vj.idx), '') || '], "mode" : '
        || CASE WHEN m.status = 'archived' THEN '"Archived"' ELSE 'null' END || '}',
    m.status = 'archived', m.owner_id, m.download_count, m.thumbs_up_count, m.thumbs_down_count, m.comment_count,
    m.like_count, m.rating
FROM m LEFT JOIN vj ON vj.model_id = m.id
GROUP BY m.id, m.name, m.description_html, m.type, m.nsfw_level, m.status, m.allow_no_credit,
    m.allow_derivatives, m.allow_different_license, m.allow_commercial_images, m.allow_commercial_rent,
    m.allow_commercial_sell, m.owner_id, m.created_at, m.published_at, m.updated_at, m.username,
    m.tag_names, m.download_count, m.thumbs_up_count, m.thumbs_down_count, m.comment_count,
    m.like_count, m.rating
"""


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _case(column: str, mapping: dict) -> str:
    """The mapping as a CASE on `column` (constants in the SQL text: a parameter cast to jsonb
    would be parsed again for every row)."""
    whens = " ".join(f"WHEN {_literal(k)} THEN {_literal(v)}" for k, v in mapping.items())
    return f"(CASE {column} {whens} END)"


_SQL = _TEMPLATE
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


def _ecosystems() -> dict[str, str]:
    """shapes.air's ecosystem of every base model, by id (a small table)."""
    return {
        str(pk): shapes.AIR_ECOSYSTEMS.get(name) or slugify(name.replace(".", "")) or "other"
        for pk, name in BaseModel.objects.values_list("id", "name")
    }


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
        "ecosystems": json.dumps(_ecosystems()),
        "source": slugify(settings.SITE_NAME) or "hub",
    }
    owner = user.id if user.is_authenticated else None
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    items: dict[int, str | None] = {}
    for model_id, odd, text, archived, owner_id, downloads, up, down, comments, likes, rating in rows:
        if odd or owner_id == owner:
            items[model_id] = None
            continue
        votes = up + down
        stats = {
            "downloadCount": downloads,
            "thumbsUpCount": up,
            "thumbsDownCount": down,
            "commentCount": comments,
            "tippedAmountCount": 0,
            "favoriteCount": likes,
            "ratingCount": votes,
            "rating": round(rating * 5, 2) if votes else 0,  # Python's rounding, as shapes.model_json
        }
        # The rating is rounded here, so the stats go in last; "mode" only on archived models.
        head = text[:-1] if archived else text[: -len(_NO_MODE)]
        items[model_id] = f'{head}, "stats": {json.dumps(stats)}}}'
    return items


_NO_MODE = ', "mode" : null}'  # how json_build_object ends a model that is not archived
