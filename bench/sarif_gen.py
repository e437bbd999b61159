"""Write large, realistic, deterministic SARIF 2.1.0 logs for benchmarks.

The logs look like CodeQL output: one run whose driver carries ``n_rules`` rules (short and
full descriptions, ``security-severity``, precision, CWE tags, help URL), the scanned files
listed in ``run.artifacts``, and results with a message, a physical location (uri +
``%SRCROOT%`` + artifact index), a region with a snippet, and ``partialFingerprints``.

Every result is a pure function of ``(seed, ordinal)``, so two logs written with the same seed
share their results byte for byte. ``changed_fraction`` drops that fraction of the results
(chosen from the seed) and appends as many new ones, which makes "a later scan where 10% of
the findings changed" reproducible. The log is written result by result, so memory stays flat
however many results are asked for.

CLI: ``python bench/sarif_gen.py OUT N [--changed F] [--seed S] [--rules R] [--files F]``.
"""

from __future__ import annotations

import argparse
import hashlib
import random
from pathlib import Path

import orjson

_LANGS = ("py", "js", "java", "go")
_EXT = {"py": "py", "js": "js", "java": "java", "go": "go"}
_TOPICS = (
    ("sql-injection", "Database query built from user-controlled sources", 89, 8.8),
    ("path-injection", "Uncontrolled data used in path expression", 22, 7.5),
    ("reflected-xss", "Reflected server-side cross-site scripting", 79, 6.1),
    ("command-line-injection", "Uncontrolled command line", 78, 9.8),
    ("clear-text-logging", "Clear-text logging of sensitive information", 312, 7.5),
    ("weak-crypto-key", "Use of weak cryptographic key", 326, 7.5),
    ("unused-import", "Unused import", None, None),
    ("empty-except", "Empty except", 390, None),
    ("redos", "Inefficient regular expression", 1333, 7.5),
    ("ssrf", "Full server-side request forgery", 918, 9.1),
    ("stack-trace-exposure", "Information exposure through an exception", 209, 5.4),
    ("insecure-randomness", "Insecure randomness", 338, 7.8),
)
_SNIPPETS = (
    "    cursor.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)",
    "    with open(os.path.join(base, request.args['file'])) as fh:",
    "    return make_response('<p>' + request.args.get('q') + '</p>')",
    "    subprocess.call(cmd, shell=True)",
    "    logger.info('password for %s is %s', user, password)",
    "import json, os, sys",
    "    except Exception:\n        pass",
    "    token = str(random.random())[2:]",
)


def _rules(n_rules: int) -> list[dict]:
    rules = []
    for index in range(n_rules):
        lang = _LANGS[index % len(_LANGS)]
        topic, title, cwe, score = _TOPICS[index % len(_TOPICS)]
        rule_id = f"{lang}/{topic}" if index < len(_TOPICS) else f"{lang}/{topic}-{index}"
        tags = ["security" if score else "maintainability"]
        if cwe:
            tags.append(f"external/cwe/cwe-{cwe:03d}")
        properties: dict = {
            "tags": tags,
            "kind": "path-problem" if score else "problem",
            "precision": ("high", "very-high", "medium")[index % 3],
            "id": rule_id,
            "problem.severity": "error" if score and score >= 7 else "warning",
        }
        if score is not None:
            properties["security-severity"] = f"{score:.1f}"
        rules.append(
            {
                "id": rule_id,
                "name": rule_id,
                "shortDescription": {"text": title},
                "fullDescription": {
                    "text": f"{title}: values from a remote source reach a sensitive sink "
                    "without validation, which lets an attacker change what the code does."
                },
                "defaultConfiguration": {
                    "enabled": True,
                    "level": properties["problem.severity"],
                },
                "helpUri": f"https://codeql.github.com/codeql-query-help/{rule_id}/",
                "properties": properties,
            }
        )
    return rules


