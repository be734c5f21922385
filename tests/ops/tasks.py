"""Celery tasks for the tests in tests/ops/ only (named tests.ops.*, so no queue route is needed)."""

import logging

from hub.celery import app


@app.task(name="tests.ops.divide")
def divide(a, b):
    return a / b


@app.task(name="tests.ops.log_line")
def log_line(text):
    logging.getLogger("tests.ops").warning(text)


@app.task(name="tests.ops.database_for_reads")
def database_for_reads():
    from django.contrib.sites.models import Site
    from django.db import router

    return router.db_for_read(Site)
