"""The ASGI application: the HTTP API under /v1 (the command line's JSON for a posted applicant).

Starlette, not FastAPI: the project already validates applicants itself (with messages that name
the field, as the command line gives them) and publishes its own JSON Schemas; FastAPI's pydantic
models would validate a second time with other messages. Starlette's `SchemaGenerator` builds the
OpenAPI document from the endpoints' docstrings, and the schemas in it are the published ones.

Stateless: the knowledge base is loaded once per worker (`create_app`), an answer is computed from
the request alone, and nothing about an applicant is stored or logged.
"""

from __future__ import annotations

import json
import os
import time
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.schemas import SchemaGenerator
from starlette.staticfiles import StaticFiles

from engine.answer import payloads
from engine.answer.assess import ASSESSMENT_SCHEMA, Engine
from engine.answer.repairs import WorkLimitReached
from engine.applicant.facts import json_schema, parse_applicant
from engine.errors import InputError, VerblijfsregelsError, escaped, visible
from engine.rules.cache import content_key
from engine.web import jsontext
from engine.web.pages import Pages, style_hashes
from engine.web.requests import MAX_BODY_BYTES, BodyTooLarge, Field, decode_body, fields_of, refuse_declared_too_large
from explain import STATIC_DIR

API_VERSION = "1"
WHY_NOT_SECONDS = 2.0  # what one why-not (API or decision page) may take before its repair search stops
SCHEMA_FILES = payloads.SCHEMA_FILES
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


_SECURITY_NAMES = {name for name, _ in SECURITY_HEADERS}


def json_response(payload: Any, status: int = 200) -> Response:
    """The bytes the command line prints for the same payload (with its final newline)."""
    return Response(jsontext.encoded(payload), status, media_type="application/json")


def error_response(status: int, message: str) -> Response:
    return json_response({"error": escaped(message), "status": status}, status)


