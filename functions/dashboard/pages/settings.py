"""Settings: the organisation's details, branding and logo, numbering, payment methods, card
provider and reminders, each its own form on one page.

Each form is drawn from the API's own input model: the organisation's sections from
`OrganisationChanges` (a PATCH of only that section's fields, so one form never touches another's),
the card provider from `ConnectPaymentProvider` (`PUT …/payment_provider`), the logo is the image
`PUT …/logo` takes, sent as a `multipart/form-data` form.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.forms import FormErrors, FormField, FormValues, errors_of, fields_of, parse, values_of
from dashboard.page_request import PageRequest, page_request, public_base_url
from dashboard.rendering import Page, confirm, query_string, render, see_other
from remit.domain.card_payments import ConnectPaymentProvider
from remit.domain.errors import InvalidInput
from remit.domain.logos import LOGO_TYPES
from remit.domain.organisation import OrganisationChanges
from remit.domain.values import currency_exponent

if TYPE_CHECKING:
    from remit.domain.organisation import Organisation, OrganisationChanges

router = APIGatewayRouter()

SETTINGS = "/organisations/<organisation_id>/settings"
# The API's `HexColour` in the form a CSS value may take it: nothing else reaches a style attribute.
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
LOGO_ACCEPT = "image/png,image/jpeg,image/svg+xml"


@dataclass(frozen=True)
class Section:
    """One form of the settings page: its anchor, title, the `OrganisationChanges` fields it edits
    and the notice a save shows (its form posts to `…/settings/<key>`)."""

    key: str
    title: str
    names: tuple[str, ...]
    saved: str
    blank: Literal["omit", "null"] = "null"


SECTIONS = (
    Section(
        "organisation",
        "Organisation",
        (
            "name",
            "email",
            "default_currency",
            "timezone",
            "locale",
            "address",
            "tax_id",
            "payment_terms_days",
        ),
        "Organisation details saved.",
    ),
    Section("legal", "Legal identity", ("legal",), "Legal identity saved."),
    Section("branding", "Branding", ("branding",), "Brand colour saved."),
    Section("numbering", "Numbering", ("invoice_numbering",), "Invoice numbering saved.", blank="omit"),
    Section("payment-methods", "Payment methods", ("payment_methods",), "Payment methods saved."),
    Section("reminders", "Reminders", ("reminders",), "Reminder settings saved."),
    Section("notifications", "Customer emails", ("notifications",), "Customer email settings saved."),
    Section("portal", "Customer portal", ("portal",), "Customer portal settings saved."),
)
_BY_KEY = {section.key: section for section in SECTIONS}


@dataclass
class Form:
    """A section's form as the page shows it: its fields, values and refusals."""

    fields: tuple[FormField, ...]
    values: FormValues
    errors: FormErrors = field(default_factory=FormErrors)


def _changes_fields() -> tuple[FormField, ...]:

    return fields_of(OrganisationChanges)


@cache
def section_fields(key: str) -> tuple[FormField, ...]:
    """The fields of `OrganisationChanges` that section `key` shows, in the model's order."""
    names = _BY_KEY[key].names
    return tuple(form_field for form_field in _changes_fields() if form_field.name in names)


def _provider_fields() -> tuple[FormField, ...]:

    return fields_of(ConnectPaymentProvider)


def _stored(organisation: Organisation, key: str) -> FormValues:

    exponent = currency_exponent(organisation.default_currency)
    return values_of(organisation, section_fields(key), exponent)


def _forms(request: PageRequest) -> dict[str, Form]:
    forms = {
        section.key: Form(section_fields(section.key), _stored(request.org, section.key))
        for section in SECTIONS
    }
    forms["card-provider"] = Form(_provider_fields(), {})
    forms["logo"] = Form((), {})
    return forms


def brand_colour(text: str | None) -> str | None:
    """`text` when it is a `#rrggbb` colour a style attribute may carry, else None."""
    colour = (text or "").strip()
    return colour if _COLOUR.fullmatch(colour) else None


