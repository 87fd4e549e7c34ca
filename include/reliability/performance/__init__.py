"""The performance watchdog: Redis latency (hourly), the response-time median and the AI latency SLA per
provider (daily, and the month's final report). No Airflow here; ``run`` takes plain settings."""
