"""What a client reads for a trust deposit's method and a trust request's kind (the receipt
PDF and the trust emails, in the trust catalog so each has its Spanish); staff pages keep the
choices' own labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

METHODS = {
    "CARD": _("Card"),
    "ACH": _("Bank transfer (ACH)"),
    "CHECK": _("Check"),
    "WIRE": _("Wire transfer"),
    "CASH": _("Cash"),
}
REQUEST_KINDS = {
    "RETAINER": _("retainer request"),
    "REPLENISHMENT": _("replenishment request"),
}
