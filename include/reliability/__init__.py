"""Reliability jobs for the SaaS platform: the library behind the Airflow DAGs.

Nothing in this package imports Airflow at module level: every job can be run and tested
without a scheduler. The DAG files under ``dags/`` only wire these functions.
"""
