"""Add example and community images to a seeded catalog copy, so /api/v1/images has pages to measure.

seed_catalog makes models, versions and files but (almost) no images. This adds, in plain SQL:
for `--versions` published versions, a post of the creator's example images (`--per-version` each,
with generation settings in `meta`, linked as examples), and as many community images made with
that version and the next one (two "used" links each). Every image shares the served blob of an
existing image (the bytes don't matter to the list). Run it on a copy, never on hub_bench itself:

    .venv/bin/python bench/seed_images.py --database-url postgres://postgres@127.0.0.1:5432/NAME_bench
"""

import argparse

import psycopg

SQL = """
CREATE TEMP TABLE picked AS
SELECT v.id AS version_id, m.owner_id, lead(v.id) OVER (ORDER BY v.id) AS next_version_id
FROM models_app_modelversion v JOIN models_app_aimodel m ON m.id = v.model_id
WHERE v.status = 'published' AND m.status = 'published'
ORDER BY v.id LIMIT %(versions)s;

CREATE TEMP TABLE new_posts AS
WITH made AS (
    INSERT INTO resources_post (title, created_at, owner_id, version_id)
    SELECT 'Examples of ' || version_id, now() - (version_id %% 500) * interval '1 hour', owner_id, version_id
    FROM picked RETURNING id, version_id, owner_id
) SELECT * FROM made;

CREATE TEMP TABLE new_images AS
WITH made AS (
    INSERT INTO resources_image (owner_id, post_id, blob_id, upload_key, name, width, height, blurhash,
        mime_type, thumbnail_key, nsfw_level, phash, meta, status, status_message, stripped, created_at)
    SELECT p.owner_id, p.id, %(blob)s, '', 'example-' || p.version_id || '-' || n || '.png', 512, 768,
        '', 'image/png', '', (ARRAY[1, 1, 1, 2, 4])[1 + (p.version_id + n) %% 5], '',
        json_build_object('prompt', 'a lighthouse at dusk, watercolor ' || n, 'negativePrompt', 'blurry',
                          'steps', 20 + n, 'sampler', 'Euler a', 'cfgScale', 7, 'seed', p.version_id * 10 + n),
        'ready', '', true, now() - (p.version_id %% 500) * interval '1 hour'
    FROM new_posts p, generate_series(1, %(per_version)s) n
    RETURNING id, post_id
) SELECT * FROM made;

INSERT INTO resources_imageversion (role, image_id, version_id)
SELECT 'example', i.id, p.version_id FROM new_images i JOIN new_posts p ON p.id = i.post_id;

CREATE TEMP TABLE used_images AS
WITH made AS (
    INSERT INTO resources_image (owner_id, post_id, blob_id, upload_key, name, width, height, blurhash,
        mime_type, thumbnail_key, nsfw_level, phash, meta, status, status_message, stripped, created_at)
    SELECT 1 + (k.version_id + n) %% 500, NULL, %(blob)s, '', 'made-with-' || k.version_id || '-' || n || '.png',
        768, 512, '', 'image/png', '', 1, '', NULL, 'ready', '', true, now() - n * interval '1 minute'
    FROM picked k, generate_series(1, %(per_version)s) n
    RETURNING id, name
) SELECT * FROM made;

INSERT INTO resources_imageversion (role, image_id, version_id)
SELECT 'used', u.id, k.version_id FROM used_images u
JOIN picked k ON u.name LIKE 'made-with-' || k.version_id || '-%%'
UNION ALL
SELECT 'used', u.id, k.next_version_id FROM used_images u
JOIN picked k ON u.name LIKE 'made-with-' || k.version_id || '-%%' WHERE k.next_version_id IS NOT NULL;
"""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--versions", type=int, default=5000)
    parser.add_argument("--per-version", type=int, default=3)
    args = parser.parse_args()
    if args.database_url.rstrip("/").endswith("/hub_bench"):
        raise SystemExit("Run this on a copy of hub_bench, not on hub_bench itself.")
    with psycopg.connect(args.database_url) as conn:
        blob = conn.execute(
            "SELECT blob_id FROM resources_image WHERE blob_id IS NOT NULL ORDER BY id LIMIT 1"
        ).fetchone()
        if blob is None:
            raise SystemExit("No image with a blob to share: seed the catalog first (seed_catalog).")
        for statement in SQL.split(";\n"):
            if statement.strip():
                conn.execute(
                    statement, {"versions": args.versions, "per_version": args.per_version, "blob": blob[0]}
                )
        conn.execute("ANALYZE resources_image; ANALYZE resources_imageversion; ANALYZE resources_post")
        count = conn.execute("SELECT count(*) FROM resources_image").fetchone()[0]
    print(f"{count} images now")


if __name__ == "__main__":
    main()
