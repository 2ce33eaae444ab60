"""The signed-in customer's pages: what it owes, its invoices, credit notes, payments and refunds,
its documents, paying one invoice by card, and its billing details.

Every page first finds the session (`PortalRequest.signed_in`): without one, the sign-in page;
every id in a path is looked up among the signed-in customer's own (`PortalAccountService`), so
anything else answers the not-found page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ValidationError

from portal import messages
from portal.web import Page, PortalRequest, SignedInCustomer, not_found, page, see_other, unavailable
from remit.bootstrap import services
from remit.domain.errors import Conflict, DocumentUnavailable, InvalidInput, NotFound
from remit.domain.portal import PortalDetailsChanges

router = APIGatewayRouter()

PREFERENCES = {"billing": "Invoices and receipts", "updates": "Updates", "legal": "Legal notices"}
PAYMENT_STATUSES = {
    "succeeded": "Succeeded",
    "failed": "Failed",
    "refunded": "Refunded",
    "pending": "Pending",
}
REFUND_STATUSES = {"pending": "Pending", "succeeded": "Succeeded", "failed": "Failed"}


def _request() -> PortalRequest:
    return PortalRequest(router.current_event.raw_event)


def signed_in_page(org_id: str, handler: Callable[[PortalRequest, SignedInCustomer], Page]) -> Page:
    """`handler`'s answer for the signed-in customer; the sign-in page without a session."""
    request = _request()
    signed_in = request.signed_in(org_id)
    if signed_in is None:
        services().portal.portal_of(org_id)  # an unknown or disabled portal: not found
        return see_other(f"{request.base}/p/{org_id}")
    try:
        return handler(request, signed_in)
    except NotFound:
        return not_found(request, signed_in.organisation, signed_in.locale)
    except DocumentUnavailable as error:
        return unavailable(request, error.retry_after, signed_in.organisation, signed_in.locale)


