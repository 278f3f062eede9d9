# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
# Dependencies first, in their own layer, exactly as locked.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY . .
RUN uv sync --locked --no-dev

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 shop
WORKDIR /app
COPY --from=build --chown=shop:shop /app /app
ENV PATH="/app/.venv/bin:${PATH}" \
    ENV=prod \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/data
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
# `shop serve`: uvicorn with proxy headers, websocket pings and SHUTDOWN_TIMEOUT_SECONDS of
# graceful shutdown; add `--workers N` (with PROMETHEUS_MULTIPROC_DIR) for more processes.
CMD ["shop", "serve"]
