"""Rule coverage: which rules fired, which exceptions applied, which conditions were seen both ways.

Recording is off unless asked for: with `VERBLIJFSREGELS_COVERAGE=<file>` in the environment (or
`pytest --kb-coverage=<file>`, which sets it for the test processes and the CLI processes they
start) every `Engine.evaluate` in a process that loaded this module (`cli.py` does when the variable
is set, `tests/conftest.py` does for the tests) adds the value of each rule, exception, source disagreement, fee
rule and condition it evaluated to a counter; the counters are merged into the file when the
process ends. `verblijfsregels coverage --data <file>` prints the table and what was never
exercised. Off, the only cost is one `is None` test per evaluation.

Counts are kept per context: the test file that was running (`VERBLIJFSREGELS_COVERAGE_CONTEXT`,
set by tests/conftest.py), so the report can say what the scenario tests alone exercise.
Nothing about an applicant is written, only rule ids, condition positions and counts.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import threading
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ENV = "VERBLIJFSREGELS_COVERAGE"
CONTEXT_ENV = "VERBLIJFSREGELS_COVERAGE_CONTEXT"
DATA_FORMAT = "verblijfsregels/kb-coverage"
REPORT_FORMAT = "verblijfsregels/kb-coverage-report"
VERSION = 2  # of the data file pytest --kb-coverage writes; 2: kb_version, the rule base recorded
REPORT_VERSION = 2  # of the report; 2: kb_version
DEFAULT_DATA = ".kb-coverage.json"

recorder: "Recorder | None" = None


def _word(value: Any) -> int:
    return 0 if value is True else 1 if value is False else 2  # true, false, unknown or conflict


class Plan:
    """What to read after evaluating one model of one compiled program: (key, node) pairs."""

    def __init__(self, engine: Any, model: str):
        program, kb = engine.program, engine.kb
        nodes = program.nodes
        reach = set(program.reachable(model_roots(engine, model)))
        self.entries: list[tuple[str, str]] = []
        for nid in sorted(reach):
            node = nodes[nid]
            if node.kind == "rule" and node.rule_id in kb.rules:
                self.entries.append((f"regel:{node.rule_id}", nid))
                self.entries.extend((f"voorwaarde:{node.rule_id}|{path}", c) for path, c in conditions(program, nid))
            elif node.kind == "exception":
                self.entries.append((f"uitzondering:{node.rule_id}", node.detail["applies"]))
                self.entries.extend((f"voorwaarde:{node.rule_id}|{path}", c) for path, c in conditions(program, nid))
            elif node.kind == "consensus":
                self.entries.append((f"bronverschil:{node.rule_id}", nid))
        for fee_id, nid in sorted(program.fee_nodes.items()):
            if nid in reach:
                self.entries.append((f"leges:{fee_id}", nid))
                self.entries.extend((f"voorwaarde:{fee_id}|{path}", c) for path, c in fee_conditions(program, nid))
        # declarations without conditions have no node: (key, how to read their value)
        self.unconditional: list[tuple[str, Any]] = [
            (f"{kind}:{rid}", how)
            for rid, (kind, how, models) in unconditional(engine).items()
            if model == ALL_MODELS or model in models
        ]


ALL_MODELS = "*"  # engine.answer.assess.ALL: one evaluation of every node (not imported: assess imports this module)


def unconditional(engine: Any) -> dict[str, tuple[str, Any, set[str]]]:
    """Declarations without conditions, which have no node of their own: per id, the kind of row,
    how its value is read from an evaluation, and the models that evaluate it.

    - a consequence (`gevolg`) holds whenever its goal is assessed: always true;
    - a term (`termijn`) gives a date when its start date is known: true, else unknown;
    - a fee rule without `van_toepassing_als` (the base amount of a form for a source) decides the
      amount unless one of its exceptions applies: true when none applies, false when one does,
      unknown when one may.
    """
    found = engine.__dict__.get("_coverage_unconditional")
    if found is not None:
        return found
    program, kb = engine.program, engine.kb
    found = {}
    for rule in kb.rules.values():
        if rule.conclusion is None and rule.kind in ("gevolg", "termijn"):
            if rule.kind == "gevolg":
                how = _always_true
            else:
                how = functools.partial(_start_known, start=rule.start)
            found[rule.id] = ("regel", how, set(rule.goals))
    children: dict[str, list[str]] = {}
    for fee in kb.fee_rules.values():
        if fee.exception_to and fee.id in program.fee_nodes:
            children.setdefault(fee.exception_to, []).append(program.fee_nodes[fee.id])
    for fee in kb.fee_rules.values():
        if fee.id not in program.fee_nodes and not fee.exception_to:
            found[fee.id] = (
                "leges",
                (lambda builder, nodes=tuple(children.get(fee.id, ())): _set_aside(builder, nodes)),
                {f"form_{fee.form}"},
            )
    engine._coverage_unconditional = found
    return found


def _start_known(builder, start: str) -> bool | None:
    """A term holds once its start date is known; before that, whether it runs is open."""
    return True if builder.inputs.get(start) is not None else None


def _always_true(builder: Any) -> bool:
    return True


def _set_aside(builder: Any, exceptions: tuple[str, ...]) -> bool | None:
    values = [builder.value(n) for n in exceptions]
    if any(v is True for v in values):
        return False
    return True if all(v is False for v in values) else None


def model_roots(engine: Any, model: str) -> list[str]:
    """The nodes a model is built from: every node, a goal's, or a form's fee rules'."""
    program, kb = engine.program, engine.kb
    if model in kb.goals:
        goal = kb.goals[model]
        roots = [goal.conclusion] + ([goal.out_of_scope] if goal.out_of_scope else [])
        return roots + [
            r.conclusion
            for r in kb.rules.values()
            if r.kind in ("gevolg", "termijn") and r.conclusion and model in r.goals
        ]
    if model.startswith("form_"):
        number = model[len("form_") :]
        return [
            program.fee_nodes[f.id] for f in kb.fee_rules.values() if f.form == number and f.id in program.fee_nodes
        ]
    return list(program.nodes)


