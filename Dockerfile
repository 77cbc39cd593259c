# The production image: web (gunicorn), worker, beat and flower all run from it
# (see docker-compose.yml). Dependencies come from uv.lock, exactly as `make install`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

# Keep in step with UV_VERSION in the Makefile (tests/test_deployment.py checks it).
RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /app

# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3.11

ENV PATH="/app/.venv/bin:$PATH"

COPY . .

# Static files are collected at build time with the production storage (hashed names,
# compressed), served by WhiteNoise. The secret exists only for this one command; the
# memory broker keeps the build from creating the filesystem broker's folders.
RUN DJANGO_SECRET_KEY=build-only-dummy-secret-not-used-at-runtime \
    DJANGO_DEBUG=false \
    CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput -v 0

# Run as an unprivileged user; of /app it owns only var/ (e-mail files, static files, the
# sandbox's ledger volume at var/sandbox/).
# Its home takes what the processes keep for themselves (gunicorn's control socket).
RUN useradd --system --uid 10001 --create-home --home-dir /home/app --shell /usr/sbin/nologin app \
    && mkdir -p /app/var/sandbox \
    && chown -R app:app /app/var
USER app

EXPOSE 8000 5555 8700
CMD ["gunicorn", "project.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
