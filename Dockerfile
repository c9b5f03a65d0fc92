# One image for web, worker and beat. The sandbox runtime lives in /opt/mlrange/runtime,
# built from Debian's python3.11 so that the unprivileged sandbox user can execute it.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap python3.11 python3.11-venv util-linux \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/runtime.txt requirements/runtime.txt
RUN /usr/bin/python3.11 -m venv /opt/mlrange/runtime \
    && /opt/mlrange/runtime/bin/pip install --no-cache-dir -r requirements/runtime.txt \
    && MPLCONFIGDIR=/opt/mlrange/runtime/share/mlrange/matplotlib \
       /opt/mlrange/runtime/bin/python -c "import matplotlib.font_manager" \
    && chmod -R a+rX /opt/mlrange/runtime
COPY . .
RUN pip install --no-cache-dir -e .
ENV PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=mlrange.settings
EXPOSE 8000
