"""The services as one caller may use them: every operation checked against the caller's
permissions (`remit.domain.roles`) before it runs.

The dashboard and the API reach the services only through `Services.acting_as(caller)`, so a
role (or a read-only key) is enforced here, whatever page or route asks. `OPERATIONS` names the
permission each public operation of each service needs; an operation it does not name, or names
with `SYSTEM`, is refused to every caller (it is done by Remit itself: the daily cycle, reminders,
webhooks, sign-in), so a new operation is closed until it is given a permission here (a test
checks that every public operation of every service is named).

A refusal raises `NotPermitted` before the operation runs: nothing is read or changed.
"""

from __future__ import annotations

from typing import Any, Final

from remit.domain.errors import NotPermitted
from remit.domain.roles import Caller, Permission

#: Done by Remit itself, never for a caller.
SYSTEM: Final = None

OPERATIONS: dict[str, Permission | None] = {
    # API keys and authentication
    "accounts.create_account": SYSTEM,
    "accounts.account_for_key": SYSTEM,
    "accounts.authenticate": SYSTEM,
    "accounts.list_keys": "read",
    "accounts.get_key": "read",
    "accounts.create_key": "keys.manage",
    "accounts.rename_key": "keys.manage",
    "accounts.revoke_key": "keys.manage",
    # People and one's own sign-in security
    "account_people.list": "read",
    "account_people.get": "read",
    "account_people.invite": "people.manage",
    "account_people.change_role": "people.manage",
    "account_people.remove": "people.manage",
    "account_people.start_totp": "sign_in.own",
    "account_people.confirm_totp": "sign_in.own",
    "account_people.totp_enabled": "sign_in.own",
    "dashboard_sessions.sign_in": SYSTEM,
    "dashboard_sessions.continue_sign_in": SYSTEM,
    "dashboard_sessions.pending_step": SYSTEM,
    "dashboard_sessions.current": SYSTEM,
    "dashboard_sessions.check_csrf": SYSTEM,
    "dashboard_sessions.sign_out": SYSTEM,
    "dashboard_sessions.end_sessions_of": SYSTEM,
    # Organisations and their settings
    "organisations.list": "read",
    "organisations.get": "read",
    "organisations.invoice_series": "read",
    "organisations.require_access": "read",
    # Served to anyone by URL (emails, hosted pages), never through a caller's services.
    "organisations.current_logo": SYSTEM,
    "organisations.create": "settings.write",
    "organisations.update": "settings.write",
    "organisations.upload_logo": "settings.write",
    "organisations.remove_logo": "settings.write",
    "card_payments.connect": "settings.write",
    "card_payments.disconnect": "settings.write",
    "overview.figures": "read",
    # Webhook endpoints: where an organisation's events go, and the secrets that sign them, are
    # settings (owner, admin, a full API key); every role reads them (never a secret).
    "webhook_endpoints.list": "read",
    "webhook_endpoints.get": "read",
    "webhook_endpoints.create": "settings.write",
    "webhook_endpoints.update": "settings.write",
    "webhook_endpoints.delete": "settings.write",
    "webhook_endpoints.rotate_secret": "settings.write",
    # Webhook deliveries: the attempt log is read by every role; sending an event again is a
    # setting's power (it reaches the organisation's own systems). Fan-out and attempts are Remit's.
    "webhook_deliveries.attempts": "read",
    "webhook_deliveries.resend": "settings.write",
    "webhook_deliveries.replay": "settings.write",
    "webhook_deliveries.send_test": "settings.write",
    "webhook_deliveries.fan_out": SYSTEM,
    "webhook_deliveries.deliver": SYSTEM,
    # Events: what changed, for a program catching up
    "events.get": "read",
    "events.list": "read",
    "events.customer_timeline": "read",
    # Customers, charges, credit balance
    "customers.list": "read",
    "customers.search": "read",
    "customers.get": "read",
    "customers.create": "billing.write",
    "customers.update": "billing.write",
    "customers.delete": "billing.write",
    # Done for the signed-in customer by the portal, never for a caller.
    "customers.update_by_customer": SYSTEM,
    # The customer portal: a platform that signs its customers in itself makes them a link (as
    # billing people do); the rest is the portal's own, for its signed-in customer.
    "portal.issue_link": "billing.write",
    "portal.portal_of": SYSTEM,
    "portal.request_link": SYSTEM,
    "portal.sign_in": SYSTEM,
    "portal.current": SYSTEM,
    "portal.sign_out": SYSTEM,
    "portal_account.statement": SYSTEM,
    "portal_account.invoice": SYSTEM,
    "portal_account.invoice_pdf": SYSTEM,
    "portal_account.invoice_einvoice": SYSTEM,
    "portal_account.credit_note_pdf": SYSTEM,
    "portal_account.pay_invoice": SYSTEM,
    "portal_account.change_details": SYSTEM,
    # Customer imports: importing creates and changes customers, as `customers.create` does.
    "imports.get": "read",
    "imports.list": "read",
    "imports.import_file": "billing.write",
    "imports.import_rows": "billing.write",
    "imports.import_again": "billing.write",
    "imports.process": SYSTEM,
    "charges.list_charges": "read",
    "charges.create": "billing.write",
    "charges.delete": "billing.write",
    "payments.list_payments": "read",
    "payments.list_received": "read",
    "payments.balance_transactions": "read",
    "payments.record_offline_payment": "billing.write",
    "payments.adjust_balance": "billing.write",
    # Invoices
    "invoices.list_invoices": "read",
    "invoices.list_issued": "read",
    "invoices.get": "read",
    "invoices.events": "read",
    "invoices.create_draft": "billing.write",
    "invoices.update_draft": "billing.write",
    "invoices.delete_draft": "billing.write",
    "invoices.draft_for": SYSTEM,
    "invoices.stage_new_invoice": SYSTEM,
    "invoice_lifecycle.finalize": "billing.write",
    "invoice_lifecycle.void": "billing.write",
    "invoice_lifecycle.mark_uncollectible": "billing.write",
    "invoice_lifecycle.stage_finalization": SYSTEM,
    "invoice_lifecycle.stage_numbered_finalization": SYSTEM,
    "sending.send": "billing.write",
    "credit_notes.preview": "read",
    "credit_notes.issue": "billing.write",
    "credit_notes.get": "read",
    "credit_notes.list_credit_notes": "read",
    "credit_notes.list_issued": "read",
    "credit_notes.of_invoice": "read",
    "credit_notes.list_refunds": "read",
    "credit_notes.void": "billing.write",
    "refunds.send": SYSTEM,
    "refunds.sweep": SYSTEM,
    "refunds.apply_outcome": SYSTEM,
    "refunds.apply_event": SYSTEM,
    "sending.stage_sending": SYSTEM,
    "card_payments.attempt_card": "billing.write",
    "card_payments.start_checkout": SYSTEM,
    "card_payments.start_checkout_for_invoices": SYSTEM,
    "card_payments.connected_gateway": SYSTEM,
    # Saved cards: the account's users and keys through the API and dashboard; the customer's own
    # (by customer, unchecked here) only through the portal, which acts for no account.
    "saved_cards.cards_of": "read",
    "saved_cards.remove": "billing.write",
    "saved_cards.make_default": "billing.write",
    "saved_cards.list_cards": SYSTEM,
    "saved_cards.start_card_setup": SYSTEM,
    "saved_cards.remove_card": SYSTEM,
    "saved_cards.set_default_card": SYSTEM,
    "saved_cards.apply_card_saved": SYSTEM,
    "card_payments.credentials": SYSTEM,
    "card_payments.gateway": SYSTEM,
    "documents.pdf": "read",
    "documents.document": SYSTEM,
    "documents.pdf_of": SYSTEM,
    "documents.render_and_store": SYSTEM,
    "documents.logo": SYSTEM,
    "documents.hosted_logo": SYSTEM,
    "documents.hosted_page": SYSTEM,
    "documents.hosted_pdf": SYSTEM,
    "documents.not_found_page": SYSTEM,
    "documents.credit_note_pdf": "read",
    "documents.credit_note_document": SYSTEM,
    "documents.credit_note_pdf_of": SYSTEM,
    "documents.hosted_credit_note_pdf": SYSTEM,
    # E-invoices: downloads (which keep the validation report) read; the checks run inside finalizing
    "einvoices.invoice_einvoice": "read",
    "einvoices.credit_note_einvoice": "read",
    "einvoices.check": SYSTEM,
    "einvoices.check_credit_note": SYSTEM,
    # Billing templates, bulk billing, subscriptions
    "billing_runs.list_templates": "read",
    "billing_runs.template": "read",
    "billing_runs.list_runs": "read",
    "billing_runs.run": "read",
    "billing_runs.create_template": "billing.write",
    "billing_runs.update_template": "billing.write",
    "billing_runs.delete_template": "billing.write",
    "billing_runs.send_template_invoice": "billing.write",
    "billing_runs.bill_customers": "billing.write",
    "billing_runs.run_of": SYSTEM,
    "subscriptions.list": "read",
    "subscriptions.get": "read",
    "subscriptions.upcoming": "read",
    "subscriptions.create": "billing.write",
    "subscriptions.update": "billing.write",
    "subscriptions.activate": "billing.write",
    "subscriptions.pause": "billing.write",
    "subscriptions.resume": "billing.write",
    "subscriptions.cancel": "billing.write",
    # Exports: the books as files, for an accountant or another system. Reading them is reading
    # the documents they hold, so every role and key that reads may export.
    "exports.accounting_csv": "read",
    "exports.organisation_jsonl": "read",
    # The background work
    "notifications.deliver": SYSTEM,
    "notifications.sweep": SYSTEM,
    "notifications.queue_for_sending": SYSTEM,
    "card_events.handle": SYSTEM,
    "billing_cycle.split_day": SYSTEM,
    "billing_cycle.plan_part": SYSTEM,
    "billing_cycle.planned": SYSTEM,
    "billing_cycle.process": SYSTEM,
    "billing_cycle.issue_together": SYSTEM,
    "billing_cycle.complete_runs": SYSTEM,
    "reminders.split_day": SYSTEM,
    "reminders.plan_part": SYSTEM,
    "reminders.planned": SYSTEM,
    "reminders.send": SYSTEM,
    "reminders.reschedule": SYSTEM,
    "reminders.reschedule_all": SYSTEM,
    "reminders.run_of": SYSTEM,
}

