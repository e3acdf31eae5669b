"""The advisor's pages without a browser: the state travels in the form and is checked like any
applicant file, answers download as an applicant file and upload again, and applicant values are
escaped."""

from __future__ import annotations

import html
import re

import pytest
import yaml
from starlette.testclient import TestClient

from engine.web.app import create_app

GOAL = "onbepaalde_tijd_regulier"


@pytest.fixture(scope="module")
def client(engine):
    with TestClient(create_app(engine), raise_server_exceptions=False) as c:
        yield c


def state_of(page: str) -> str:
    return html.unescape(re.search(r'name="staat" value="([^"]*)"', page).group(1))


def fact_of(page: str) -> str:
    return re.search(r'name="feit" value="([^"]*)"', page).group(1)


def begin(client) -> str:
    response = client.post("/vraag", data={"actie": "begin", "doel": GOAL, "peildatum": "2026-11-23"})
    assert response.status_code == 200
    return response.text


def test_a_yes_no_answer_is_kept_and_shown_with_a_way_to_change_it(client):
    page = begin(client)
    fact = fact_of(page)
    answered = client.post("/vraag", data={"actie": "antwoord", "staat": state_of(page), "feit": fact, "waarde": "nee"})
    assert answered.status_code == 200
    assert f'value="wijzig:{fact}"' in answered.text
    assert fact_of(answered.text) != fact
    again = client.post("/vraag", data={"actie": f"wijzig:{fact}", "staat": state_of(answered.text)})
    assert fact_of(again.text) == fact
    assert 'value="nee" checked' in again.text


def test_the_answers_download_as_an_applicant_file_and_upload_again(client):
    page = begin(client)
    fact = fact_of(page)
    answered = client.post("/vraag", data={"actie": "antwoord", "staat": state_of(page), "feit": fact, "waarde": "nee"})
    download = client.post("/vraag", data={"actie": "download", "staat": state_of(answered.text)})
    assert download.headers["content-disposition"] == 'attachment; filename="aanvrager.yaml"'
    assert yaml.safe_load(download.text) == {fact: False}
    upload = client.post(
        "/vraag",
        data={"actie": "upload", "doel": GOAL, "peildatum": "2026-11-23"},
        files={"bestand": ("aanvrager.yaml", download.content, "application/yaml")},
    )
    assert upload.status_code == 200
    assert fact_of(upload.text) == fact_of(answered.text)


def test_a_tampered_state_is_refused_naming_the_field(client):
    page = begin(client)
    state = state_of(page).replace('"answers": {}', '"answers": {"geboortedatum": 12}')
    response = client.post("/vraag", data={"actie": "weet_niet", "staat": state, "feit": fact_of(page)})
    assert response.status_code == 422
    assert "geboortedatum" in response.json()["error"]


def test_a_wrong_answer_shows_the_question_again_with_what_is_allowed(client):
    page = begin(client)
    response = client.post(
        "/vraag", data={"actie": "antwoord", "staat": state_of(page), "feit": "geboortedatum", "waarde": "gisteren"}
    )
    assert response.status_code == 422
    assert 'class="fout"' in response.text and "JJJJ-MM-DD" in response.text


def test_what_an_upload_holds_never_reaches_the_page_as_markup(client):
    hostile = {"<script>alert(1)</script>": True, "geboortedatum": "<b>1990</b>"}
    response = client.post(
        "/vraag",
        data={"actie": "upload", "doel": GOAL, "peildatum": "2026-11-23"},
        files={"bestand": ("aanvrager.yaml", yaml.safe_dump(hostile).encode(), "application/yaml")},
    )
    assert response.status_code == 422
    assert 'class="fout"' in response.text
    assert "<script>alert" not in response.text and "<b>1990" not in response.text


def test_the_rules_browser_finds_a_rule_by_id_and_by_inventory_row(client):
    by_id = client.get("/regels", params={"q": "C13"})
    assert 'id="C13"' in by_id.text
    by_row = client.get("/regels", params={"q": "A9"})
    assert by_row.status_code == 200 and 'id="rij-A9"' in by_row.text


def test_a_decision_whose_repair_search_hits_the_limit_says_so_and_keeps_the_decision(engine):
    import json

    from engine.applicant.facts import load_applicant_file
    from tests.test_web_api import EXAMPLE

    answers = {**load_applicant_file(EXAMPLE), "heeft_zorgverzekering": False}
    state = json.dumps({"answers": answers, "skipped": [], "goal": GOAL, "peildatum": "2026-11-23"})
    with TestClient(create_app(engine, why_not_seconds=1e-9), raise_server_exceptions=False) as tiny:
        page = tiny.post("/vraag", data={"actie": "beslissing", "staat": state})
    assert page.status_code == 200
    # the decision stays: not eligible, and the condition not met (health insurance) is named
    rule = engine.kb.rules[engine.kb.rules_for["voorwaarde_zorgverzekering"][0]]
    assert "Komt niet in aanmerking" in page.text
    assert f'<p>Niet vervuld:</p>\n<ul class="voorwaarden"><li>{rule.label} (bron 004)' in page.text
    assert "Het zoeken naar wat zou helpen is na 1e-09 s gestopt" in page.text
    assert "Wat zou helpen" not in page.text
