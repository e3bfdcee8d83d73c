"""Markup of the demo portal, modelled on the real platforms (Hanweb jpage, TRS WCM, a generic CMS)."""

from __future__ import annotations

import io
import zipfile
from html import escape
from math import ceil
from urllib.parse import quote

from xxgk.demo.model import Agency, AttachmentSpec, Column, Item

HANWEB_PER_PAGE = 15
TRS_PER_PAGE = 20
GENERIC_PER_PAGE = 10
PORTAL_NAME = "杭州市余杭区人民政府"


def _page(title: str, body: str, charset: str = "utf-8", head: str = "") -> str:
    if charset == "utf-8":
        meta = '<meta charset="utf-8">'
    else:
        # Real TRS sites label GBK pages as gb2312 in the meta tag (WHATWG decodes both as gb18030).
        meta = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN"><head>{meta}<title>{escape(title)}</title>{head}</head>\n'
        f'<body><div class="top"><a href="/">{PORTAL_NAME}</a> 政府信息公开</div>\n{body}\n'
        f'<div class="footer">主办：{PORTAL_NAME}办公室 浙ICP备05000000号</div></body></html>\n'
    )


def _nav(agency: Agency) -> str:
    links = "".join(f'<li><a href="{column_url(agency, c)}">{escape(c.name)}</a></li>' for c in agency.columns)
    return f'<div class="nav"><h2>{escape(agency.name)}</h2><ul>{links}</ul></div>'


def column_url(agency: Agency, column: Column) -> str:
    if agency.platform == "hanweb":
        return f"/col/col{column.colid}/index.html"
    if agency.platform == "trs":
        return f"/{agency.key}/zwgk/{column.key}/index.html"
    return f"/{agency.key}/{column.key}/index.html"


def home(agencies: list[Agency]) -> str:
    blocks = "".join(_nav(a) for a in agencies)
    return _page(f"{PORTAL_NAME} 政府信息公开", f"<h1>{PORTAL_NAME}政府信息公开</h1>{blocks}")


# -- Hanweb / 大汉 jpage ---------------------------------------------------------------------------
def _hanweb_record(item: Item) -> str:
    t = escape(item.title, quote=True)
    return f"<record><![CDATA[<li><a href='{item.path}' title='{t}' target='_blank'>{escape(item.title)}</a><span>{item.list_date:%Y-%m-%d}</span></li>]]></record>"  # noqa: E501 - a page as portals write it


def hanweb_proxy_url(agency: Agency, column: Column, page: int, module_path: str = "/module/web/jpage/dataproxy.jsp") -> str:
    return (
        f"{module_path}?page={page}&appid=1&webid=3&path=/&columnid={column.colid}&unitid={column.unitid}"
        f"&webname={quote(agency.name)}&permissiontype=0"
    )


# Some Hanweb installations page with GET page=N from <nextgroup>; others POST record ranges.
HANWEB_POST_COLUMNS = ("xxdt", "gzdt")


def hanweb_column(agency: Agency, column: Column) -> str:
    first = column.items[:HANWEB_PER_PAGE]
    records = "\n".join(_hanweb_record(i) for i in first)
    post = column.key in HANWEB_POST_COLUMNS
    nextgroup = "" if post else (f'<nextgroup><![CDATA[<a href="{hanweb_proxy_url(agency, column, 1)}"></a>]]></nextgroup>\n')
    body = (
        f'{_nav(agency)}<div class="list"><h3>{escape(column.name)}</h3>'
        f'<div id="{column.unitid}"><script type="text/xml"><datastore>\n{nextgroup}'
        f"<recordset>\n{records}\n</recordset></datastore></script></div>\n"
        f"<script>var param_{column.unitid}={{col:1,appid:1,webid:3,path:'/',columnid:{column.colid},"
        f"sourceContentType:1,unitid:'{column.unitid}',webname:'{escape(agency.name)}',permissiontype:0}};"
        f"$('#{column.unitid}').jpage({{dataStore:'',totalRecord:{len(column.items)},perPage:{HANWEB_PER_PAGE},"
        f"proxyUrl:'/module/web/jpage/dataproxy.jsp'}});</script></div>"
    )
    head = f'<meta name="ColumnName" content="{escape(column.name)}"><meta name="SiteName" content="{escape(agency.name)}">'
    return _page(f"{column.name}_{agency.name}", body, head=head) + "<!-- Produced By 大汉网络 大汉版通发布系统 -->\n"


