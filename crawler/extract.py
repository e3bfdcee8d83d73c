"""Pure extraction of a Document from a detail page: metadata table, header line, meta tags, body."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urldefrag, urljoin

from bs4 import BeautifulSoup, Tag

from archive.charset import decode
from archive.models import Document
from crawler.dates import date_from_url, parse_date, signature
from crawler.links import AttachmentLink, is_attachment_link, link_name
from crawler.listing import ListItem
from crawler.sources import Column, Source

# Labels of the 政府信息公开 metadata table, as portals print them, mapped to our fields.
LABELS = {
    "索引号": "index_no",
    "信息索引号": "index_no",
    "发布机构": "agency",
    "发文机关": "agency",
    "发文单位": "agency",
    "发布单位": "agency",
    "发文机构": "agency",
    "报送单位": "agency",
    "文号": "doc_no",
    "发文字号": "doc_no",
    "文件编号": "doc_no",
    "文件字号": "doc_no",
    "主题分类": "topic",
    "成文日期": "written",
    "发文日期": "written",
    "发布日期": "published",
    "公开日期": "published",
    "发布时间": "published",
    "生成日期": "generated",
    "有效性": "validity",
    "效力状况": "validity",
    "时效": "validity",
    "标题": "title",
    "信息名称": "title",
    "文件名称": "title",
    "名称": "title",
    # Traditional-character mirrors and platforms (發布機關, 文號 ...).
    "索引號": "index_no",
    "發布機構": "agency",
    "發布機關": "agency",
    "發文機關": "agency",
    "發文單位": "agency",
    "文號": "doc_no",
    "發文字號": "doc_no",
    "發布日期": "published",
    "公開日期": "published",
    "標題": "title",
    # Weaker statements of the publisher, used when no 发布机构 is given.
    "所属机构": "owner",
    "公开责任部门": "owner",
    "责任部门": "owner",
    "来源": "source",
    "信息来源": "source",
    "來源": "source",
}
# Values of 来源 that name no publisher.
NO_PUBLISHER = frozenset(("本站", "本网", "本网站", "原创", "网站", "网络", "其他", "无", "-", "—"))
BODY_SELECTORS = (
    "#zoom",
    "#Zoom",
    ".TRS_Editor",
    ".article_content",
    "#mainContent",
    "div.content",
    ".article-content",
    ".article",
    "article",
)
_SPACES = re.compile(r"[\s\u3000\xa0]+")
_LAYOUT_SPACE = re.compile(r"[ \t\r\f\v]+")
# The 日期/时间 of other statements (成文日期, 实施日期, 截止时间 ...): none says when the page was published.
_OTHER_WHEN = "成文 生效 废止 实施 失效 截止 更新 修改 开始 结束 印发 办理 受理 申报 报名 会议 活动".split()
_HEADER_DATE = re.compile(
    rf"(?:发布日期|发布时间|{''.join(f'(?<!{w})' for w in _OTHER_WHEN)}(?:日期|时间))"
    r"\s*[:：]\s*(\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2})"
)
_FULL_DATE = re.compile(r"(?:19|20)\d{2}\s*(?:-|/|\.|年)\s*\d{1,2}\s*(?:-|/|\.|月)\s*\d{1,2}")
# An info line naming another date, or a clock (今天是…星期日), is not the page's date.
_OTHER_LABEL = re.compile("(?:" + "|".join(_OTHER_WHEN) + ")(?:日期|时间)|今天|今日|星期|周[一二三四五六日]")
_HEADER_SOURCE = re.compile(r"[来來]源\s*[:：]\s*([^\s|:：]+)(?=$|[\s|])")
_INLINE = re.compile(r"^\s*([^:：]{2,6})\s*[:：]\s*(.+)$")


def _label(text: str) -> str:
    return _SPACES.sub("", text).rstrip(":：").lstrip("•·")


def _text(node: Tag) -> str:
    return " ".join(node.get_text(" ", strip=True).split())


class PageIndex:
    """Every tag of a parsed page by name, in document order, from one walk of the tree.

    bs4's `find_all` re-walks the tree through its generic filter machinery on every call; the
    cascade asks a dozen questions per page, so it asks them of this index instead.
    """

    def __init__(self, soup: BeautifulSoup) -> None:
        self.soup = soup
        self.tags: list[Tag] = [node for node in soup.descendants if isinstance(node, Tag)]
        self.by_name: dict[str, list[Tag]] = {}
        for tag in self.tags:
            self.by_name.setdefault(tag.name, []).append(tag)

    def named(self, *names: str) -> list[Tag]:
        """Tags with any of `names`, in document order."""
        if len(names) == 1:
            return self.by_name.get(names[0], [])
        wanted = set(names)
        return [tag for tag in self.tags if tag.name in wanted]

    def first(self, name: str | None = None, element_id: str | None = None, css_class: str | None = None) -> Tag | None:
        """The first tag matching a name, an id and a class (each optional)."""
        for tag in self.by_name.get(name, []) if name else self.tags:
            if element_id is not None and tag.get("id") != element_id:
                continue
            if css_class is not None and css_class not in (tag.get("class") or ()):
                continue
            return tag
        return None


def _index(page: BeautifulSoup | PageIndex) -> PageIndex:
    return page if isinstance(page, PageIndex) else PageIndex(page)


def _cells(node: Tag) -> bool:
    return any(isinstance(child, Tag) and child.name in ("td", "th") for child in node.descendants)


def _next_cell(cell: Tag) -> Tag | None:
    for sibling in cell.next_siblings:
        if isinstance(sibling, Tag) and sibling.name in ("td", "th"):
            return sibling
    return None


# Where a label sits beside its value: table cells, list items of two spans, definition lists,
# label/value divs, bold or emphasised labels; and lines of "标签：值" in small elements.
_LABEL_TAGS = ("td", "th", "dt", "span", "label", "em", "strong", "b", "i", "div", "font", "p")
_VALUE_TAGS = {"td": ("td", "th"), "th": ("td", "th"), "dt": ("dd",)}
_LINE_TAGS = ("td", "li", "p", "span", "div", "dd")
_BLOCKS = frozenset(("div", "p", "li", "ul", "ol", "table", "tr", "td", "th", "dl", "dt", "dd", "section"))


def _value_sibling(label: Tag) -> Tag | None:
    """The element after a label that holds its value (the next cell, dd, span or div)."""
    wanted = _VALUE_TAGS.get(label.name)
    for sibling in label.next_siblings:
        if isinstance(sibling, Tag):
            return sibling if wanted is None or sibling.name in wanted else None
        if str(sibling).strip():  # text right after the label: the value is in the parent
            return None
    return None


def _small(node: Tag) -> bool:
    """An element with no block among its children: one line of the page, not a section (children
    only, so that asking it of every element of a page stays linear)."""
    return not any(isinstance(child, Tag) and child.name in _BLOCKS for child in node.children)


_LAYOUTS = {"td": "metadata table", "th": "metadata table", "dt": "metadata dl/dd", "div": "metadata div label/value"}


def metadata_table(page: BeautifulSoup | PageIndex, how: dict[str, str] | None = None) -> dict[str, str]:
    """Label -> value pairs from the page's metadata block, whatever its layout.

    Table cells (`td`/`th`), `li > span + span`, `dl > dt + dd`, `div.label + div.value`, a bold
    label followed by text in the same line, and small elements reading "标签：值" (full-width spaces
    and colons too). The first value found for a field wins; an empty value never takes the next label.
    `how`, when given, receives for each field the layout it was read from (its provenance).
    """
    how = how if how is not None else {}
    index = _index(page)
    found: dict[str, str] = {}
    for node in index.named(*_LABEL_TAGS):
        if node.name not in ("td", "th") and not _small(node):
            continue
        label = _label(node.get_text())
        field = LABELS.get(label)
        if field is None or field in found:
            continue
        value_node = _value_sibling(node)
        if value_node is not None:
            value = "" if _label(value_node.get_text()) in LABELS else _text(value_node)
            parent = node.parent.name if node.parent is not None else ""
            how[field] = _LAYOUTS.get(node.name, f"metadata {parent} > {node.name} + {value_node.name}")
        elif node.parent is not None and node.name not in ("td", "th", "dt"):
            # <li><b>发文字号：</b>民发〔2020〕18号</li>: the rest of the line
            line = _text(node.parent)
            own = _text(node)
            value = line[len(own) :].strip(" :：") if line.startswith(own) and _small(node.parent) else ""
            how[field] = "metadata bold label"
        else:
            value = ""
        found[field] = value
    for node in index.named(*_LINE_TAGS):
        if not _small(node) and node.name != "td":
            continue
        if node.name == "td" and _cells(node):
            continue
        for label, value in line_pairs(node.get_text(" ", strip=True)):
            field = LABELS.get(_label(label))
            if field and not found.get(field):
                found[field] = value
                how[field] = "metadata 标签：值 line"
    return found


# Labels that end the value before them on a line of several statements ("来源:政府办 时间:2017-01-12").
_LINE_LABELS = sorted(
    set(LABELS) | {"时间", "日期", "浏览次数", "浏览量", "点击数", "访问量", "阅读", "作者", "编辑", "责任编辑", "字号", "分享"},
    key=len,
    reverse=True,
)
_NEXT_LABEL = re.compile(rf"(?:^|(?<=[\s|]))(?:{'|'.join(map(re.escape, _LINE_LABELS))})\s*[:：]")


def line_pairs(line: str) -> list[tuple[str, str]]:
    """The "标签：值" statements of one line, each value cut where the next known label begins."""
    pairs: list[tuple[str, str]] = []
    inline = _INLINE.match(line)
    while inline:
        rest = inline.group(2)
        after = _NEXT_LABEL.search(rest)
        pairs.append((inline.group(1), (rest[: after.start()] if after else rest).strip(" |")))
        inline = _INLINE.match(rest[after.start() :]) if after else None
    return pairs


def meta_tags(page: BeautifulSoup | PageIndex) -> dict[str, str]:
    out: dict[str, str] = {}
    for meta in _index(page).named("meta"):
        name, content = meta.get("name"), meta.get("content")
        if isinstance(name, str) and isinstance(content, str):
            out.setdefault(name, content.strip())
    return out


_SIMPLE = re.compile(r"^([a-z][a-z0-9]*)?(?:#([\w-]+)|\.([\w-]+))?$", re.IGNORECASE)


def select_one(page: BeautifulSoup | PageIndex, selector: str) -> Tag | None:
    """`soup.select_one`, with a fast path for tag, #id, .class and tag.class (soupsieve is slow)."""
    index = _index(page)
    match = _SIMPLE.match(selector.strip())
    if not match or not any(match.groups()):
        return index.soup.select_one(selector)
    tag, element_id, css_class = match.groups()
    return index.first(tag.lower() if tag else None, element_id, css_class)


