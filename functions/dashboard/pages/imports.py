"""Customer imports: upload a file (a dry run first), see every row's problems and the suggested
mapping, change the mapping and check again, then import for real; watch the progress and read
the report.

Everything goes through `request.services.imports`, as the API's `/imports` routes do. The file is
uploaded once: checking again or importing reuses it (`import_again`). An import's page polls its
own progress with htmx while it runs; without script, a Refresh link does the same.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.forms import FormErrors
from dashboard.page_request import PageRequest, page_request
from dashboard.rendering import Page, query_string, render, see_other
from remit.domain.errors import InvalidInput
from remit.domain.import_mapping import CUSTOMER_FIELDS, PRESETS, Preset
from remit.domain.imports import CustomerImport

router = APIGatewayRouter()

SECTION = "Customers"
PAGE_SIZE = 20
POLL_SECONDS = 2
PRESET_LABELS = {
    "stripe_customers": "Stripe customers export",
    "invoiceninja_clients": "Invoice Ninja clients export",
}
# A column mapped to nothing is not imported.
NOT_IMPORTED = ""


def _imports_page(request: PageRequest, status: int, errors: FormErrors) -> Page:
    cursor = request.query.get("cursor") or None
    page = request.services.imports.list(request.account_id, request.org.id, PAGE_SIZE, cursor)
    return render(
        request,
        status,
        "imports/list.html",
        title="Import customers",
        section=SECTION,
        imports=page.items,
        presets=PRESET_LABELS,
        errors=errors,
        max_bytes=request.services.settings.max_import_bytes,
        next_link=query_string(cursor=page.next_cursor) if page.next_cursor else None,
        first_page=cursor is None,
    )


@router.get("/organisations/<organisation_id>/imports")
def imports(organisation_id: str) -> Page:
    return _imports_page(page_request(router), 200, FormErrors())


@router.post("/organisations/<organisation_id>/imports")
def upload(organisation_id: str) -> Page:
    """A dry run of the uploaded file: its problems and mapping are shown before anything is imported."""
    request = page_request(router)
    files = request.files.get("file") or []
    preset = request.field("preset").strip() or None
    if not files or not files[-1].content:
        return _imports_page(request, 422, FormErrors({"file": "Choose a file to import."}))
    if preset is not None and preset not in PRESETS:
        return _imports_page(request, 422, FormErrors({"preset": "Choose one of the listed exports."}))
    chosen: Preset | None = preset
    try:
        record = request.services.imports.import_file(
            request.account_id, request.org.id, files[-1].content, mapping=None, dry_run=True, preset=chosen
        )
    except InvalidInput as refused:
        messages = {problem.field.split(".", 1)[0]: problem.message for problem in refused.problems}
        return _imports_page(request, 422, FormErrors({"file": "; ".join(messages.values())}))
    return see_other(
        request.org_path("imports", record.id),
        "File uploaded: every row is being checked. Nothing is imported until you choose Import.",
    )


def _record_page(request: PageRequest, record: CustomerImport, status: int, errors: FormErrors) -> Page:
    context = {
        "section": SECTION,
        "record": record,
        "here": request.org_path("imports", record.id),
        "finished": record.status in ("completed", "failed"),
        "poll_seconds": POLL_SECONDS,
    }
    if request.htmx and status == 200:
        return render(request, 200, "imports/_progress.html", title="Progress", **context)
    known = [*CUSTOMER_FIELDS, *sorted({f for f in record.mapping.values() if f not in CUSTOMER_FIELDS})]
    return render(
        request,
        status,
        "imports/import.html",
        title=f"Import {record.id}",
        fields=known,
        not_imported=NOT_IMPORTED,
        errors=errors,
        **context,
    )


@router.get("/organisations/<organisation_id>/imports/<import_id>")
def import_page(organisation_id: str, import_id: str) -> Page:
    """The import's page; to htmx's poll (`HX-Request`), only its progress and report, which stop
    the polling once the import has finished by no longer carrying the trigger."""
    request = page_request(router)
    record = request.services.imports.get(request.account_id, request.org.id, import_id)
    return _record_page(request, record, 200, FormErrors())


@router.post("/organisations/<organisation_id>/imports/<import_id>")
def import_again(organisation_id: str, import_id: str) -> Page:
    """Check the file again with the mapping chosen (a dry run), or import it for real."""
    request = page_request(router)
    record = request.services.imports.get(request.account_id, request.org.id, import_id)
    mapping = None
    if record.columns:
        chosen = {
            column: request.field(f"map.{index}").strip() for index, column in enumerate(record.columns)
        }
        mapping = {column: field for column, field in chosen.items() if field != NOT_IMPORTED}
    dry_run = request.field("action") != "import"
    try:
        again = request.services.imports.import_again(
            request.account_id, request.org.id, record.id, mapping=mapping, dry_run=dry_run
        )
    except InvalidInput as refused:
        return _record_page(request, record, 422, FormErrors({}, [p.message for p in refused.problems]))
    notice = "Checking every row again with this mapping." if dry_run else "Importing in the background."
    return see_other(request.org_path("imports", again.id), notice)
