"""The lint-time security checks (issue 20): secret scanning and the offline-tolerant
dependency audit (scripts/secret_scan.py, scripts/dep_audit.py)."""

from __future__ import annotations

import json
from importlib import metadata

from scripts import dep_audit, secret_scan


def test_secret_scan_finds_planted_credentials_and_honours_the_allow_marker(tmp_path):
    planted = tmp_path / "deploy.env"
    key_line = "-----BEGIN RSA " + "PRIVATE KEY-----"
    planted.write_text(
        "SITE_URL=https://billing.example-law.com\n"
        + "CASELEDGER_AUDIT_KEY="
        + "q" * 48
        + "\n"
        + key_line
        + "\n"
        + "DATABASE_URL=postgres://app:"
        + "Xk29fjq8ZZ"
        + "@db:5432/caseledger\n"
        + "STRIPE="
        + "sk_"
        + "live_"
        + "a1B2c3D4e5F6g7H8i9J0"
        + "  # secret-scan: allow\n"
    )
    findings = secret_scan.scan([planted])
    assert [f.split(": ", 1)[1] for f in findings] == [
        "assigned production secret",
        "private key",
        "password in a URL",
    ]
    assert findings[0].endswith("deploy.env:2: assigned production secret")


def test_the_repository_has_no_secrets():
    assert secret_scan.main([]) == 0


def test_dep_audit_without_advisory_data_says_nothing_was_audited(tmp_path, capsys):
    cache = tmp_path / "cache.json"
    ignore = tmp_path / "ignore.txt"
    args = ["--cache", str(cache), "--ignore", str(ignore), "--pip-audit", str(tmp_path / "none")]
    # No tool (or no advisory API), nothing cached: no "0 known vulnerabilities", exit 3.
    assert dep_audit.main(args) == dep_audit.NOT_AUDITED == 3
    out = capsys.readouterr().out
    assert "dep-audit: NOT AUDITED: no advisory data for any of the" in out
    assert "this is not a clean result" in out
    assert "known vulnerabilities" not in out


def test_dep_audit_judges_from_the_cache_and_fails_on_a_cached_advisory(tmp_path, capsys):
    cache = tmp_path / "cache.json"
    ignore = tmp_path / "ignore.txt"
    args = ["--cache", str(cache), "--ignore", str(ignore), "--pip-audit", str(tmp_path / "none")]
    # The cached advisory list knows the installed Django version is vulnerable: fails offline.
    django_version = metadata.version("django")
    cache.write_text(
        json.dumps(
            {
                "checked_at": "2026-11-30T10:00:00+00:00",
                "packages": {"django": {django_version: ["PYSEC-2099-1"]}},
            }
        )
    )
    assert dep_audit.main(args) == 1
    out = capsys.readouterr().out
    assert f"VULNERABLE django {django_version}: PYSEC-2099-1" in out
    assert "1 known vulnerabilities" in out
    # Listed, with a reason, in the ignore file: no finding, but the other packages were not
    # audited, so still not a clean pass.
    ignore.write_text("PYSEC-2099-1 not reachable: we never call the affected API\n")
    assert dep_audit.main(args) == 3
    out = capsys.readouterr().out
    assert "0 known vulnerabilities" in out
    assert "NOT AUDITED: " in out


def test_dep_audit_passes_only_when_every_package_was_audited(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(dep_audit, "installed", lambda: {"django": "5.2.1", "stripe": "12.0.0"})
    report = {
        "dependencies": [
            {"name": "Django", "version": "5.2.1", "vulns": []},
            {"name": "stripe", "version": "12.0.0", "vulns": []},
        ]
    }
    monkeypatch.setattr(dep_audit, "run_pip_audit", lambda tool, timeout: report)
    cache = tmp_path / "cache.json"
    args = ["--cache", str(cache), "--ignore", str(tmp_path / "ignore.txt")]
    assert dep_audit.main(args) == 0
    out = capsys.readouterr().out
    assert "2 of 2 packages audited (PyPI's vulnerability data answered for 2 packages" in out
    assert "NOT AUDITED" not in out
    # Offline next time (every package skipped): judged from the cache the first run saved.
    skipped = {"dependencies": [{"name": "django", "skip_reason": "not found on PyPI"}]}
    monkeypatch.setattr(dep_audit, "run_pip_audit", lambda tool, timeout: skipped)
    assert dep_audit.main(args) == 0
    assert "answered for 0 packages" in capsys.readouterr().out


def test_dep_audit_records_an_online_report_in_the_cache():
    report = {
        "dependencies": [
            {"name": "Django", "version": "5.2.1", "vulns": [{"id": "GHSA-x"}]},
            {"name": "stripe", "version": "12.0.0", "vulns": []},
            {"name": "lost", "skip_reason": "Dependency not found on PyPI"},
        ]
    }
    versions = {"django": "5.2.1", "stripe": "12.0.0", "lost": "1.0"}
    findings, unaudited, cache = dep_audit.audit(report, {"packages": {}}, versions, set())
    assert findings == ["django 5.2.1: GHSA-x"]
    assert unaudited == ["lost 1.0"]
    assert cache["packages"]["stripe"] == {"12.0.0": []}
    assert cache["checked_at"] is not None
