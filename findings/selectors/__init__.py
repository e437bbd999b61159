"""The reads pages, exports and the API need, one module per area; querysets are built here,
never in views.

- :mod:`~findings.selectors.cards` — the one shape of a finding in a list, and evidence levels.
- :mod:`~findings.selectors.board` — the status board: filters, columns, counts, choices.
- :mod:`~findings.selectors.finding` — one finding: timeline, claims, details, line history.
- :mod:`~findings.selectors.reviews` — the review queue and a finding's reviews.
- :mod:`~findings.selectors.health` — health panels, and which findings an area holds.
- :mod:`~findings.selectors.metrics` — the metrics page and the overview.
- :mod:`~findings.selectors.planning` — roadmap, backlog, sprints and burn-down.
- :mod:`~findings.selectors.reports` — status reports (Markdown, CSV) and the export.
- :mod:`~findings.selectors.imports` — reports imported, newest first.
- :mod:`~findings.selectors.documents` — a remediation document and its claims' links.
- :mod:`~findings.selectors.members` — members and roles.
- :mod:`~findings.selectors.tokens` — API tokens.
"""
