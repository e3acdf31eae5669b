"""The audit as review tools read it: its JSON Schema, SARIF 2.1.0 and JUnit XML.

Where each finding is declared comes from engine.checks.locations. `sarif` writes SARIF 2.1.0, the
format code-review tools read; `junit` a JUnit XML report with one test case per check and per
finding, unexplained errors as failures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from engine.checks.audit import CATEGORY_OF, ERROR, SEVERITY_OF, WARNING

AUDIT_SCHEMA = Path(__file__).resolve().parent / "audit.schema.json"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
TOOL = "verblijfsregels audit"
LEVEL = {"fout": "error", "waarschuwing": "warning", "info": "note"}


def schema_text() -> str:
    return AUDIT_SCHEMA.read_text(encoding="utf-8")


# -- SARIF 2.1.0 -------------------------------------------------------------------------------------


def sarif(report: Any) -> dict[str, Any]:
    """The audit as one SARIF 2.1.0 run: a rule per kind of finding, a result per finding.

    Explained findings are results with an accepted suppression (their reason as justification),
    so a review tool shows them as settled, not as open errors."""
    kinds = sorted({f.kind for f in report.findings})
    rules = [
        {
            "id": kind,
            "name": kind,
            "shortDescription": {"text": f"verblijfsregels audit: {kind}"},
            "properties": {"category": CATEGORY_OF[kind]},
            "defaultConfiguration": {"level": LEVEL[SEVERITY_OF.get(kind, WARNING)]},
        }
        for kind in kinds
    ]
    results = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.kind,
            "ruleIndex": kinds.index(f.kind),
            "level": LEVEL[f.severity],
            "message": {"text": f"{f.title}. {f.message}"},
            "partialFingerprints": {"verblijfsregels/key": f.key},
            "properties": {
                "key": f.key,
                "severity": f.severity,
                "rows": f.rows,
                "declarations": f.declarations,
                "witnesses": [w.to_json() for w in f.witnesses],
            },
        }
        locations = [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": loc["file"], "uriBaseId": "KENNISBANK"},
                    "region": {"startLine": loc["line"]},
                },
                "logicalLocations": [{"name": loc["id"], "kind": "declaration"}],
            }
            for loc in f.locations
        ]
        if locations:
            result["locations"] = locations
        if f.explained is not None:
            result["suppressions"] = [{"kind": "inSource", "status": "accepted", "justification": f.explained}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL,
                        "informationUri": "https://verblijfsregels.nl/docs/audit",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"KENNISBANK": {"description": {"text": "de map boven de kennisbank"}}},
                "properties": {"peildatum": report.peildatum.isoformat(), "summary": report.counts()},
                "results": results,
            }
        ],
    }


def sarif_text(report: Any) -> str:
    return json.dumps(sarif(report), ensure_ascii=False, indent=2) + "\n"


# -- JUnit XML ---------------------------------------------------------------------------------------


def junit(report: Any) -> str:
    """One test suite per category: a test case per finding, and one per kind of check that found
    nothing there (it passed). An unexplained error is a failure; a warning or information is a
    passing case with its message as output; an explained one is passing with its reason."""
    suites = []
    total = failures = 0
    for category, heading, findings in report.by_category():
        cases = []
        for f in findings:
            body = f"{f.message}"
            if f.locations:
                body += "\n" + "\n".join(f"{loc['file']}:{loc['line']} ({loc['id']})" for loc in f.locations)
            name = quoteattr(f.key)
            if f.severity == ERROR and f.explained is None:
                failures += 1
                cases.append(
                    f'    <testcase classname="audit.{category}" name={name}>\n'
                    f"      <failure type={quoteattr(f.kind)} message={quoteattr(f.title)}>{escape(body)}</failure>\n"
                    "    </testcase>"
                )
            else:
                out = f"[{f.severity}{', verklaard' if f.explained else ''}] {body}"
                if f.explained:
                    out += f"\nVerklaard: {f.explained}"
                cases.append(
                    f'    <testcase classname="audit.{category}" name={name}>\n'
                    f"      <system-out>{escape(out)}</system-out>\n"
                    "    </testcase>"
                )
        found_kinds = {f.kind for f in findings}
        for kind in sorted(k for k, c in CATEGORY_OF.items() if c == category and k not in found_kinds):
            cases.append(f'    <testcase classname="audit.{category}" name={quoteattr(kind)}/>')
        total += len(cases)
        suite_failures = sum(1 for f in findings if f.severity == ERROR and f.explained is None)
        suites.append(
            f'  <testsuite name={quoteattr(heading)} tests="{len(cases)}" failures="{suite_failures}" '
            f'errors="0" skipped="0">\n' + "\n".join(cases) + "\n  </testsuite>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="verblijfsregels audit {report.peildatum.isoformat()}" tests="{total}" '
        f'failures="{failures}" errors="0">\n' + "\n".join(suites) + "\n</testsuites>\n"
    )
