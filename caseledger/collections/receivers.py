"""Hooks the collections app registers at start-up."""

from __future__ import annotations


def connect() -> None:
    from caseledger.collections.services.aging_facts import on_postings
    from caseledger.ledger import hooks

    hooks.register_posting_listener(on_postings)
