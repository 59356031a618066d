# syntax=docker/dockerfile:1.7
# One image for web, ingest and workers; the command picks the role (compose.yaml, k8s).

FROM python:3.11.14-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/venv
# The dependencies first, from pyproject.toml alone, so that a change under backend/ reuses
# this layer; pip's cache is a BuildKit cache mount, kept between builds, not in the image.
COPY pyproject.toml ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && /opt/venv/bin/pip install -r /tmp/requirements.txt \
    && /opt/venv/bin/pip install --no-deps rapidocr-onnxruntime==1.4.4
# Then the package itself, from source, with nothing else to fetch but the build backend.
COPY backend ./backend
RUN --mount=type=cache,target=/root/.cache/pip /opt/venv/bin/pip install --no-deps .

FROM python:3.11.14-slim-bookworm AS runtime
# No secrets here: every one comes from the environment at run time.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=media_analyzer.settings.production \
    MEDIA_ANALYZER_DATA_DIR=/data
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --home /app app \
    && mkdir -p /data && chown app:app /data
COPY --from=build /opt/venv /opt/venv
COPY --chown=app:app backend /app/backend
WORKDIR /app/backend
# Static files are collected into the image; the key below exists only for this step.
RUN DJANGO_SECRET_KEY=collectstatic-at-build-time-only-not-a-runtime-secret \
    python manage.py collectstatic --noinput -v 0 && chown -R app:app /app/staticfiles
USER 10001
EXPOSE 8000 1935
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"]
CMD ["uvicorn", "media_analyzer.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--no-access-log"]