async def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; over MAX_BODY_BYTES it is refused before it is read to the end."""
    refuse_declared_too_large(request.headers.get("content-length"))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return decode_body(b"".join(chunks))


APPLICANT = Field("applicant", "applicant", required=True)
PEILDATUM = Field("peildatum", "date")
VOORRANG = Field("voorrang", "sources")


class Api:
    """The endpoints, over one engine per worker."""

    def __init__(self, eng: Engine, why_not_seconds: float = WHY_NOT_SECONDS):
        self.eng = eng
        self.why_not_seconds = why_not_seconds
        self.kb_version = content_key(eng.kb_dir)  # what the knowledge base is, by content
        self.routes: list[Route] = []

    async def _fields(self, request: Request, *fields: Field) -> dict[str, Any]:
        got = fields_of(await read_json(request), fields)
        kb = self.eng.kb
        if got.get("goal") is not None:
            payloads.check_goal(self.eng, got["goal"], "goal")
        if got.get("form") is not None and got["form"] not in kb.forms:
            raise InputError(
                "form", f"onbekend formulier '{visible(got['form'])}'; toegestaan: {', '.join(sorted(kb.forms))}"
            )
        if got.get("voorrang"):
            got["voorrang"] = payloads.precedence(kb, got["voorrang"], "voorrang")
        return got

    def _applicant(self, got: dict[str, Any]):
        # quick: a body that is plainly valid skips the schema validator (which would accept it);
        # any other goes through it and gets its message
        return parse_applicant(self.eng.kb, got["applicant"], json_values=True, quick=True)

    async def assess(self, request: Request) -> Response:
        """
        summary: Beoordeel een aanvrager voor één doel, of voor elk doel
        description: Het antwoord is wat `verblijfsregels assess --format json` geeft.
        requestBody:
          required: true
          content:
            application/json:
              schema: {$ref: '#/components/schemas/AssessRequest'}
        responses:
          200:
            description: de beoordeling (met `goal`), of een lijst van beoordelingen
            content:
              application/json:
                schema:
                  oneOf:
                    - {$ref: '#/components/schemas/assessment'}
                    - {$ref: '#/components/schemas/overview'}
          413: {$ref: '#/components/responses/TooLarge'}
          422: {$ref: '#/components/responses/BadInput'}
        """
        got = await self._fields(request, APPLICANT, Field("goal", "goal"), PEILDATUM, VOORRANG)
        # computed on the event loop, not in a thread: a millisecond of work under the GIL gains
        # nothing from a thread but the hand-over (only why-not, which may take long, gets one)
        return json_response(
            payloads.assessment(self.eng, self._applicant(got), got["goal"], got["peildatum"], got["voorrang"])
        )

    async def why_not(self, request: Request) -> Response:
        """
        summary: Elke route naar een doel met wat er ontbreekt, en de kleinste wijzigingen die helpen
        description: Het antwoord is wat `verblijfsregels why-not --format json` geeft.
        requestBody:
          required: true
          content:
            application/json:
              schema: {$ref: '#/components/schemas/WhyNotRequest'}
        responses:
          200:
            description: wat ontbreekt en wat helpt
            content:
              application/json:
                schema: {$ref: '#/components/schemas/why-not'}
          413: {$ref: '#/components/responses/TooLarge'}
          422: {$ref: '#/components/responses/BadInput'}
          503: {$ref: '#/components/responses/WorkLimit'}
        """
        deadline = time.monotonic() + self.why_not_seconds  # from the request's arrival
        got = await self._fields(
            request, APPLICANT, Field("goal", "goal", required=True), PEILDATUM, Field("max_changes", "changes")
        )

        def work():
            payload, _, _ = payloads.why_not(
                self.eng, self._applicant(got), got["goal"], got["peildatum"], got["max_changes"], deadline
            )
            return payload

        # in a thread: the event loop keeps answering the short requests while this one searches
        try:
            return json_response(await run_in_threadpool(work))
        except WorkLimitReached:
            return error_response(503, work_limit_message(self.why_not_seconds))

    async def fees(self, request: Request) -> Response:
        """
        summary: Welk formulier en welke leges, met de regel die het bedrag besliste
        description: Het antwoord is wat `verblijfsregels fees --format json` geeft; geef precies één van goal of form.
        requestBody:
          required: true
          content:
            application/json:
              schema: {$ref: '#/components/schemas/FeesRequest'}
        responses:
          200:
            description: het leges-antwoord (met `form`), of een lijst (met `goal`)
            content:
              application/json:
                schema:
                  oneOf:
                    - {$ref: '#/components/schemas/fees'}
          413: {$ref: '#/components/responses/TooLarge'}
          422: {$ref: '#/components/responses/BadInput'}
        """
        got = await self._fields(request, APPLICANT, Field("goal", "goal"), Field("form", "form"), PEILDATUM, VOORRANG)
        if (got["goal"] is None) == (got["form"] is None):
            raise InputError("", "geef precies één van goal of form")

        applicant = self._applicant(got)
        answers = payloads.fee_answers(self.eng, applicant, got["goal"], got["form"], got["peildatum"], got["voorrang"])
        return json_response(payloads.fees(self.eng, answers, got["goal"], got["peildatum"]))

    async def interview_next(self, request: Request) -> Response:
        """
        summary: De volgende vraag waarvan het antwoord een uitkomst nog kan veranderen
        description: Het antwoord is wat `verblijfsregels interview --next` geeft voor de antwoorden tot nu toe.
        requestBody:
          required: true
          content:
            application/json:
              schema: {$ref: '#/components/schemas/InterviewRequest'}
        responses:
          200:
            description: de volgende vraag (of geen) en de uitkomsten tot nu toe
            content:
              application/json:
                schema: {$ref: '#/components/schemas/interview-step'}
          413: {$ref: '#/components/responses/TooLarge'}
          422: {$ref: '#/components/responses/BadInput'}
        """
        got = await self._fields(request, Field("answers", "applicant"), Field("goal", "goal"), PEILDATUM)
        goals = [got["goal"]] if got["goal"] else sorted(self.eng.kb.goals)

        answers = payloads.interview_answers(self.eng, got["answers"] if got["answers"] is not None else {})
        return json_response(payloads.interview_step(self.eng, answers, goals, got["peildatum"]))

    async def rules(self, request: Request) -> Response:
        """
        summary: Elke declaratie met id, label en bron (wat `verblijfsregels rules --format json` geeft)
        responses:
          200:
            description: de declaraties
            content:
              application/json:
                schema: {type: array, items: {$ref: '#/components/schemas/Declaration'}}
        """
        return json_response(payloads.rules(self.eng.kb))

    async def rule(self, request: Request) -> Response:
        """
        summary: Eén declaratie, bij haar id
        parameters:
          - {name: id, in: path, required: true, schema: {type: string}}
        responses:
          200:
            description: de declaratie
            content:
              application/json:
                schema: {$ref: '#/components/schemas/Declaration'}
          404: {$ref: '#/components/responses/NotFound'}
        """
        wanted = request.path_params["id"]
        for declaration in payloads.rules(self.eng.kb)["rules"]:
            if declaration["id"] == wanted:
                return json_response(declaration)
        return error_response(404, f"geen declaratie met id '{visible(wanted)}'")

    async def schema(self, request: Request) -> Response:
        """
        summary: Het gepubliceerde JSON Schema van een aanvrager of van een antwoord
        parameters:
          - name: kind
            in: path
            required: true
            schema: {enum: [applicant, assessment, overview, fees, why-not, interview-step, rules, inventory, batch-row]}
        responses:
          200:
            description: het JSON Schema (wat `verblijfsregels schema --kind` geeft)
            content:
              application/schema+json: {}
          404: {$ref: '#/components/responses/NotFound'}
        """
        kind = request.path_params["kind"]
        if kind == "applicant":
            return json_response(json_schema(self.eng.kb))
        if kind in SCHEMA_FILES:
            return Response(published_schema_text(kind).encode("utf-8"), media_type="application/json")
        allowed = ", ".join(["applicant", *SCHEMA_FILES])
        return error_response(404, f"onbekend schema '{visible(kind)}'; toegestaan: {allowed}")

    async def audit(self, request: Request) -> Response:
        """
        summary: De audit van de kennisbank (wat `verblijfsregels audit --format json` geeft)
        parameters:
          - {name: peildatum, in: query, required: false, schema: {type: string, format: date}}
        responses:
          200:
            description: het auditrapport
            content:
              application/json: {}
          422: {$ref: '#/components/responses/BadInput'}
        """
        raw = request.query_params.get("peildatum")
        try:
            peildatum = date.fromisoformat(raw) if raw is not None else date.today()
        except ValueError:
            raise InputError("peildatum", "verwacht een datum als JJJJ-MM-DD") from None
        return json_response(await run_in_threadpool(audit_json, str(self.eng.kb_dir), peildatum))

    async def audit_page(self, request: Request) -> Response:
        """The audit report as the analyst reads it (`audit --format html`), at today's peildatum."""
        page = await run_in_threadpool(audit_html, str(self.eng.kb_dir), date.today())
        # the report carries its own style element: allowed by its hash, no other inline style or script
        policy = SECURITY_HEADERS[0][1].decode().replace("style-src 'self'", f"style-src 'self' {style_hashes(page)}")
        return HTMLResponse(page, headers={"content-security-policy": policy})

    async def healthz(self, request: Request) -> Response:
        """
        summary: Of de dienst draait, met de versie van de kennisbank
        responses:
          200:
            description: draait
            content:
              application/json: {}
        """
        return json_response({"status": "ok", "kennisbank": self.kb_version})

    async def openapi(self, request: Request) -> Response:
        return json_response(openapi_document(self))


