"""Emails through Amazon SES (API v2), as raw MIME messages so they can carry the invoice PDF.

Every message goes out from the one verified sender address (`REMIT_MAIL_FROM`) under the
organisation's name, with replies going to the organisation's own address:

    From: Acme Ltd <invoices@remit.example>        (quoted or encoded when the name needs it)
    Reply-To: billing@acme.test

The MIME tree is multipart/mixed: a multipart/alternative (plain text, then HTML) and the
attachments. Built with the standard library's `email` package, which encodes non-ASCII headers
and bodies and refuses line breaks in headers; it is imported on first send, since every function
that wires this adapter but sends nothing (the API) would otherwise pay for it at cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from remit.domain.documents import OutgoingEmail

if TYPE_CHECKING:
    from email.message import EmailMessage

    from mypy_boto3_sesv2 import SESV2Client


def _one_line(text: str) -> str:
    return " ".join(text.split())


def mime_message(outgoing: OutgoingEmail, mail_from: str) -> EmailMessage:
    """The email as a MIME message from `mail_from`, under the sender's name."""
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.policy import SMTP
    from email.utils import formatdate

    message = EmailMessage(policy=SMTP)
    username, _, domain = mail_from.partition("@")
    message["From"] = Address(display_name=_one_line(outgoing.sender_name), username=username, domain=domain)
    message["To"] = ", ".join(outgoing.to)
    if outgoing.reply_to:
        message["Reply-To"] = outgoing.reply_to
    message["Subject"] = _one_line(outgoing.subject)
    message["Date"] = formatdate(usegmt=True)
    # Quoted-printable keeps the message 7-bit and its lines under SMTP's 998 characters, however
    # long the lines of the rendered HTML are.
    message.set_content(outgoing.text, cte="quoted-printable")
    message.add_alternative(outgoing.html, subtype="html", cte="quoted-printable")
    for attachment in outgoing.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


class SesMailer:
    """Sends through SES v2 `SendEmail` with raw content. The client is created on first use."""

    def __init__(
        self,
        client_factory: Callable[[], SESV2Client],
        mail_from: str,
        configuration_set: str | None = None,
    ) -> None:
        self._client_factory = client_factory
        self._client: SESV2Client | None = None
        self._mail_from = mail_from
        self._configuration_set = configuration_set or None

    @property
    def _ses(self) -> SESV2Client:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def send(self, email: OutgoingEmail) -> str:
        """Hand the email to SES and return SES's message id. Raises SES's error when it refuses it."""
        if not self._mail_from:
            raise ValueError("no sender address is configured (REMIT_MAIL_FROM)")
        message = mime_message(email, self._mail_from)
        request: dict[str, Any] = {
            # The envelope sender; the From header adds the organisation's name.
            "FromEmailAddress": self._mail_from,
            "Destination": {"ToAddresses": list(email.to)},
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        response = self._ses.send_email(**request)
        return response["MessageId"]
