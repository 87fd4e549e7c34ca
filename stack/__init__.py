"""The local stack: throwaway PostgreSQL, S3 (moto), Pushgateway and fake SaaS servers on 127.0.0.1.

Used by the demo command, by ``python -m stack up|down|status`` and by the test fixtures. Everything it
starts keeps its state under one folder (``.stack/`` by default) so that ``down`` can always clean up.
"""
