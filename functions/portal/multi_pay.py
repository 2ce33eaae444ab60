"""Paying several open invoices at once by card: one provider checkout for their sum.

The checkout itself is `CardPaymentService.start_checkout_for_invoices` (the invoices must be
open, the customer's, of one currency: else `InvalidInput` naming `invoice_ids`).
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from portal import messages
from portal.account import refused, signed_in_form
from portal.web import Page, PortalRequest, SignedInCustomer, see_other
from remit.bootstrap import services
from remit.domain.errors import Conflict, InvalidInput

router = APIGatewayRouter()


@router.post("/p/<org_id>/pay")
def pay_several(org_id: str) -> Page:
    def pay(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        invoice_ids = list(dict.fromkeys(request.form.get("invoice_id", [])))
        if not invoice_ids:
            return refused(request, signed_in, 422, "Nothing to pay", "Tick the invoices you want to pay.")
        # Only the signed-in customer's own invoices get as far as the provider.
        for invoice_id in invoice_ids:
            services().portal_account.invoice(signed_in.organisation, signed_in.customer, invoice_id)
        account_url = f"{request.public_url}/p/{org_id}/account"
        try:
            checkout = services().card_payments.start_checkout_for_invoices(
                signed_in.organisation.id,
                signed_in.customer.id,
                invoice_ids,
                success_url=f"{account_url}?checkout=success",
                cancel_url=account_url,
            )
        except InvalidInput as invalid:
            message = messages.of_invalid_payment(invalid.problems)
            return refused(request, signed_in, 422, "These invoices cannot be paid together", message)
        except Conflict as refusal:
            message = messages.of_conflict(refusal)
            return refused(request, signed_in, 409, "These invoices cannot be paid by card", message)
        return see_other(checkout.url)

    return signed_in_form(org_id, pay)
