"""The advisor's pages: an interview one question at a time, and the decision report.

No state on the server: the answers so far travel as JSON in a hidden field of each form (a POST
body, never a URL), are checked like an applicant file on every request, and can be downloaded as
an applicant file and uploaded again. No script: every step is a plain form.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from datetime import date
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from engine.answer import payloads
from engine.answer.interview import (
    AnswerError,
    applicant_file,
    assessments,
    next_question,
    parse_answer,
    question_for,
)
from engine.applicant.facts import MAX_FILE_BYTES, load_applicant_bytes, parse_applicant
from engine.errors import InputError, VerblijfsregelsError
from engine.web.requests import Field, decode_body, fields_of, refuse_declared_too_large
from explain import fact_value, render_decision_page, render_question_page, render_rules_page, render_start_page

STATE_FIELDS = (
    Field("answers", "applicant"),
    Field("skipped", "names"),
    Field("goal", "goal"),
    Field("peildatum", "date"),
)
MAX_PERIODS = 50  # rows of a permit history on one page
EUROS = re.compile(r"(\d{1,12})(?:[.,](\d{1,2}))?")
REPAIR_CHANGES = 2  # on the decision page for one goal: the smallest sets, as `why-not --max-changes 2`


class Pages:
    """The pages over the API's engine."""

    def __init__(self, api):
        self.api = api
        self.eng = api.eng
        self.kb = api.eng.kb

    def meta(self, peildatum: date) -> dict[str, Any]:
        return {
            "peildatum": peildatum,
            "kb_version": self.api.kb_version[:12],
            "report_date": date.today(),
            "repairs_stopped": None,  # the seconds after which the decision page's repair search stopped
        }

    async def start(self, request: Request) -> Response:
        return HTMLResponse(render_start_page(self.kb, self.meta(date.today())))

    async def step(self, request: Request) -> Response:
        refuse_declared_too_large(request.headers.get("content-length"))
        form = await request.form(max_files=1, max_fields=20 + 8 * MAX_PERIODS, max_part_size=MAX_FILE_BYTES)
        action = str(form.get("actie") or "")
        if action in ("begin", "upload"):
            try:
                state = self._new_state(form, action)
            except VerblijfsregelsError as exc:
                goal = str(form.get("doel") or "") or None
                page = render_start_page(self.kb, self.meta(date.today()), goal, str(exc))
                return HTMLResponse(page, 422)
        else:
            state = self._state(str(form.get("staat") or ""))
        if action == "antwoord" or action == "periode_erbij":
            fact = str(form.get("feit") or "")
            if fact not in self.kb.facts:
                raise InputError("feit", "geen feit van de woordenlijst")
            periods = self._periods(form) if self.kb.facts[fact].type == "vergunningen" else None
            if action == "periode_erbij":
                return self._question(state, question_for(self.kb, fact, state["answers"]), periods=[*periods, {}])
            try:
                value = periods if periods is not None else self._value(fact, form.get("waarde"))
                answers = payloads.interview_answers(self.eng, {**state["answers"], fact: value})
            except (VerblijfsregelsError, AnswerError) as exc:
                question = question_for(self.kb, fact, state["answers"])
                return self._question(
                    state, question, current=form.get("waarde"), periods=periods, error=str(exc), status=422
                )
            state = {**state, "answers": answers, "skipped": [s for s in state["skipped"] if s != fact]}
        elif action == "weet_niet":
            fact = str(form.get("feit") or "")
            if fact in self.kb.facts:
                state = {**state, "skipped": sorted({*state["skipped"], fact})}
        elif action.startswith("wijzig:"):
            fact = action.split(":", 1)[1]
            if fact not in self.kb.facts:
                raise InputError("actie", "geen feit van de woordenlijst")
            given = state["answers"].get(fact)
            periods = list(given) if isinstance(given, list) else None
            return self._question(state, question_for(self.kb, fact, state["answers"]), current=given, periods=periods)
        elif action == "download":
            text = yaml.safe_dump(applicant_file(state["answers"]), allow_unicode=True, sort_keys=False)
            return Response(
                text.encode("utf-8"),
                media_type="application/yaml",
                headers={"content-disposition": 'attachment; filename="aanvrager.yaml"'},
            )
        elif action == "beslissing":
            return self._decision(state)
        elif action not in ("begin", "upload"):
            raise InputError(
                "actie", "toegestaan: begin, upload, antwoord, weet_niet, wijzig:<feit>, download, beslissing"
            )
        question = next_question(
            self.eng, state["answers"], self._goals(state), state["peildatum"], frozenset(state["skipped"])
        )
        if question is None:
            return self._decision(state)
        return self._question(state, question, periods=self._given_periods(state, question.fact))

    async def rules(self, request: Request) -> Response:
        """Every declaration, searchable by inventory id, rule id or word, with what it uses and what uses it."""
        from engine.rules.inventory import inventory
        from engine.rules.model import expr_names

        kb = self.kb
        rows = inventory(kb)
        by_conclusion: dict[str, list[str]] = {}
        for r in kb.rules.values():
            if kb.conclusion_of(r):
                by_conclusion.setdefault(kb.conclusion_of(r), []).append(r.id)
        uses: dict[str, list[str]] = {}
        for r in kb.rules.values():
            read = {n for e in (r.conditions, r.applies_when) for n, _ in expr_names(e)}
            found = {i for n in read for i in by_conclusion.get(n, ()) if i != r.id}
            if r.exception_to:
                found.add(r.exception_to)
            uses[r.id] = sorted(found)
        used_by: dict[str, list[str]] = {}
        for rid, targets in uses.items():
            for target in targets:
                used_by.setdefault(target, []).append(rid)
        query = (request.query_params.get("q") or "").strip()[:100]
        declarations = [
            {
                "id": d["id"],
                "label": d["label"],
                "kind": d["kind"],
                "source": d["source"],
                "rows": [row.id for row in rows if d["id"] in row.encoded_by],
                "uses": uses.get(d["id"], []),
                "used_by": sorted(used_by.get(d["id"], [])),
            }
            for d in payloads.rules(kb)["rules"]
        ]
        if query:
            words = query.lower().split()
            declarations = [
                d
                for d in declarations
                if query.upper() in (d["id"].upper(), *d["rows"])
                or all(w in f"{d['id']} {d['label']} {d['source']['quote']}".lower() for w in words)
            ]
        shown_rows = [row for row in rows if not query or any(row.id in d["rows"] for d in declarations)]
        return HTMLResponse(render_rules_page(self.meta(date.today()), declarations, shown_rows, query))

    def _goals(self, state: dict[str, Any]) -> list[str]:
        return [state["goal"]] if state["goal"] else sorted(self.kb.goals)

    def _new_state(self, form, action: str) -> dict[str, Any]:
        goal = str(form.get("doel") or "") or None
        if goal is not None:
            payloads.check_goal(self.eng, goal, "doel")
        raw_day = str(form.get("peildatum") or "")
        try:
            peildatum = date.fromisoformat(raw_day) if raw_day else date.today()
        except ValueError:
            raise InputError("peildatum", "verwacht een datum als JJJJ-MM-DD") from None
        answers: dict[str, Any] = {}
        if action == "upload":
            upload = form.get("bestand")
            if upload is None or isinstance(upload, str):
                raise InputError("bestand", "kies een aanvragersbestand (YAML of JSON)")
            name = upload.filename or "aanvrager.yaml"
            raw = upload.file.read(MAX_FILE_BYTES + 1)
            answers = payloads.interview_answers(
                self.eng,
                load_applicant_bytes(raw, "aanvrager.json" if name.lower().endswith(".json") else "aanvrager.yaml"),
            )
        return {"answers": answers, "skipped": [], "goal": goal, "peildatum": peildatum}

    def _state(self, text: str) -> dict[str, Any]:
        """The answers so far as the last page wrote them; checked again, as anything a client sends."""
        state = fields_of(decode_body(text.encode("utf-8")), STATE_FIELDS)
        if state["goal"] is not None:
            payloads.check_goal(self.eng, state["goal"], "doel")
        state["answers"] = payloads.interview_answers(self.eng, state["answers"] or {})
        state["skipped"] = [s for s in state["skipped"] or [] if s in self.kb.facts]
        return state

    @staticmethod
    def _encoded(state: dict[str, Any]) -> str:
        return payloads.dumps(
            {
                "answers": state["answers"],
                "skipped": state["skipped"],
                "goal": state["goal"],
                "peildatum": state["peildatum"].isoformat(),
            }
        )

    def _value(self, fact: str, raw: Any) -> Any:
        spec = self.kb.facts[fact]
        text = raw if isinstance(raw, str) else ""
        if spec.type == "bedrag":
            match = EUROS.fullmatch(text.strip())
            if not match:
                raise AnswerError("geef een bedrag in euro, bijvoorbeeld 174 of 174,50")
            return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
        return parse_answer(spec.type, text, tuple(spec.values))

    def _periods(self, form) -> list[dict[str, Any]]:
        """The permit periods of the form, in order, without those marked to go; empty details left out."""
        try:
            count = min(int(str(form.get("perioden") or "0")), MAX_PERIODS)
        except ValueError:
            raise InputError("perioden", "verwacht een aantal") from None
        periods = []
        for i in range(count):
            if form.get(f"periode-{i}-weg"):
                continue
            period: dict[str, Any] = {}
            for name, spec in self.kb.period_fields.items():
                raw = str(form.get(f"periode-{i}-{name}") or "").strip()
                if not raw:
                    continue
                if spec.get("type") == "bool":
                    period[name] = raw == "ja"
                else:
                    period[name] = raw
            if period:
                periods.append(period)
        return periods

    def _given_periods(self, state: dict[str, Any], fact: str) -> list[dict[str, Any]] | None:
        given = state["answers"].get(fact)
        return list(given) if isinstance(given, list) and given else None

    def _question(self, state, question, current=None, periods=None, error: str = "", status: int = 200) -> Response:
        results = assessments(self.eng, state["answers"], self._goals(state), state["peildatum"])
        answered = [
            {"fact": name, "label": self.kb.facts[name].label, "value": _shown(value)}
            for name, value in state["answers"].items()
        ]
        page = render_question_page(
            self.kb,
            self.meta(state["peildatum"]),
            question,
            self._encoded(state),
            results,
            answered,
            current=current,
            periods=periods,
            error=error,
        )
        return HTMLResponse(page, status)

    def _decision(self, state: dict[str, Any]) -> Response:
        from engine.answer.repairs import WorkLimitReached, find_repairs

        deadline = time.monotonic() + self.api.why_not_seconds
        goals = self._goals(state)
        results = assessments(self.eng, state["answers"], goals, state["peildatum"])
        repairs = {}
        meta = self.meta(state["peildatum"])
        if len(goals) == 1 and results[0].outcome == "not_eligible":
            applicant = parse_applicant(self.kb, state["answers"], json_values=True)
            try:
                repairs[goals[0]] = find_repairs(
                    self.eng, applicant, goals[0], state["peildatum"], REPAIR_CHANGES, deadline
                )
            except WorkLimitReached:  # the decision stands; only what would help is not shown
                meta["repairs_stopped"] = f"{self.api.why_not_seconds:g}".replace(".", ",")
        return HTMLResponse(render_decision_page(self.kb, meta, results, repairs))


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return f"{len(value)} vergunning{'en' if len(value) != 1 else ''}"
    return fact_value(value)


def style_hashes(html: str) -> str:
    """The CSP sources that allow exactly the inline style elements of a page (and nothing else)."""
    styles = re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.S)
    return " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in styles)
