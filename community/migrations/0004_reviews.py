import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("community", "0003_follows"),
        ("models_app", "0023_preview_image_id"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Review",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("recommended", models.BooleanField()),
                ("text", models.TextField(blank=True, default="", max_length=5000)),
                ("text_html", models.TextField(blank=True, default="")),
                (
                    "status",
                    models.CharField(
                        choices=[("visible", "Visible"), ("hidden", "Hidden")],
                        default="visible",
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reviews",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reviews",
                        to="models_app.modelversion",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["version", "status", "-created_at"], name="community_r_version_8bd166_idx"
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("user", "version"), name="one_review_per_version")
                ],
            },
        ),
    ]
