"""Run the benchmarks: `python -m benchmarks [NAME ...] [OPTIONS]`.

With no NAME, the default ones run (all but `emulators`). OPTIONS go to each benchmark named (see
`python -m benchmarks cold_start --help`). Benchmarks print figures against their budgets; they
never fail on timing, only when they could not measure at all.
"""

import sys
from collections.abc import Callable

from benchmarks import (
    billing,
    cold_start,
    customer_import,
    documents,
    dynamodb_calls,
    einvoice_validation,
    emulators,
    exports,
    load,
    mail,
    overview,
    planner,
    volume,
    webhook_delivery,
    write_units,
)

BENCHMARKS: dict[str, Callable[[list[str]], int]] = {
    "cold_start": cold_start.main,
    "dynamodb_calls": dynamodb_calls.main,
    "write_units": write_units.main,
    "volume": volume.main,
    "billing": billing.main,
    "planner": planner.main,
    "overview": overview.main,
    "documents": documents.main,
    "mail": mail.main,
    "einvoice_validation": einvoice_validation.main,
    "emulators": emulators.main,
    "load": load.main,
    "webhook_delivery": webhook_delivery.main,
    "exports": exports.main,
    "customer_import": customer_import.main,
}
# Run when no benchmark is named. `emulators` compares DynamoDB emulators (stock moto alone takes
# minutes at 10,000 items): `make bench-emulators` runs it. `load` (concurrent clients, then the
# books checked) fails on an error, not only when it cannot measure: `make load` runs it.
DEFAULT = (
    "cold_start",
    "dynamodb_calls",
    "write_units",
    "volume",
    "billing",
    "planner",
    "overview",
    "documents",
    "mail",
    "einvoice_validation",
    "webhook_delivery",
    "exports",
    "customer_import",
)


def main(argv: list[str]) -> int:
    names = []
    while argv and not argv[0].startswith("-"):
        names.append(argv.pop(0))
    if not names and argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        print(f"\nBenchmarks: {', '.join(BENCHMARKS)}")
        return 0
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    status = 0
    for name in names or DEFAULT:
        print(f"== {name}", flush=True)
        status |= BENCHMARKS[name](list(argv))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
