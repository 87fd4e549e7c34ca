"""Checksum validation of stored objects: backups and user uploads, re-read against every checksum S3 keeps.

``run`` holds the steps (plan, validate a shard, summarise), ``outcome`` turns a run into an Outcome,
``scan`` decides what a run reads, ``hashing`` reads it, ``sources`` says what each object should hash
to, and ``inventory`` and ``store`` keep the inventory, plans and verdicts.
"""
