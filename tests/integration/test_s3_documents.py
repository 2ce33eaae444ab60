"""Rendered invoice PDFs kept in S3 (moto), one object per invoice status."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from remit.adapters.s3_documents import S3DocumentStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BUCKET = "remit-documents-test"
PDF = b"%PDF-1.7\n% a rendered invoice\n%%EOF\n"


@pytest.fixture
def store() -> Iterator[S3DocumentStore]:
    with mock_aws():
        boto3.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield S3DocumentStore(lambda: boto3.client("s3"), BUCKET)


def test_a_stored_pdf_is_read_back_as_it_was_written(store: S3DocumentStore) -> None:
    store.put_pdf("org_1", "inv_1", "open", PDF)

    assert store.get_pdf("org_1", "inv_1", "open") == PDF


def test_a_pdf_is_stored_as_application_pdf_under_the_organisation_invoice_and_status(
    store: S3DocumentStore,
) -> None:
    store.put_pdf("org_1", "inv_1", "paid", PDF)

    stored = boto3.client("s3").get_object(Bucket=BUCKET, Key="invoices/org_1/inv_1/paid.pdf")
    assert stored["ContentType"] == "application/pdf"
    assert stored["Body"].read() == PDF


def test_a_pdf_never_stored_is_none(store: S3DocumentStore) -> None:
    assert store.get_pdf("org_1", "inv_missing", "open") is None


def test_each_status_keeps_its_own_rendering(store: S3DocumentStore) -> None:
    # Given the open rendering of an invoice, and later its paid one
    store.put_pdf("org_1", "inv_1", "open", PDF)
    store.put_pdf("org_1", "inv_1", "paid", PDF + b"PAID")

    # Then each status reads its own, and a status never rendered reads nothing
    assert store.get_pdf("org_1", "inv_1", "open") == PDF
    assert store.get_pdf("org_1", "inv_1", "paid") == PDF + b"PAID"
    assert store.get_pdf("org_1", "inv_1", "void") is None


def test_one_organisations_pdf_is_not_found_under_another(store: S3DocumentStore) -> None:
    store.put_pdf("org_1", "inv_1", "open", PDF)

    assert store.get_pdf("org_2", "inv_1", "open") is None


def test_the_s3_client_is_created_on_first_use_only() -> None:
    created: list[str] = []

    def client_factory() -> S3Client:
        created.append("s3")
        return boto3.client("s3")

    with mock_aws():
        boto3.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        store = S3DocumentStore(client_factory, BUCKET)
        assert created == []

        store.put_pdf("org_1", "inv_1", "open", PDF)
        store.get_pdf("org_1", "inv_1", "open")

    assert created == ["s3"]
