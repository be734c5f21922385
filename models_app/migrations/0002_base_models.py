from django.db import migrations

# The families offered at launch (issue 3); operators add more in the admin.
BASE_MODELS = [
    "SD 1.4", "SD 1.5", "SD 2.0", "SD 2.1", "SDXL 1.0", "SDXL Turbo", "Pony", "Illustrious",
    "SD 3", "SD 3.5", "Flux.1 S", "Flux.1 D", "Other",
]  # fmt: skip


def add_base_models(apps, schema_editor):
    BaseModel = apps.get_model("models_app", "BaseModel")
    for position, name in enumerate(BASE_MODELS):
        BaseModel.objects.get_or_create(name=name, defaults={"position": position * 10})


class Migration(migrations.Migration):
    dependencies = [("models_app", "0001_initial")]
    operations = [migrations.RunPython(add_base_models, migrations.RunPython.noop)]
