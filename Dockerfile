# syntax=docker/dockerfile:1
# One image for web, worker and beat. The sandbox runtime lives in /opt/mlrange/runtime,
# built from Debian's python3.11 so that the unprivileged sandbox user can execute it.
# Both virtualenvs install their lock file (exact versions, checked against their hashes).

# The runtime lock pins the CPU build of torch (`torch==X+cpu`, with its wheel's hash). By
# default pip fetches it from the PyTorch CPU index; to use a wheel on disk instead:
#   docker build --build-context torch-wheels=/opt/wheels .
FROM scratch AS torch-wheels

FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap python3.11 python3.11-venv util-linux \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/runtime.lock requirements/runtime.lock
RUN --mount=type=bind,from=torch-wheels,target=/wheels \
    /usr/bin/python3.11 -m venv /opt/mlrange/runtime \
    && /opt/mlrange/runtime/bin/pip install --no-cache-dir --require-hashes \
       --find-links /wheels --find-links https://download.pytorch.org/whl/cpu/torch/ \
       -r requirements/runtime.lock \
    && chmod -R a+rX /opt/mlrange/runtime
COPY requirements/web.lock requirements/web.lock
RUN pip install --no-cache-dir --require-hashes -r requirements/web.lock
COPY . .
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e .
ENV PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=mlrange.settings
EXPOSE 8000