def signed_in_form(org_id: str, handler: Callable[[PortalRequest, SignedInCustomer], Page]) -> Page:
    """As `signed_in_page`, for a form: refused (403, nothing changed) without the session's CSRF token."""

    def checked(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        if not request.accepts_session_csrf(signed_in.session):
            return refused(request, signed_in, 403, "This form has expired", "Reload the page and try again.")
        return handler(request, signed_in)

    return signed_in_page(org_id, checked)


def refused(
    request: PortalRequest, signed_in: SignedInCustomer, status: int, title: str, message: str
) -> Page:
    return page(
        request,
        status,
        "refused.html",
        title,
        signed_in.organisation,
        signed_in.locale,
        message=message,
        back=f"{request.base}/p/{signed_in.organisation.id}/account",
        csrf_token=signed_in.session.csrf_token,
    )


def statement_page(request: PortalRequest, signed_in: SignedInCustomer, notice: str | None = None) -> Page:
    organisation, customer = signed_in.organisation, signed_in.customer
    statement = services().portal_account.statement(organisation, customer)
    return page(
        request,
        200,
        "account.html",
        "Your invoices",
        organisation,
        signed_in.locale,
        customer=customer,
        statement=statement,
        csrf_token=signed_in.session.csrf_token,
        card=organisation.payment_methods.card,
        pay_several=organisation.payment_methods.card,
        einvoices=customer.einvoice_format is not None,
        numbers={invoice.id: invoice.number for invoice in statement.invoices},
        payment_status_labels=PAYMENT_STATUSES,
        refund_status_labels=REFUND_STATUSES,
        notice=notice,
    )


@router.get("/p/<org_id>/account")
def account(org_id: str) -> Page:
    def show(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        checkout = request.event.get("queryStringParameters") or {}
        notice = (
            "Thank you: your payment is being processed." if checkout.get("checkout") == "success" else None
        )
        return statement_page(request, signed_in, notice)

    return signed_in_page(org_id, show)


def _file(file_name: str, content: bytes, media_type: str) -> Page:
    return Response(
        200,
        media_type,
        content,
        headers={
            "Content-Disposition": f'attachment; filename="{file_name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/p/<org_id>/invoices/<invoice_id>/pdf")
def invoice_pdf(org_id: str, invoice_id: str) -> Page:
    def download(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        name, content = services().portal_account.invoice_pdf(
            signed_in.organisation, signed_in.customer, invoice_id
        )
        return _file(name, content, "application/pdf")

    return signed_in_page(org_id, download)


@router.get("/p/<org_id>/invoices/<invoice_id>/einvoice")
def invoice_einvoice(org_id: str, invoice_id: str) -> Page:
    def download(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        einvoice = services().portal_account.invoice_einvoice(
            signed_in.organisation, signed_in.customer, invoice_id
        )
        return _file(einvoice.file_name, einvoice.content, einvoice.media_type)

    return signed_in_page(org_id, download)


@router.get("/p/<org_id>/credit_notes/<credit_note_id>/pdf")
def credit_note_pdf(org_id: str, credit_note_id: str) -> Page:
    def download(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        name, content = services().portal_account.credit_note_pdf(
            signed_in.organisation, signed_in.customer, credit_note_id
        )
        return _file(name, content, "application/pdf")

    return signed_in_page(org_id, download)


@router.post("/p/<org_id>/invoices/<invoice_id>/pay")
def pay_invoice(org_id: str, invoice_id: str) -> Page:
    def pay(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        try:
            checkout = services().portal_account.pay_invoice(
                signed_in.organisation, signed_in.customer, invoice_id
            )
        except Conflict as refusal:
            return refused(
                request, signed_in, 409, "This invoice cannot be paid by card", messages.of_conflict(refusal)
            )
        return see_other(checkout.url)

    return signed_in_form(org_id, pay)


# --- billing details -------------------------------------------------------------------------


def details_page(
    request: PortalRequest,
    signed_in: SignedInCustomer,
    status: int = 200,
    form: dict[str, Any] | None = None,
    problems: dict[str, str] | None = None,
    notice: str | None = None,
) -> Page:
    customer = signed_in.customer
    address = customer.address.model_dump() if customer.address else {}
    shown = form or {"address": _Fields(address), "tax_id": customer.tax_id}
    return page(
        request,
        status,
        "details.html",
        "Your billing details",
        signed_in.organisation,
        signed_in.locale,
        customer=customer,
        csrf_token=signed_in.session.csrf_token,
        form=shown,
        problems=problems or {},
        preference_labels=PREFERENCES,
        notice=notice,
    )


class _Fields(dict[str, Any]):
    """Form values by name, read as attributes by the template (missing ones empty)."""

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


@router.get("/p/<org_id>/details")
def details(org_id: str) -> Page:
    def show(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        saved = (request.event.get("queryStringParameters") or {}).get("saved")
        return details_page(request, signed_in, notice="Your changes were saved." if saved else None)

    return signed_in_page(org_id, show)


@router.post("/p/<org_id>/details")
def change_details(org_id: str) -> Page:
    def change(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        address = _Fields(
            {
                name: request.field(f"address.{name}").strip() or None
                for name in ("line1", "line2", "postal_code", "city", "state", "country")
            }
        )
        tax_id = request.field("tax_id").strip() or None
        known = {contact.id for contact in signed_in.customer.contacts}
        preferences = {
            contact_id: request.form.get(f"preferences.{contact_id}", [])
            for contact_id in request.form.get("contact", [])
            if contact_id in known
        }
        given: dict[str, Any] = {
            "address": {k: v for k, v in address.items() if v is not None} or None,
            "tax_id": tax_id,
            "send_reminders": not request.field("no_reminders"),
        }
        if preferences:
            given["contact_preferences"] = preferences
        form = {"address": address, "tax_id": tax_id}
        try:
            changes = PortalDetailsChanges.model_validate(given)
            services().portal_account.change_details(signed_in.organisation, signed_in.customer, changes)
        except ValidationError as invalid:
            problems = messages.field_problems(
                (_field(error["loc"]), error["type"]) for error in invalid.errors(include_url=False)
            )
            return details_page(request, signed_in, 422, form, problems)
        except InvalidInput as invalid:
            return details_page(request, signed_in, 422, form, messages.of_problems(invalid.problems))
        return see_other(f"{request.base}/p/{org_id}/details?saved=1")

    return signed_in_form(org_id, change)


def _field(location: tuple[Any, ...]) -> str:
    """The form field a validation error names: `address.city`, `tax_id`, `contacts`."""
    parts = [str(part) for part in location]
    if parts and parts[0] == "contact_preferences":
        return "contacts"
    return ".".join(parts[:2]) if parts and parts[0] == "address" else (parts[0] if parts else "form")
