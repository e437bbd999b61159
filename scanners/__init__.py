"""The pure library auditdash reads with: report formats and their detection (``formats``,
``registry``, ``base``), normalising and fingerprinting (``normalise``, ``reading``,
``files``), remediation documents (``documents``), the hardened git engine (``git``) and the
scanner runners (``runners``).

It imports nothing from ``findings`` and no Django outside ``management/`` (the ``extract``
command); the orchestration that writes is in ``findings.services.ingest``. The direction is
held by ``tests/test_import_direction.py``.
"""
