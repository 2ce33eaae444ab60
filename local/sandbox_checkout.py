"""`/_dev/sandbox/checkout/<session id>`: the sandbox provider's card page (local stack only).

`GET` shows a card form for a session the sandbox gateway created; `POST` pays it. Card
4242 4242 4242 4242 succeeds and 4000 0000 0000 0002 is declined: the outcome is posted, as a
Stripe-format event signed with the organisation's webhook secret, to the stack's own
`/webhooks/stripe/<org id>`, the path a real Stripe event takes. This runs in the front, never in
the API function, so calling the stack from here cannot wait on itself; the post still goes from
a thread of its own so that it queues for the gate like any other request.
"""

from __future__ import annotations

import html
import threading
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

import boto3

from local.http_messages import HttpRequest, HttpResponse
from local.sandbox_gateway import (
    CHECKOUT_PATH,
    DECLINED_CARD,
    SUCCEEDING_CARD,
    SandboxGateway,
    checkout_events,
    deliver_event,
    setup_events,
)
from remit.adapters.dynamodb import DynamoTable
from remit.adapters.money_format import format_money
from remit.adapters.secrets_manager import SecretsManagerProviderSecrets
from remit.bootstrap import SystemClock
from remit.config import settings
from remit.observability import logger

PATH_PREFIX = CHECKOUT_PATH.rstrip("/")
# Long enough for the webhook to be applied in the usual case, so the page the customer lands on
# already shows the payment; short enough never to hold the request for long if it is not.
_DELIVERY_WAIT_SECONDS = 5.0


@cache
def _sandbox() -> SandboxGateway:
    config = settings()
    table = DynamoTable(lambda: boto3.client("dynamodb"), config.billing_table)
    return SandboxGateway(table, lambda: config.public_base_url, SystemClock())


@cache
def _secrets() -> SecretsManagerProviderSecrets:
    return SecretsManagerProviderSecrets(lambda: boto3.client("secretsmanager"), settings().secrets_prefix)


def show_checkout(request: HttpRequest) -> HttpResponse:
    """`GET`: the card form of the session, or 404."""
    session = _sandbox().session(_session_id(request))
    if session is None:
        return _page(404, _not_found())
    return _page(200, _form(session))


def pay(request: HttpRequest) -> HttpResponse:
    """`POST` the form: deliver the card's outcome by webhook and send the customer back to the invoice."""
    session = _sandbox().session(_session_id(request))
    if session is None:
        return _page(404, _not_found())
    form = dict(parse_qsl(request.body.decode("utf-8", "replace")))
    card = "".join(form.get("card_number", "").split())
    if card not in (SUCCEEDING_CARD, DECLINED_CARD) or not form.get("expiry") or not form.get("cvc"):
        error = "Use 4242 4242 4242 4242 (succeeds) or 4000 0000 0000 0002 (declined), any expiry and CVC."
        return _page(422, _form(session, error))
    if session.get("mode") == "setup":
        return _save_card(session, card, form.get("expiry", ""))
    hosted_page = str(session["cancel_url"]).split("?", 1)[0]
    if session.get("completed_at"):
        return _see_other(str(session["success_url"]))
    credentials = _secrets().get(str(session["organisation_id"]))
    if credentials is None or credentials.provider != "sandbox":
        return _page(409, _message("The sandbox provider is no longer connected", hosted_page))
    if card == SUCCEEDING_CARD and not _sandbox().complete(str(session["session_id"])):
        return _see_other(str(session["success_url"]))
    events = checkout_events(session, card)
    secret = credentials.webhook_secret.get_secret_value()
    delivery = threading.Thread(
        target=_deliver,
        args=(str(session["organisation_id"]), events, secret),
        name="sandbox-checkout",
        daemon=True,
    )
    delivery.start()
    delivery.join(_DELIVERY_WAIT_SECONDS)
    if card == DECLINED_CARD:
        return _see_other(f"{hosted_page}?checkout=declined")
    return _see_other(str(session["success_url"]))


def _save_card(session: dict[str, Any], card: str, expiry: str) -> HttpResponse:
    """A card setup: 4242… is saved, 0002 declined; either way the outcome goes by signed webhook."""
    back = str(session["success_url"])
    if session.get("completed_at"):
        return _see_other(_with_query(back, "card_setup=success"))
    credentials = _secrets().get(str(session["organisation_id"]))
    if credentials is None or credentials.provider != "sandbox":
        return _page(409, _message("The sandbox provider is no longer connected", back))
    if card == SUCCEEDING_CARD and not _sandbox().complete(str(session["session_id"])):
        return _see_other(_with_query(back, "card_setup=success"))
    delivery = threading.Thread(
        target=_deliver,
        args=(
            str(session["organisation_id"]),
            setup_events(session, card, expiry),
            credentials.webhook_secret.get_secret_value(),
        ),
        name="sandbox-card-setup",
        daemon=True,
    )
    delivery.start()
    delivery.join(_DELIVERY_WAIT_SECONDS)
    outcome = "declined" if card == DECLINED_CARD else "success"
    return _see_other(_with_query(back, f"card_setup={outcome}"))


