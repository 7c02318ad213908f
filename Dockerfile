# chatsite served by daphne as a non-root user. Build: docker build -t chatsite .
# Run:   docker run -p 8000:8000 -e SECRET_KEY=... -e ALLOWED_HOSTS=chat.example.org \
#          -e LLM_BASE_URL=https://api.example.com/v1 -e LLM_API_KEY=... -v chatsite-data:/data chatsite
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements.lock /tmp/requirements.lock
RUN /venv/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock

# The browser libraries, exactly as package-lock.json pins them; only the files that
# chatsite/vendor.py names reach the image, through collectstatic below.
FROM node:20-slim AS browser-libraries
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# The translations, compiled by gettext's msgfmt; only the .mo files reach the image.
FROM python:3.11-slim AS translations
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
COPY locale /locale
RUN find /locale -name '*.po' -exec sh -c 'msgfmt --check -o "${1%.po}.mo" "$1"' _ {} \;

FROM python:3.11-slim
# The image is meant to sit behind a TLS-terminating proxy: publish its port to that only.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/venv/bin:$PATH \
    DEBUG=0 SQLITE_PATH=/data/db.sqlite3 TRUST_PROXY_HEADERS=1
RUN useradd --create-home --uid 10001 chatsite && mkdir /data && chown chatsite /data
COPY --from=build /venv /venv
WORKDIR /app
COPY manage.py pyproject.toml ./
COPY chatsite chatsite
COPY chat chat
COPY templates templates
COPY static static
COPY --from=translations /locale locale
# Hashed, compressed static files are made once, at build time; node_modules is not kept.
RUN --mount=type=bind,from=browser-libraries,source=/app/node_modules,target=/app/node_modules \
    SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0
USER chatsite
VOLUME /data
EXPOSE 8000
# /healthz checks the database and the channel layer; it asks as the first allowed host.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD python -c "import os, sys, urllib.request; host = os.environ.get('ALLOWED_HOSTS', 'localhost').split(',')[0]; request = urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'Host': host}); sys.exit(0 if urllib.request.urlopen(request, timeout=4).status == 200 else 1)"
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py recover_streams --wait && exec python -m chatsite.serve -b 0.0.0.0 -p 8000 --proxy-headers chatsite.asgi:application"]