def ink_on(colour: str) -> str:
    """Black or white, whichever reads better on `colour` (WCAG relative luminance)."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[index : index + 2]) for index in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#000000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#ffffff"


def logo_src(logo_url: str | None) -> str | None:
    """The stored logo as this page may show it under `img-src 'self'`: the logo is served by the
    same API as the dashboard (`/assets/logos/…`), so its path on this origin; None for anything
    else (never a request to another origin).
    """
    if not logo_url:
        return None
    path = urlparse(logo_url).path
    marker = path.find("/assets/logos/")
    return path[marker:] if marker >= 0 else None


def _page(
    request: PageRequest,
    status: int,
    forms: dict[str, Form] | None = None,
    preview: str | None = None,
) -> Page:

    organisation = request.org
    shown = forms or _forms(request)
    stored_colour = organisation.branding.brand_colour
    numbering = organisation.invoice_numbering
    _, series = request.services.organisations.invoice_series(request.account_id, organisation.id)
    return render(
        request,
        status,
        "settings/settings.html",
        title="Settings",
        section="Settings",
        section_forms=shown,
        sections=SECTIONS,
        provider_secrets=("secret_key", "webhook_secret"),
        currency=organisation.default_currency,
        exponent=currency_exponent(organisation.default_currency),
        preview=_preview_context(organisation, preview if preview is not None else stored_colour),
        logo=logo_src(organisation.branding.logo_url),
        logo_accept=LOGO_ACCEPT,
        example_number=numbering.format(numbering.next_number),
        last_number_used=series.last_number_used,
        settings_path=request.org_path("settings"),
    )


def _preview_context(organisation: Organisation, colour_text: str | None) -> dict[str, Any]:
    colour = brand_colour(colour_text)
    return {
        "colour": colour,
        "ink": ink_on(colour) if colour else "#ffffff",
        "typed": (colour_text or "").strip(),
        "name": organisation.name,
        "logo": logo_src(organisation.branding.logo_url),
        "number": organisation.invoice_numbering.format(organisation.invoice_numbering.next_number),
    }


@router.get(SETTINGS)
def settings(organisation_id: str) -> Page:
    """The settings page. `?branding.brand_colour=` previews a colour without saving it (where the
    preview fragment's address leads without htmx).
    """
    request = page_request(router)
    previewed = request.query.get("branding.brand_colour")
    forms = _forms(request)
    if previewed is not None:
        forms["branding"].values = {**forms["branding"].values, "branding.brand_colour": [previewed]}
    return _page(request, 200, forms, preview=previewed)


@router.get(SETTINGS + "/branding/preview")
def branding_preview(organisation_id: str) -> Page:
    """The preview of a brand colour: the fragment htmx swaps in as the colour is typed; without
    htmx, the settings page previewing it.
    """
    request = page_request(router)

    typed = request.query.get("branding.brand_colour", "")
    if not request.htmx:
        return see_other(request.org_path("settings") + query_string(**{"branding.brand_colour": typed}))
    return render(
        request,
        200,
        "settings/_preview.html",
        title="Preview",
        preview=_preview_context(request.org, typed),
    )


def _save(request: PageRequest, key: str, changes: OrganisationChanges, notice: str) -> Page:

    try:
        request.services.organisations.update(request.account_id, request.org.id, changes)
    except InvalidInput as refused:
        forms = _forms(request)
        forms[key] = Form(section_fields(key), request.form, errors_of(refused.problems, section_fields(key)))
        return _page(request, 422, forms)
    return see_other(f"{request.org_path('settings')}#{key}", notice)


def _section_changes(request: PageRequest, key: str) -> tuple[OrganisationChanges | None, FormErrors]:
    """The PATCH of section `key`: only its fields, an emptied one cleared where it may be."""

    section = _BY_KEY[key]
    values = {name: list(posted) for name, posted in request.form.items()}
    if key == "numbering" and values.get("invoice_numbering.prefix", [""])[-1].strip() == "":
        values.pop("invoice_numbering.prefix", None)
        empty_prefix = "invoice_numbering.prefix" in request.form
    else:
        empty_prefix = False
    exponent = currency_exponent(request.org.default_currency)
    parsed, errors = parse(OrganisationChanges, values, exponent, section.blank)
    if parsed is None:
        return None, errors
    data = parsed.model_dump(mode="json", exclude_unset=True, include=set(section.names))
    if empty_prefix:
        data.setdefault("invoice_numbering", {})["prefix"] = ""
    # Only this section's fields: another section's absent group must not read as "cleared".
    return OrganisationChanges.model_validate(data), FormErrors()


def _post_section(request: PageRequest, key: str) -> Page:
    changes, errors = _section_changes(request, key)
    if changes is None:
        forms = _forms(request)
        forms[key] = Form(section_fields(key), request.form, errors)
        return _page(request, 422, forms)
    return _save(request, key, changes, _BY_KEY[key].saved)


def _save_section_route(key: str) -> None:
    """`POST …/settings/<key>`: the section's PATCH, or its form again with what was refused."""

    def save_section(organisation_id: str) -> Page:
        return _post_section(page_request(router), key)

    save_section.__name__ = save_section.__qualname__ = f"save_{key.replace('-', '_')}"
    router.post(f"{SETTINGS}/{key}")(save_section)


for _section in SECTIONS:
    if _section.key != "branding":  # its own route, below: it previews too
        _save_section_route(_section.key)


@router.post(SETTINGS + "/branding")
def save_branding(organisation_id: str) -> Page:
    """Saves the brand colour; with `preview=yes` (the Preview button, without script) only shows it."""
    request = page_request(router)
    if request.field("preview") == "yes":
        typed = request.field("branding.brand_colour")
        forms = _forms(request)
        forms["branding"].values = {**forms["branding"].values, "branding.brand_colour": [typed]}
        return _page(request, 200, forms, preview=typed)
    return _post_section(request, "branding")


# The logo ---------------------------------------------------------------------------------------


def _logo_refused(request: PageRequest, message: str) -> Page:
    forms = _forms(request)
    forms["logo"] = Form((), {}, FormErrors({"logo": message}))
    return _page(request, 422, forms)


@router.post(SETTINGS + "/logo")
def upload_logo(organisation_id: str) -> Page:
    """The logo file of the multipart form, given to the same service as `PUT …/logo`."""
    request = page_request(router)

    uploads = request.files.get("logo") or []
    upload = uploads[-1] if uploads else None
    if upload is None or (not upload.filename and not upload.content):
        return _logo_refused(request, "choose an image file (PNG, JPEG or SVG)")
    content_type = upload.content_type
    if content_type not in LOGO_TYPES:
        # Some browsers send application/octet-stream: the file's extension names its type then.
        content_type = mimetypes.guess_type(upload.filename)[0] or content_type
    try:
        request.services.organisations.upload_logo(
            request.account_id, request.org.id, upload.content, content_type, public_base_url(request)
        )
    except InvalidInput as refused:
        return _logo_refused(request, "; ".join(problem.message for problem in refused.problems))
    return see_other(f"{request.org_path('settings')}#branding", f"Logo {upload.filename} uploaded.")


@router.post(SETTINGS + "/logo/remove")
def remove_logo(organisation_id: str) -> Page:
    """The same service as `DELETE …/logo`, once confirmed."""
    request = page_request(router)
    back = f"{request.org_path('settings')}#branding"
    page = confirm(
        request,
        "Remove the logo?",
        "Remove logo",
        back=back,
        detail="Invoices issued from now on, and pages and emails of the organisation, show no logo; "
        "invoices already issued keep the logo they were issued with.",
    )
    if page:
        return page
    request.services.organisations.remove_logo(request.account_id, request.org.id)
    return see_other(back, "Logo removed.")


# The card provider ------------------------------------------------------------------------------


@router.post(SETTINGS + "/card-provider")
def connect_provider(organisation_id: str) -> Page:
    """`PUT …/payment_provider`: the keys go to the secret store; the page never shows them again."""
    request = page_request(router)

    connect, errors = parse(ConnectPaymentProvider, request.form)
    if connect is not None:
        try:
            request.services.card_payments.connect(request.account_id, request.org.id, connect)
        except InvalidInput as refused:
            errors = errors_of(refused.problems, _provider_fields())
        else:
            return see_other(
                f"{request.org_path('settings')}#card-provider",
                f"Card payments connected ({connect.provider}).",
            )
    forms = _forms(request)
    # What was typed comes back, except the secrets: never echoed into a page.
    typed = {name: values for name, values in request.form.items() if name == "provider"}
    forms["card-provider"] = Form(_provider_fields(), typed, errors)
    return _page(request, 422, forms)


@router.post(SETTINGS + "/card-provider/disconnect")
def disconnect_provider(organisation_id: str) -> Page:
    """`DELETE …/payment_provider`, once confirmed."""
    request = page_request(router)
    back = f"{request.org_path('settings')}#card-provider"
    page = confirm(
        request,
        "Disconnect the card provider?",
        "Disconnect",
        back=back,
        detail="Customers can no longer pay by card; the provider's keys are deleted.",
    )
    if page:
        return page
    request.services.card_payments.disconnect(request.account_id, request.org.id)
    return see_other(back, "Card provider disconnected: card payments are off.")
