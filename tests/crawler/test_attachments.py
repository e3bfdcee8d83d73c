"""Attachment text: every supported format, hostile files, and the resource-limited child process."""

from __future__ import annotations

import io
import zipfile

from crawler.attachments import extract_text, extract_text_isolated
from xxgk.demo.model import AttachmentSpec
from xxgk.demo.msdoc import compound_file, doc_bytes
from xxgk.demo.render import docx_bytes, pdf_bytes

LINES = ["余杭区2023年度社会救助资金发放情况", "最低生活保障对象 1203 户"]
OFD_NS = "http://www.ofdspec.org/2016"


def _ofd(pages: list[list[str]], content_xml: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(
            "OFD.xml",
            f'<ofd:OFD xmlns:ofd="{OFD_NS}"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>',
        )
        zf.writestr("Doc_0/Document.xml", f'<ofd:Document xmlns:ofd="{OFD_NS}"/>')
        for i, lines in enumerate(pages):
            texts = "".join(
                f'<ofd:TextObject ID="{i}{j}"><ofd:TextCode X="0" Y="{j}">{t}</ofd:TextCode></ofd:TextObject>'
                for j, t in enumerate(lines)
            )
            zf.writestr(
                f"Doc_0/Pages/Page_{i}/Content.xml",
                content_xml
                or f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:Content><ofd:Layer>{texts}</ofd:Layer></ofd:Content></ofd:Page>',
            )
    return out.getvalue()


def test_pdf_docx_xlsx_ofd_text() -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["项目", "户数"])
    book.active.append(["最低生活保障对象", 1203])
    xlsx = io.BytesIO()
    book.save(xlsx)
    cases = {
        "a.pdf": pdf_bytes(AttachmentSpec("", "", "pdf", LINES)),
        "b.docx": docx_bytes(AttachmentSpec("", "", "docx", LINES)),
        "c.xlsx": xlsx.getvalue(),
        "d.ofd": _ofd([LINES[:1], LINES[1:]]),
    }
    for name, data in cases.items():
        text, error = extract_text(data, name)
        assert error == "", name
        assert "最低生活保障对象" in text and "1203" in text, name
    assert extract_text(cases["d.ofd"], "d.ofd")[0] == "\n".join(LINES)  # page order kept


def test_hostile_files_are_refused_with_a_reason() -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        f'<ofd:Page xmlns:ofd="{OFD_NS}"><ofd:TextCode>&lol2;</ofd:TextCode></ofd:Page>'
    )
    text, error = extract_text(_ofd([["x"]], content_xml=laughs), "bomb.ofd")
    assert text == "" and "Entities" in error
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"<" + b"a" * 120_000_000 + b">")
    text, error = extract_text(bomb.getvalue(), "bomb.docx")
    assert text == "" and "size limit" in error
    text, error = extract_text(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old.doc")
    assert text == "" and "extraction failed" in error


def test_child_process_extracts_and_is_bounded_in_time_and_memory() -> None:
    pdf = pdf_bytes(AttachmentSpec("", "", "pdf", LINES))
    text, error = extract_text_isolated(pdf, "a.pdf")
    assert error == "" and LINES[0] in text
    text, error = extract_text_isolated(pdf, "a.pdf", timeout_s=0.01)
    assert text == "" and "timed out" in error
    big = docx_bytes(AttachmentSpec("", "", "docx", [f"政府信息公开工作年度报告第{i}段。" for i in range(40_000)]))
    text, error = extract_text_isolated(big, "big.docx", memory_mb=60)  # needs ~200 MB to parse
    assert text == "" and error
    text, error = extract_text_isolated(big, "big.docx")
    assert error == "" and len(text) == 200_000  # capped


def test_legacy_word_doc_and_wps() -> None:
    """.doc (Word 97-2003 binary) and Word-compatible .wps: the piece table's text; other OLE files named."""
    data = doc_bytes(LINES + ['见\x13 HYPERLINK "http://www.yuhang.gov.cn" \x14余杭区人民政府网站\x15。'])
    for name, ctype in (("a.doc", "application/msword"), ("a.wps", "application/kswps"), ("noext", "")):
        text, error = extract_text(data, name, ctype)
        assert (text, error) == ("\n".join(LINES + ["见余杭区人民政府网站。"]), ""), name
    assert extract_text_isolated(data, "a.doc") == extract_text(data, "a.doc")
    other = compound_file([("Contents", "金山文字 WPS 2000 格式".encode("utf-16-le").ljust(4096, b"\0"))])
    text, error = extract_text(other, "old.wps")
    assert text == "" and "older WPS format" in error
