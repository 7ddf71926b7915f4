# One image for every Boucle process; docker-compose.yml picks the command per service.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY listings ./listings
COPY matching ./matching
COPY notifications ./notifications
COPY services ./services
RUN pip install --no-cache-dir . && python -m services.devtools.i18n && useradd --system --uid 10001 boucle
USER boucle
EXPOSE 8000
CMD ["gunicorn", "services.router:create_app()", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--threads", "8"]
