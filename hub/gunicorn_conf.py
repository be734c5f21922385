"""gunicorn's settings for `make run` (bin/run-web), which bench/bench_download.py measures too.

The Docker image runs gunicorn as well (its own command line, Dockerfile); this file adds what a
developer's machine wants: threaded workers, and reloading on code and template changes when DEBUG is
on. `gunicorn -c hub/gunicorn_conf.py --bind 127.0.0.1:8000 hub.wsgi:application`; options given on
the command line win over these.
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEBUG = os.environ.get("DEBUG", "").strip().lower() in ("1", "true", "yes", "on")

# Threads, so a long download (one thread each, sent with sendfile) never holds a whole worker: with
# sync workers two slow downloads would stall every page. gthread's timeout watches the worker, not
# the request, so a download may take as long as it needs.
worker_class = "gthread"
workers = 2
threads = 8
timeout = 120
graceful_timeout = 10
accesslog = "-"
# The path without its query string: `?token=<API key>` must not land in the terminal or a log file.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'

# DEBUG: restart the workers when a Python module or a template changes (Django's cached template
# loader would otherwise keep serving the old template). Static files need no restart: whitenoise
# reads them from static/ through the finders (WHITENOISE_USE_FINDERS) and re-checks them in DEBUG.
reload = DEBUG
# A pattern: gunicorn expands it on every check, so new templates are watched too.
reload_extra_files = [str(ROOT / "templates" / "**" / "*.html")] if DEBUG else []
