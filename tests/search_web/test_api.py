"""The JSON API against its OpenAPI document: the document is valid, and a schemathesis run over every
operation finds no 500 and no response outside the schema. Every HTML page has a JSON twin."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from archive.settings import Settings
from reports.store import stored_reports
from search_web import create_app


@pytest.fixture(scope="session")
def api_schema(indexed: Settings):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_wsgi("/openapi.json", create_app(indexed))


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_api_conforms_to_its_openapi_document(api_schema) -> None:  # type: ignore[no-untyped-def]
    """Every operation, fuzzed by schemathesis (driven through hypothesis directly: its pytest plugin
    does not load under this pytest)."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(checks=CHECKS)

        check()


def test_openapi_document_is_valid(client) -> None:  # type: ignore[no-untyped-def]
    import jsonschema_rs

    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    for _path, item in doc["paths"].items():
        for operation in item.values():
            for response in operation["responses"].values():
                for media in response.get("content", {}).values():
                    jsonschema_rs.meta.validate(media["schema"])
            for parameter in operation.get("parameters", []):
                jsonschema_rs.meta.validate(parameter["schema"])
    # schemathesis resolves every operation of the document (an invalid one is an error result).
    loaded = schemathesis.openapi.from_dict(doc)
    assert len([result.ok() for result in loaded.get_all_operations()]) == len(doc["paths"])


def _twin(html: str) -> str:
    match = re.search(r'<link rel="alternate" type="application/json" href="([^"]+)"', html)
    assert match, "page without a JSON twin link"
    return match.group(1).replace("&amp;", "&")


def test_every_page_has_a_json_twin_with_the_same_query(client, indexed: Settings) -> None:  # type: ignore[no-untyped-def]
    from archive.catalog import Catalog
    from reports.extract import extract_all

    with Catalog(indexed.catalog_path) as catalog:
        extract_all(catalog)  # idempotent: other tests see the same reports
        doc = next(iter(catalog.iter_documents()))
        capture = catalog.captures_for(doc.id)[0]
        report = stored_reports(catalog)[0]
    pages = [
        "/?q=信息公开&year=2016",
        f"/doc/{doc.id}?q=通知",
        f"/capture/{capture.id}",
        "/reports/",
        f"/reports/agency/{report['agency']}",
        f"/reports/year/{report['year']}",
        f"/reports/doc/{report['doc_id']}",
        "/help",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        twin = _twin(response.get_data(as_text=True))
        if "?" in page:
            assert (
                twin.endswith(
                    "?"
                    + page.split("?", 1)[1]
                    .replace("信息公开", "%E4%BF%A1%E6%81%AF%E5%85%AC%E5%BC%80")
                    .replace("通知", "%E9%80%9A%E7%9F%A5")
                )
                or page.split("?", 1)[1] in twin
            ), (page, twin)
        data = client.get(twin)
        assert data.status_code == 200 and data.is_json and data.get_json()["ok"] is True, (page, twin)
    search = client.get("/search.json?q=信息公开&year=2016").get_json()
    page = client.get("/?q=信息公开&year=2016").get_data(as_text=True)
    assert f'<strong id="total">{search["total"]}</strong>' in page
