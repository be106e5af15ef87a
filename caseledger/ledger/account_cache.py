"""The per-process cache of the chart: what the posting path needs of an account that never
changes once created, looked up by code or id without a query. Cleared after a flush or migrate
(apps.LedgerConfig) and when the chart grows. Imports only the models, so ``locks`` and
``services`` both use it without importing each other."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from caseledger.ledger.choices import AccountType
from caseledger.ledger.models import Account


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """What entry_post needs of an account that never changes once created."""

    id: int
    code: str
    account_type: str
    normal_balance: str
    is_trust: bool
    currency: str

    @property
    def is_trust_bank(self) -> bool:
        return self.is_trust and self.account_type == AccountType.ASSET


_cache_lock = threading.Lock()
_by_code: dict[str, AccountInfo] = {}
_by_id: dict[int, AccountInfo] = {}


def accounts_cache_clear() -> None:
    """Forget cached accounts (after a flush or migrate; see apps.LedgerConfig)."""
    with _cache_lock:
        _by_code.clear()
        _by_id.clear()


def _cache_load() -> None:
    rows = Account.objects.values_list(
        "id", "code", "account_type", "normal_balance", "is_trust", "currency"
    )
    infos = [AccountInfo(*row) for row in rows]
    with _cache_lock:
        _by_code.clear()
        _by_id.clear()
        for info in infos:
            _by_code[info.code] = info
            _by_id[info.id] = info


def account_info(code: str) -> AccountInfo:
    """The cached account for ``code``; reloads the chart once on a miss. KeyError if unknown."""
    info = _by_code.get(code)
    if info is None:
        _cache_load()
        info = _by_code[code]
    return info


def _trust_account_ids() -> list[int]:
    if not _by_code:
        _cache_load()
    return [info.id for info in _by_id.values() if info.is_trust]
