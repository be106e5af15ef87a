"""Dependency audit for `make lint`: pip-audit over the virtualenv, offline-tolerant.

Online, pip-audit asks PyPI's advisory data about every installed package; the answers are
saved in ``security/pip-audit-cache.json`` (package -> version -> advisory ids, and when), and
any known vulnerability fails the run (exit 1) unless its id is listed, with a reason, in
``security/pip-audit-ignore.txt``. Without the network (pip-audit fails, or reports packages
it could not look up) the packages it could not audit are judged from that cached list: a
cached advisory for the installed version still fails; a package the cache does not know is
reported as not audited, and does not fail lint.

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
    for line in findings:
        print(f"dep-audit: VULNERABLE {line}")
    if unaudited:
        print(
            f"dep-audit: {len(unaudited)} of {len(versions)} packages not audited (advisory "
            f"service unreachable and not in the cache of {cache.get('checked_at') or 'never'})"
        )
    print(f"dep-audit: {len(findings)} known vulnerabilities")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
