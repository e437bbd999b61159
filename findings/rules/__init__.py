"""The dashboard's pure rules: plain values in, plain values out; no ORM, no requests.

- :mod:`findings.rules.health` — which claims speak for a health area, what open findings imply.
- :mod:`findings.rules.charts` — SVG chart geometry.
- :mod:`findings.rules.planning` — phase windows and due dates, progress, burn-down.

Selectors read the database and hand these rules plain rows; views never call the ORM.
"""
