# Production image: slim, non-root, migrates then serves. PostgreSQL and Redis are external
# (DATABASE_URL, REDIS_URL); the embedded servers are for development only and not installed.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY workers ./workers
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PORT=8000
RUN useradd --create-home --uid 10001 dondoc
COPY --from=build /install /usr/local
WORKDIR /srv/dondoc
COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
COPY workers ./workers
USER dondoc
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz')"
# The same image runs the worker with: docker run IMAGE dondoc worker
CMD ["sh", "-c", "dondoc migrate && exec dondoc serve --host 0.0.0.0 --port ${PORT}"]
