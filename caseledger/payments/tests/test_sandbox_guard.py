"""The sandbox payment provider in production is a configuration error (a system check and a
refusal at start-up) unless the demo setting allows it; then every page says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from caseledger import config
from caseledger.payments.checks import sandbox_in_production
from caseledger.payments.context_processors import DEMO_BANNER

ROOT = Path(__file__).resolve().parents[3]


def test_the_check_refuses_the_sandbox_in_production(settings):
    settings.PRODUCTION = True
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.DEMO_SANDBOX_PAYMENTS = False
    errors = sandbox_in_production()
    assert [e.id for e in errors] == ["payments.E001"]
    assert errors[0].msg == config.SANDBOX_IN_PRODUCTION


@pytest.mark.parametrize(
    ("production", "provider", "demo"),
    [(True, "sandbox", True), (True, "stripe", False), (False, "sandbox", False)],
)
def test_the_check_allows_demo_stripe_and_development(settings, production, provider, demo):
    settings.PRODUCTION = production
    settings.PAYMENT_PROVIDER = provider
    settings.DEMO_SANDBOX_PAYMENTS = demo
    assert sandbox_in_production() == []


def test_start_up_refuses_the_sandbox_in_production():
    with pytest.raises(ImproperlyConfigured, match=r"^PAYMENT_PROVIDER: the sandbox provider is"):
        config.payment_provider_check(provider="sandbox", production=True, demo_sandbox=False)
    config.payment_provider_check(provider="sandbox", production=True, demo_sandbox=True)


def _start(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CASELEDGER_"))}
    env.update(
        CASELEDGER_ENV="production",
        CASELEDGER_VAR_DIR=str(tmp_path),
        CASELEDGER_SECRET_KEY="x" * 50,
        CASELEDGER_AUDIT_KEY="audit-key-" + "k" * 40,
        FIELD_ENCRYPTION_KEYS="ZmFrZWtleWZha2VrZXlmYWtla2V5ZmFrZWtleWZha2U=",
        SITE_URL="https://ledger.example.com",
        ALLOWED_HOSTS="ledger.example.com",
        PAYMENT_PROVIDER="sandbox",
        DJANGO_SETTINGS_MODULE="caseledger.settings",
        **extra,
    )
    code = "import django; django.setup(); print('started')"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_a_production_process_with_the_sandbox_does_not_start(tmp_path):
    refused = _start(tmp_path)
    assert refused.returncode != 0
    assert "PAYMENT_PROVIDER: the sandbox provider is refused in production" in refused.stderr
    allowed = _start(tmp_path, CASELEDGER_DEMO_SANDBOX_PAYMENTS="true")
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert allowed.stdout.strip() == "started"


@pytest.mark.django_db
def test_every_page_carries_the_demo_banner(client, login, users, settings):
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.DEMO_SANDBOX_PAYMENTS = True
    public = client.get(reverse("core:login")).content.decode()
    assert DEMO_BANNER in public
    web = login(users["BILLING"])
    for name in ("core:home", "payments:list", "trust:dashboard"):
        assert DEMO_BANNER in web.get(reverse(name)).content.decode(), name
    settings.DEMO_SANDBOX_PAYMENTS = False
    assert DEMO_BANNER not in web.get(reverse("core:home")).content.decode()