def conditions(program: Any, nid: str) -> list[tuple[str, str]]:
    """(position, node) of every condition of a rule or exception: each operand of its own
    condition tree at every level, and its single condition when it has just one."""
    node = program.nodes[nid]
    if node.kind == "rule":
        return _walk(program, node.children[0], "c", nid)
    out = _walk(program, node.detail["applies"], "a", nid)
    if node.detail.get("body"):
        out += _walk(program, node.detail["body"], "v", nid)
    return out


def fee_conditions(program: Any, nid: str) -> list[tuple[str, str]]:
    """The conditions of a fee rule's `van_toepassing_als` (node `fee_<id>__a`)."""
    return _walk(program, nid, "a", nid.rsplit("__", 1)[0])


def _walk(program: Any, nid: str, path: str, owner: str) -> list[tuple[str, str]]:
    node = program.nodes[nid]
    if node.kind not in ("all", "any") or not nid.startswith(f"{owner}__"):
        return [(path, nid)]
    out: list[tuple[str, str]] = []
    for i, child in enumerate(node.children):
        out.extend(_walk_operand(program, child, f"{path}{i}", owner))
    return out


def _walk_operand(program: Any, nid: str, path: str, owner: str) -> list[tuple[str, str]]:
    node = program.nodes[nid]
    out = [(path, nid)]
    if node.kind in ("all", "any") and nid.startswith(f"{owner}__"):
        for i, child in enumerate(node.children):
            out.extend(_walk_operand(program, child, f"{path}{i}", owner))
    return out