def work_limit_message(seconds: float) -> str:
    shown = f"{seconds:g}".replace(".", ",")
    return (
        f"het zoeken naar reparaties is na {shown} s gestopt (de grens van deze server per verzoek); "
        "vraag minder wijzigingen tegelijk (max_changes) of gebruik `verblijfsregels why-not`, dat geen grens heeft"
    )


@lru_cache(maxsize=4)
def audit_report(kb_dir: str, peildatum: date) -> Any:
    """The audit of one rule base at one peildatum, computed once per worker: it depends on no applicant."""

    from engine.checks.audit import audit_directory

    return audit_directory(Path(kb_dir), peildatum)


def audit_json(kb_dir: str, peildatum: date) -> Any:
    return audit_report(kb_dir, peildatum).to_json()


def audit_html(kb_dir: str, peildatum: date) -> str:
    from engine.rules.model import load_knowledge_base
    from explain import render_audit_html

    report = audit_report(kb_dir, peildatum)
    return render_audit_html(report, kb=load_knowledge_base(Path(kb_dir)) if report.graph else None)


@lru_cache(maxsize=None)
def published_schema_text(kind: str) -> str:
    return ASSESSMENT_SCHEMA.with_name(f"{SCHEMA_FILES[kind]}.schema.json").read_text(encoding="utf-8")


