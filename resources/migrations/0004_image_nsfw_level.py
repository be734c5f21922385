"""NSFW levels (docs/moderation.md#nsfw-levels): an image's boolean becomes a level, false -> PG (1),
true -> R (4)."""

from django.db import migrations, models

LEVELS = [(1, "PG"), (2, "PG-13"), (4, "R"), (8, "X"), (16, "XXX"), (32, "Blocked")]


def booleans_to_levels(apps, schema_editor):
    Image = apps.get_model("resources", "Image")
    Image.objects.filter(nsfw=True).update(nsfw_level=4)


def levels_to_booleans(apps, schema_editor):
    Image = apps.get_model("resources", "Image")
    Image.objects.filter(nsfw_level__gt=2).update(nsfw=True)


class Migration(migrations.Migration):
    dependencies = [("resources", "0003_image_stripped"), ("models_app", "0028_nsfw_levels")]

    operations = [
        migrations.AddField(
            model_name="image",
            name="nsfw_level",
            field=models.PositiveSmallIntegerField(choices=LEVELS, db_default=1, db_index=True, default=1),
        ),
        migrations.RunPython(booleans_to_levels, levels_to_booleans),
    ]
