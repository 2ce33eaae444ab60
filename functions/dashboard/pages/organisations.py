"""The signed-in home (the account's organisations, a new one) and an organisation's overview."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from babel.dates import format_date
from markupsafe import Markup

from dashboard.charts import bar_chart, bars
from dashboard.formats import babel_locale, money
from dashboard.forms import FormErrors, defaults_of, errors_of, fields_of, parse
from dashboard.page_request import PageRequest, page_request
from dashboard.rendering import Page, render, see_other
from remit.domain.errors import InvalidInput
from remit.domain.organisation import NewOrganisation

if TYPE_CHECKING:
    from remit.domain.organisation import Organisation

router = APIGatewayRouter()


@router.get("/")
def home() -> Page:
    request = page_request(router)

    values = {**defaults_of(NewOrganisation), "default_currency": ["EUR"]}
    return _home(request, 200, values, FormErrors(), NewOrganisation)


def _home(
    request: PageRequest, status: int, values: dict[str, list[str]], errors: FormErrors, model: type
) -> Page:
    organisations = request.services.organisations.list(request.account_id, 100, None).items
    return render(
        request,
        status,
        "home.html",
        title="Organisations",
        organisations=organisations,
        form_fields=fields_of(model),
        values=values,
        errors=errors,
        currency=None,
    )


@router.post("/organisations")
def create_organisation() -> Page:
    request = page_request(router)

    new, errors = parse(NewOrganisation, request.form)
    if new is not None:
        try:
            organisation = request.services.organisations.create(request.account_id, new)
        except InvalidInput as refused:
            errors = errors_of(refused.problems, fields_of(NewOrganisation))
        else:
            return see_other(f"/dashboard/organisations/{organisation.id}", f"{organisation.name} created.")
    return _home(request, 422, request.form, errors, NewOrganisation)


def _in(amount: int, currency: str, organisation: Organisation) -> str:
    return money(amount, currency, organisation)


@router.get("/organisations/<organisation_id>")
def overview(organisation_id: str) -> Page:
    """Per currency: outstanding, overdue, uncollectible, paid in the last 30 days and revenue by
    month (a chart and the same figures as a table), and the invoices needing attention.
    """
    request = page_request(router)

    figures = request.services.overview.figures(request.account_id, request.org.id)
    locale = babel_locale(request.org)
    colour = request.org.branding.brand_colour or "#0969da"
    charts = {}
    for currency in figures.currencies:
        values = [
            (str(format_date(month.month, "MMM yy", locale=locale)), max(month.amount, 0))
            for month in currency.revenue_by_month
        ]
        written = bars(values, partial(_in, currency=currency.currency, organisation=request.org))
        title = f"Revenue by month in {currency.currency}, the last 12 months"
        charts[currency.currency] = Markup(bar_chart(written, title, colour))  # noqa: S704 - built escaped
    return render(
        request,
        200,
        "overview.html",
        title=request.org.name,
        section="Overview",
        figures=figures,
        charts=charts,
    )
