"""The hub's own rows: the sessions (hub/sessions.py) and the metrics store of a hub without Redis
(hub/metrics.py)."""

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models


class Session(AbstractBaseSession):
    """A session as django.contrib.sessions keeps one, with the id of the person signed in to it in a
    column of its own, so that a request reads its session and its person in one query
    (hub/sessions.py). No foreign key in the database, as in Django's table, where the id sits in the
    encoded data: a person deleted while signed in leaves a row that names nobody, which signs no one
    in."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    @classmethod
    def get_session_store_class(cls):
        from hub.sessions import SessionStore

        return SessionStore


class Metric(models.Model):
    """One series of a counter: its name and labels (the key) and its running total. Used when
    REDIS_URL is unset, so that every process of one machine adds to the same numbers."""

    key = models.CharField(max_length=500, unique=True)
    value = models.FloatField(default=0, db_default=0)

    def __str__(self):
        return f"{self.key}={self.value}"
