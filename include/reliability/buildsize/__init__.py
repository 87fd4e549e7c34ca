"""Build-size watchdog: measures front-end builds and compares them with budgets and their own history.

``sources`` reads a build (S3 prefix or local folder), ``measure`` sizes each file (raw, gzip, brotli)
with a content-hash cache, ``normalise`` maps hashed file names to stable bundle names, ``budgets``
loads the per-app configuration, ``compare`` turns sizes into verdicts and a delta table, ``store``
keeps the history, and ``job`` ties them together into :class:`~reliability.core.outcome.Outcome` values.
"""