def hanweb_dataproxy(column: Column, page: int, start: int = 0, end: int = 0) -> str:
    """Page `page` (GET variant), or records `start`..`end`, 1-based inclusive (POST variant)."""
    total_pages = max(1, ceil(len(column.items) / HANWEB_PER_PAGE))
    if start:
        chunk = column.items[start - 1 : end]
    else:
        chunk = column.items[(page - 1) * HANWEB_PER_PAGE : page * HANWEB_PER_PAGE] if page >= 1 else []
    records = "\n".join(_hanweb_record(i) for i in chunk)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<datastore><totalrecord>{len(column.items)}</totalrecord>'
        f"<totalpage>{total_pages}</totalpage><recordset>\n{records}\n</recordset></datastore>\n"
    )


def _attachment_links(item: Item) -> str:
    if not item.attachments:
        return ""
    links = "".join(f'<p><a href="{a.path}">{escape(a.name)}</a></p>' for a in item.attachments)
    return f'<div class="attach"><p>附件：</p>{links}</div>'


def _paragraphs(item: Item) -> str:
    return "\n".join(f"<p>{escape(p)}</p>" for p in item.paragraphs)


def hanweb_detail(item: Item) -> str:
    a, c = item.agency, item.column
    head = (
        f'<meta name="ArticleTitle" content="{escape(item.title)}"><meta name="PubDate" content="{item.published} 09:30">'
        f'<meta name="ContentSource" content="{escape(a.name)}"><meta name="ColumnName" content="{escape(c.name)}">'
    )
    table = (
        '<table class="xxgk_table">'
        f'<tr><td class="t" width="14%">索引号</td><td width="36%"><!--<$[SYH]>-->{item.index_no}<!--<$[SYH]>--></td>'
        f'<td class="t" width="14%">公开方式</td><td width="36%">主动公开</td></tr>'
        f'<tr><td class="t">发布机构</td><td><!--<$[FBJG]>-->{escape(a.name)}<!--<$[FBJG]>--></td>'
        f'<td class="t">生成日期</td><td><!--<$[SCRQ]>-->{item.published}<!--<$[SCRQ]>--></td></tr>'
        f'<tr><td class="t">文号</td><td><!--<$[WJBH]>-->{escape(item.doc_no)}<!--<$[WJBH]>--></td>'
        f'<td class="t">主题分类</td><td>{escape(item.topic)}</td></tr></table>'
    )
    body = (
        f'{_nav(a)}<div class="main">{table}<div class="article"><h1 class="title">{escape(item.title)}</h1>'
        f'<div class="info">发布日期：{item.published}&nbsp;&nbsp;来源：{escape(a.name)}</div>'
        f'<div id="zoom">{_paragraphs(item)}</div>{_attachment_links(item)}</div></div>'
    )
    return _page(f"{item.title}", body, head=head) + "<!-- Produced By 大汉网络 大汉版通发布系统 -->\n"


def _li(label: str, value: str) -> str:
    return f"<li><span class='label'>{label}</span><span class='value'>{escape(value)}</span></li>"


