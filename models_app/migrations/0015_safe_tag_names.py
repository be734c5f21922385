"""Tags stored before names were normalised (a "/" made every page linking the tag a 500) get their
safe form: renamed, merged into the tag that already has that form, or dropped when nothing is left.
The models that carried such a tag get their card copy (tag_names) recomputed."""

import re
import unicodedata

from django.db import migrations

# A frozen copy of models_app.models.normalize_tag as it was when this migration was written.
_TAG_UNSAFE = re.compile(r"[^\w .+&'#-]")


def normalize_tag(raw) -> str:
    text = _TAG_UNSAFE.sub(" ", unicodedata.normalize("NFKC", str(raw)).lower())
    return " ".join(text.split())[:60].strip(" .")


def normalize_tags(apps, schema_editor):
    Tag = apps.get_model("models_app", "Tag")
    AIModel = apps.get_model("models_app", "AIModel")
    Through = AIModel.tags.through
    touched_models = set()
    for tag in Tag.objects.all().iterator():
        safe = normalize_tag(tag.name)
        if safe == tag.name:
            continue
        links = Through.objects.filter(tag_id=tag.id)
        touched_models.update(links.values_list("aimodel_id", flat=True))
        target = Tag.objects.filter(name=safe).first() if safe else None
        if target is None and safe:
            tag.name = safe
            tag.save(update_fields=["name"])
            continue
        if target is not None:
            already = set(Through.objects.filter(tag_id=target.id).values_list("aimodel_id", flat=True))
            Through.objects.bulk_create(
                [
                    Through(aimodel_id=model_id, tag_id=target.id)
                    for model_id in links.values_list("aimodel_id", flat=True)
                    if model_id not in already
                ]
            )
        links.delete()
        tag.delete()
    for model in AIModel.objects.filter(id__in=touched_models):
        model.tag_names = sorted(
            Tag.objects.filter(
                id__in=Through.objects.filter(aimodel_id=model.id).values("tag_id")
            ).values_list("name", flat=True)
        )
        model.save(update_fields=["tag_names"])


class Migration(migrations.Migration):
    dependencies = [("models_app", "0014_images_index")]

    operations = [migrations.RunPython(normalize_tags, migrations.RunPython.noop)]
