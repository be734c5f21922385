"""The boolean 0004 turned into a level."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("resources", "0004_image_nsfw_level")]

    operations = [migrations.RemoveField(model_name="image", name="nsfw")]
