"""Card payments through a provider (Stripe, or the local stack's sandbox): the organisation's
credentials, and the provider's events reduced to what Remit acts on.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, SecretStr
from pydantic.config import JsonDict

from remit.domain.saved_cards import CardDetails
from remit.domain.values import Model, Strict

ProviderName = Literal["stripe", "sandbox"]
# `refund`: one refund Remit asked for (its metadata names it) changed at the provider.
# `card_saved`: a card setup (no payment) finished: the customer's card is saved.
CardEventKind = Literal["succeeded", "failed", "refunded", "refund", "card_saved"]
# Stripe's metadata values hold 500 characters: the ids of a payment of several invoices fit in one.
MAX_INVOICES_PER_PAYMENT = 8
# What Stripe's credentials start with: a secret or restricted key, and a webhook signing secret.
SECRET_KEY_PREFIXES = ("sk_", "rk_")
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret

# Which fields each provider takes (the service checks them; the document says so).
_BY_PROVIDER: JsonDict = {
    "oneOf": [
        {
            "title": "Stripe",
            "required": ["provider", "secret_key", "webhook_secret"],
            "properties": {
                "provider": {"const": "stripe"},
                "secret_key": {"type": "string", "pattern": f"^({'|'.join(SECRET_KEY_PREFIXES)})"},
                "webhook_secret": {"type": "string", "pattern": f"^{WEBHOOK_SECRET_PREFIX}"},
            },
        },
        {
            "title": "Sandbox (the local stack only)",
            "required": ["provider"],
            "properties": {
                "provider": {"const": "sandbox"},
                "secret_key": {"type": "null"},
                "webhook_secret": {"type": "null"},
            },
        },
    ]
}


class ProviderCredentials(Model):
    """Kept in the secret store only: never in the table, never returned, never logged."""

    provider: ProviderName
    secret_key: SecretStr
    webhook_secret: SecretStr


class ConnectPaymentProvider(Strict):
    """`PUT …/payment_provider`: Stripe keys, or `{"provider": "sandbox"}` in the local stack."""

    model_config = ConfigDict(json_schema_extra=_BY_PROVIDER)

    provider: ProviderName
    secret_key: Annotated[SecretStr, Field(min_length=8, max_length=500)] | None = None
    webhook_secret: Annotated[SecretStr, Field(min_length=8, max_length=500)] | None = None


class CardPaymentEvent(Model):
    """One verified provider event, as Remit applies it (at most once per `event_id`)."""

    event_id: str
    kind: CardEventKind
    organisation_id: str | None  # from the payment's metadata; None when the event is not ours
    invoice_id: str | None
    payment_intent_id: str
    amount: int  # minor units: paid (succeeded), attempted (failed) or refunded (refunded)
    currency: str
    failure_message: str | None = None
    # For auto-pay: the provider's customer and the card saved for off-session use, when known.
    provider_customer_id: str | None = None
    payment_method_id: str | None = None
    # The card's brand, digits and expiry when the event carries them (else the provider is asked).
    card: CardDetails | None = None
    # A payment of several invoices (`invoice_id` is then None); a card setup names its customer.
    invoice_ids: list[str] = Field(default_factory=list)
    customer_id: str | None = None


class CardRefundEvent(CardPaymentEvent):
    """A `refund` event: one refund Remit asked for, as the provider now has it."""

    refund_id: str  # Remit's (`re_…`), from the refund's metadata
    provider_refund_id: str | None = None
    refund_status: str  # the provider's word for it (Stripe: pending, succeeded, failed, canceled)


class CheckoutSession(Model):
    id: str
    url: str


class CheckoutRequest(Model):
    organisation_id: str
    invoice_id: str
    invoice_number: str
    amount: int
    currency: str
    customer_email: str | None
    success_url: str
    cancel_url: str
    save_card: bool  # the customer has auto_pay: keep the card for off-session charges
    provider_customer_id: str | None = None


class MultiInvoiceCheckoutRequest(Model):
    """One checkout paying several open invoices of one customer, in their one currency."""

    organisation_id: str
    customer_id: str
    invoice_ids: list[str]
    invoice_numbers: list[str]
    amount: int
    currency: str
    customer_email: str | None
    success_url: str
    cancel_url: str
    provider_customer_id: str | None = None


class CardSetupRequest(Model):
    """A provider page where the customer saves a card without paying (Stripe: setup mode)."""

    organisation_id: str
    customer_id: str
    currency: str
    customer_email: str | None
    provider_customer_id: str | None
    return_url: str


class OffSessionCharge(Model):
    organisation_id: str
    invoice_id: str
    amount: int
    currency: str
    provider_customer_id: str
    payment_method_id: str
    idempotency_key: str


# `?checkout=…` on the hosted page after the provider sends the customer back.
# How a checkout ended, as the provider's redirect says; the hosted page words each in the
# customer's language (templates/hosted/invoice.html).
CHECKOUT_OUTCOMES = ("success", "cancelled", "declined")


def checkout_notice(outcome: str | None) -> str | None:
    """The hosted page's notice for the `checkout` query parameter, None for none or an unknown one."""
    return outcome if outcome in CHECKOUT_OUTCOMES else None
