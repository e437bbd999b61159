#!/usr/bin/env bash
# Upload one scanner report (SARIF, bandit/ruff/semgrep/pip-audit/gitleaks JSON) or a remediation
# document to auditdash from CI, wait for the import, print its counts, and fail the step when
# the import fails. Needs bash, curl (7.87 or newer) and sed.
#
#   AUDITDASH_URL=https://auditdash.example.com AUDITDASH_TOKEN=adt_... \
#     docs/ci/upload-report.sh PROJECT results.sarif [COMMIT] [BRANCH]
#
# The token is a project API token (a manager creates it on the project's "API tokens" page);
# keep it in the CI system's secret store, never in the repository. It is sent only in the
# Authorization header and never printed.
set -euo pipefail

project=${1:?usage: upload-report.sh PROJECT FILE [COMMIT] [BRANCH]}
file=${2:?usage: upload-report.sh PROJECT FILE [COMMIT] [BRANCH]}
commit=${3:-${GITHUB_SHA:-${CI_COMMIT_SHA:-}}}
branch=${4:-${GITHUB_REF_NAME:-${CI_COMMIT_REF_NAME:-}}}
url=${AUDITDASH_URL:?set AUDITDASH_URL to the dashboard address, e.g. https://auditdash.example.com}
: "${AUDITDASH_TOKEN:?set AUDITDASH_TOKEN to a project API token (from the CI secret store)}"
wait_seconds=${AUDITDASH_WAIT_SECONDS:-600}

[ -f "$file" ] || { echo "upload-report: no such file: $file" >&2; exit 2; }

auth=(--header "Authorization: Bearer ${AUDITDASH_TOKEN}")
field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }

answer=$(curl --silent --show-error --fail-with-body "${auth[@]}" \
  --url "${url%/}/api/v1/projects/${project}/reports" \
  --url-query "commit=${commit}" --url-query "branch=${branch}" \
  --form "file=@${file}") || { echo "upload-report: refused: ${answer:-no answer}" >&2; exit 1; }

status_url=$(printf '%s' "$answer" | field status_url)
[ -n "$status_url" ] || { echo "upload-report: unexpected answer: $answer" >&2; exit 1; }
echo "upload-report: $file queued, status at ${url%/}${status_url}"

deadline=$((SECONDS + wait_seconds))
while :; do
  status=$(curl --silent --show-error --fail-with-body "${auth[@]}" "${url%/}${status_url}")
  state=$(printf '%s' "$status" | field state)
  case "$state" in
    done)
      counts=$(printf '%s' "$status" | sed -n 's/.*"counts": *\({[^}]*}\).*/\1/p')
      echo "upload-report: imported: $counts"
      exit 0 ;;
    failed)
      echo "upload-report: the import failed: $(printf '%s' "$status" | field error)" >&2
      exit 1 ;;
  esac
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "upload-report: still $state after ${wait_seconds}s; see ${url%/}${status_url}" >&2
    exit 1
  fi
  sleep 2
done
