# Production-like image of the helpdesk: one image for the web server (uvicorn, ASGI),
# the Celery worker and Celery beat. docker-compose.yml picks the command.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=helpdesk.settings \
    STATICFILES_BACKEND=whitenoise.storage.CompressedManifestStaticFilesStorage \
    MEDIA_ROOT=/app/var/media

# gettext provides msgfmt for compilemessages; Pango is what WeasyPrint (the reports' PDF)
# lays text out with; psycopg[binary] brings its own libpq.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && python -m venv /opt/venv

WORKDIR /app
COPY . .
RUN pip install --upgrade pip \
    && pip install . \
    && rm -rf build *.egg-info

# Translations (when there are any) and hashed, compressed static files are baked
# into the image; whitenoise serves the latter from STATIC_ROOT (/app/staticfiles).
# The key generated for these build-time commands is not kept: containers get SECRET_KEY.
RUN if find . -path '*/locale/*.po' -print -quit | grep -q .; then \
        python manage.py compilemessages -v 0; \
    fi \
    && python manage.py collectstatic --noinput -v 0 \
    && rm -f var/secret_key

RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var
USER app

EXPOSE 8000
CMD ["uvicorn", "helpdesk.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--lifespan", "off"]
