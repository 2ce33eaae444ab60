"""Card payments started by Remit: the organisation's provider settings, the hosted page's checkout,
and the off-session "Attempt card" charge. What the provider reports back is applied by the
payment webhooks (`card_events`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from remit.domain.card_payments import (
    MAX_INVOICES_PER_PAYMENT,
    SECRET_KEY_PREFIXES,
    WEBHOOK_SECRET_PREFIX,
    CheckoutRequest,
    ConnectPaymentProvider,
    MultiInvoiceCheckoutRequest,
    OffSessionCharge,
    ProviderCredentials,
    ProviderName,
)
from remit.domain.customer import Customer
from remit.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from remit.domain.invoice import Invoice
from remit.domain.organisation import Organisation
from remit.observability import logger
from remit.ports.cards import CardGateway, PaymentProviderSecrets
from remit.ports.organisations import OrganisationRepository
from remit.services.billing_context import BillingContext
from remit.services.retry import retry_on_conflict

SANDBOX_STAGES = ("local", "test")


@dataclass(frozen=True)
class HostedCheckout:
    """Where the customer goes to pay: the provider's page."""

    url: str


class CardPaymentService:
    def __init__(
        self,
        context: BillingContext,
        organisations: OrganisationRepository,
        provider_secrets: PaymentProviderSecrets,
        gateways: Mapping[ProviderName, Callable[[], CardGateway]],
        stage: str,
    ) -> None:
        self._context = context
        self._billing = context.billing
        self._organisations = organisations
        self._secrets = provider_secrets
        # Factories: the stripe SDK is imported only by requests that talk to Stripe.
        self._gateways = gateways
        self._stage = stage

    def gateway(self, credentials: ProviderCredentials) -> CardGateway:
        """The gateway that speaks to the credentials' provider."""
        return self._gateways[credentials.provider]()

    def credentials(self, organisation_id: str) -> ProviderCredentials | None:
        """The organisation's provider credentials from the secret store, None when none is connected."""
        return self._secrets.get(organisation_id)

    def connect(self, account_id: str, organisation_id: str, request: ConnectPaymentProvider) -> Organisation:
        """Store the provider's credentials in the secret store and turn on `payment_methods.card`.

        Connecting again replaces the credentials. The sandbox provider (local and test stages only)
        gets generated secrets. Raises `NotFound`, or `InvalidInput` naming the field; the
        credentials are never logged or returned.
        """
        self._context.access.require_access(account_id, organisation_id)
        credentials = self._credentials_for(request)
        self._secrets.put(organisation_id, credentials)
        logger.info("Card provider connected", extra={"provider": credentials.provider})
        return self._set_card(account_id, organisation_id, enabled=True)

    def disconnect(self, account_id: str, organisation_id: str) -> None:
        """Turn off `payment_methods.card`, then delete the credentials. Idempotent; raises `NotFound`."""
        self._context.access.require_access(account_id, organisation_id)
        # The flag first: a page never offers a card payment whose credentials are already gone.
        self._set_card(account_id, organisation_id, enabled=False)
        self._secrets.delete(organisation_id)
        logger.info("Card provider removed")

    def _credentials_for(self, request: ConnectPaymentProvider) -> ProviderCredentials:
        if request.provider == "sandbox":
            if self._stage not in SANDBOX_STAGES:
                raise InvalidInput.single("provider", "the sandbox provider exists only in the local stack")
            given = [name for name in ("secret_key", "webhook_secret") if getattr(request, name) is not None]
            if given:
                raise InvalidInput(
                    [FieldProblem(name, "must not be given for the sandbox provider") for name in given]
                )
            return ProviderCredentials(
                provider="sandbox",
                secret_key=SecretStr(f"sk_sandbox_{secrets.token_urlsafe(24)}"),
                webhook_secret=SecretStr(f"whsec_{secrets.token_urlsafe(32)}"),
            )
        problems: list[FieldProblem] = []
        secret_key, webhook_secret = request.secret_key, request.webhook_secret
        if secret_key is None:
            problems.append(FieldProblem("secret_key", "is required for Stripe"))
        elif not secret_key.get_secret_value().startswith(SECRET_KEY_PREFIXES):
            problems.append(
                FieldProblem("secret_key", "must be a Stripe secret key (sk_…) or restricted key (rk_…)")
            )
        if webhook_secret is None:
            problems.append(FieldProblem("webhook_secret", "is required for Stripe"))
        elif not webhook_secret.get_secret_value().startswith(WEBHOOK_SECRET_PREFIX):
            problems.append(
                FieldProblem("webhook_secret", "must be a Stripe webhook signing secret (whsec_…)")
            )
        if problems or secret_key is None or webhook_secret is None:
            raise InvalidInput(problems)
        return ProviderCredentials(provider="stripe", secret_key=secret_key, webhook_secret=webhook_secret)

    def _set_card(self, account_id: str, organisation_id: str, *, enabled: bool) -> Organisation:
        def attempt() -> Organisation:
            current = self._context.access.get(account_id, organisation_id)
            if current.payment_methods.card == enabled:
                return current
            methods = current.payment_methods.model_copy(update={"card": enabled})
            updated = current.model_copy(
                update={"payment_methods": methods, "updated_at": self._context.clock.now()}
            )
            return self._organisations.save(updated)

        return retry_on_conflict(attempt)

    def start_checkout(self, token: str) -> HostedCheckout:
        """A provider checkout for what the hosted page's invoice has due, in its currency.

        The session carries `organisation_id` and `invoice_id` in its metadata; a customer with
        `auto_pay` keeps the card for off-session charges. Asking again for the same invoice and
        amount gives back the same session (the provider's idempotency). Raises `NotFound` for an
        unknown token, `Conflict` when the invoice is not open, nothing is due or no provider is
        connected.
        """
        found = self._billing.find_hosted(token) if 20 <= len(token) <= 100 else None
        if found is None:
            raise NotFound("invoice", "(link)")
        organisation, invoice, _ = self._billing.read_for_billing(found[0], invoice_id=found[1])
        if organisation is None or invoice is None:
            raise NotFound("invoice", "(link)")
        _require_payable(invoice)
        credentials = self._connected(organisation)
        customer = self._context.customer_of(invoice)
        card_on_file = customer.card_on_file if customer is not None else None
        hosted_url = invoice.hosted_url or ""
        request = CheckoutRequest(
            organisation_id=organisation.id,
            invoice_id=invoice.id,
            invoice_number=invoice.number or invoice.id,
            amount=invoice.amount_due,
            currency=invoice.currency,
            customer_email=customer.email if customer is not None else None,
            success_url=f"{hosted_url}?checkout=success",
            cancel_url=f"{hosted_url}?checkout=cancelled",
            save_card=bool(customer is not None and customer.auto_pay),
            provider_customer_id=card_on_file.provider_customer_id if card_on_file else None,
        )
        session = self.gateway(credentials).create_checkout(credentials, request)
        logger.info("Card checkout started", extra={"invoice_id": invoice.id, "session_id": session.id})
        return HostedCheckout(url=session.url)

    def start_checkout_for_invoices(
        self,
        organisation_id: str,
        customer_id: str,
        invoice_ids: list[str],
        *,
        success_url: str,
        cancel_url: str,
    ) -> HostedCheckout:
        """One provider checkout paying several open invoices of the customer at once: the sum of
        what each has due, in their one currency. The session's metadata names every invoice; the
        webhook then pays each its amount due (at most) and credits any excess to the customer's
        balance in that currency. Asking again for the same invoices and amounts gives back the same
        session (the provider's idempotency).

        Raises `NotFound` for an unknown organisation or customer; `InvalidInput` naming
        `invoice_ids` (none, too many, repeated, unknown, another customer's, not open, nothing due,
        or more than one currency) or the URL that is not an http(s) one; `Conflict` when no provider
        is connected or it refuses.
        """
        problems = [
            FieldProblem(name, "must be an http(s) URL of at most 2000 characters")
            for name, url in (("success_url", success_url), ("cancel_url", cancel_url))
            if not url.startswith(("https://", "http://")) or len(url) > 2000
        ]
        if problems:
            raise InvalidInput(problems)
        if not invoice_ids or len(invoice_ids) > MAX_INVOICES_PER_PAYMENT:
            raise InvalidInput.single(
                "invoice_ids",
                f"must name between 1 and {MAX_INVOICES_PER_PAYMENT} invoices",
                code="invoice_count",
            )
        if len(set(invoice_ids)) != len(invoice_ids):
            raise InvalidInput.single("invoice_ids", "must not repeat an invoice", code="repeated_invoice")
        organisation, _, customer = self._billing.read_for_billing(organisation_id, customer_id=customer_id)
        if organisation is None:
            raise NotFound("organisation", organisation_id)
        if customer is None:
            raise NotFound("customer", customer_id)
        invoices = [self._payable_of(organisation_id, customer, invoice_id) for invoice_id in invoice_ids]
        currencies = sorted({invoice.currency for invoice in invoices})
        if len(currencies) > 1:
            raise InvalidInput.single(
                "invoice_ids",
                f"must be invoices in one currency, not {', '.join(currencies)}",
                code="mixed_currencies",
            )
        credentials = self._connected(organisation)
        card = customer.card_on_file
        request = MultiInvoiceCheckoutRequest(
            organisation_id=organisation_id,
            customer_id=customer_id,
            invoice_ids=invoice_ids,
            invoice_numbers=[invoice.number or invoice.id for invoice in invoices],
            amount=sum(invoice.amount_due for invoice in invoices),
            currency=currencies[0],
            customer_email=customer.email,
            success_url=success_url,
            cancel_url=cancel_url,
            provider_customer_id=card.provider_customer_id if card else None,
        )
        session = self.gateway(credentials).create_invoices_checkout(credentials, request)
        logger.info(
            "Card checkout of several invoices started",
            extra={"invoice_ids": invoice_ids, "session_id": session.id},
        )
        return HostedCheckout(url=session.url)

    def _payable_of(self, organisation_id: str, customer: Customer, invoice_id: str) -> Invoice:
        known = 0 < len(invoice_id) <= 100
        invoice = self._billing.get_invoice(organisation_id, invoice_id) if known else None
        if invoice is None or invoice.customer_id != customer.id or invoice.status == "draft":
            raise InvalidInput.single(
                "invoice_ids",
                f"no open invoice '{invoice_id[:100]}' of this customer",
                code="unknown_invoice",
            )
        if invoice.status != "open" or invoice.amount_due <= 0:
            raise InvalidInput.single(
                "invoice_ids",
                f"invoice {invoice.number or invoice.id} has nothing to pay ({invoice.status})",
                code="invoice_not_open" if invoice.status != "open" else "nothing_due",
            )
        return invoice

    def attempt_card(self, account_id: str, organisation_id: str, invoice_id: str) -> Invoice:
        """Charge the customer's saved card off-session for the amount due ("Attempt card").

        The outcome arrives by webhook; the invoice is returned as it is now. The provider gets the
        idempotency key `<invoice id>-<amount due>-<attempt>`, the attempt counting the card payments
        of the invoice that failed so far: a repeated request charges once, while an attempt after a
        decline is a new charge.
        Raises `NotFound`, or `Conflict` when the invoice is not open, nothing is due, no provider
        is connected or the customer has no saved card.
        """
        organisation, invoice, _ = self._billing.read_for_billing(organisation_id, invoice_id=invoice_id)
        organisation, invoice = self._context.owned(
            account_id, organisation_id, organisation, invoice, invoice_id
        )
        _require_payable(invoice)
        credentials = self._connected(organisation)
        customer = self._context.customer_of(invoice)
        card = customer.card_on_file if customer is not None else None
        if card is None:
            raise Conflict(
                f"The customer of invoice {invoice.number} has no saved card: it is saved when a customer "
                "with auto_pay pays an invoice by card."
            )
        charge = OffSessionCharge(
            organisation_id=organisation.id,
            invoice_id=invoice.id,
            amount=invoice.amount_due,
            currency=invoice.currency,
            provider_customer_id=card.provider_customer_id,
            payment_method_id=card.payment_method_id,
            idempotency_key=f"{invoice.id}-{invoice.amount_due}-{self._failed_card_payments(invoice) + 1}",
        )
        intent_id = self.gateway(credentials).charge_off_session(credentials, charge)
        logger.info("Off-session card charge started", extra={"invoice_id": invoice.id, "intent": intent_id})
        return invoice

    def connected_gateway(self, organisation: Organisation) -> tuple[ProviderCredentials, CardGateway]:
        """The organisation's credentials and the gateway of its provider. Raises `Conflict` when it
        accepts no card payments (no provider connected)."""
        credentials = self._connected(organisation)
        return credentials, self.gateway(credentials)

    def _connected(self, organisation: Organisation) -> ProviderCredentials:
        credentials = self._secrets.get(organisation.id) if organisation.payment_methods.card else None
        if credentials is None:
            raise Conflict(
                f"{organisation.name} does not accept card payments: no card provider is connected.",
                code="no_card_provider",
            )
        return credentials

    def _failed_card_payments(self, invoice: Invoice) -> int:
        failed, cursor = 0, None
        while True:
            page = self._billing.list_payments(invoice.organisation_id, 100, cursor, invoice.id, None)
            failed += sum(1 for p in page.items if p.method == "card" and p.status == "failed")
            cursor = page.next_cursor
            if cursor is None:
                return failed


def _require_payable(invoice: Invoice) -> None:
    if invoice.status != "open":
        raise Conflict(
            f"Invoice {invoice.number or invoice.id} is {invoice.status}: there is nothing to pay.",
            code="invoice_not_open",
        )
    if invoice.amount_due <= 0:
        raise Conflict(f"Invoice {invoice.number} has nothing left to pay.", code="nothing_due")
