"""Mail throughput: what queuing an owed email costs the stream, and what sending it costs a worker.

Owed emails reach customers in two steps (docs/operations.md, "Mail"): the notifications function
queues each new outbox item from the table's stream (one SQS call per ten), and the send worker,
as many at once as `SendMaximumConcurrency` allows, renders or fetches the invoice's PDF and sends
the email. Both are measured here with the real handlers, in one run, against the local stack's
embedded AWS emulation (moto in server mode, on loopback, with Remit's patches):

* queue: the notifications function's handler, given the stream records of the outbox items in
  batches of the stream mapping's `BatchSize`;
* send, PDF rendered: the send worker's handler over the send queue in batches of `SendBatchSize`,
  each invoice's PDF drawn (fpdf2) and stored on the way, as for an invoice's first email;
* send, PDF stored: the same emails owed again (re-queued by hand, as an operator would), each
  PDF now read from the bucket, as for a reminder or a second email of the same revision.

From these, emails a second on paper: one worker sends `1 / seconds per email`; the queue feeds
`SendMaximumConcurrency` of them at once (the template's default, and the most Lambda allows),
bounded in AWS by the account's SES send rate. The emulation runs every call in this one process,
so the figures are per invocation, not a parallel measurement.

    python -m benchmarks mail [--emails 60]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import time
from typing import Any

# The most invocations one SQS event source mapping runs at once (Lambda's MaximumConcurrency).
MOST_CONCURRENCY = 1000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks mail", description=__doc__)
    parser.add_argument("--emails", type=int, default=60, help="owed invoice emails (default 60)")
    args = parser.parse_args(argv)
    from local.aws_emulation import AwsEmulation
    from local.cloudformation import load_template, parameter_value
    from local.environment import export_remit_environment

    template = load_template()
    send_mapping = template["Resources"]["SendWorkerFunction"]["Properties"]["Events"]["OwedEmails"]
    send_batch = int(parameter_value(send_mapping["Properties"]["BatchSize"], template))
    concurrency = int(
        parameter_value(send_mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"], template)
    )
    stream_mapping = template["Resources"]["NotificationsFunction"]["Properties"]["Events"]["OutboxStream"]
    stream_batch = int(stream_mapping["Properties"]["BatchSize"])

    emulation = AwsEmulation()
    emulation.start()
    try:
        export_remit_environment(emulation.endpoint_url, public_base_url="http://127.0.0.1:3000")
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        emulation.provision()
        emulation.verify_sender(os.environ["REMIT_MAIL_FROM"])
        from remit.bootstrap import reset

        reset()
        # The handlers print their metrics (EMF) to stdout, as Lambda wants; keep the figures readable.
        with contextlib.redirect_stdout(io.StringIO()):
            org, items = _owed_emails(args.emails)
            queued = _queue(items, stream_batch)
            rendered = _send(send_batch)
            _owe_again(org, items)
            _queue(items, stream_batch)
            stored = _send(send_batch)
    finally:
        emulation.stop()
    print(f"queue: the stream's batch of {stream_batch}, per email   {queued * 1000:8.1f} ms")
    print(f"send, PDF rendered, per email            {rendered * 1000:8.1f} ms  (batches of {send_batch})")
    print(f"send, PDF stored, per email              {stored * 1000:8.1f} ms")
    print(f"one stream shard queues                  {1 / queued:8.0f} emails/s", end="")
    print(f" (sending them itself: {1 / rendered:.1f})")
    for label, workers in (("default", concurrency), ("most", MOST_CONCURRENCY)):
        print(
            f"send workers at once: {workers:4d} ({label})       "
            f"{workers / rendered:8.0f} to {workers / stored:.0f} emails/s on paper, "
            "capped by the SES send rate"
        )
    return 0


def _owed_emails(count: int) -> tuple[str, list[dict[str, Any]]]:
    """`count` invoices sent through the API, each owing its email: the organisation and outbox items."""
    import boto3

    from local.environment import BILLING_TABLE
    from remit.adapters.dynamodb import from_attributes
    from remit.bootstrap import services
    from tests.integration.api_client import ApiClient

    api = ApiClient(services().accounts.create_account("Mail").api_key)
    organisation = {"name": "Acme Ltd", "default_currency": "EUR", "email": "billing@acme.test"}
    org = api.post("/v1/organisations", organisation).json()["id"]
    base = f"/v1/organisations/{org}"
    customer = api.post(f"{base}/customers", {"name": "Globex", "email": "ap@globex.test"}).json()["id"]
    for _ in range(count):
        body = {
            "customer_id": customer,
            "line_items": [{"description": "Consulting", "quantity": "2", "unit_amount": 12000}],
        }
        draft = api.post(f"{base}/invoices", body).json()["id"]
        response = api.post(f"{base}/invoices/{draft}/send")
        if response.status != 200:
            raise RuntimeError(f"sending an invoice answered {response.status}: {response.body}")
    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {
        "TableName": BILLING_TABLE,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :outbox)",
        "ExpressionAttributeValues": {":pk": {"S": f"ORG#{org}"}, ":outbox": {"S": "OUTBOX#"}},
    }
    while True:
        page = client.query(**request)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    if len(items) != count or any(from_attributes(item)["status"] != "pending" for item in items):
        raise RuntimeError(f"expected {count} owed emails, found {len(items)}")
    return org, items


def _queue(items: list[dict[str, Any]], batch: int) -> float:
    """Seconds per email for the notifications function to queue the items' stream records."""
    from notifications.app import lambda_handler as notify

    records = [
        {
            "eventID": str(number),
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "eu-west-1",
            "dynamodb": {
                "Keys": {"PK": item["PK"], "SK": item["SK"]},
                "NewImage": item,
                "SequenceNumber": str(number),
            },
            "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/remit-billing/stream/bench",
        }
        for number, item in enumerate(items)
    ]
    started = time.perf_counter()
    for start in range(0, len(records), batch):
        response = notify({"Records": records[start : start + batch]}, _Context())
        if response["batchItemFailures"]:
            raise RuntimeError(f"queuing failed: {response}")
    return (time.perf_counter() - started) / len(records)


def _send(batch: int) -> float:
    """Seconds per email for the send worker to send everything in the send queue."""
    import boto3

    from local.aws_emulation import sent_emails
    from notifications.sender import lambda_handler as send

    sqs, url = boto3.client("sqs"), os.environ["REMIT_SEND_QUEUE_URL"]
    before = len(sent_emails())
    started = time.perf_counter()
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch).get("Messages", []):
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:remit-send",
                    "awsRegion": "eu-west-1",
                }
                for m in messages
            ]
        }
        if send(event, _Context())["batchItemFailures"]:
            raise RuntimeError("the send worker failed some emails")
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    elapsed = time.perf_counter() - started
    sent = len(sent_emails()) - before
    if sent == 0:
        raise RuntimeError("the send worker sent nothing")
    return elapsed / sent


def _owe_again(org: str, items: list[dict[str, Any]]) -> None:
    """Set each sent email back to `pending`, as an operator re-queues one by hand."""
    import boto3

    from local.environment import BILLING_TABLE

    client = boto3.client("dynamodb")
    for item in items:
        client.update_item(
            TableName=BILLING_TABLE,
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="SET #status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":pending": {"S": "pending"}},
        )


class _Context:
    function_name = "remit-send-worker"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:remit-send-worker"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000
