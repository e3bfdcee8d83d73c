"""Recognise annual reports among the archived documents and extract them (idempotent, stored in the catalog)."""

from __future__ import annotations

import logging
import re

from archive.catalog import Catalog, StoredDocument
from reports.checks import run_checks
from reports.model import Report
from reports.prose import read_prose
from reports.standard import is_standard, read_standard
from reports.store import replace_reports

log = logging.getLogger(__name__)

_TITLE = re.compile(r"政府信息公开.{0,6}(?:年度报告|年报|工作报告)|信息公开工作年度报告")
_REPORTISH = re.compile(r"年.{0,12}(?:报告|年报)")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def recognise(stored: StoredDocument) -> tuple[str, int] | None:
    """(agency, report year) when the document is a 政府信息公开工作年度报告, else None."""
    doc = stored.doc
    if not _TITLE.search(doc.title) and not (  # the table scan only for report-like titles: this runs after every crawl
        _REPORTISH.search(doc.title) and any(is_standard(t) for t in [doc.body] + [a.text for a in doc.attachments if a.text])
    ):
        return None  # neither titled as a report nor carrying the standard tables
    year = _YEAR.search(doc.title)
    if year is None:
        return None
    return doc.agency or "（未知机构）", int(year.group(1))


def extract_report(stored: StoredDocument) -> Report | None:
    """The figures of one report: the standard tables (in the page or an attached PDF/DOCX) or the prose."""
    found = recognise(stored)
    if found is None:
        return None
    agency, year = found
    doc = stored.doc
    texts = [doc.body] + [a.text for a in doc.attachments if a.text]
    report = Report(stored.id, agency, year, doc.title, "prose")
    standard_text = next((t for t in texts if is_standard(t)), None)
    if standard_text is not None:
        report.format = "standard"
        report.figures, report.problems = read_standard(standard_text)
        report.checks = run_checks(report.figures)
    else:
        report.figures = read_prose("\n".join(texts))
    return report


def extract_all(catalog: Catalog) -> list[Report]:
    """Re-run the extraction over the whole archive and store the result (replacing the previous one)."""
    reports = [r for r in (extract_report(s) for s in catalog.iter_documents()) if r is not None]
    replace_reports(
        catalog,
        [
            {
                "doc_id": r.doc_id,
                "agency": r.agency,
                "year": r.year,
                "title": r.title,
                "format": r.format,
                "figures": [f.as_dict() for f in r.figures],
                "checks": [c.as_dict() for c in r.checks],
                "problems": r.problems,
            }
            for r in reports
        ],
    )
    failed = sum(not c.ok for r in reports for c in r.checks)
    log.info("annual reports: %d extracted, %d failed checks", len(reports), failed)
    return reports
