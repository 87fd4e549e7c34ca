# The Airflow image of this project: the official image plus the project's Python requirements and
# the PostgreSQL client programs the backup and restore jobs run (pg_dump, pg_restore, psql).
# pg_dump must be at least the source server's major version: Debian bookworm ships 15; for a newer
# server install postgresql-client-NN from the PostgreSQL apt repository instead.
FROM apache/airflow:3.3.2-python3.11

USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
USER airflow

COPY requirements.txt /requirements.txt
# Pinning apache-airflow keeps pip from upgrading or downgrading the Airflow the image was built for.
RUN pip install --no-cache-dir "apache-airflow==3.3.2" -r /requirements.txt