#: What the caller's view passes through unchecked: configuration, not an operation on data.
UNCHECKED = frozenset({"settings"})


def permission_for(operation: str) -> Permission | None:
    """The permission `operation` ("service.method") needs; None: no caller may (fails closed)."""
    return OPERATIONS.get(operation, SYSTEM)


def check(caller: Caller, operation: str) -> None:
    """Raise `NotPermitted` unless `caller` may do `operation` ("service.method")."""
    permission = permission_for(operation)
    if permission is None:
        raise NotPermitted(f"{operation} is done by Remit itself, never for a caller.")
    caller.check(permission)


class CallerServices:
    """The process's services as `caller` may use them (see the module). Attribute for attribute
    the same as `Services`; each operation is checked when it is looked up, before it runs.
    """

    def __init__(self, services: Any, caller: Caller) -> None:
        self._services = services
        self.caller = caller

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in UNCHECKED:
            return getattr(self._services, name)
        return _CheckedService(name, getattr(self._services, name), self.caller)


class _CheckedService:
    def __init__(self, name: str, service: Any, caller: Caller) -> None:
        self._name = name
        self._service = service
        self._caller = caller

    def __getattr__(self, operation: str) -> Any:
        check(self._caller, f"{self._name}.{operation}")
        return getattr(self._service, operation)
