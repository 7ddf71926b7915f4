# One image for every Boucle process; docker-compose.yml picks the process (a boucle-* command
# from [project.scripts]) per service. The image installs the project's wheel, so it holds
# exactly what a release holds: every package found by pyproject.toml and the compiled
# translations, and nothing else (no tests, benchmarks or local state).
FROM python:3.11-slim AS wheel
WORKDIR /src
# .dockerignore keeps local state, caches and secrets (.env) out of the build context.
COPY . .
# Building the wheel compiles every package's .po catalogues into .mo files (setup.py).
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --create-home --home-dir /var/lib/boucle boucle
USER boucle
WORKDIR /var/lib/boucle
# In a container a process listens on every interface (the network keeps it private, and only
# the edge publishes ports); web processes on BIND, workers' /health on HEALTH_PORT.
ENV BOUCLE_VAR_DIR=/var/lib/boucle/var BIND=0.0.0.0:8080 HEALTH_HOST=0.0.0.0 HEALTH_PORT=8080
EXPOSE 8080
CMD ["boucle-router"]
