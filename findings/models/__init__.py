"""The domain, one module per area; import models from here (``from findings.models import X``).

* ``core``      -- projects, reports and their scopes, findings, sightings, the status
  summary, the append-only audit log;
* ``documents`` -- remediation documents, their claims and links, phases, roadmap, health;
* ``accounts``  -- per-project roles and reviews (sign-off);
* ``planning``  -- sprints;
* ``evidence``  -- the linked repository, commits, and checks of claimed fixes;
* ``tokens``    -- API tokens for CI and scripts.
"""

from findings.models.accounts import Membership, Review, Role
from findings.models.core import (
    PROJECT_KEY_PATTERN,
    AppendOnlyError,
    AppendOnlyQuerySet,
    Event,
    Finding,
    Project,
    Report,
    ReportScope,
    Rule,
    RuleTitle,
    ScanChange,
    Severity,
    Sighting,
    StatusCount,
)
from findings.models.documents import (
    Claim,
    Document,
    FindingLink,
    HealthArea,
    HealthReading,
    Phase,
    RoadmapItem,
)
from findings.models.evidence import (
    Check,
    ClaimEvidence,
    Commit,
    CommitLink,
    EvidenceLevel,
    Repository,
)
from findings.models.planning import Sprint
from findings.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "PROJECT_KEY_PATTERN",
    "AppendOnlyError",
    "AppendOnlyQuerySet",
    "Check",
    "Claim",
    "ClaimEvidence",
    "Commit",
    "CommitLink",
    "Document",
    "Event",
    "EvidenceLevel",
    "Finding",
    "FindingLink",
    "HealthArea",
    "HealthReading",
    "Membership",
    "Phase",
    "Project",
    "Report",
    "Repository",
    "ReportScope",
    "Rule",
    "RuleTitle",
    "ScanChange",
    "Review",
    "RoadmapItem",
    "Role",
    "Severity",
    "Sighting",
    "Sprint",
    "StatusCount",
]
