"""Fills the new per-version review counters (models_app 0024) from the reviews already written."""

from django.db import migrations
from django.db.models import Count, Q


def count_reviews(apps, schema_editor):
    ModelVersion = apps.get_model("models_app", "ModelVersion")
    Review = apps.get_model("community", "Review")
    counts = (
        Review.objects.filter(status="visible")
        .values("version_id")
        .annotate(up=Count("id", filter=Q(recommended=True)), down=Count("id", filter=Q(recommended=False)))
    )
    for row in counts.iterator():
        ModelVersion.objects.filter(id=row["version_id"]).update(
            thumbs_up_count=row["up"], thumbs_down_count=row["down"]
        )


class Migration(migrations.Migration):
    dependencies = [("community", "0004_reviews"), ("models_app", "0024_version_thumbs")]

    operations = [migrations.RunPython(count_reviews, migrations.RunPython.noop)]
