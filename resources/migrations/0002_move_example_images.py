"""Example images move from models_app.ModelFile (type Image) into Image rows, keeping their ids, so
every /images/<id>/<name> address handed out before keeps showing the same image (docs/images.md).

Each version's examples form one post of its creator. The ModelFile rows stay, as the record of the
upload (Image.source_file). Files still being processed become Image rows when the worker finishes
them (resources.images.image_from_file), with new ids."""

from django.core.management.color import no_style
from django.db import migrations

from models_app.files import infotext

FINISHED = {"ready", "rejected", "quarantined", "error"}


def move_images(apps, schema_editor):
    ModelFile = apps.get_model("models_app", "ModelFile")
    Image = apps.get_model("resources", "Image")
    Post = apps.get_model("resources", "Post")
    ImageVersion = apps.get_model("resources", "ImageVersion")
    files = (
        ModelFile.objects.filter(type="Image", status__in=FINISHED)
        .select_related("version__model")
        .order_by("id")
    )
    posts = {}
    for f in files.iterator():
        version, model = f.version, f.version.model
        if version.id not in posts:
            posts[version.id] = Post.objects.create(
                owner_id=model.owner_id,
                title=f"{model.name} {version.name}"[:200],
                version_id=version.id,
                created_at=f.created_at,
            )
        facts = (f.metadata or {}).get("image") or {}
        text = facts.get("text") or {}
        ready = f.status == "ready" and f.scan_status == "clean" and f.blob_id is not None
        Image.objects.create(
            id=f.id,  # the stable URL's id
            owner_id=model.owner_id,
            post=posts[version.id],
            source_file_id=f.id,
            blob_id=f.blob_id if ready else None,
            name=f.name,
            width=facts.get("width"),
            height=facts.get("height"),
            blurhash=facts.get("blurhash") or "",
            mime_type=facts.get("mime_type") or "",
            thumbnail_key=facts.get("thumbnail_key") or "",
            nsfw=model.nsfw,
            meta=infotext.parse_infotext(text["parameters"]) if text.get("parameters") else None,
            workflow=text.get("workflow"),
            prompt_graph=text.get("prompt"),
            status="ready" if ready else "rejected",
            status_message="" if ready else (f.status_message or "This image did not pass processing."),
            created_at=f.created_at,
        )
        ImageVersion.objects.create(image_id=f.id, version_id=version.id, role="example")
    # New images are numbered after the moved ones (PostgreSQL's sequence does not follow explicit ids).
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Image]):
            cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("resources", "0001_images_and_posts")]

    operations = [migrations.RunPython(move_images, migrations.RunPython.noop)]
