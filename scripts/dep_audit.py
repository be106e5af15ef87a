"""Dependency audit for `make lint`: pip-audit over the virtualenv, honest about what it checked.

pip-audit asks PyPI's JSON API (``/pypi/NAME/VERSION/json``, its ``vulnerabilities`` field: the
OSV advisories of that release) about every installed package; the answers are saved in
``security/pip-audit-cache.json`` (package -> version -> advisory ids, and when). A package is
judged from that answer, else from the cache (an answer of an earlier run for the same
version), else it is NOT AUDITED. Where only PyPI's package downloads are reachable (the JSON
API answers 404, as on the build machines), pip-audit skips every package and, with an empty
cache, nothing at all is audited: the script says so instead of reporting 0 vulnerabilities.

Exit codes: 1 a known vulnerability not listed, with a reason, in
``security/pip-audit-ignore.txt`` (also when some packages were not audited); 3 no finding, but
some or all packages not audited (``make lint`` reports it and passes, unless
``DEP_AUDIT_REQUIRED=1``); 0 every package audited, none vulnerable.

    python scripts/dep_audit.py [--cache PATH] [--ignore PATH] [--pip-audit PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def installed() -> dict[str, str]:
    return {
        (d.metadata["Name"] or "").lower().replace("_", "-"): d.version
        for d in metadata.distributions()
        if d.metadata["Name"]
    }


def run_pip_audit(pip_audit: str, timeout: int) -> dict[str, Any] | None:
    """pip-audit's JSON report, or None when it could not run (no network, not installed)."""
    try:
        result = subprocess.run(
            [pip_audit, "--progress-spinner", "off", "-f", "json", "-s", "pypi", "--skip-editable"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        return None
    return report


def load(path: Path) -> dict[str, Any]:
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    return {"checked_at": None, "packages": {}}


def ignored(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {
        line.split()[0]
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }


def audit(
    report: dict[str, Any] | None, cache: dict[str, Any], versions: dict[str, str], skip: set[str]
) -> tuple[list[str], list[str], dict[str, Any]]:
    """(findings, not audited, updated cache)."""
    findings: list[str] = []
    unaudited: list[str] = []
    packages: dict[str, dict[str, list[str]]] = cache.setdefault("packages", {})
    audited_now: set[str] = set()
    for dep in (report or {}).get("dependencies", []):
        name = dep["name"].lower().replace("_", "-")
        if "skip_reason" in dep or "version" not in dep:
            continue
        ids = sorted(v["id"] for v in dep.get("vulns", []))
        packages.setdefault(name, {})[dep["version"]] = ids
        audited_now.add(name)
    if audited_now:
        cache["checked_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    for name, version in sorted(versions.items()):
        known = packages.get(name, {}).get(version)
        if known is None:
            unaudited.append(f"{name} {version}")
            continue
        for vuln in known:
            if vuln not in skip:
                findings.append(f"{name} {version}: {vuln}")
    return findings, unaudited, cache


NOT_AUDITED = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / "security" / "pip-audit-cache.json")
    parser.add_argument("--ignore", type=Path, default=ROOT / "security" / "pip-audit-ignore.txt")
    parser.add_argument("--pip-audit", default=str(Path(sys.executable).parent / "pip-audit"))
    parser.add_argument("--timeout", type=int, default=120)
    args = parser.parse_args(argv)
    report = run_pip_audit(args.pip_audit, args.timeout)
    cache = load(args.cache)
    versions = installed()
    versions.pop("caseledger", None)
    findings, unaudited, cache = audit(report, cache, versions, ignored(args.ignore))
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    args.cache.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n")
    audited = len(versions) - len(unaudited)
    for line in findings:
        print(f"dep-audit: VULNERABLE {line}")
    if report is None:
        source = "pip-audit did not run or gave no report"
    else:
        answered = sum(1 for d in report.get("dependencies", []) if "skip_reason" not in d)
        source = f"PyPI's vulnerability data answered for {answered} packages"
    if audited == 0:
        print(
            f"dep-audit: NOT AUDITED: no advisory data for any of the {len(versions)} installed "
            f"packages ({source}; the cache {args.cache.name} has none of these versions). "
            "Nothing was checked: this is not a clean result."
        )
    else:
        print(
            f"dep-audit: {audited} of {len(versions)} packages audited ({source}; cache of "
            f"{cache.get('checked_at') or 'never'}): {len(findings)} known vulnerabilities"
        )
        if unaudited:
            print(
                f"dep-audit: NOT AUDITED: {len(unaudited)} packages without advisory data: "
                + ", ".join(unaudited[:10])
                + (" ..." if len(unaudited) > 10 else "")
            )
    if findings:
        return 1
    return NOT_AUDITED if unaudited else 0


if __name__ == "__main__":
    sys.exit(main())