def body_container(page: BeautifulSoup | PageIndex, selector: str = "") -> Tag | None:
    index = _index(page)
    for candidate in ((selector,) if selector else ()) + BODY_SELECTORS:
        node = select_one(index, candidate)
        if node is not None and _text(node):
            return node
    best, best_len = None, 0
    for div in index.named("div", "td"):
        length = sum(len(p.get_text(strip=True)) for p in div.children if isinstance(p, Tag) and p.name == "p")
        if length > best_len:
            best, best_len = div, length
    return best


def body_text(node: Tag | None) -> str:
    """Text of the body container, one line per block, navigation and scripts removed."""
    if node is None:
        return ""
    for junk in [n for n in node.descendants if isinstance(n, Tag) and n.name in ("script", "style", "noscript")]:
        junk.decompose()
    # Collapse layout whitespace but keep characters the page meant (e.g. a non-breaking space).
    lines = (_LAYOUT_SPACE.sub(" ", line).strip() for line in node.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def attachment_links(page: BeautifulSoup | PageIndex, page_url: str) -> list[AttachmentLink]:
    """Links to files, whatever their URL looks like (see `crawler.links.is_attachment_link`)."""
    links: dict[str, AttachmentLink] = {}
    for a in _index(page).named("a"):
        href = a.get("href")
        if not isinstance(href, str) or href.strip().lower().startswith(("javascript:", "mailto:", "#")):
            continue
        url = urldefrag(urljoin(page_url, href.strip())).url
        title = a.get("title")
        text = _text(a) or (title if isinstance(title, str) else "")
        css = " ".join(a.get("class") or ())
        if url not in links and url != page_url and is_attachment_link(url, text, css):
            links[url] = AttachmentLink(url, link_name(text, url))
    return list(links.values())


def _first_date(*candidates: tuple[str, str]) -> tuple[date | None, str, str]:
    """(date, where it came from, raw text) from ordered (source, text) candidates."""
    raw_first = ""
    for source, text in candidates:
        if not text:
            continue
        raw_first = raw_first or text
        value = parse_date(text)
        if value:
            return value, source, text
    return None, "", raw_first


def extract_document(
    html: str,
    url: str,
    *,
    source_id: str,
    category: str,
    default_agency: str = "",
    list_item: ListItem | None = None,
    body_selector: str = "",
    trace: dict[str, str] | None = None,
) -> tuple[Document, list[AttachmentLink]]:
    """A Document from a detail page, plus the attachment links found on it.

    `trace`, when given, receives for each field the step of the cascade that supplied it.
    """
    soup = BeautifulSoup(html, "lxml")
    page = PageIndex(soup)
    layout: dict[str, str] = {}
    table = metadata_table(page, layout)
    meta = meta_tags(page)
    container = body_container(page, body_selector)
    attachments = attachment_links(page, url)
    body = body_text(container)

    body_tag = page.first("body")
    page_text = _text(body_tag) if body_tag else ""
    header_text = page_text.replace(" ".join(body.split()), " ") if body else page_text
    header_date = _HEADER_DATE.search(header_text)
    header_source = _HEADER_SOURCE.search(header_text)

    heading = page.first("h1") or page.first("h2", css_class="title") or page.first(css_class="title")
    title = (
        table.get("title")
        or meta.get("ArticleTitle")
        or (_text(heading) if heading else "")
        or (_text(title_tag) if (title_tag := page.first("title")) else "")
        or (list_item.title if list_item else "")
    )
    listed = list_item.meta if list_item else {}
    signed = signature(body)
    published, date_source, raw = _first_date(
        ("table", table.get("published", "")),
        ("header", header_date.group(1) if header_date else ""),
        ("header", date_under_title(heading, container)),
        ("meta", meta.get("PubDate", "")),
        ("api", listed.get("published", "")),
        ("table", table.get("generated", "")),
    )
    if published is None and signed is not None:
        published, date_source = signed.date, "signature"
    # A list page's or URL's date may be a migration's, years after the document: kept apart, never 发布日期.
    list_date, list_source = (list_item.list_date, "list") if list_item and list_item.list_date else (None, "")
    if list_date is None and (url_date := date_from_url(url)) is not None:
        list_date, list_source = url_date, "url"
    written = parse_date(table.get("written", "")) or (signed.date if signed else None)
    stated_source = header_source.group(1) if header_source else ""
    agency, agency_step = _publisher(
        (layout.get("agency", "metadata table"), table.get("agency", "")),
        ("meta ContentSource", meta.get("ContentSource", "")),
        ("list API", listed.get("agency", "")),
        ("header line", stated_source),
        ("metadata 来源", table.get("source", "")),
        ("metadata 所属机构", table.get("owner", "")),
        ("signature", signed.issuer if signed else ""),
        ("source default", default_agency),
    )
    if trace is not None:
        listed_keys = set(listed)
        trace.update(
            _provenance(
                table,
                meta,
                listed_keys,
                heading is not None,
                date_source,
                body_selector,
                container,
                page,
                agency_step,
                layout,
            )
        )
        if written is not None:
            stated = parse_date(table.get("written", ""))
            trace["written"] = layout.get("written", "metadata table") if stated else "signature (落款)"
        if list_date is not None:
            trace["listed"] = {"list": "list page", "url": "URL"}[list_source]
    doc = Document(
        source_id=source_id,
        url=url,
        title=title,
        agency=agency,
        category=category,
        doc_no=table.get("doc_no") or listed.get("doc_no", ""),
        index_no=table.get("index_no") or listed.get("index_no", ""),
        topic=table.get("topic") or listed.get("topic", ""),
        validity=table.get("validity", ""),
        written=written,
        published=published,
        published_raw=raw if published is None else "",
        date_source=date_source,
        listed=list_date,
        listed_source=list_source,
        body=body,
    )
    return doc, attachments


_INFO_LINE_CHARS = 100  # an info line under a title is short; a paragraph of the text is not


def date_under_title(heading: Tag | None, container: Tag | None) -> str:
    """An unlabelled date in the short info line right after the title (`<h1>…</h1><div class="info">
    2023-06-01 …</div>`): the page stating its date without a label. "" when there is none."""
    if heading is None:
        return ""
    for anchor in (heading, heading.parent):
        if anchor is None:
            continue
        for steps, sibling in enumerate(s for s in anchor.next_siblings if isinstance(s, Tag)):
            if steps >= 2 or sibling is container or (container is not None and container in sibling.descendants):
                break
            text = _text(sibling)
            if text and len(text) <= _INFO_LINE_CHARS and _FULL_DATE.search(text) and not _OTHER_LABEL.search(text):
                return _FULL_DATE.search(text).group(0)  # type: ignore[union-attr]
        if any(isinstance(s, Tag) for s in anchor.next_siblings):
            break
    return ""


def _publisher(*candidates: tuple[str, str]) -> tuple[str, str]:
    """(publisher, the step that stated it) from ordered (step, value) candidates; ("", "") when none does."""
    for step, value in candidates:
        value = _SPACES.sub(" ", value).strip(" :：")
        if value and value not in NO_PUBLISHER:
            return value, step
    return "", ""


def _provenance(
    table: dict[str, str],
    meta: dict[str, str],
    listed: set[str],
    has_heading: bool,
    date_source: str,
    body_selector: str,
    container: Tag | None,
    page: PageIndex,
    agency_step: str,
    layout: dict[str, str],
) -> dict[str, str]:
    """Which step of the cascade supplied each field (for `xxgk sources check`)."""

    def first(*steps: tuple[str, bool]) -> str:
        return next((name for name, ok in steps if ok), "")

    body_step = ""
    if container is not None:
        for candidate in ((body_selector,) if body_selector else ()) + BODY_SELECTORS:
            if select_one(page, candidate) is container:
                body_step = f"selector {candidate}"
                break
        body_step = body_step or "largest block of <p>"
    return {
        "title": first(
            (layout.get("title", "metadata table"), bool(table.get("title"))),
            ("meta ArticleTitle", bool(meta.get("ArticleTitle"))),
            ("heading", has_heading),
            ("<title>", page.first("title") is not None),
            ("list page", True),
        ),
        "agency": agency_step,
        "published": {
            "table": layout.get("published") or layout.get("generated") or "metadata table",
            "header": "header line",
            "meta": "meta PubDate",
            "api": "list API",
            "signature": "signature (落款)",
        }.get(date_source, ""),
        **{
            key: first((layout.get(key, "metadata table"), bool(table.get(key))), ("list API", key in listed))
            for key in ("doc_no", "index_no", "topic")
        },
        "body": body_step,
    }


def extract_item(
    source: Source, column: Column, item: ListItem, body: bytes, content_type: str, trace: dict[str, str] | None = None
) -> tuple[Document, list[AttachmentLink]]:
    """`extract_document` of a listed item's detail page, decoded and read as its source's settings say."""
    text, _ = decode(body, content_type, source.charset)
    return extract_document(
        text,
        item.url,
        source_id=source.id,
        category=column.category,
        default_agency=source.agency if source.default_agency else "",
        list_item=item,
        body_selector=source.selectors.get("body", ""),
        trace=trace,
    )
