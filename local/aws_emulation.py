"""The embedded AWS: moto in server mode on loopback, inside this process, with Remit's resources."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from local import cloudformation
from local.environment import (
    BUCKETS,
    DUMMY_CREDENTIAL,
    HOST,
    QUEUES,
    REGION,
    TABLES,
    USER_POOL,
    USER_POOL_CLIENT,
    USER_POOL_NAME,
    queue_url,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sqs.client import SQSClient

    from local.moto_server import LocalMotoServer

logger = logging.getLogger(__name__)

_CLIENT_CONFIG = Config(retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"})


class AwsEmulation:
    """A moto server on `127.0.0.1` and a free port, started and stopped with the stack.

    All services (DynamoDB, S3, SES, SQS, Secrets Manager, …) answer on the one endpoint. State
    lives in memory only; `local.journal` keeps it across restarts.
    """

    def __init__(self) -> None:
        self._server: LocalMotoServer | None = None
        self.endpoint_url = ""

    def start(self) -> None:
        """Start the server and return once it accepts requests."""
        # moto is heavy to import and only the running stack needs it.
        from local.moto_server import LocalMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = LocalMotoServer(ip_address=HOST, port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        logger.debug("AWS emulation listening on %s", self.endpoint_url)

    def stop(self) -> None:
        """Stop the server and wait for its thread; safe to call when it never started."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def dynamodb(self) -> DynamoDBClient:
        """A DynamoDB client bound to the emulation, whatever the process environment says."""
        client: DynamoDBClient = self._client("dynamodb")
        return client

    def s3(self) -> S3Client:
        """An S3 client bound to the emulation, whatever the process environment says."""
        client: S3Client = self._client("s3")
        return client

    def sqs(self) -> SQSClient:
        """An SQS client bound to the emulation, whatever the process environment says."""
        client: SQSClient = self._client("sqs")
        return client

    def verify_sender(self, address: str) -> None:
        """Let the emulated SES send from `address`, as verifying the identity does in a real account."""
        self._client("sesv2").create_email_identity(EmailIdentity=address)

    def provision(self) -> dict[str, str]:
        """Create the tables and queues (from `template.yaml`) and buckets Remit needs; existing ones
        are kept. Returns the queues' URLs by logical id.

        Raises `RuntimeError` if a queue's URL is not the one `export_remit_environment` gave Remit.
        """
        cloudformation.create_tables(self.dynamodb(), TABLES)
        s3 = self.s3()
        existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
        for bucket in BUCKETS:
            if bucket not in existing:
                s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        urls = cloudformation.create_queues(self.sqs(), QUEUES)
        for logical_id, url in urls.items():
            if url != queue_url(self.endpoint_url, QUEUES[logical_id]):
                raise RuntimeError(f"the emulation put {logical_id} at {url}, not where Remit was told")
        return urls

    def provision_user_pool(self) -> tuple[str, str]:
        """Create the dashboard's user pool and app client (from `template.yaml`); return their ids.

        The emulation keeps no Cognito state between starts, so this makes a new pool each start
        (and the dev user is made again in it).
        """
        return cloudformation.create_user_pool(
            self._client("cognito-idp"), USER_POOL, USER_POOL_CLIENT, USER_POOL_NAME
        )

    def expire_items(self) -> None:
        """Delete the items whose time-to-live has passed (idempotency records), as DynamoDB does."""
        import time

        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        from local.moto_patches import expire_items

        now = time.time()
        for table in list(dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables.values()):
            expired = expire_items(table, now)
            if expired:
                logger.debug("expired %d items of %s", expired, table.name)

    def _client(self, service: str) -> Any:
        if not self.endpoint_url:
            raise RuntimeError("the AWS emulation has not been started")
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=DUMMY_CREDENTIAL,
            aws_secret_access_key=DUMMY_CREDENTIAL,
            config=_CLIENT_CONFIG,
        )


# The emulation runs in this process, so the stack may look inside moto where no AWS API reaches.


def sent_emails() -> list[str]:
    """The raw MIME text of every email the emulated SES has accepted so far, oldest first."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import RawMessage, ses_backends

    sent = list(ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages)
    return [message.raw_data for message in sent if isinstance(message, RawMessage)]


def read_stream_records(table_name: str, after: int | None, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` of the table's stream records after sequence number `after` (from the start if
    None), shaped as the Streams API's `GetRecords` answers them, read in this process.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(table_name).stream_shard
    if shard is None:
        return []
    first = shard.starting_sequence_number
    start = max(0, (after + 1 - first) if after is not None else 0)
    return [record.to_json() for record in shard.items[start : start + limit]]


def trim_stream(table_name: str, through_sequence_number: int) -> int:
    """Drop the table's stream records up to `through_sequence_number`, once they have been read.

    moto keeps every record (the old and the new item of every write) for as long as it runs.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from local.moto_patches import trim_stream as trim

    return trim(dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(table_name), through_sequence_number)
