"""The services as a caller uses them: every operation named with the permission it needs, and
checked before it runs; an operation the table does not name is refused to everyone.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import fields
from types import SimpleNamespace

import pytest

from remit import services as services_package
from remit.bootstrap import Services
from remit.domain.errors import NotPermitted
from remit.domain.roles import PERMISSIONS, Caller
from remit.services.access import OPERATIONS, CallerServices, permission_for


def service_classes() -> dict[str, type]:
    """Each field of `Services` that holds a service, and the service's class."""
    classes = {}
    for module in pkgutil.iter_modules(services_package.__path__):
        for name, value in vars(importlib.import_module(f"remit.services.{module.name}")).items():
            if inspect.isclass(value) and name.endswith("Service"):
                classes[name] = value
    return {field.name: classes[str(field.type)] for field in fields(Services) if str(field.type) in classes}


def public_operations() -> set[str]:
    return {
        f"{field}.{name}"
        for field, service in service_classes().items()
        for name, member in inspect.getmembers(service)
        if not name.startswith("_") and callable(member)
    }


def test_every_public_operation_of_every_service_names_the_permission_it_needs() -> None:
    assert len(service_classes()) >= 19
    assert sorted(public_operations() - set(OPERATIONS)) == []


def test_the_table_names_no_operation_that_does_not_exist() -> None:
    assert sorted(set(OPERATIONS) - public_operations()) == []


def test_every_permission_the_table_names_is_one_of_the_domains() -> None:
    assert {permission for permission in OPERATIONS.values() if permission} <= set(PERMISSIONS)


def _services() -> CallerServices:
    customers = SimpleNamespace(get=lambda *args: "the customer", create=lambda *args: "created")
    settings = SimpleNamespace(public_base_url="https://remit.test")
    notifications = SimpleNamespace(sweep=lambda *args: "swept")
    everything = SimpleNamespace(customers=customers, settings=settings, notifications=notifications)
    return CallerServices(everything, Caller.member("acct_1", "vi@example.com", "viewer"))


def test_a_permitted_operation_runs() -> None:
    assert _services().customers.get("acct_1", "org_1", "cus_1") == "the customer"


def test_an_operation_the_role_does_not_hold_is_refused_before_it_runs() -> None:
    with pytest.raises(NotPermitted, match="Your role is viewer"):
        _services().customers.create("acct_1", "org_1", {})


def test_an_operation_done_by_remit_itself_is_refused_to_every_caller() -> None:
    owner = CallerServices(_services()._services, Caller.member("acct_1", "ow@example.com", "owner"))

    with pytest.raises(NotPermitted, match="done by Remit itself"):
        owner.notifications.sweep()


def test_an_operation_the_table_does_not_name_is_refused() -> None:
    owner = CallerServices(
        SimpleNamespace(customers=SimpleNamespace(export=lambda: "all")),
        Caller.member("acct_1", "ow@example.com", "owner"),
    )

    assert permission_for("customers.export") is None
    with pytest.raises(NotPermitted):
        owner.customers.export()


def test_configuration_is_read_without_a_check() -> None:
    assert _services().settings.public_base_url == "https://remit.test"
