"""Annual-report data pages: per agency year by year with a chart, per year across agencies, downloads."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request

from archive.spreadsheet import spreadsheet_safe
from index.api import QueryError
from reports.store import stored_reports
from search_web import get_catalog

bp = Blueprint("reports", __name__)

# The figures shown in the tables: (label, unit, keys tried in order; a "+"-joined key is a sum).
HEADLINE = (
    ("主动公开政府信息", "条", ("prose.active",)),
    ("行政规范性文件：现行有效", "件", ("active.normative.valid",)),
    ("依申请公开：本年新收", "件", ("apply.new.total",)),
    ("依申请公开：办理结果总计", "件", ("apply.total.total", "apply.on_time.total")),
    ("其中予以公开", "件", ("apply.granted.total",)),
    ("结转下年度继续办理", "件", ("apply.carry_forward.total",)),
    ("行政复议", "件", ("review.total",)),
    ("行政诉讼", "件", ("lit.total", "lit_direct.total+lit_after.total")),
    ("信息公开工作人员", "人", ("staff",)),
)
CHART_KEY = ("依申请公开：本年新收（件）", "apply.new.total")


def _value(report: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any] | None:
    """The first of `keys` the report has: {value, key, source}; a+b sums two figures."""
    by_key = {f["key"]: f for f in report["figures"]}
    for key in keys:
        parts = key.split("+")
        if all(p in by_key for p in parts):
            return {
                "value": sum(by_key[p]["value"] for p in parts),
                "key": parts[0],
                "source": "；".join(by_key[p]["source"] for p in parts),
            }
    return None


def _latest_per_year(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """One report per year (the last extracted document when a portal published it twice)."""
    latest = {r["year"]: r for r in sorted(rows, key=lambda r: (r["year"], r["doc_id"]))}
    for report in latest.values():
        report["figures_by_key"] = {f["key"]: f["value"] for f in report["figures"]}
    return latest


def _chart(points: list[tuple[int, float | None]]) -> dict[str, Any]:
    """Bars for an SVG chart drawn by the template (no script, no CDN)."""
    width, height, pad = 640, 220, 36
    known = [v for _, v in points if v is not None]
    top = max(known + [1])
    step = (width - 2 * pad) / max(len(points), 1)
    bars = []
    for i, (year, value) in enumerate(points):
        h = 0 if value is None else (height - 2 * pad) * value / top
        bars.append(
            {
                "x": pad + i * step + step * 0.15,
                "w": step * 0.7,
                "y": height - pad - h,
                "h": h,
                "year": year,
                "value": value,
                "label_y": height - pad - h - 4,
                "cx": pad + i * step + step / 2,
            }
        )
    return {"width": width, "height": height, "pad": pad, "bars": bars, "top": top}


def _year_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1990 <= int(raw) <= 2100:
        raise QueryError(f"参数 {name} 应为四位年份，收到 {raw[:20]!r}", "例如 year=2021")
    return int(raw)


def _index_context() -> dict[str, Any]:
    rows = stored_reports(get_catalog())
    agencies: dict[str, list[int]] = {}
    for row in rows:
        agencies.setdefault(row["agency"], []).append(row["year"])
    years = sorted({r["year"] for r in rows}, reverse=True)
    failed = sum(not c["ok"] for r in rows for c in r["checks"])
    return {"agencies": sorted(agencies.items()), "years": years, "count": len(rows), "failed": failed}


@bp.get("/reports/")
def index() -> Any:
    return render_template("reports_index.html", **_index_context())


@bp.get("/reports.json")
def index_json() -> Any:
    context = _index_context()
    return jsonify(
        {
            "ok": True,
            "reports": context["count"],
            "failed_checks": context["failed"],
            "years": context["years"],
            "agencies": [{"agency": a, "years": sorted(set(y)), "url": f"/reports/agency/{a}"} for a, y in context["agencies"]],
        }
    )


@bp.get("/reports/agency/<path:agency>")
def agency_page(agency: str) -> Any:
    as_json = agency.endswith(".json")
    agency = agency.removesuffix(".json") if as_json else agency
    by_year = _latest_per_year(stored_reports(get_catalog(), agency=agency))
    if not by_year:
        abort(404)
    years = sorted(by_year)
    table = [
        {"label": label, "unit": unit, "cells": [(year, by_year[year], _value(by_year[year], keys)) for year in years]}
        for label, unit, keys in HEADLINE
    ]
    table = [row for row in table if any(cell[2] is not None for cell in row["cells"])]
    chart = _chart([(y, by_year[y]["figures_by_key"].get(CHART_KEY[1])) for y in years])
    failed = [(year, c) for year in years for c in by_year[year]["checks"] if not c["ok"]]
    if as_json:
        return jsonify(
            {
                "ok": True,
                "agency": agency,
                "years": years,
                "table": [
                    {"label": row["label"], "unit": row["unit"], "values": {str(year): value for year, _, value in row["cells"]}}
                    for row in table
                ],
                "reports": {str(y): f"/reports/doc/{by_year[y]['doc_id']}" for y in years},
                "failed_checks": [{"year": y, **c} for y, c in failed],
            }
        )
    return render_template(
        "reports_agency.html",
        agency=agency,
        years=years,
        table=table,
        chart=chart,
        chart_label=CHART_KEY[0],
        reports=by_year,
        failed=failed,
    )


@bp.get("/reports/year/<int:year>.json")
def year_json(year: int) -> Any:
    return year_page(year, as_json=True)


@bp.get("/reports/year/<int:year>")
def year_page(year: int, as_json: bool = False) -> Any:
    if not 1990 <= year <= 2100:
        abort(404)
    rows = stored_reports(get_catalog(), year=year)
    if not rows:
        abort(404)
    latest: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["doc_id"]):
        latest[row["agency"]] = row
    columns = [(label, unit) for label, unit, _ in HEADLINE]
    table: list[dict[str, Any]] = [
        {"agency": agency, "report": report, "cells": [_value(report, keys) for _, _, keys in HEADLINE]}
        for agency, report in sorted(latest.items())
    ]
    keep = [i for i in range(len(columns)) if any(row["cells"][i] is not None for row in table)]
    if as_json:
        return jsonify(
            {
                "ok": True,
                "year": year,
                "columns": [{"label": columns[i][0], "unit": columns[i][1]} for i in keep],
                "agencies": [
                    {
                        "agency": row["agency"],
                        "doc_id": row["report"]["doc_id"],
                        "values": [_plain(row["cells"][i]) for i in keep],
                    }
                    for row in table
                ],
            }
        )
    return render_template(
        "reports_year.html",
        year=year,
        columns=[columns[i] for i in keep],
        table=[{**row, "cells": [row["cells"][i] for i in keep]} for row in table],
    )


@bp.get("/reports/doc/<doc_id>.json")
def report_json(doc_id: str) -> Any:
    return report_page(doc_id, as_json=True)


@bp.get("/reports/doc/<doc_id>")
def report_page(doc_id: str, as_json: bool = False) -> Any:
    found = stored_reports(get_catalog(), doc_id=doc_id)  # one row, not every report decoded
    if not found:
        abort(404)
    report = found[0]
    if as_json:
        return jsonify(
            {
                "ok": True,
                **{k: report[k] for k in ("doc_id", "agency", "year", "title", "format", "figures", "checks", "problems")},
                "doc_url": f"/doc/{doc_id}",
            }
        )
    return render_template("reports_doc.html", report=report)


def _plain(cell: Any) -> Any:
    """A table cell as JSON: the figure's value (cells are figures or None)."""
    if isinstance(cell, dict):
        return cell.get("value")
    return cell


