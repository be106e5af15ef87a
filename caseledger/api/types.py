"""Types shared by the API's input schemas.

``Cents``: an amount in minor units is a JSON integer and nothing else. Pydantic's lax mode
would take ``true`` as 1, ``"100"`` as 100 and ``100.0`` as 100; StrictInt refuses them, and the
API answers 422 naming the field. The firm's ceiling for a single amount is checked by the
services (core.amounts.amount_check), with the same message as the pages."""

from __future__ import annotations

from pydantic import StrictInt

Cents = StrictInt
