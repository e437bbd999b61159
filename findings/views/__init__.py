"""Pages, one module per area, each view short: check access (``findings.access``), validate
with a form, call one service or a few selectors, render. Querysets are built by
``findings.selectors``; what views share (finding or 404, form errors, htmx-or-redirect
answers) is in :mod:`findings.views.helpers`.

- :mod:`~findings.views.board` — the status board and moving its cards.
- :mod:`~findings.views.finding` — the finding page and its hand-made transitions.
- :mod:`~findings.views.reviews` — the review queue and recording a review.
- :mod:`~findings.views.health` — system health panels.
- :mod:`~findings.views.metrics` — the overview and the metrics page.
- :mod:`~findings.views.planning` — roadmap, sprint planning, a finding's plan.
- :mod:`~findings.views.reports` — status reports out (Markdown, CSV).
- :mod:`~findings.views.imports` — uploads and their progress.
- :mod:`~findings.views.documents` — a remediation document and its claims' links.
- :mod:`~findings.views.members` — members and roles.
- :mod:`~findings.views.tokens` — API tokens.
"""
