# Production image: docker build -t relay . && docker run -e DJANGO_SECRET_KEY=... -p 8000:8000 relay
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PORT=8000
WORKDIR /app

RUN apt-get update && apt-get install -y --no-install-recommends libjpeg62-turbo zlib1g libwebp7 \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# collectstatic needs settings that load: a throwaway key and host, used only at build time.
RUN DJANGO_SECRET_KEY=build-only-$(python -c "import secrets;print(secrets.token_urlsafe(48))") \
    DJANGO_ALLOWED_HOSTS=build STRIPE_TEST_SECRET_KEY=sk_test_buildonly000000000000000000 \
    python manage.py collectstatic --noinput

RUN useradd --create-home --uid 1000 app && mkdir -p /app/media && chown app /app/media
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--config", "gunicorn.conf.py"]
