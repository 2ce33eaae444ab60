"""The signed-in home (the account's organisations, a new one) and an organisation's overview."""

from __future__ import annotations

from dashboard.forms import FormErrors, defaults_of, fields_of, parse
from dashboard.web import Page, Request, render, route, see_other


@route("GET", "")
def home(request: Request) -> Page:
    from remit.domain.organisation import NewOrganisation

    values = {**defaults_of(NewOrganisation), "default_currency": ["EUR"]}
    return _home(request, 200, values, FormErrors(), NewOrganisation)


def _home(
    request: Request, status: int, values: dict[str, list[str]], errors: FormErrors, model: type
) -> Page:
    from remit.bootstrap import services

    organisations = services().organisations.list(request.account_id, 100, None).items
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


@route("POST", "/organisations")
def create_organisation(request: Request) -> Page:
    from remit.bootstrap import services
    from remit.domain.errors import InvalidInput
    from remit.domain.organisation import NewOrganisation

    new, errors = parse(NewOrganisation, request.form)
    if new is not None:
        try:
            organisation = services().organisations.create(request.account_id, new)
        except InvalidInput as refused:
            from dashboard.forms import errors_of

            errors = errors_of(refused.problems, fields_of(NewOrganisation))
        else:
            return see_other(f"/dashboard/organisations/{organisation.id}", f"{organisation.name} created.")
    return _home(request, 422, request.form, errors, NewOrganisation)


@route("GET", "/organisations/{organisation_id}")
def overview(request: Request) -> Page:
    return render(request, 200, "organisation.html", title=request.org.name, section="Overview")
