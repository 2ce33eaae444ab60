"""`GET /_dev/outbox`: every email the stack has sent so far, newest last.

What a customer would have received: read from the emulated SES (in this process), not from
Remit's own outbox items, so it shows exactly what the mail service accepted.
Shape (as docs/development.md describes it):

    [{"to": [...], "subject": "…", "html": "…", "text": "…",
      "attachments": [{"filename": "…", "content_type": "…"}], "sent_at": "…"}]
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC
from email.message import EmailMessage
from typing import Any

from local.aws_emulation import sent_emails
from local.http_messages import HttpRequest, HttpResponse, json_response


def list_sent_emails(request: HttpRequest) -> HttpResponse:
    """`GET /_dev/outbox`: `200` with every email sent so far, oldest first."""
    return json_response(200, [sent_email(raw) for raw in sent_emails()])


def _body(part: Any) -> str:
    # The wire form ends lines with CRLF; show the body as it was written.
    return part.get_content().replace("\r\n", "\n") if isinstance(part, EmailMessage) else ""


def sent_email(raw: str) -> dict[str, Any]:
    """One sent email, as the dev endpoint shows it, from its raw MIME text."""
    message = email.message_from_string(raw, _class=EmailMessage, policy=email.policy.default)
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    recipients = message["To"]
    date = message["Date"]
    return {
        "to": [address.addr_spec for address in recipients.addresses] if recipients else [],
        "subject": str(message["Subject"] or ""),
        "html": _body(html),
        "text": _body(text),
        "attachments": [
            {"filename": part.get_filename(), "content_type": part.get_content_type()}
            for part in message.iter_attachments()
        ],
        "sent_at": date.datetime.astimezone(UTC).isoformat().replace("+00:00", "Z") if date else None,
    }
