# syntax=docker/dockerfile:1
# The hub's production image. By default it serves hub.wsgi with gunicorn on port 8000; docker-compose.yml
# runs the same image as the Celery worker, Celery beat and the one-shot create_bucket job.
#   docker build -t modelhub .
FROM python:3.11-slim

# PYTHONPATH=/app: the code in /app (with templates/ and static/ beside it) is what runs, never the copy
# that `pip install .` puts in site-packages. VAR_DIR, STATIC_ROOT and STATIC_MANIFEST (hashed static
# file names, written by collectstatic below) are read by hub/settings.py.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    STATIC_MANIFEST=true

WORKDIR /app

RUN groupadd --system --gid 1000 hub \
 && useradd --system --uid 1000 --gid hub --home-dir /app --no-create-home --shell /usr/sbin/nologin hub

# The pinned dependencies first, from pyproject.toml alone, so that a code change doesn't reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Only what the hub needs at run time (there is no .dockerignore: never COPY . here, it would take
# .env, .venv and var/ along).
COPY manage.py ./
COPY hub/ hub/
COPY billing/ billing/
COPY community/ community/
COPY models_app/ models_app/
COPY moderation/ moderation/
COPY resources/ resources/
COPY templates/ templates/
COPY locale/ locale/
COPY static/ static/

# The project itself, without the dev extras.
RUN pip install . \
 && rm -rf build ./*.egg-info

# Without SECRET_KEY, settings would write a random key into var/ and bake it into the image. This
# throwaway key exists for the collectstatic step only; the running containers get theirs from .env.
ARG COLLECTSTATIC_SECRET_KEY=collectstatic-only-not-a-secret
RUN SECRET_KEY="$COLLECTSTATIC_SECRET_KEY" python manage.py compile_translations \
 && SECRET_KEY="$COLLECTSTATIC_SECRET_KEY" python manage.py collectstatic --noinput \
 && mkdir -p "$VAR_DIR" \
 && chown hub:hub "$VAR_DIR"

USER hub

EXPOSE 8000

CMD ["gunicorn", "hub.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