def _with_query(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _deliver(organisation_id: str, events: list[dict[str, Any]], webhook_secret: str) -> None:
    base_url = settings().public_base_url
    for event in events:
        try:
            status = deliver_event(base_url, organisation_id, event, webhook_secret)
        except Exception:
            logger.exception("Posting the sandbox webhook failed")
            return
        if status >= 300:
            logger.warning("The sandbox webhook was not accepted", extra={"status": status})


def _session_id(request: HttpRequest) -> str:
    return request.path.rstrip("/").removeprefix(PATH_PREFIX + "/")


def _see_other(location: str) -> HttpResponse:
    return HttpResponse(303, [("Location", location), ("Cache-Control", "no-store")])


def _page(status: int, body: str) -> HttpResponse:
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox checkout</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #F3F4F6; color: #111827; margin: 0; }}
main {{ max-width: 26rem; margin: 2rem auto; background: #FFF; border: 1px solid #D1D5DB;
  border-radius: 12px; padding: 1.5rem; }}
.badge {{ display: inline-block; background: #FEF3C7; color: #78350F; border-radius: 999px;
  padding: 0.125rem 0.625rem; font-size: 0.8125rem; font-weight: 600; }}
label {{ display: block; font-weight: 600; margin: 1rem 0 0.25rem; }}
input {{ width: 100%; box-sizing: border-box; font-size: 1rem; padding: 0.625rem;
  border: 1px solid #6B7280; border-radius: 8px; }}
.row {{ display: flex; gap: 1rem; }} .row > div {{ flex: 1; }}
button {{ margin-top: 1.5rem; width: 100%; font-size: 1rem; font-weight: 600; padding: 0.75rem;
  background: #1D4ED8; color: #FFF; border: 0; border-radius: 8px; cursor: pointer; }}
.error {{ background: #FEE2E2; color: #7F1D1D; padding: 0.75rem; border-radius: 8px; }}
.hint {{ color: #4B5563; font-size: 0.875rem; }}
</style></head>
<body><main>{body}</main></body></html>"""
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
    ]
    return HttpResponse(status, headers, document.encode())


# The card's fields, as both forms (a payment, a card to save) ask for them.
_CARD_FIELDS = """<label for="card_number">Card number</label>
<input id="card_number" name="card_number" inputmode="numeric" autocomplete="cc-number"
  placeholder="4242 4242 4242 4242" required>
<div class="row">
<div><label for="expiry">Expiry (MM/YY)</label>
<input id="expiry" name="expiry" autocomplete="cc-exp" placeholder="12/34" required></div>
<div><label for="cvc">CVC</label>
<input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc" placeholder="123" required></div>
</div>"""


def _form(session: dict[str, Any], error: str | None = None) -> str:
    if session.get("mode") == "setup":
        return _setup_form(session, error)
    amount = format_money(int(session["amount"]), str(session["currency"]))
    number = html.escape(str(session["invoice_number"]))
    action = html.escape(f"{PATH_PREFIX}/{session['session_id']}")
    cancel = html.escape(str(session["cancel_url"]))
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return f"""<span class="badge">Sandbox: no real card is charged</span>
<h1>Pay {html.escape(amount)}</h1>
<p>Invoice {number}</p>
{alert}
<form method="post" action="{action}">
{_CARD_FIELDS}
<button type="submit">Pay {html.escape(amount)}</button>
</form>
<p class="hint">4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined.</p>
<p><a href="{cancel}">Cancel and go back to the invoice</a></p>"""


def _setup_form(session: dict[str, Any], error: str | None) -> str:
    action = html.escape(f"{PATH_PREFIX}/{session['session_id']}")
    back = html.escape(str(session["cancel_url"]))
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return f"""<span class="badge">Sandbox: no real card is saved</span>
<h1>Save a card</h1>
<p>The card is kept for future payments; nothing is charged now.</p>
{alert}
<form method="post" action="{action}">
{_CARD_FIELDS}
<button type="submit">Save card</button>
</form>
<p class="hint">4242 4242 4242 4242 is saved; 4000 0000 0000 0002 is declined.</p>
<p><a href="{back}">Cancel</a></p>"""


def _not_found() -> str:
    return "<h1>Checkout not found</h1><p>This sandbox checkout does not exist.</p>"


def _message(title: str, hosted_page: str) -> str:
    back = html.escape(hosted_page)
    return f'<h1>{html.escape(title)}</h1><p><a href="{back}">Back to the invoice</a></p>'
