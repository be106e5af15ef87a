"""Every row lock of the clients app (configuration rows, outside the money lock order: a client
or beneficiary edit takes no other lock)."""

from __future__ import annotations

from caseledger.clients.models import Beneficiary, Client


def client_lock(*, client_id: int) -> Client:
    return Client.objects.select_for_update().get(pk=client_id)


def beneficiary_lock(*, beneficiary_id: int) -> Beneficiary:
    return Beneficiary.objects.select_for_update().get(pk=beneficiary_id)
