"""Checksum validation of stored objects: backups and user uploads, re-hashed against their expected SHA-256.

``scan`` decides what a run reads, ``hashing`` reads it, ``sources`` says what each object should hash
to, ``store`` keeps inventory, plans and verdicts, and ``job`` turns a run into an Outcome.
"""
