"""``{% load payments_money %}``: the one money library (core.templatetags.money) under the name
the payments and trust templates load."""

from __future__ import annotations

from caseledger.core.templatetags.money import register

__all__ = ["register"]