def openapi_document(api: Api) -> dict[str, Any]:
    """The OpenAPI 3.1 document: paths from the endpoints' docstrings, schemas the published ones."""
    kb = api.eng.kb
    generator = SchemaGenerator(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "verblijfsregels",
                "version": API_VERSION,
                "description": "De verblijfsregels van de IND als kennisbank: dezelfde antwoorden als de opdrachtregel.",
            },
        }
    )
    document = generator.get_schema(routes=api.routes)
    applicant = {"$ref": "#/components/schemas/applicant"}
    goal = {"type": "string", "enum": sorted(kb.goals)}
    day = {"type": "string", "format": "date", "description": "standaard: vandaag"}
    sources = {"type": "array", "items": {"type": "string"}, "description": "bronnen in volgorde van voorrang"}
    request = {"type": "object", "additionalProperties": False}
    error = {
        "type": "object",
        "required": ["error", "status"],
        "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
    }
    schemas = {kind: json.loads(published_schema_text(kind)) for kind in SCHEMA_FILES}
    schemas.update(
        {
            "applicant": json_schema(kb),
            "AssessRequest": {
                **request,
                "required": ["applicant"],
                "properties": {"applicant": applicant, "goal": goal, "peildatum": day, "voorrang": sources},
            },
            "WhyNotRequest": {
                **request,
                "required": ["applicant", "goal"],
                "properties": {
                    "applicant": applicant,
                    "goal": goal,
                    "peildatum": day,
                    "max_changes": {"type": "integer", "minimum": 0, "maximum": 5, "default": 3},
                },
            },
            "FeesRequest": {
                **request,
                "required": ["applicant"],
                "properties": {
                    "applicant": applicant,
                    "goal": goal,
                    "form": {"type": "string", "enum": sorted(kb.forms)},
                    "peildatum": day,
                    "voorrang": sources,
                },
            },
            "InterviewRequest": {**request, "properties": {"answers": applicant, "goal": goal, "peildatum": day}},
            "Declaration": {"type": "object", "required": ["id", "label", "kind", "source"]},
            "Error": error,
        }
    )

    def response(text: str) -> dict[str, Any]:
        return {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }

    document["components"] = {
        "schemas": schemas,
        "responses": {
            "BadInput": response("onjuiste invoer: de melding noemt het veld en wat is toegestaan"),
            "TooLarge": response(f"de body is groter dan {MAX_BODY_BYTES} bytes"),
            "NotFound": response("niet gevonden"),
            "WorkLimit": response("het zoeken naar reparaties duurde langer dan de grens per verzoek van de server"),
        },
    }
    return document


def create_app(eng: Engine | None = None, why_not_seconds: float = WHY_NOT_SECONDS) -> Starlette:
    """The application over one engine (loaded here when not given: once per worker); a why-not
    stops its repair search after `why_not_seconds`."""
    if eng is None:  # `serve --kb DIR` hands its directory to the workers it starts (cli.SERVE_KB)
        served = os.environ.get("VERBLIJFSREGELS_SERVE_KB")
        eng = Engine(Path(served)) if served else Engine()
    api = Api(eng, why_not_seconds)
    pages = Pages(api)
    api.routes = routes = [
        Route("/v1/assess", api.assess, methods=["POST"]),
        Route("/v1/why-not", api.why_not, methods=["POST"]),
        Route("/v1/fees", api.fees, methods=["POST"]),
        Route("/v1/interview/next", api.interview_next, methods=["POST"]),
        Route("/v1/rules", api.rules, methods=["GET"]),
        Route("/v1/rules/{id}", api.rule, methods=["GET"]),
        Route("/v1/schema/{kind}", api.schema, methods=["GET"]),
        Route("/v1/audit", api.audit, methods=["GET"]),
        Route("/healthz", api.healthz, methods=["GET"]),
        Route("/v1/openapi.json", api.openapi, methods=["GET"], include_in_schema=False),
        Route("/", pages.start, methods=["GET"], include_in_schema=False),
        Route("/vraag", pages.step, methods=["POST"], include_in_schema=False),
        Route("/audit", api.audit_page, methods=["GET"], include_in_schema=False),
        Route("/regels", pages.rules, methods=["GET"], include_in_schema=False),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]

    async def bad_input(request: Request, exc: Exception) -> Response:
        return error_response(422, str(exc))

    async def too_large(request: Request, exc: Exception) -> Response:
        return error_response(413, f"de body is groter dan {MAX_BODY_BYTES} bytes")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        words = {404: "niet gevonden", 405: "deze methode is hier niet toegestaan"}
        return error_response(exc.status_code, words.get(exc.status_code, str(exc.detail)))

    async def server_error(request: Request, exc: Exception) -> Response:
        # never a traceback, nor anything of the request: the fault is ours, not the user's
        return error_response(500, "interne fout; de aanvraag is niet bewaard")

    app = Starlette(
        routes=routes,
        exception_handlers={
            VerblijfsregelsError: bad_input,
            BodyTooLarge: too_large,
            HTTPException: http_error,
            Exception: server_error,
        },
    )
    app.add_middleware(SecurityHeaders)
    return app


class SecurityHeaders:
    """Pure ASGI middleware: every response gets the security headers (the pages come later)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                given = {name.lower() for name, _ in headers} & _SECURITY_NAMES if headers else ()
                extra = [h for h in SECURITY_HEADERS if h[0] not in given] if given else SECURITY_HEADERS
                message = {**message, "headers": [*headers, *extra]}
            await send(message)

        return await self.app(scope, receive, send_with_headers)