def _files(n_files: int, *, seed: int = 0, moved_fraction: float = 0.0) -> list[str]:
    """The scanned files; ``moved_fraction`` of them (chosen from the seed) flattened out of
    their package directory (``src/api/module_00001.py`` -> ``src/module_00001.py``)."""
    packages = ("api", "core", "billing", "auth", "reports", "jobs", "web", "utils")
    moved = set(
        random.Random(f"{seed}:move").sample(range(n_files), round(n_files * moved_fraction))  # noqa: S311
    )
    files = []
    for index in range(n_files):
        lang = _LANGS[index % len(_LANGS)]
        package = "" if index in moved else packages[(index // 4) % len(packages)] + "/"
        files.append(f"src/{package}module_{index:05d}.{_EXT[lang]}")
    return files


def _result(seed: int, ordinal: int, rules: list[dict], files: list[str]) -> dict:
    digest = hashlib.blake2b(f"{seed}:{ordinal}".encode(), digest_size=16).digest()
    rule_index = digest[0] * 256 + digest[1]
    rule_index %= len(rules)
    file_index = int.from_bytes(digest[2:5], "big") % len(files)
    line = 1 + int.from_bytes(digest[5:7], "big") % 3000
    column = 1 + digest[7] % 40
    snippet = _SNIPPETS[digest[8] % len(_SNIPPETS)]
    rule = rules[rule_index]
    return {
        "ruleId": rule["id"],
        "ruleIndex": rule_index,
        "rule": {"id": rule["id"], "index": rule_index},
        "message": {
            "text": f"{rule['shortDescription']['text']} depends on a "
            f"[user-provided value](1) (finding {ordinal})."
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": files[file_index],
                        "uriBaseId": "%SRCROOT%",
                        "index": file_index,
                    },
                    "region": {
                        "startLine": line,
                        "startColumn": column,
                        "endLine": line,
                        "endColumn": column + 24,
                        "snippet": {"text": snippet},
                    },
                }
            }
        ],
        "partialFingerprints": {
            "primaryLocationLineHash": f"{digest[9:].hex()}:1",
            "primaryLocationStartColumnFingerprint": str(column - 1),
        },
    }


def _ordinals(n_results: int, seed: int, changed_fraction: float) -> list[int]:
    """Which result ordinals the log holds: 0..n-1 minus the dropped ones, plus new ones."""
    if not 0.0 <= changed_fraction <= 1.0:
        raise ValueError("changed_fraction must be between 0 and 1")
    changed = round(n_results * changed_fraction)
    dropped = set(random.Random(f"{seed}:drop").sample(range(n_results), changed))  # noqa: S311
    kept = [ordinal for ordinal in range(n_results) if ordinal not in dropped]
    return kept + list(range(n_results, n_results + changed))


def write_sarif(
    path: str | Path,
    n_results: int,
    *,
    seed: int = 0,
    n_rules: int = 150,
    n_files: int = 2000,
    changed_fraction: float = 0.0,
    moved_fraction: float = 0.0,
) -> Path:
    """Write a CodeQL-like SARIF log with ``n_results`` results to ``path`` and return it;
    ``moved_fraction`` of the files moved (see :func:`_files`), their results unchanged."""
    path = Path(path)
    rules = _rules(n_rules)
    files = _files(n_files, seed=seed, moved_fraction=moved_fraction)
    head = {
        "tool": {
            "driver": {
                "name": "CodeQL",
                "organization": "GitHub",
                "semanticVersion": "2.19.3",
                "rules": rules,
            }
        },
        "automationDetails": {"id": "security-extended/python/"},
        "versionControlProvenance": [
            {
                "repositoryUri": "https://example.com/acme/shop",
                "revisionId": hashlib.sha1(f"{seed}".encode()).hexdigest(),  # noqa: S324
                "branch": "refs/heads/main",
            }
        ],
        "originalUriBaseIds": {"%SRCROOT%": {"uri": "file:///home/runner/work/shop/"}},
        "invocations": [
            {
                "executionSuccessful": True,
                "startTimeUtc": "2025-01-06T10:00:00Z",
                "endTimeUtc": "2025-01-06T10:04:12Z",
                "workingDirectory": {"uri": "file:///home/runner/work/shop/"},
            }
        ],
        "artifacts": [{"location": {"uri": uri, "uriBaseId": "%SRCROOT%"}} for uri in files],
        "columnKind": "utf16CodeUnits",
    }
    with path.open("wb") as out:
        out.write(b'{"$schema":"https://json.schemastore.org/sarif-2.1.0.json",')
        out.write(b'"version":"2.1.0","runs":[')
        # The run object without its closing brace, so results can be streamed into it.
        out.write(orjson.dumps(head)[:-1])
        out.write(b',"results":[')
        for position, ordinal in enumerate(_ordinals(n_results, seed, changed_fraction)):
            if position:
                out.write(b",")
            out.write(orjson.dumps(_result(seed, ordinal, rules, files)))
        out.write(b"]}]}\n")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="where to write the SARIF log")
    parser.add_argument("n", type=int, help="number of results")
    parser.add_argument("--changed", type=float, default=0.0, help="fraction of results replaced")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rules", type=int, default=150)
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args(argv)
    write_sarif(
        args.out,
        args.n,
        seed=args.seed,
        n_rules=args.rules,
        n_files=args.files,
        changed_fraction=args.changed,
    )


if __name__ == "__main__":
    main()
