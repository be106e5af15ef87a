"""Trust documents as PDF: a deposit receipt and a client trust statement, on the firm's
letterhead (``billing.pdf_layout``). Names, matter titles and descriptions wrap in their
columns; nothing is cut. Both in the client's language (``Client.preferred_language``)."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.platypus import Flowable, Paragraph, Spacer

from caseledger.billing.pdf_layout import (
    BODY,
    HEADING,
    SMALL,
    STRONG,
    Firm,
    blocks,
    details,
    letterhead,
    lines_table,
    long_date,
    para,
    pdf_date,
    render,
    section,
    totals,
)
from caseledger.billing.selectors import postal_address
from caseledger.clients.models import Client
from caseledger.core.amounts import firm_money
from caseledger.core.i18n import client_language
from caseledger.matters.models import Matter
from caseledger.trust.labels import METHODS
from caseledger.trust.models import TrustDeposit
from caseledger.trust.selectors import StatementLine

IOLTA_NOTE = gettext_lazy(
    "Held in our client trust (IOLTA) account for you, separate from the firm's own money. "
    "It is used only for your matter: against invoices once the work is done, or to pay costs "
    "you approve. Card fees are paid by the firm, never from trust."
)


def _client_block(client: Client) -> list[Paragraph]:
    out = [para(client.name, STRONG)]
    address = postal_address(client)
    if address:
        out.append(para(address, BODY))
    return out


def _matter_block(matter: Matter) -> list[Paragraph]:
    out = [para(f"{matter.number} · {matter.title}", STRONG)]
    beneficiary = matter.beneficiary_name
    if beneficiary and beneficiary != matter.client.name:
        out.append(para(_("Beneficiary: %(name)s") % {"name": beneficiary}, BODY))
    out.append(para(str(matter.case_type), SMALL))
    return out


def receipt_pdf(deposit: TrustDeposit) -> bytes:
    """The receipt for one deposit: who paid, when, how, for which client and matter, and the
    amount credited to the client's trust ledger (always the full amount paid)."""
    with client_language(deposit.client):
        return _receipt_pdf(deposit)


def _receipt_pdf(deposit: TrustDeposit) -> bytes:
    firm = Firm.current()
    title = _("Trust receipt %(number)s") % {"number": deposit.receipt_number}
    method = str(METHODS.get(deposit.method, deposit.get_method_display()))
    if deposit.reference:
        method = f"{method}, {deposit.reference}"
    rows = [
        (_("Received from"), deposit.payer),
        (_("Date received"), long_date(deposit.received_date)),
        (_("Method"), method),
        (
            _("Funds clear"),
            long_date(deposit.clears_on)
            if deposit.clears_on
            else _("When the card processor settles the payment"),
        ),
    ]
    if deposit.trust_request_id:
        rows.append(
            (_("In answer to"), _("Trust request %(request)s") % {"request": deposit.trust_request})
        )
    story: list[Flowable] = [
        *letterhead(
            firm,
            _("TRUST RECEIPT"),
            [
                (_("Receipt no."), deposit.receipt_number),
                (_("Date received"), pdf_date(deposit.received_date)),
            ],
        ),
        blocks(
            [
                (_("Received for"), _client_block(deposit.client)),
                (_("Matter"), _matter_block(deposit.matter)),
            ]
        ),
        details(rows),
        Spacer(1, 14),
        totals([], grand=(_("Deposited to your trust account"), firm_money(deposit.amount_cents))),
        Spacer(1, 18),
        para(str(IOLTA_NOTE), SMALL),
    ]
    return render(
        firm=firm,
        title=title,
        subject=f"{deposit.client.name} · {deposit.matter.number}",
        story=story,
    )


def statement_pdf(client: Client, lines: list[StatementLine], as_of: date) -> bytes:
    """The client's trust statement: every movement in and out with the running balance, and
    what is held for each matter."""
    with client_language(client):
        return _statement_pdf(client, lines, as_of)


def _statement_pdf(client: Client, lines: list[StatementLine], as_of: date) -> bytes:
    firm = Firm.current()
    balance = lines[-1].balance_cents if lines else 0
    by_matter: dict[int, tuple[Matter, int]] = {}
    for line in lines:
        held = by_matter.get(line.matter.pk, (line.matter, 0))[1]
        by_matter[line.matter.pk] = (line.matter, held + line.amount_cents)
    matter_rows = []
    for matter, held in sorted(by_matter.values(), key=lambda pair: (pair[0].number, pair[0].pk)):
        beneficiary = matter.beneficiary_name
        matter_rows.append(
            [
                matter.number,
                matter.title,
                beneficiary if beneficiary != client.name else "",
                firm_money(held),
            ]
        )
    story: list[Flowable] = [
        *letterhead(
            firm,
            _("TRUST STATEMENT"),
            [(_("Statement date"), pdf_date(as_of)), (_("Held in trust"), firm_money(balance))],
        ),
        blocks(
            [
                (_("Client"), _client_block(client)),
                (
                    _("Client trust account"),
                    [
                        para(_("Held for you on %(date)s") % {"date": long_date(as_of)}, BODY),
                        para(firm_money(balance), STRONG),
                    ],
                ),
            ]
        ),
    ]
    if matter_rows:
        story.append(
            section(
                _("Held for each matter"),
                lines_table(
                    [_("Matter"), _("Title"), _("Beneficiary"), _("Held in trust")],
                    matter_rows,
                    widths=[70, 190, 150, 94],
                    right=[3],
                ),
            )
        )
        story.append(Spacer(1, 14))
    by_account: dict[str, int] = {}
    for line in lines:
        by_account[line.account] = by_account.get(line.account, 0) + line.amount_cents
    if len(by_account) > 1:
        # The firm keeps this client's money in more than one trust bank account: say where.
        story.append(
            section(
                _("Held in each trust account"),
                lines_table(
                    [_("Trust account"), _("Held in trust")],
                    [[name, firm_money(cents)] for name, cents in sorted(by_account.items())],
                    widths=[410, 94],
                    right=[1],
                ),
            )
        )
        story.append(Spacer(1, 14))
    movement_rows = [
        [
            pdf_date(line.day),
            line.matter.number,
            line.description,
            line.reference,
            firm_money(line.amount_cents) if line.amount_cents > 0 else "",
            firm_money(-line.amount_cents) if line.amount_cents < 0 else "",
            firm_money(line.balance_cents),
        ]
        for line in lines
    ]
    story.append(para(_("Activity"), HEADING))
    story.append(Spacer(1, 4))
    if movement_rows:
        story.append(
            lines_table(
                [
                    _("Date"),
                    _("Matter"),
                    _("Description"),
                    _("Ref."),
                    _("In"),
                    _("Out"),
                    _("Balance"),
                ],
                movement_rows,
                widths=[58, 52, 178, 54, 60, 58, 60],  # In and Out fit "ENTRADAS" / "SALIDAS"
                right=[4, 5, 6],
            )
        )
    else:
        story.append(para(_("No trust activity."), BODY))
    story += [
        Spacer(1, 12),
        totals([], grand=(_("Balance held in trust"), firm_money(balance))),
        Spacer(1, 18),
        para(str(IOLTA_NOTE), SMALL),
    ]
    return render(
        firm=firm,
        title=_("Trust statement as of %(date)s") % {"date": pdf_date(as_of)},
        subject=client.name,
        story=story,
    )
