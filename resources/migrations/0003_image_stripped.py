"""Images moved by 0002 kept the bytes they had, GPS and camera facts included: mark them, so they are
stripped on the way out until the sweep stores their served copy (docs/images.md#what-is-served)."""

from django.db import migrations, models


def mark_moved_images(apps, schema_editor):
    Image = apps.get_model("resources", "Image")
    Image.objects.filter(source_file__isnull=False, status="ready").update(stripped=False)


class Migration(migrations.Migration):
    dependencies = [("resources", "0002_move_example_images")]

    operations = [
        migrations.AddField(model_name="image", name="stripped", field=models.BooleanField(default=True)),
        migrations.RunPython(mark_moved_images, migrations.RunPython.noop),
    ]