def portal_detail(item: Item) -> str:
    """The multi-agency portal (大汉 too, rebuilt in 2025): a metadata list, a definition list for the
    departments' files, only the 索引号 on the migrated archive; no meta tags, no header line."""
    a, c = item.agency, item.column
    if c.key == "lswj":
        rows = _li("索引号", item.index_no) + _li("发文字号", item.doc_no) + _li("主题分类", item.topic)
        info = f"<ul class='xxgk-info'>{rows}</ul>"
    elif c.key == "bmwj":
        info = (
            "<dl class='xxgk-info'>"
            f"<dt>索引号：</dt><dd>{item.index_no}</dd><dt>发布机构：</dt><dd>{escape(item.publisher or '')}</dd>"
            f"<dt>成文日期：</dt><dd>{item.written or ''}</dd><dt>发布日期：</dt><dd>{item.published:%Y年%m月%d日}</dd>"
            f"<dt>主题分类：</dt><dd>{escape(item.topic)}</dd></dl>"
        )
    else:
        info = (
            f"<ul class='xxgk-info'>{_li('索引号', item.index_no)}{_li('发布机构', item.publisher or '')}"
            f"{_li('发文字号', item.doc_no)}{_li('主题分类', item.topic)}{_li('发布日期', str(item.published))}</ul>"
        )
    links = "".join(f'<p><a href="{escape(s.path)}">{escape(s.name)}</a></p>' for s in item.attachments)
    attach = f'<div class="attach"><p>附件：</p>{links}</div>' if links else ""
    body = (
        f'{_nav(a)}<div class="main"><h1 class="title">{escape(item.title)}</h1>{info}'
        f'<div id="zoom">{_paragraphs(item)}</div>{attach}<div class="share">打印本页 关闭窗口</div></div>'
    )
    return _page(f"{item.title}_{a.name}", body) + "<!-- Produced By 大汉网络 大汉版通发布系统 -->\n"


# -- TRS WCM ---------------------------------------------------------------------------------------
def trs_page_count(column: Column) -> int:
    return max(1, ceil(len(column.items) / TRS_PER_PAGE))


def trs_list(agency: Agency, column: Column, page_index: int) -> str:
    chunk = column.items[page_index * TRS_PER_PAGE : (page_index + 1) * TRS_PER_PAGE]
    rows = "\n".join(
        f'<tr><td width="87%" height="25" align="left" class="STYLE25"><a href=".{i.path.split("/" + column.key, 1)[1]}" '
        f'target="_blank" title="{escape(i.title)}"><span class="STYLE25">{escape(i.title)}</span></a></td>'
        f'<td width="10%"><span class="STYLE12">{i.published:%m-%d}</span></td></tr>'
        for i in chunk
    )
    pager = (
        '<script language="JavaScript">\n//WCM置标\nfunction createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){\n'
        "  for (var i = 0; i < _nPageCount; i++) { /* document.write(option) */ }\n}\n"
        f'createPageHTML({trs_page_count(column)}, {page_index}, "index", "html");\n</script>'
    )
    body = f'{_nav(agency)}<div class="list"><h3>{escape(column.name)}</h3><table>{rows}</table>{pager}</div>'
    head = f'<meta name="ColumnName" content="{escape(column.name)}"><meta name="SiteName" content="{escape(agency.name)}">'
    return _page(f"{column.name}-{agency.name}", body, charset=agency.encoding, head=head)


def trs_detail(item: Item) -> str:
    a, c = item.agency, item.column
    head = (
        f'<meta name="SiteName" content="{escape(a.name)}"><meta name="ColumnName" content="{escape(c.name)}">'
        f'<meta name="ArticleTitle" content="{escape(item.title)}"><meta name="PubDate" content="{item.published} 10:00">'
        f'<meta name="ContentSource" content="{escape(a.name)}">'
    )
    written = f"{item.written}" if item.written else ""
    table = (
        '<table class="JD_table_key02"><tbody id="theader">'
        f'<tr><td width="12%">索 引 号：</td><td width="38%">{item.index_no}</td>'
        f'<td width="12%">主题分类：</td><td width="38%">{escape(item.topic)}</td></tr>'
        f"<tr><td>发布机构：</td><td>{escape(a.name)}</td><td>成文日期：</td><td>{written}</td></tr>"
        f"<tr><td>发文字号：</td><td>{escape(item.doc_no)}</td><td>发布日期：</td><td>{item.published}</td></tr>"
        f'<tr><td>标　　题：</td><td colspan="3"><span id="span_docTitle">{escape(item.title)}</span></td></tr>'
        "</tbody></table>"
    )
    # Attachments sit beside the page, linked relatively as TRS does.
    links = "".join(f'<a href="./{att.path.rsplit("/", 1)[1]}">{escape(att.name)}</a><br>' for att in item.attachments)
    attach = f'<div class="fj">附件：{links}</div>' if links else ""
    body = (
        f'{_nav(a)}{table}<div class="view TRS_UEDITOR trs_paper_default trs_web"><div class="TRS_Editor">'
        f"{_paragraphs(item)}</div></div>{attach}"
    )
    return _page(f"{item.title}", body, charset=a.encoding, head=head)


