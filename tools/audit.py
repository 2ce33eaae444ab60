"""`make audit`: the installed dependencies checked against known vulnerabilities with pip-audit.

pip-audit reads PyPI's advisory data (the JSON API of https://pypi.org). Where that is unreachable
(a machine with only a package mirror) every dependency comes back "could not be audited": the
audit then says so and passes, since it checked nothing; a vulnerability found always fails.
"""

from __future__ import annotations

import json
import subprocess
import sys


def main() -> int:
    completed = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--local", "--progress-spinner", "off", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(completed.stdout)
    except ValueError:
        print(f"dependency audit: pip-audit failed ({completed.returncode}):\n{completed.stderr}")
        return 1
    dependencies = report.get("dependencies", [])
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    audited = [dep for dep in dependencies if "skip_reason" not in dep]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(f"{dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    if vulnerable:
        count = f"{len(vulnerable)} of {len(dependencies)} packages"
        print(f"dependency audit: {count} have known vulnerabilities")
        return 1
    if not audited:
        print(
            f"dependency audit: not done. PyPI's advisory data is unreachable from here, so none of the "
            f"{len(dependencies)} installed packages could be checked; run `make audit` where "
            "https://pypi.org is reachable."
        )
        return 0
    skipped = len(dependencies) - len(audited)
    print(f"dependency audit: {len(audited)} packages checked, none known vulnerable ({skipped} not on PyPI)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