class Recorder:
    """Counts per context what each evaluation makes of every rule and condition.

    Threads that share one engine record together: the counts are updated under a lock, and a
    pause (`paused()`) holds for the thread that asked for it only."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.counts: dict[str, dict[str, list[int]]] = {}
        self.evaluations: Counter[str] = Counter()
        self.kb_version = ""  # of the rule base recorded (only kb/ is: see _record)
        self._lock = threading.Lock()
        self._local = threading.local()

    @property
    def paused(self) -> int:
        return getattr(self._local, "paused", 0)

    @paused.setter
    def paused(self, depth: int) -> None:
        self._local.paused = depth

    def record(self, engine: Any, model: str, builder: Any) -> None:
        if self.paused:
            return
        with self._lock:
            self._record(engine, model, builder)

    def _record(self, engine: Any, model: str, builder: Any) -> None:
        plans = engine.__dict__.get("_coverage_plans")
        if plans is None:
            # only the rule base under test counts: not a seeded test base or a --compare-kb copy
            from engine.rules.model import KB_DIR

            same = Path(getattr(engine, "kb_dir", KB_DIR)).resolve() == Path(KB_DIR).resolve()
            plans = engine._coverage_plans = {} if same else False
        if plans is False:
            return
        self.kb_version = engine.kb.version  # the plans are the engine's: another recorder may have made them
        plan = plans.get(model)
        if plan is None:
            plan = plans[model] = Plan(engine, model)
        context = os.environ.get(CONTEXT_ENV, "")
        counts = self.counts.setdefault(context, {})
        self.evaluations[context] += 1
        value = builder.value
        for name, nid in plan.entries:
            slot = counts.get(name)
            if slot is None:
                slot = counts[name] = [0, 0, 0]
            slot[_word(value(nid))] += 1
        for name, how in plan.unconditional:
            slot = counts.get(name)
            if slot is None:
                slot = counts[name] = [0, 0, 0]
            slot[_word(how(builder))] += 1

    def flush(self) -> None:
        """Merge what was recorded into the data file (locked: test processes write it together)."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if not self.evaluations:
            return
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            text = handle.read()
            data = json.loads(text) if text.strip() else None
            if data is not None and (not isinstance(data, dict) or data.get("format") != DATA_FORMAT):
                raise ValueError(f"{self.path} is geen bestand met dekkingsgegevens ({DATA_FORMAT}); niet overschreven")
            if not _same_recording(data, self.kb_version):  # counts of other rules, or version 1: started afresh
                data = {"format": DATA_FORMAT, "version": VERSION, "kb_version": self.kb_version, "contexts": {}}
            for context, counts in self.counts.items():
                target = data["contexts"].setdefault(context, {"evaluations": 0, "counts": {}})
                target["evaluations"] += self.evaluations[context]
                for name, slot in counts.items():
                    old = target["counts"].setdefault(name, [0, 0, 0])
                    target["counts"][name] = [a + b for a, b in zip(old, slot)]
            handle.seek(0)
            handle.truncate()
            json.dump(data, handle, sort_keys=True)
            handle.write("\n")
        self.counts.clear()
        self.evaluations.clear()


def _same_recording(data: Any, kb_version: str) -> bool:
    """Whether a data file's counts are of these rules: this version of the file and of the rule base."""
    return data is not None and data.get("version") == VERSION and data.get("kb_version") == kb_version


def enable(path: str | Path) -> Recorder:
    global recorder
    if recorder is None or recorder.path != Path(path):
        if recorder is not None:
            recorder.flush()
        recorder = Recorder(Path(path))
        atexit.register(recorder.flush)
    return recorder


def disable() -> None:
    global recorder
    if recorder is not None:
        recorder.flush()
    recorder = None


@contextmanager
def paused() -> Iterator[None]:
    """Evaluations inside are not recorded (mutants, helpers that are not tests)."""
    if recorder is None:
        yield
        return
    current = recorder
    current.paused += 1
    try:
        yield
    finally:
        current.paused -= 1


def _observe(engine: Any, model: str, builder: Any) -> None:
    if recorder is not None:
        recorder.record(engine, model, builder)


def _register() -> None:
    from engine.answer.assess import EVALUATION_OBSERVERS

    if _observe not in EVALUATION_OBSERVERS:
        EVALUATION_OBSERVERS.append(_observe)


_register()
if os.environ.get(ENV):
    enable(os.environ[ENV])


# -- the report -----------------------------------------------------------------------------------


def read_data(path: Path) -> dict[str, Any]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if data.get("format") != DATA_FORMAT:
        raise ValueError(f"{path} is geen bestand met dekkingsgegevens ({DATA_FORMAT})")
    return data