def _figure_rows(agency: str | None, year: int | None) -> list[dict[str, Any]]:
    rows = []
    for report in stored_reports(get_catalog(), agency=agency, year=year):
        for figure in report["figures"]:
            rows.append(
                {
                    "agency": report["agency"],
                    "year": report["year"],
                    "format": report["format"],
                    "doc_id": report["doc_id"],
                    "title": report["title"],
                    "doc_url": f"/doc/{report['doc_id']}",
                    **figure,
                }
            )
    return rows


@bp.get("/reports/figures.json")
def figures_json() -> Any:
    agency, year = request.args.get("agency") or None, _year_arg("year")
    reports = stored_reports(get_catalog(), agency=agency, year=year)
    return jsonify(
        {
            "ok": True,
            "agency": agency,
            "year": year,
            "reports": [
                {k: r[k] for k in ("doc_id", "agency", "year", "title", "format", "figures", "checks", "problems")}
                | {"doc_url": f"/doc/{r['doc_id']}"}
                for r in reports
            ],
        }
    )


@bp.get("/reports/figures.csv")
def figures_csv() -> Any:
    rows = _figure_rows(request.args.get("agency") or None, _year_arg("year"))
    out = io.StringIO()
    fields = ["agency", "year", "key", "label", "value", "unit", "section", "source", "format", "title", "doc_url"]
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: spreadsheet_safe(v) for k, v in row.items()} for row in rows)  # no cell runs as a formula
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=annual-report-figures.csv"},
    )
