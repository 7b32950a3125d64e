# hesk2intercom: one image for the CLI, the workers and the Intercom simulator.
#   docker build -t hesk2intercom .
#   docker run --rm hesk2intercom hesk2intercom --help
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the distribution is built from (tests, benchmarks and docs stay out).
# psycopg[binary] ships libpq in its wheel, so no system packages are needed.
COPY pyproject.toml cli.py ./
COPY core ./core
COPY ledger ./ledger
COPY hesk ./hesk
COPY mapping ./mapping
COPY intercom_api ./intercom_api
COPY simulator ./simulator
COPY engine ./engine
COPY commands ./commands
COPY workers ./workers
COPY reports ./reports
COPY migrations ./migrations
RUN pip install . && rm -rf /src

# Run as an unprivileged user; /data is where a user mounts attachments or simulator state.
RUN useradd --create-home --uid 10001 --user-group h2i \
    && mkdir -p /data && chown h2i:h2i /data
USER h2i
WORKDIR /home/h2i

EXPOSE 8000
CMD ["hesk2intercom", "--help"]
