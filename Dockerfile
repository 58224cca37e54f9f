# GridCommand web / worker image (docker-compose.yml runs it as migrate, web and worker).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml ./
COPY dashboard ./dashboard
COPY dispatcher ./dispatcher
COPY geo ./geo
COPY workers ./workers
RUN pip install .

# Shipped data (catalogue, calendar, routing, demo city) lives outside the Python packages: point the
# settings at it explicitly, since after a non-editable install the default (next to the code) is site-packages.
COPY data ./data
ENV GRIDCOMMAND_DATA_DIR=/app/data \
    GRIDCOMMAND_VAR_DIR=/app/var

RUN useradd --system --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin gridcommand \
    && mkdir -p /app/var && chown gridcommand:gridcommand /app/var
USER gridcommand

EXPOSE 8050
CMD ["gridcommand", "serve", "--host", "0.0.0.0", "--port", "8050"]
