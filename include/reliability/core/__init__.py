"""The layer below every job: the outcome contract and its publishing, the results store, the config
loader, formatting, scrubbing and Slack Block Kit. Imports no Airflow and no job package."""
