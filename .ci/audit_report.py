"""Judge a pip-audit JSON report (called by .ci/audit): exit 1 on a fixable vulnerability of a
dependency; print, without failing, vulnerabilities without a fix, the virtualenv's own tooling,
and a report in which nothing could be audited."""

from __future__ import annotations

import json
import sys
from typing import Any

# The virtualenv's own installers, not dependencies of oO: reported, never failing (upgrading
# setuptools in place would change what pkg_resources-importing packages see).
TOOLING = {"pip", "setuptools", "wheel"}


def judge(report: dict[str, Any]) -> tuple[int, list[str]]:
    """(exit status, lines to print) for a pip-audit JSON report."""
    lines: list[str] = []
    fixable = unfixable = 0
    deps = report.get("dependencies", [])
    for dep in deps:
        for vuln in dep.get("vulns", []):
            fixes = ", ".join(vuln.get("fix_versions") or [])
            aliases = ", ".join(vuln.get("aliases") or [])
            where = f"{dep['name']} {dep['version']}: {vuln['id']} ({aliases})"
            if dep["name"].lower() in TOOLING:
                lines.append(f"WARNING (virtualenv tooling): {where} — fixed in {fixes or '-'}")
            elif fixes:
                fixable += 1
                lines.append(f"VULNERABLE {where} — fixed in {fixes}")
            else:
                unfixable += 1
                lines.append(f"known, no fix yet: {where}")
    skipped = [dep for dep in deps if "skip_reason" in dep]
    lines.append(
        f"pip-audit: {len(deps) - len(skipped)} packages checked, {fixable} fixable, "
        f"{unfixable} without a fix, {len(skipped)} not checked"
    )
    if deps and len(skipped) == len(deps):
        # The index answered, but without vulnerability data (a mirror without PyPI's JSON
        # API, say): nothing was audited. A warning, neither a pass nor a failure.
        lines.append(
            "WARNING: no package could be audited: pip-audit reads PyPI's per-release JSON "
            "(https://pypi.org/pypi/NAME/VERSION/json) and every package came back "
            f'"{skipped[0]["skip_reason"]}" — the index this machine reaches answers without '
            "that API (a mirror or proxy); run the audit where pypi.org answers it"
        )
    return (1 if fixable else 0), lines


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        status, lines = judge(json.load(handle))
    print("\n".join(lines))
    sys.exit(status)
