"""The hub's own rows: only the metrics store of a hub without Redis (hub/metrics.py)."""

from django.db import models


class Metric(models.Model):
    """One series of a counter: its name and labels (the key) and its running total. Used when
    REDIS_URL is unset, so that every process of one machine adds to the same numbers."""

    key = models.CharField(max_length=500, unique=True)
    value = models.FloatField(default=0, db_default=0)

    def __str__(self):
        return f"{self.key}={self.value}"
