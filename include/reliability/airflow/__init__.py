"""The only part of the library that talks to Airflow: connections, run context, callbacks and
deadline alerts, assets, Slack through the provider's hook, and one ``tasks/<dag id>.py`` per job whose
functions the DAG files' thin ``@task`` bodies call. Everything below it runs without a scheduler.

Imported by DAG files at parse time: nothing heavy at module level anywhere in this package.
"""