def _condition_label(program: Any, kb: Any, nid: str) -> str:
    node = program.nodes[nid]
    if node.kind == "compare":
        threshold = node.detail["value"]
        if isinstance(threshold, list):
            threshold = ", ".join(map(str, threshold))
        return f"{node.label} {node.detail['comparator'].replace('_', ' ')} {threshold}"
    if node.kind == "not":
        return f"niet: {_condition_label(program, kb, node.children[0])}"
    if node.kind in ("all", "any"):
        word = "alle" if node.kind == "all" else "een van"
        return f"{word} ({len(node.children)})"
    return node.label


def report(engine: Any, data: dict[str, Any], contexts: list[str] | None = None) -> dict[str, Any]:
    """Per declaration: how often it was true, false or unknown, and its conditions both ways."""
    program, kb = engine.program, engine.kb
    chosen = sorted(c for c in data["contexts"] if not contexts or any(c.startswith(p) for p in contexts))
    counts: dict[str, list[int]] = {}
    evaluations = 0
    for context in chosen:
        evaluations += data["contexts"][context]["evaluations"]
        for name, slot in data["contexts"][context]["counts"].items():
            old = counts.setdefault(name, [0, 0, 0])
            counts[name] = [a + b for a, b in zip(old, slot)]
    every_root: list[str] = []
    for goal in kb.goals:
        every_root += model_roots(engine, goal)
    every_root += list(program.fee_nodes.values())
    reachable = set(program.reachable(every_root))

    rows: list[dict[str, Any]] = []
    free = unconditional(engine)

    def row(kind: str, rid: str, label: str, file: str, nid: str | None, conds: list[tuple[str, str]]) -> None:
        true, false, unknown = counts.get(f"{kind}:{rid}", [0, 0, 0])
        cond_rows = []
        for path, cnid in conds:
            ct, cf, cu = counts.get(f"voorwaarde:{rid}|{path}", [0, 0, 0])
            cond_rows.append(
                {"position": path, "label": _condition_label(program, kb, cnid), "true": ct, "false": cf, "unknown": cu}
            )
        rows.append(
            {
                "id": rid,
                "kind": kind,
                "label": label,
                "file": file,
                # a declaration without conditions is read by its goals or its form
                "read_by_a_goal": nid in reachable if nid is not None else bool(free[rid][2] & models),
                "unconditional": nid is None,
                "true": true,
                "false": false,
                "unknown": unknown,
                "conditions": cond_rows,
                "conditions_both_ways": sum(1 for c in cond_rows if c["true"] and c["false"]),
            }
        )

    models = set(kb.goals) | {f"form_{number}" for number in kb.forms}
    rule_nodes = {n.rule_id: nid for nid, n in program.nodes.items() if n.kind in ("rule", "exception", "consensus")}
    for rule in kb.rules.values():
        nid = rule_nodes.get(rule.id)
        if nid is None:  # a consequence or term without conditions
            if rule.id in free:
                row("regel", rule.id, rule.label, rule.file, None, [])
            continue
        node = program.nodes[nid]
        kind = "uitzondering" if node.kind == "exception" else "regel"
        row(kind, rule.id, rule.label, rule.file, nid, conditions(program, nid))
    for dis in kb.disagreements.values():
        row("bronverschil", dis.id, dis.label, "", dis.conclusion, [])
    for fee in kb.fee_rules.values():
        nid = program.fee_nodes.get(fee.id)
        if nid is not None:
            row("leges", fee.id, fee.label, fee.file, nid, fee_conditions(program, nid))
        elif fee.id in free:  # the base amount of a form: no conditions
            row("leges", fee.id, fee.label, fee.file, None, [])

    def summary(kinds: tuple[str, ...]) -> dict[str, int]:
        chosen_rows = [r for r in rows if r["kind"] in kinds]
        return {
            "total": len(chosen_rows),
            "true": sum(1 for r in chosen_rows if r["true"]),
            "false": sum(1 for r in chosen_rows if r["false"]),
            "both": sum(1 for r in chosen_rows if r["true"] and r["false"]),
        }

    conds = [c for r in rows for c in r["conditions"]]
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "kb_version": kb.version,
        "contexts": chosen,
        "evaluations": evaluations,
        "summary": {
            "rules": summary(("regel", "bronverschil")),
            "exceptions": summary(("uitzondering",)),
            "fees": summary(("leges",)),
            "conditions": {"total": len(conds), "both": sum(1 for c in conds if c["true"] and c["false"])},
        },
        "rules": rows,
        "never_exercised": [r["id"] for r in rows if not r["true"]],
        # a consequence or term without conditions cannot be false; a base fee can (set aside)
        "never_false": [r["id"] for r in rows if r["true"] and not r["false"] and _can_be_false(r, kb)],
    }


