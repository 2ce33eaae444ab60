"""`/v1/organisations/{organisation_id}/payment_provider`: connect or remove the card provider.

The credentials go to the secret store; no answer ever carries them.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import account_id, caller_services, json_response, no_content
from remit.domain.answers import Organisation
from remit.domain.card_payments import ConnectPaymentProvider

router = APIGatewayRouter()
PROVIDER = "/<organisation_id>/payment_provider"


@router.put(
    PROVIDER,
    summary="Connect a card payment provider",
    description=(
        'Stripe: `{"provider": "stripe", "secret_key": "sk_…", "webhook_secret": "whsec_…"}`; point a '
        "Stripe webhook at `/webhooks/stripe/{organisation_id}`. The local stack also accepts "
        '`{"provider": "sandbox"}`. The keys are kept in a secret store and never returned; '
        "`payment_methods.card` becomes true."
    ),
)
def connect_payment_provider(
    organisation_id: str, request: Annotated[ConnectPaymentProvider, Body()]
) -> Response[Organisation]:
    organisation = caller_services(router).card_payments.connect(account_id(router), organisation_id, request)
    return json_response(200, Organisation.of(organisation))


@router.delete(PROVIDER, summary="Remove the card payment provider")
def remove_payment_provider(organisation_id: str) -> Response[None]:
    caller_services(router).card_payments.disconnect(account_id(router), organisation_id)
    return no_content()
