"""Money never crosses currencies, over random sequences of everything that moves credit.

A hypothesis state machine drives one customer through the API and the card webhooks: credit added
and removed in any currency, changes of the customer's currency, drafts, finalization, offline and
card payments (over-payments included), card refunds, voids and write-offs. It keeps its own account
of each currency's balance, and after every step checks what a user can observe:

* no balance is negative, and `balance` is `balances` in the customer's currency;
* each currency's ledger entries add up to that currency's balance, each `ending_balance` being
  the running total of its own currency;
* every entry that names an invoice is in the invoice's currency, and an invoice's
  `credit_applied` is exactly what its currency's balance gave it: no invoice ever took another
  currency's money;
* the balances are what the machine's own account says.
"""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.test_card_webhooks import card_event_service, connect_stripe, sign, stripe_event

CURRENCIES = ("EUR", "USD", "JPY")
currencies = st.sampled_from(CURRENCIES)
amounts = st.integers(min_value=1, max_value=20_000)
picks = st.integers(min_value=0, max_value=1_000)


def credit_machine(api: ApiClient) -> type[RuleBasedStateMachine]:
    class CreditInEveryCurrency(RuleBasedStateMachine):
        drafts = Bundle("drafts")

        def __init__(self) -> None:
            super().__init__()
            self.billing = Billing(api)
            self.billing.customer = self.billing.new_customer(tax_rate="0")
            self.path = f"{self.billing.base}/customers/{self.billing.customer}"
            connect_stripe(self.billing.org)
            self.cards = card_event_service()
            self.currency = "EUR"
            self.expected: dict[str, int] = {}
            self.invoices: dict[str, str] = {}  # finalized invoice id -> its currency
            self.status: dict[str, str] = {}  # finalized invoice id -> its status, as last answered
            self.intents: list[tuple[str, str, int]] = []  # card payments not refunded yet
            self.events = 0

        # --- reading ---------------------------------------------------------------------------

        def invoice(self, invoice_id: str) -> dict[str, Any]:
            invoice = self.billing.get(invoice_id)
            if invoice_id in self.invoices:
                self.status[invoice_id] = invoice["status"]
            return invoice

        def of_status(self, *statuses: str) -> list[str]:
            return [invoice_id for invoice_id, status in self.status.items() if status in statuses]

        def credit(self, currency: str, amount: int) -> None:
            self.expected[currency] = self.expected.get(currency, 0) + amount
            if not self.expected[currency]:
                del self.expected[currency]

        @initialize(
            currency=currencies, credit=amounts, total=st.integers(min_value=20_001, max_value=40_000)
        )
        def a_customer_with_credit_and_an_open_invoice(self, currency: str, credit: int, total: int) -> None:
            """Every run starts with credit in some currency and an invoice more than it can pay."""
            self.add_credit(currency, credit)
            self.issue(total)

        # --- credit ------------------------------------------------------------------------------

        @rule(currency=currencies, amount=amounts)
        def add_credit(self, currency: str, amount: int) -> None:
            added = api.post(f"{self.path}/balance_transactions", {"amount": amount, "currency": currency})
            assert added.status == 201, added.body
            self.credit(currency, amount)

        @rule(currency=currencies, amount=amounts)
        def remove_credit(self, currency: str, amount: int) -> None:
            removed = api.post(f"{self.path}/balance_transactions", {"amount": -amount, "currency": currency})
            if amount <= self.expected.get(currency, 0):
                assert removed.status == 201, removed.body
                self.credit(currency, -amount)
            else:
                assert removed.status == 409, removed.body
                assert removed.json()["errors"][0]["field"] == "amount"

        @rule(currency=currencies)
        def change_currency(self, currency: str) -> None:
            changed = api.patch(self.path, {"currency": currency})
            assert changed.status == 200, changed.body
            self.currency = currency

        # --- invoices ----------------------------------------------------------------------------

        @rule(target=drafts, amount=amounts)
        def draft(self, amount: int) -> str:
            """A draft left for later: the customer's currency may change before it is finalized."""
            return str(self.billing.draft(unit_amount=amount, quantity="1")["id"])

        @rule(draft_id=consumes(drafts))
        def finalize(self, draft_id: str) -> None:
            self.issue_draft(draft_id)

        @rule(amount=amounts)
        def issue(self, amount: int) -> None:
            self.issue_draft(str(self.billing.draft(unit_amount=amount, quantity="1")["id"]))

        def issue_draft(self, draft_id: str) -> None:
            finalized = api.post(f"{self.billing.invoice(draft_id)}/finalize")
            assert finalized.status == 200, finalized.body
            invoice = finalized.json()
            currency = invoice["currency"]
            # Only its own currency's credit, as much as it needs.
            assert invoice["credit_applied"] == min(self.expected.get(currency, 0), invoice["total"])
            self.credit(currency, -invoice["credit_applied"])
            self.invoices[draft_id] = currency
            self.status[draft_id] = invoice["status"]

        @precondition(lambda self: self.of_status("open"))
        @rule(pick=picks, amount=amounts)
        def pay_offline(self, pick: int, amount: int) -> None:
            open_ones = self.of_status("open")
            invoice_id = open_ones[pick % len(open_ones)]
            due = self.invoice(invoice_id)["amount_due"]
            paid = self.billing.pay(invoice_id, amount)
            assert paid.status == 201, paid.body
            self.credit(self.invoices[invoice_id], max(0, amount - due))
            self.invoice(invoice_id)

        @precondition(lambda self: self.invoices)
        @rule(pick=picks, amount=amounts)
        def pay_by_card(self, pick: int, amount: int) -> None:
            invoice_ids = list(self.invoices)
            invoice_id = invoice_ids[pick % len(invoice_ids)]
            before = self.invoice(invoice_id)
            currency = self.invoices[invoice_id]
            self.events += 1
            intent = f"pi_{self.events}"
            body = stripe_event(
                f"evt_{self.events}",
                "payment_intent.succeeded",
                self.billing.org,
                invoice_id,
                amount,
                intent,
                currency=currency.lower(),
            )
            assert self.cards.handle(self.billing.org, body, sign(body)) == "applied"
            # What the invoice still owed is paid while it is open; the rest, or all of it on an
            # invoice that is not open, is credit in the invoice's currency.
            owed = before["amount_due"] if before["status"] == "open" else 0
            self.credit(currency, amount - min(amount, owed))
            self.intents.append((intent, invoice_id, amount))
            self.invoice(invoice_id)

        @precondition(lambda self: self.intents)
        @rule(pick=picks)
        def refund_card_payment(self, pick: int) -> None:
            intent, invoice_id, amount = self.intents.pop(pick % len(self.intents))
            before = self.invoice(invoice_id)
            currency = self.invoices[invoice_id]
            self.events += 1
            body = stripe_event(
                f"evt_{self.events}",
                "charge.refunded",
                self.billing.org,
                invoice_id,
                amount,
                intent,
                currency=currency.lower(),
            )
            assert self.cards.handle(self.billing.org, body, sign(body)) == "applied"
            after = self.invoice(invoice_id)
            # What the refund did not reopen on the invoice is taken back from its currency's
            # credit, as far as that credit is left.
            reopened = after["amount_paid"] - before["amount_paid"]
            assert reopened <= 0
            self.credit(currency, -min(amount + reopened, self.expected.get(currency, 0)))

        @precondition(lambda self: self.of_status("open", "uncollectible"))
        @rule(pick=picks)
        def void(self, pick: int) -> None:
            voidable = self.of_status("open", "uncollectible")
            invoice_id = voidable[pick % len(voidable)]
            before = self.invoice(invoice_id)
            voided = api.post(f"{self.billing.invoice(invoice_id)}/void")
            assert voided.status == 200, voided.body
            self.credit(self.invoices[invoice_id], before["amount_paid"] + before["credit_applied"])
            self.status[invoice_id] = "void"

        @precondition(lambda self: self.of_status("open"))
        @rule(pick=picks)
        def write_off(self, pick: int) -> None:
            invoice_id = self.of_status("open")[pick % len(self.of_status("open"))]
            marked = api.post(f"{self.billing.invoice(invoice_id)}/mark_uncollectible")
            assert marked.status == 200, marked.body
            self.status[invoice_id] = "uncollectible"

        # --- what must always hold -----------------------------------------------------------

        @invariant()
        def money_never_crosses_currencies(self) -> None:
            customer = api.get(self.path).json()
            entries = api.get(f"{self.path}/balance_transactions?limit=100").json()["data"]
            balances = customer["balances"]

            assert all(amount > 0 for amount in balances.values())
            assert customer["currency"] == self.currency
            assert customer["balance"] == balances.get(self.currency, 0)
            assert balances == self.expected

            running: dict[str, int] = {}
            applied: dict[str, int] = {}
            for entry in entries:
                currency = entry["currency"]
                running[currency] = running.get(currency, 0) + entry["amount"]
                assert entry["ending_balance"] == running[currency] >= 0
                if entry["invoice_id"]:
                    assert currency == self.invoices[entry["invoice_id"]]
                if entry["type"] == "applied_to_invoice":
                    applied[entry["invoice_id"]] = applied.get(entry["invoice_id"], 0) - entry["amount"]
            assert {c: a for c, a in running.items() if a} == balances
            listed = f"{self.billing.base}/invoices?customer_id={self.billing.customer}&limit=100"
            for invoice in api.get(listed).json()["data"]:
                assert invoice["credit_applied"] == applied.get(invoice["id"], 0)
                if invoice["id"] in self.invoices:
                    assert invoice["currency"] == self.invoices[invoice["id"]]
                    self.status[invoice["id"]] = invoice["status"]

    return CreditInEveryCurrency


def test_money_never_crosses_currencies_whatever_the_sequence(api: ApiClient) -> None:
    run_state_machine_as_test(credit_machine(api), settings=settings(max_examples=30, stateful_step_count=15))
