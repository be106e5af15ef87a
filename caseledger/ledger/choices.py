from django.db import models


class AccountType(models.TextChoices):
    ASSET = "ASSET", "Asset"
    LIABILITY = "LIABILITY", "Liability"
    EQUITY = "EQUITY", "Equity"
    REVENUE = "REVENUE", "Revenue"
    EXPENSE = "EXPENSE", "Expense"


class NormalBalance(models.TextChoices):
    DEBIT = "DEBIT", "Debit"
    CREDIT = "CREDIT", "Credit"


class EntryKind(models.TextChoices):
    OPENING_BALANCE = "OPENING_BALANCE", "Opening balance"
    TRUST_DEPOSIT = "TRUST_DEPOSIT", "Trust deposit"
    TRUST_TRANSFER_EARNED = "TRUST_TRANSFER_EARNED", "Trust transfer (earned fees)"
    TRUST_DISBURSEMENT = "TRUST_DISBURSEMENT", "Trust disbursement"
    TRUST_REFUND = "TRUST_REFUND", "Trust refund"
    INVOICE_ISSUED = "INVOICE_ISSUED", "Invoice issued"
    INVOICE_VOID = "INVOICE_VOID", "Invoice void"
    PAYMENT_RECEIVED = "PAYMENT_RECEIVED", "Payment received"
    PAYMENT_APPLIED = "PAYMENT_APPLIED", "Payment applied"
    PROCESSOR_SETTLEMENT = "PROCESSOR_SETTLEMENT", "Processor settlement"
    CARD_FEE = "CARD_FEE", "Card processing fee"
    COST_ADVANCE = "COST_ADVANCE", "Cost advance"
    CREDIT_NOTE = "CREDIT_NOTE", "Credit note"
    REFUND = "REFUND", "Refund"
    WRITE_OFF = "WRITE_OFF", "Write-off"
    WRITE_OFF_REVERSAL = "WRITE_OFF_REVERSAL", "Write-off reversal"
    REVERSAL = "REVERSAL", "Reversal"
    ADJUSTMENT = "ADJUSTMENT", "Adjustment"
