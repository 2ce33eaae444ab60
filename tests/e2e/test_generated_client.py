"""A client generated from the stack's `/openapi.json` by `openapi-python-client` does the basic job:
an organisation, a customer and an invoice with a line, finalized and read back.

The client is generated into a temporary folder and imported from there as the package
`remit_client` (docs/clients.md says how to generate one by hand).
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import requests

from tests.e2e.local_stack import RunningLocalStack

pytestmark = pytest.mark.e2e

PACKAGE = "remit_client"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
# The generator knows no `application/pdf` or image types: the PDF and the logo are `File`s of
# bytes. Enums as literal strings: time zone names (`Etc/GMT0`, `GMT0`) would collide as class
# members. No post hooks: the generated code is imported, not kept, so it needs no formatting.
CONFIG = f"""
package_name_override: {PACKAGE}
literal_enums: true
content_type_overrides:
  application/pdf: application/octet-stream
  image/png: application/octet-stream
  image/jpeg: application/octet-stream
  image/svg+xml: application/octet-stream
post_hooks: []
"""


@pytest.fixture(scope="module")
def generated(stack: RunningLocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, imported; removed from `sys.modules` afterwards."""
    folder = tmp_path_factory.mktemp("generated-client")
    document = requests.get(stack.url("/openapi.json"), timeout=30)
    assert document.status_code == 200, document.text
    (folder / "openapi.json").write_bytes(document.content)
    (folder / "config.yml").write_text(CONFIG)
    generation = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(folder / "openapi.json"),
            "--config",
            str(folder / "config.yml"),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = generation.stdout + generation.stderr
    assert generation.returncode == 0, report
    # A warning means a part of the document was left out of the client.
    assert "Warning(s) encountered" not in report, report
    spec = importlib.util.spec_from_file_location(
        PACKAGE, folder / PACKAGE / "__init__.py", submodule_search_locations=[str(folder / PACKAGE)]
    )
    assert spec is not None
    assert spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    try:
        spec.loader.exec_module(package)
        yield package
    finally:
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def operation(group: str, name: str) -> Any:
    """The generated module of one operation, e.g. `operation("invoices", "finalize_invoice")`."""
    package = importlib.import_module(f"{PACKAGE}.api.{group}")
    folder = Path(package.__file__ or "").parent
    # Named after the operation id: the route's name, followed by its path and method when Powertools
    # made the id (`get_invoice_v1_organisations_…_get`).
    stems = [path.stem for path in folder.glob(f"{name}*.py")]
    modules = [stem for stem in stems if stem == name or stem.startswith(f"{name}_v1_")]
    assert len(modules) == 1, (group, name, modules)
    return importlib.import_module(f"{PACKAGE}.api.{group}.{modules[0]}")


def test_a_generated_client_creates_an_organisation_a_customer_and_an_invoice_and_finalizes_it(
    stack: RunningLocalStack, generated: ModuleType
) -> None:
    # Given a client generated from the document, with the dev key
    models = importlib.import_module(f"{PACKAGE}.models")
    client = generated.AuthenticatedClient(base_url=stack.base_url, token=stack.dev_api_key)

    # When it creates an organisation, a customer and a draft with a line
    created = operation("organisations", "create_organisation").sync_detailed(
        client=client,
        body=models.NewOrganisation(
            name="Generated Ltd",
            default_currency="EUR",
            invoice_numbering=models.InvoiceNumberingChanges(prefix="GEN-", padding=4, next_number=7),
        ),
    )
    assert created.status_code == 201, created.content
    organisation = created.parsed
    customer = operation("customers", "create_customer").sync(
        organisation.id,
        client=client,
        body=models.NewCustomer(name="Globex GmbH", email="ap@globex.test", tax_rate="19"),
    )
    draft = operation("invoices", "create_invoice").sync(
        organisation.id,
        client=client,
        body=models.NewInvoice(
            customer_id=customer.id,
            line_items=[models.NewLineItem(description="Widget", quantity="2", unit_amount=1000)],
            memo="Thank you",
        ),
    )

    # ...finalizes it and reads it back
    finalized = operation("invoices", "finalize_invoice").sync(organisation.id, draft.id, client=client)
    read = operation("invoices", "get_invoice").sync(organisation.id, draft.id, client=client)

    # Then every answer is the typed model, with the fields the API states
    assert isinstance(organisation, models.Organisation)
    assert organisation.id.startswith("org_")
    assert organisation.default_currency == "EUR"
    assert isinstance(customer, models.Customer)
    assert customer.id.startswith("cus_")
    assert customer.organisation_id == organisation.id
    assert isinstance(draft, models.Invoice)
    assert draft.status == "draft"
    assert draft.number is None
    assert isinstance(finalized, models.Invoice)
    assert isinstance(read, models.Invoice)
    assert read.id == finalized.id == draft.id
    assert read.status == "open"
    assert read.number == "GEN-0007"
    assert read.customer_id == customer.id
    assert [(line.description, line.quantity, line.amount) for line in read.line_items] == [
        ("Widget", "2", 2000)
    ]
    assert (read.subtotal, read.tax_total, read.total, read.amount_due) == (2000, 380, 2380, 2380)
    assert read.memo == "Thank you"
    assert read.issue_date is not None


def test_a_generated_client_reads_a_refusal_as_a_problem(
    stack: RunningLocalStack, generated: ModuleType
) -> None:
    # Given a client generated from the document
    models = importlib.import_module(f"{PACKAGE}.models")
    client = generated.AuthenticatedClient(base_url=stack.base_url, token=stack.dev_api_key)

    # When it asks for an invoice that does not exist
    answer = operation("invoices", "get_invoice").sync_detailed("org_missing", "inv_missing", client=client)

    # Then the 404 is parsed as the document's Problem
    assert answer.status_code == 404
    assert isinstance(answer.parsed, models.Problem)
    assert answer.parsed.status == 404
