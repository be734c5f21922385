"""Sessions move to the hub's own table, which holds the id of the person signed in to each in a
column (hub/sessions.py reads a session and its person in one query). Every unexpired session is
moved with its person's id read from its data, so nobody is signed out; the rows left in Django's
table are removed, so that going back cannot bring back a session that was ended meanwhile (going
back moves them the other way)."""

import django.db.models.deletion
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import migrations, models
from django.utils import timezone

BATCH = 2000


def _user_id(session_data: str) -> int | None:
    """The id SESSION_KEY ("_auth_user_id") holds in the data. The data is signed with the secret key
    and a salt named after the store's class, SessionStore in Django and in hub/sessions.py alike; a
    session signed otherwise decodes to nothing, as Django reads it."""
    try:
        return int(SessionStore().decode(session_data).get("_auth_user_id"))
    except (TypeError, ValueError):
        return None


def _move(source, target, with_user: bool) -> None:
    rows = source.objects.filter(expire_date__gt=timezone.now()).order_by("session_key")
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        moved = target(
            session_key=row.session_key, session_data=row.session_data, expire_date=row.expire_date
        )
        if with_user:
            moved.user_id = _user_id(row.session_data)
        batch.append(moved)
        if len(batch) == BATCH:
            target.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    target.objects.bulk_create(batch, ignore_conflicts=True)
    source.objects.all().delete()


def forwards(apps, schema_editor):
    _move(apps.get_model("sessions", "Session"), apps.get_model("hub", "Session"), with_user=True)


def backwards(apps, schema_editor):
    _move(apps.get_model("hub", "Session"), apps.get_model("sessions", "Session"), with_user=False)


class Migration(migrations.Migration):
    dependencies = [
        ("hub", "0001_initial"),
        ("sessions", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Session",
            fields=[
                (
                    "session_key",
                    models.CharField(
                        max_length=40, primary_key=True, serialize=False, verbose_name="session key"
                    ),
                ),
                ("session_data", models.TextField(verbose_name="session data")),
                ("expire_date", models.DateTimeField(db_index=True, verbose_name="expire date")),
                (
                    "user",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "session", "verbose_name_plural": "sessions", "abstract": False},
        ),
        migrations.RunPython(forwards, backwards),
    ]
