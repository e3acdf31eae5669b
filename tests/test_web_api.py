"""The HTTP API gives what the command line gives: the same bytes for the same applicant, the same
field-naming message for bad input (as 422), and never a traceback."""

from __future__ import annotations

import enum
import json
import uuid
from pathlib import Path

import orjson
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from cli import main
from engine.applicant.facts import load_applicant_file
from engine.web.app import create_app
from engine.web.requests import MAX_BODY_BYTES
from tests.test_scenarios import FILES, load_scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "voorbeelden" / "aanvrager.yaml"
GOAL = "onbepaalde_tijd_regulier"


@pytest.fixture(scope="module")
def client(engine):
    with TestClient(create_app(engine), raise_server_exceptions=False) as c:
        yield c


def cli(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def cli_error(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 2
    line = result.output.strip()
    assert line.startswith("fout: ")
    return line[len("fout: ") :]


def scenario_applicants(tmp_path_factory):
    """(name, file, JSON values, spec) for every scenario: the applicant as the CLI reads it and as a client posts it."""
    folder = tmp_path_factory.mktemp("scenarios")
    for path in FILES:
        spec = load_scenario(path)
        file = folder / f"{path.parent.name}__{path.stem[:60]}.yaml"
        file.write_text(yaml.safe_dump(spec["facts"], allow_unicode=True), encoding="utf-8")
        yield path.stem, file, load_applicant_file(file), spec


def test_assess_gives_the_cli_bytes_for_every_scenario_applicant(client, tmp_path_factory):
    compared = 0
    for name, file, facts, spec in scenario_applicants(tmp_path_factory):
        peildatum = str(spec["peildatum"])
        if "doel" in spec:
            body = {"applicant": facts, "goal": spec["doel"], "peildatum": peildatum}
            expected = cli("assess", file, "--goal", spec["doel"], "--peildatum", peildatum, "--format", "json")
            url = "/v1/assess"
        else:
            form, order = str(spec["leges"]["formulier"]), spec["leges"].get("voorrang") or []
            body = {"applicant": facts, "form": form, "peildatum": peildatum, "voorrang": order}
            expected = cli(
                "fees",
                file,
                "--form",
                form,
                "--peildatum",
                peildatum,
                "--voorrang",
                ",".join(order),
                "--format",
                "json",
            )
            url = "/v1/fees"
        response = client.post(url, json=body)
        assert response.status_code == 200, (name, response.text)
        assert response.content.decode("utf-8") == expected, name
        compared += 1
    assert compared == len(FILES) > 300


def test_every_goal_why_not_fees_and_the_next_question_give_the_cli_bytes(client):
    facts = load_applicant_file(EXAMPLE)
    day = "2026-06-01"
    pairs = [
        ({"applicant": facts, "peildatum": day}, "/v1/assess", ("assess", EXAMPLE, "--peildatum", day)),
        (
            {"applicant": facts, "goal": GOAL, "peildatum": day, "max_changes": 2},
            "/v1/why-not",
            ("why-not", EXAMPLE, "--goal", GOAL, "--peildatum", day, "--max-changes", "2"),
        ),
        (
            {"applicant": facts, "form": "7027", "peildatum": day, "voorrang": ["002", "001"]},
            "/v1/fees",
            ("fees", EXAMPLE, "--form", "7027", "--peildatum", day, "--voorrang", "002,001"),
        ),
    ]
    for body, url, args in pairs:
        response = client.post(url, json=body)
        assert response.status_code == 200, response.text
        assert response.content.decode("utf-8") == cli(*args, "--format", "json"), url
    step = client.post("/v1/interview/next", json={"answers": facts, "goal": GOAL, "peildatum": day})
    assert step.content.decode("utf-8") == cli(
        "interview", "--answers", EXAMPLE, "--goal", GOAL, "--peildatum", day, "--next"
    )


def test_rules_and_schemas_are_what_the_cli_prints(client):
    assert client.get("/v1/rules").content.decode("utf-8") == cli("rules", "--format", "json")
    declarations = json.loads(cli("rules", "--format", "json"))["rules"]
    c13 = next(d for d in declarations if d["id"] == "C13")
    assert client.get("/v1/rules/C13").json() == c13
    for kind in ("applicant", "assessment", "overview", "fees", "why-not", "interview-step", "rules", "batch-row"):
        assert client.get(f"/v1/schema/{kind}").content.decode("utf-8") == cli("schema", "--kind", kind), kind


@pytest.mark.parametrize(
    "facts, args",
    [
        ({"geboortedatum": 12}, ("--goal", GOAL)),
        ({"geboortedatum": "1990-01-01", "bestaat_niet": True}, ("--goal", GOAL)),
        ({"geboortedatum": "1990-01-01"}, ("--goal", "geen_doel")),
    ],
    ids=["a date given as a number", "an unknown fact", "an unknown goal"],
)
def test_bad_input_gets_422_with_the_message_the_cli_gives(client, tmp_path, facts, args):
    file = tmp_path / "aanvrager.json"
    file.write_text(json.dumps(facts), encoding="utf-8")
    body = {"applicant": facts, "goal": args[1]}
    response = client.post("/v1/assess", json=body)
    assert response.status_code == 422
    expected = cli_error("assess", file, *args).replace("veld '--goal'", "veld 'goal'")
    assert response.json() == {"error": expected, "status": 422}


def test_a_field_the_request_does_not_have_is_named_with_what_is_allowed(client):
    response = client.post("/v1/fees", json={"applicant": {}, "formulier": "7027"})
    assert response.status_code == 422
    assert response.json()["error"] == (
        "veld 'formulier': onbekend; toegestaan: applicant, form, goal, peildatum, voorrang"
    )
    response = client.post("/v1/fees", json={"applicant": {}, "goal": GOAL, "form": "7027"})
    assert response.json()["error"] == "geef precies één van goal of form"


def test_a_body_over_the_limit_gets_413_and_an_unknown_route_404(client):
    assert client.post("/v1/assess", content=b" " * (MAX_BODY_BYTES + 1)).status_code == 413
    missing = client.get("/v1/bestaat-niet")
    assert missing.status_code == 404
    assert missing.json() == {"error": "niet gevonden", "status": 404}
    assert client.get("/v1/assess").status_code == 405
    assert client.get("/v1/rules/GEEN").status_code == 404


def test_every_response_carries_the_security_headers(client):
    for response in (client.get("/healthz"), client.get("/nergens"), client.post("/v1/assess", content=b"{")):
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_the_openapi_document_names_every_route_and_holds_the_published_schemas(client):
    document = client.get("/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) == {
        "/v1/assess",
        "/v1/why-not",
        "/v1/fees",
        "/v1/interview/next",
        "/v1/rules",
        "/v1/rules/{id}",
        "/v1/schema/{kind}",
        "/v1/audit",
        "/healthz",
    }
    schemas = document["components"]["schemas"]
    for kind in ("applicant", "assessment", "overview", "fees", "why-not", "interview-step", "rules", "batch-row"):
        assert schemas[kind] == json.loads(cli("schema", "--kind", kind)), kind
    refs = {m for m in _refs(document) if m.startswith("#/components/")}
    for ref in refs:  # every reference the paths make resolves inside the document
        node = document
        for part in ref[2:].split("/"):
            node = node[part]


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(
    url=st.sampled_from(["/v1/assess", "/v1/why-not", "/v1/fees", "/v1/interview/next"]),
    body=st.dictionaries(
        st.sampled_from(["applicant", "answers", "goal", "form", "peildatum", "voorrang", "max_changes", "x"]),
        JSON_VALUES,
        max_size=4,
    ),
)
def test_no_body_gets_a_server_error(client, url, body):
    response = client.post(url, json=body)
    assert response.status_code in (200, 422), response.text
    assert "Traceback" not in response.text


def not_eligible(day: str = "2026-11-23") -> dict:
    """The example applicant without health insurance: not eligible, and taking one out would help."""
    return {**load_applicant_file(EXAMPLE), "heeft_zorgverzekering": False}


def test_a_why_not_past_the_servers_work_limit_gets_503_naming_the_limit(engine):
    body = {"applicant": not_eligible(), "goal": GOAL, "peildatum": "2026-11-23", "max_changes": 2}
    with TestClient(create_app(engine, why_not_seconds=1e-9), raise_server_exceptions=False) as tiny:
        response = tiny.post("/v1/why-not", json=body)
        assert response.status_code == 503
        message = response.json()["error"]
        assert "na 1e-09 s gestopt" in message and "max_changes" in message
        assert response.json()["status"] == 503
        # what the limit does not touch is answered as ever
        assert tiny.post("/v1/assess", json={"applicant": not_eligible(), "goal": GOAL}).status_code == 200
    with TestClient(create_app(engine), raise_server_exceptions=False) as usual:
        response = usual.post("/v1/why-not", json=body)
        assert response.status_code == 200
        assert response.json()["assessment"]["outcome"] == "not_eligible"


def test_the_repair_search_stops_only_where_a_deadline_is_given(engine):
    import time
    from datetime import date

    from engine.answer.repairs import WorkLimitReached, find_repairs
    from engine.applicant.facts import parse_applicant

    applicant = parse_applicant(engine.kb, not_eligible(), json_values=True)
    day = date(2026, 11, 23)
    with pytest.raises(WorkLimitReached):
        find_repairs(engine, applicant, GOAL, day, 2, deadline=time.monotonic())
    assert find_repairs(engine, applicant, GOAL, day, 2).repairs  # the command line's search, without a limit


JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.integers(min_value=2**64, max_value=2**80)
)
JSON_KEYS = st.one_of(st.text(), st.integers(), st.booleans(), st.none(), st.floats())


@settings(max_examples=300, deadline=None)
@given(
    value=st.recursive(
        JSON_LEAVES,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.lists(inner, max_size=3).map(tuple),
            st.dictionaries(st.text(max_size=5), inner, max_size=4),
            st.dictionaries(JSON_KEYS, inner, max_size=3),
        ),
        max_leaves=20,
    )
)
def test_the_web_writes_every_json_value_as_the_command_line_does(value):
    from engine.answer.payloads import dumps
    from engine.web import jsontext

    assert jsontext.dumps(value) == dumps(value)