# -- generic CMS with next-page links --------------------------------------------------------------
def generic_page_count(column: Column) -> int:
    return max(1, ceil(len(column.items) / GENERIC_PER_PAGE))


def generic_list_name(page: int) -> str:
    return "index.html" if page == 1 else f"list_{page}.html"


def generic_list(agency: Agency, column: Column, page: int) -> str:
    chunk = column.items[(page - 1) * GENERIC_PER_PAGE : page * GENERIC_PER_PAGE]
    rows = "\n".join(
        f'<li><a href="content/post_{i.number}.html">{escape(i.title)}</a><span class="date">{i.published}</span></li>'
        for i in chunk
    )
    pager = [f"<span>第{page}页/共{generic_page_count(column)}页</span>"]
    if page > 1:
        pager.append(f'<a class="prev" href="{generic_list_name(page - 1)}">上一页</a>')
    if page < generic_page_count(column):
        pager.append(f'<a class="next" href="{generic_list_name(page + 1)}">下一页</a>')
    body = (
        f'{_nav(agency)}<div class="list"><h3>{escape(column.name)}</h3><ul class="news-list">{rows}</ul>'
        f'<div class="pager">{"".join(pager)}</div></div>'
    )
    return _page(f"{column.name} - {agency.name}", body)


def generic_detail(item: Item) -> str:
    a = item.agency
    table = (
        '<table class="meta">'
        f"<tr><th>索引号：</th><td>{item.index_no}</td><th>主题分类：</th><td>{escape(item.topic)}</td></tr>"
        f"<tr><th>发布机构：</th><td>{escape(a.name)}</td><th>文号：</th><td>{escape(item.doc_no)}</td></tr></table>"
    )
    body = (
        f'{_nav(a)}<div class="detail"><h2 class="title">{escape(item.title)}</h2>'
        f'<div class="source">发布时间:{item.published} 10:01&nbsp;&nbsp;来源:{escape(a.name)}</div>{table}'
        f'<div class="content">{_paragraphs(item)}</div>{_attachment_links(item)}</div>'
    )
    return _page(item.title, body)


# -- attachments -----------------------------------------------------------------------------------
def pdf_bytes(spec: AttachmentSpec) -> bytes:
    """A small PDF with Chinese text in reportlab's built-in Song font (deterministic bytes)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, invariant=1)
    y = 800
    for line in spec.lines:
        pdf.setFont("STSong-Light", 11)
        for start in range(0, len(line), 38):
            pdf.drawString(50, y, line[start : start + 38])
            y -= 18
            if y < 60:
                pdf.showPage()
                y = 800
    pdf.save()
    return out.getvalue()


_DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_DOCX_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
_DOCX_DOC_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>'
)


def docx_bytes(spec: AttachmentSpec) -> bytes:
    """A minimal valid DOCX (WordprocessingML) with one paragraph per line; fixed zip timestamps."""
    paras = "".join(f"<w:p><w:r><w:t>{escape(line, quote=False)}</w:t></w:r></w:p>" for line in spec.lines)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{paras}</w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in (
            ("[Content_Types].xml", _DOCX_TYPES),
            ("_rels/.rels", _DOCX_RELS),
            ("word/_rels/document.xml.rels", _DOCX_DOC_RELS),
            ("word/document.xml", document),
        ):
            zf.writestr(zipfile.ZipInfo(name, date_time=(2017, 3, 28, 0, 0, 0)), data.encode("utf-8"))
    return out.getvalue()
