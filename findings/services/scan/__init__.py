"""The merge of a scanner report into a project's findings: set-based SQL over temporary
tables, the hot path of every scan import.

Modules: ``tables`` (the temporary tables, loading rows, :class:`ScanStage` for imports that
parse whole), ``copy_text`` (staged rows as PostgreSQL COPY bodies), ``sql`` (the report's
place, :class:`ScanContext`, and the statement helpers), ``merge`` (:class:`ScanMerge`:
batch by batch), ``passes`` (the lifecycle pass once every row is in, in named passes).
Rows arrive as :class:`scanners.rows.StagedRow`.
"""

from findings.services.counts import ScanCounts
from findings.services.scan.merge import ScanMerge
from findings.services.scan.sql import ScanContext
from findings.services.scan.tables import ScanStage

__all__ = ["ScanContext", "ScanCounts", "ScanMerge", "ScanStage"]
