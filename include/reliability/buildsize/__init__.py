"""Build-size watchdog: measures front-end builds and compares them with budgets and their own history.

``config`` loads the per-app budgets (``budgets``), ``run`` plans and checks builds, ``outcome`` turns a
check into an :class:`~reliability.core.outcome.Outcome`; below them ``sources`` reads a build (S3 prefix
or local folder), ``measure`` sizes each file (raw, gzip, brotli) with a content-hash cache,
``normalise`` maps hashed file names to stable bundle names, ``compare`` turns sizes into verdicts and a
delta table, and ``store`` keeps the history.
"""