def written(dumps, payload):
    """The text, or the kind of error that refused the payload."""
    try:
        return dumps(payload)
    except (TypeError, ValueError) as exc:
        return type(exc)


class Colour(enum.Enum):
    RED = 1


class Size(enum.IntEnum):
    SMALL = 1


class Word(str, enum.Enum):
    YES = "ja"


@pytest.mark.parametrize(
    "value", [Colour.RED, Size.SMALL, Word.YES, uuid.UUID(int=7), orjson.Fragment(b"[1]"), 1e-4, -0.0, 5e-324]
)
def test_values_of_the_types_orjson_writes_and_json_does_not_are_handed_to_the_command_line_writer(value):
    from engine.answer.payloads import dumps
    from engine.web import jsontext

    for payload in (value, [value], {"proof": [{"value": value}]}):
        assert written(jsontext.dumps, payload) == written(dumps, payload)
        if not isinstance(written(dumps, payload), str):
            with pytest.raises(written(dumps, payload)):
                jsontext.encoded(payload)


@pytest.mark.parametrize(
    "value",
    [1e-05, -7.07e-06, 1.7e-09, float("nan"), float("inf"), -float("inf"), (1, [2, (3,)]), {1: "x"}, 2**70, 0.5, 1e16],
)
def test_the_values_orjson_writes_otherwise_are_written_as_the_command_line_does(value):
    """Each value orjson writes otherwise (or refuses), alone and inside an answer."""
    from engine.answer.payloads import dumps
    from engine.web import jsontext

    for payload in (value, {"proof": [{"value": value, "label": "e-mail, 0.0000"}]}):
        assert jsontext.dumps(payload) == dumps(payload)
        assert jsontext.encoded(payload) == (dumps(payload) + "\n").encode("utf-8")