def _can_be_false(row: dict[str, Any], kb: Any) -> bool:
    if not row["unconditional"]:
        return True
    return row["kind"] == "leges" and any(f.exception_to == row["id"] for f in kb.fee_rules.values())


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "0/0"


def render_text(rep: dict[str, Any]) -> str:
    s = rep["summary"]
    lines = [
        "Regeldekking" + (f" ({', '.join(rep['contexts'])})" if rep["contexts"] else ""),
        f"{rep['evaluations']} evaluaties",
        "",
        f"regels gevuurd:                {_pct(s['rules']['true'], s['rules']['total'])}; "
        f"ook onwaar gezien: {_pct(s['rules']['both'], s['rules']['total'])}",
        f"uitzonderingen toegepast:      {_pct(s['exceptions']['true'], s['exceptions']['total'])}; "
        f"ook niet toegepast: {_pct(s['exceptions']['both'], s['exceptions']['total'])}",
    ]
    if s["fees"]["total"]:
        lines.append(
            f"legesregels van toepassing:    {_pct(s['fees']['true'], s['fees']['total'])}; "
            f"ook niet: {_pct(s['fees']['both'], s['fees']['total'])}"
        )
    lines += [f"voorwaarden waar en onwaar:    {_pct(s['conditions']['both'], s['conditions']['total'])}", ""]
    width = max([len(r["id"]) for r in rep["rules"]] + [2])
    head = f"{'id':<{width}} {'soort':<12} {'waar':>6} {'onwaar':>6} {'onbek.':>6}  {'vw. beide':>9}  label"
    lines += [head, "-" * len(head)]
    for r in rep["rules"]:
        conds = f"{r['conditions_both_ways']}/{len(r['conditions'])}" if r["conditions"] else "-"
        label = r["label"] if len(r["label"]) <= 60 else r["label"][:59] + "…"
        mark = "" if r["read_by_a_goal"] else " (geen doel leest haar)"
        lines.append(
            f"{r['id']:<{width}} {r['kind']:<12} {r['true']:>6} {r['false']:>6} {r['unknown']:>6}  {conds:>9}  {label}{mark}"
        )
    lines.append("")
    never = [r for r in rep["rules"] if not r["true"]]
    lines.append("Nooit gevuurd of toegepast:" + (" geen" if not never else ""))
    for r in never:
        mark = "" if r["read_by_a_goal"] else " (geen doel leest haar)"
        lines.append(f"  {r['id']} ({r['kind']}): {r['label']}{mark}")
    never_false = [r for r in rep["rules"] if r["id"] in set(rep["never_false"])]
    lines.append("Nooit onwaar of niet-toegepast gezien:" + (" geen" if not never_false else ""))
    for r in never_false:
        lines.append(f"  {r['id']} ({r['kind']}): {r['label']}")
    one_sided = [(r, c) for r in rep["rules"] for c in r["conditions"] if not (c["true"] and c["false"])]
    lines.append("Voorwaarden niet beide kanten op gezien:" + (" geen" if not one_sided else ""))
    for r, c in one_sided:
        seen = "alleen waar" if c["true"] else "alleen onwaar" if c["false"] else "nooit bepaald"
        lines.append(f"  {r['id']} [{c['position']}] {c['label']}: {seen}")
    return "\n".join(lines) + "\n"
