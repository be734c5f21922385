"""AIModel.preview_image becomes a plain id: example images move to resources.Image (keeping their
ids, resources migration 0002), and models_app never imports resources, so no foreign key can point
there. The ids are kept: the preview of each model stays the same image."""

from django.db import migrations, models


def copy_ids(apps, schema_editor):
    AIModel = apps.get_model("models_app", "AIModel")
    for model_id, image_id in AIModel.objects.filter(preview_image__isnull=False).values_list(
        "id", "preview_image_id"
    ):
        AIModel.objects.filter(id=model_id).update(preview_image_ref=image_id)


class Migration(migrations.Migration):
    dependencies = [("models_app", "0022_recommended_vae")]

    operations = [
        migrations.AddField(
            model_name="aimodel",
            name="preview_image_ref",
            field=models.PositiveBigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(copy_ids, migrations.RunPython.noop),
        migrations.RemoveField(model_name="aimodel", name="preview_image"),
        migrations.RenameField(
            model_name="aimodel", old_name="preview_image_ref", new_name="preview_image_id"
        ),
    ]
