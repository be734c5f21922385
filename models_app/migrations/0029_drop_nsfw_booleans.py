"""The booleans 0028 turned into levels."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("models_app", "0028_nsfw_levels")]

    operations = [
        migrations.RemoveField(model_name="aimodel", name="nsfw"),
        migrations.AlterField(
            model_name="searchdocument", name="nsfw", field=models.BooleanField(default=False)
        ),
        migrations.RemoveField(model_name="searchdocument", name="nsfw"),
    ]
