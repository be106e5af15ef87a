"""Secret scanning of the repository for `make lint`: every file git tracks (or is about to),
searched for credentials that must never be committed. Exit 1 naming file, line and kind.

A line that must carry such a string (a test's fake key) ends with ``secret-scan: allow``.

    python scripts/secret_scan.py [PATH ...]   (default: git ls-files --cached --others)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOW = "secret-scan: allow"
PATTERNS: dict[str, re.Pattern[str]] = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "Stripe live key": re.compile(r"\b(?:sk|rk)_live_[0-9A-Za-z]{16,}"),
    "Stripe webhook secret": re.compile(r"\bwhsec_[0-9A-Za-z]{24,}"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{40,})"),
    "Slack token": re.compile(r"\bxox[abprs]-[0-9A-Za-z-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "CaseLedger API token": re.compile(r"\bclt_[0-9A-Za-z_-]{40,}"),
    "password in a URL": re.compile(
        r"\b(?:postgres(?:ql)?|mysql|redis|amqp|smtps?)://[^\s:/@'\"]+:"
        r"(?!\*\*\*|password@|app-password@|secret@)[^\s@'\"$]{6,}@"
    ),
    "assigned production secret": re.compile(
        r"^\s*(?:export\s+)?(?:CASELEDGER_SECRET_KEY|FIELD_ENCRYPTION_KEYS|CASELEDGER_AUDIT_KEY|"
        r"CASELEDGER_BACKUP_KEY|STRIPE_SECRET_KEY|STRIPE_WEBHOOK_SECRET|CASELEDGER_METRICS_TOKEN)"
        r"\s*=\s*['\"]?[A-Za-z0-9_\-+/=]{20,}"
    ),
}
SKIP_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".ico", ".pdf", ".gz", ".zip", ".woff", ".woff2"}


def tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [ROOT / line for line in out.splitlines() if line]


# Python code reads these settings from the environment; a test passes fakes as arguments.
ASSIGNMENT_ONLY_OUTSIDE_PYTHON = {"assigned production secret"}


def scan_text(text: str, python: bool = False) -> list[tuple[int, str]]:
    hits: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if ALLOW in line:
            continue
        for kind, pattern in PATTERNS.items():
            if python and kind in ASSIGNMENT_ONLY_OUTSIDE_PYTHON:
                continue
            if pattern.search(line):
                hits.append((number, kind))
    return hits


def scan(paths: list[Path]) -> list[str]:
    findings: list[str] = []
    for path in paths:
        if path.suffix.lower() in SKIP_SUFFIXES or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        findings += [f"{rel}:{n}: {kind}" for n, kind in scan_text(text, path.suffix == ".py")]
    return findings


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a).resolve() for a in args] or tracked_files()
    findings = scan(paths)
    for line in findings:
        print(f"secret-scan: {line}")
    print(f"secret-scan: {len(paths)} files, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
