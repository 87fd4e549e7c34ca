"""Nightly backup verification: dump, hash, upload, verify, manifest."""
