"""A rule base that does not load: every load error, and the audit of what does not depend on them.

The loader stops at the first error. To report them all, the audit works on a copy: it leaves out
the declaration an error names (or the whole file, when the error is about the file), loads again,
and so on until the copy loads or an error names nothing it can leave out (recursion through
negation, a clash of names). What loads is then audited as usual, so one typo does not hide every
other finding; the report lists each load error and what was left out for it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from engine.errors import KnowledgeBaseError
from engine.rules.model import declaration_files, load_knowledge_base

MAX_ERRORS = 50  # a rule base with more is not worth auditing in part
# "regels/r.yaml [C1]: ..." or "r.yaml: ..." (the file, and the declaration when the loader names one)
_IN_FILE = re.compile(r"^(?P<file>[^\s\[\]:]+\.yaml)(?: \[(?P<name>[^\]]+)\])?:")
# "bronverschil B1: ...", "doel d: ...", "grootheid q: ..." (a declaration, not its file)
_NAMED = re.compile(r"^(?:bronverschil|doel|grootheid|aanvraag_voor_doel) \[?(?P<name>[\w.+]+)\]?:")


def _drop(data: Any, name: str) -> bool:
    """Leave the declaration `name` out of one file's sections; False when the file has none."""
    if not isinstance(data, dict):
        return False
    for section, content in data.items():
        if isinstance(content, dict) and name in content:
            del content[name]
            return True
        if isinstance(content, list):
            for i, item in enumerate(content):
                if isinstance(item, dict) and (item.get("id") == name or item.get("sleutel") == name):
                    del content[i]
                    return True
    return False


def _locate(root: Path, message: str) -> tuple[Path, str | None] | None:
    """(file, declaration or None for the whole file) an error names, inside the copy at `root`."""
    m = _IN_FILE.match(message)
    files = declaration_files(root)
    if m:
        parts = m.group("file").split("/")
        candidates = [p for p in files if p.name == parts[-1] and (len(parts) == 1 or p.parent.name == parts[0])]
        if candidates:
            return candidates[0], m.group("name")
        return None
    m = _NAMED.match(message)
    if m:
        for path in files:
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError:
                continue
            if _drop(data, m.group("name")):
                return path, m.group("name")
    return None


def _leave_out(path: Path, name: str | None) -> str:
    """Leave `name` (or the file) out of the copy; says what was left out."""
    if name is not None:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            data = None
        if _drop(data, name):
            path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
            return f"{name} ({path.parent.name}/{path.name})"
    path.unlink()
    return f"het bestand {path.parent.name}/{path.name}"


def audit_in_part(
    kb_dir: Path, peildatum: Any, first: KnowledgeBaseError, finding: Any, auditor: Any, make_report: Any, order: Any
) -> Any:
    """The report for a rule base that does not load: a `laadfout` finding per error, and the
    findings of the audit of what loads without them (or none, when nothing can be left out).
    The audit passes in how it makes findings and reports and orders findings (it imports this
    module, so this one cannot import it)."""
    errors: list[tuple[str, str]] = []  # (message, what was left out)
    with tempfile.TemporaryDirectory(prefix="verblijfsregels-audit-") as tmp:
        root = Path(tmp) / Path(kb_dir).name
        shutil.copytree(kb_dir, root, ignore=shutil.ignore_patterns("__pycache__"))
        error: KnowledgeBaseError | None = first
        loaded = False
        while error is not None and len(errors) < MAX_ERRORS:
            message = str(error).replace(str(root), str(kb_dir))  # the copy is no place the user knows
            where = _locate(root, message)
            if where is None:
                errors.append((message, ""))
                break
            errors.append((message, _leave_out(*where)))
            try:
                load_knowledge_base(root)
            except KnowledgeBaseError as exc:
                error = exc
            else:
                error, loaded = None, True
        report = auditor(root, peildatum) if loaded else None
    findings = []
    for i, (message, left_out) in enumerate(errors):
        key = "laadfout" if len(errors) == 1 else f"laadfout/{i + 1}"
        findings.append(
            finding(
                "laadfout",
                key,
                "de kennisbank laadt niet",
                f"De kennisbank wordt bij het laden geweigerd: {message}."
                + (f" Voor de rest van de audit is weggelaten: {left_out}." if left_out and loaded else ""),
                [],
            )
        )
    if report is None:
        report = make_report(peildatum, findings)
        report.notes.append(
            f"De kennisbank laadt niet ({len(errors)} laadfout{'en' if len(errors) != 1 else ''}); de laatste noemt "
            "niets dat de audit kan weglaten, dus zijn alleen de laadfouten gemeld. Zolang dat zo is, kan geen "
            "situatie worden beoordeeld."
        )
        return report
    report.findings = order(findings + report.findings)
    report.notes.insert(
        0,
        f"De kennisbank laadt niet: {len(errors)} laadfout{'en' if len(errors) != 1 else ''}, hierboven gemeld. De "
        "rest is onderzocht zonder wat elke laadfout raakt ("
        + "; ".join(left for _, left in errors if left)
        + "): bevindingen over die declaraties of wat erop steunt, kunnen ontbreken.",
    )
    return report
