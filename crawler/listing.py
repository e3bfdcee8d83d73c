"""Pure listing parsers per platform: list-page text -> item links (+ dates) and further list pages."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup

from archive.charset import HALF_CHARACTER
from crawler.dates import date_from_url, parse_date, parse_month_day


@dataclass(frozen=True)
class ListItem:
    """A detail link as a list page shows it."""

    url: str
    title: str
    list_date: date | None = None
    meta: dict[str, str] = field(default_factory=dict)  # fields a JSON listing already gives (索引号, 文号...)


@dataclass(frozen=True)
class ListRequest:
    """A list page that must be POSTed (Hanweb jpage with record ranges); `form` is the body's fields."""

    url: str
    form: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ListingPage:
    """What one list page yields: items, and list pages it reveals (absolute URLs, or POST requests)."""

    items: tuple[ListItem, ...]
    more_pages: tuple[str | ListRequest, ...] = ()


_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.S)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.S)
_JPAGE = re.compile(r"jpage\(\{[^}]*?totalRecord\s*:\s*(\d+)[^}]*?perPage\s*:\s*(\d+)", re.S)
_PROXY = re.compile(r"""proxyUrl\s*:\s*['"]([^'"]+)['"]""")
_PARAMS = re.compile(r"var\s+param_\w+\s*=\s*\{(.*?)\}", re.S)
_PAIR = re.compile(r"""(\w+)\s*:\s*(?:'([^']*)'|"([^"]*)"|([^,}\s]+))""")
_TRS_PAGER = re.compile(r"createPage(?:HTML)?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']\s*\)")
_TRS_DETAIL = re.compile(r"t\d{8}_\d+\.s?html?$")
_DATE_TEXT = re.compile(r"\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s*$")


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def _text(node) -> str:  # type: ignore[no-untyped-def]
    return " ".join(node.get_text(" ", strip=True).split())


def _attr(tag: Any, name: str) -> str:
    """An attribute's value as text ("" when absent; a multi-valued one joined by spaces)."""
    value = tag.get(name)
    if value is None:
        return ""
    return value if isinstance(value, str) else " ".join(value)


def _item_from_fragment(fragment: str, page_url: str) -> ListItem | None:
    soup = _soup(fragment)
    link = soup.find("a", href=True)
    if link is None:
        return None
    # Some templates put the date inside the link (<a><span>标题</span><i>2026-09-10</i></a>).
    title = _attr(link, "title").strip() or _DATE_TEXT.sub("", _text(link)).strip()
    return ListItem(urljoin(page_url, _attr(link, "href")), title, parse_date(_text(soup)))


def _with_page(url: str, page: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    return urlunsplit(parts._replace(query=urlencode([("page", str(page)), *query], safe="/")))


def parse_hanweb(text: str, page_url: str) -> ListingPage:
    """大汉 jpage: records in <script type="text/xml"> (column page) or a dataproxy.jsp response."""
    fragments = _RECORD.findall(text)
    if not fragments:
        nextgroup = set(_NEXTGROUP.findall(text))
        fragments = [f for f in _CDATA.findall(text) if f not in nextgroup]
    items = [i for i in (_item_from_fragment(f, page_url) for f in fragments) if i]
    more: list[str | ListRequest] = []
    jpage = _JPAGE.search(text)
    group = _NEXTGROUP.search(text)
    if jpage:
        total, per_page = int(jpage.group(1)), max(1, int(jpage.group(2)))
        pages = -(-total // per_page)
        href = _soup(group.group(1)).find("a", href=True) if group else None
        proxy, params = _PROXY.search(text), _PARAMS.search(text)
        if href is not None:  # GET variant: the <nextgroup> template with page=N
            template = urljoin(page_url, _attr(href, "href"))
            more = [_with_page(template, p) for p in range(2, pages + 1)]
        elif proxy and params:  # POST variant: record ranges in the query, the column's params as the form
            form = tuple((m.group(1), next(g for g in m.groups()[1:] if g is not None)) for m in _PAIR.finditer(params.group(1)))
            endpoint = urljoin(page_url, proxy.group(1))
            more = [
                ListRequest(f"{endpoint}?startrecord={(p - 1) * per_page + 1}&endrecord={p * per_page}&perpage={per_page}", form)
                for p in range(2, pages + 1)
            ]
    return ListingPage(tuple(items), tuple(more))


def parse_trs(text: str, page_url: str) -> ListingPage:
    """TRS WCM: ./YYYYMM/tYYYYMMDD_ID.html links, MM-DD dates, createPageHTML(N, i, "index", "html")."""
    soup = _soup(text)
    items = []
    for link in soup.find_all("a", href=True):
        href = _attr(link, "href").strip()
        if not _TRS_DETAIL.search(href):
            continue
        url = urljoin(page_url, href)
        title = _attr(link, "title").strip() or _text(link)
        row = link.find_parent(["tr", "li"]) or link.parent
        row_text = _text(row) if row is not None else ""
        url_date = date_from_url(url)
        list_date = parse_date(row_text) or (parse_month_day(row_text.replace(title, ""), url_date.year) if url_date else None)
        items.append(ListItem(url, title, list_date))
    more: list[str] = []
    pager = _TRS_PAGER.search(text)
    if pager and int(pager.group(2)) == 0:
        count, name, ext = int(pager.group(1)), pager.group(3), pager.group(4)
        more = [urljoin(page_url, f"{name}_{k}.{ext}") for k in range(1, count)]
    return ListingPage(tuple(items), tuple(more))


def parse_generic(text: str, page_url: str, selectors: dict[str, str]) -> ListingPage:
    """A list described by CSS selectors (`list_item`, `list_date`, `next_page`); without them, the list is
    the largest group of sibling elements each holding a link and a date, and the next page the link
    saying 下一页 (or marked "next")."""
    soup = _soup(text)
    if not selectors.get("list_item"):
        items = auto_list(soup, page_url)
    else:
        items = []
        for node in soup.select(selectors["list_item"]):
            link = node if node.name == "a" else node.find("a", href=True)
            if link is None or not link.get("href"):
                continue
            date_node = node.select_one(selectors["list_date"]) if selectors.get("list_date") else None
            list_date = parse_date(_text(date_node) if date_node is not None else _text(node))
            title = _attr(link, "title").strip() or _text(link)
            items.append(ListItem(urljoin(page_url, _attr(link, "href")), title, list_date))
    more: list[str | ListRequest] = []
    nxt = soup.select_one(selectors["next_page"]) if selectors.get("next_page") else next_link(soup)
    if nxt is not None and _followable(_attr(nxt, "href")):
        more.append(urljoin(page_url, _attr(nxt, "href")))
    return ListingPage(tuple(items), tuple(more))


_NEXT_TEXTS = frozenset(("下一页", "下页", "后一页", "下一頁", "下一页>", "下一页»", ">", "›", "»", "〉", ">>"))


def _followable(href: str) -> bool:
    href = href.strip().lower()
    return bool(href) and not href.startswith(("javascript:", "#", "mailto:"))


def next_link(soup: BeautifulSoup) -> Any:
    """The next-page link of a list: its text says 下一页 (or ›), or its class or id says next."""
    for link in soup.find_all("a", href=True):
        text = "".join(_text(link).split())
        marks = f"{_attr(link, 'class')} {_attr(link, 'id')}".lower()
        if (text in _NEXT_TEXTS or "next" in marks.split() or "next" in marks) and _followable(_attr(link, "href")):
            return link
    return None


def _row(child: Any, page_url: str) -> ListItem | None:
    """A list item from one element holding a link and a date (None when it holds no such pair)."""
    links = [a for a in ([child] if child.name == "a" else child.find_all("a", href=True)) if _followable(_attr(a, "href"))]
    if not links:
        return None
    text = _text(child)
    list_date = parse_date(text)
    if list_date is None:
        return None
    link = max(links, key=lambda a: len(_text(a)))
    title = _attr(link, "title").strip() or _DATE_TEXT.sub("", _text(link)).strip()
    return ListItem(urljoin(page_url, _attr(link, "href")), title, list_date) if title else None


def auto_list(soup: BeautifulSoup, page_url: str) -> list[ListItem]:
    """The largest group of sibling elements (li, tr, div, p ...) each holding a link and a date."""
    best: list[ListItem] = []
    for parent in soup.find_all(True):
        children = [c for c in parent.find_all(True, recursive=False) if c.name not in ("script", "style")]
        if len(children) <= len(best):
            continue
        rows = [row for row in (_row(c, page_url) for c in children) if row is not None]
        if len(rows) > len(best):
            best = rows
    return best


_GKMLPT_SID = re.compile(r"""SID\s*[:=]\s*['"]?(\w+)""")
_CHINA = timezone(timedelta(hours=8))


# Article fields that name a publication date (gkmlpt's `date` and `created_at` are the CMS's, not the page's).
_API_PUBLISHED = ("publish_time", "publish_date", "publishDate", "pub_date", "pubdate", "display_publish_time", "fbrq")


def _api_date(article: dict[str, Any]) -> str:
    """The article's own publication date as YYYY-MM-DD ("" when the API names none)."""
    for key in _API_PUBLISHED:
        value = article.get(key)
        if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
            stamp = int(value) // (1000 if int(value) > 10**11 else 1)  # seconds or milliseconds
            return datetime.fromtimestamp(stamp, _CHINA).date().isoformat() if stamp > 0 else ""
        if isinstance(value, str) and parse_date(value):
            return value
    return ""


def _whole_characters(obj: dict[str, Any]) -> dict[str, Any]:
    """A JSON object's strings with each half character (an escape such as \\ud83d whose pair a CMS cut
    off) as U+FFFD, as a page's undecodable bytes are: the catalog stores only whole characters."""
    return {k: HALF_CHARACTER.sub("\ufffd", v) if isinstance(v, str) else v for k, v in obj.items()}


def parse_gkmlpt(text: str, page_url: str) -> ListingPage:
    """Guangdong gkmlpt: the index page (window._CONFIG SID) leads to /gkmlpt/api/all/{column}?page=&sid=.

    A column is written as `/gkmlpt/index#{column id}`; API articles carry the 索引号 (identifier), 文号,
    publisher and a Unix timestamp.
    """
    stripped = text.lstrip()
    parts = urlsplit(page_url)
    if not stripped.startswith("{"):
        sid = _GKMLPT_SID.search(text)
        column = parts.fragment
        if not sid or not column.isdigit():
            return ListingPage(())
        base = page_url.split("/gkmlpt/", 1)[0]
        return ListingPage((), (f"{base}/gkmlpt/api/all/{column}?page=1&sid={sid.group(1)}",))
    data = json.loads(stripped, object_hook=_whole_characters)
    items = []
    for article in data.get("articles") or []:
        stamp = article.get("date") or article.get("created_at")
        list_date = datetime.fromtimestamp(int(stamp), _CHINA).date() if str(stamp or "").isdigit() else None
        meta = {
            "published": _api_date(article),
            "index_no": article.get("identifier") or "",
            "doc_no": article.get("document_number") or "",
            "agency": article.get("publisher") or "",
            "topic": article.get("classify_theme_name") or "",
        }
        items.append(
            ListItem(urljoin(page_url, article["url"]), article.get("title", ""), list_date, {k: v for k, v in meta.items() if v})
        )
    more: list[str] = []
    query = dict(parse_qsl(parts.query))
    total = int((data.get("classify") or {}).get("post_count") or data.get("total") or 0)
    if query.get("page", "1") == "1" and items and total > len(items):
        more = [_with_page(page_url, p) for p in range(2, -(-total // len(items)) + 1)]
    return ListingPage(tuple(items), tuple(more))


def parse_listing(platform: str, text: str, page_url: str, selectors: dict[str, str] | None = None) -> ListingPage:
    """Dispatch on the source's platform."""
    if platform == "gkmlpt":
        return parse_gkmlpt(text, page_url)
    if platform == "hanweb":
        return parse_hanweb(text, page_url)
    if platform == "trs":
        return parse_trs(text, page_url)
    return parse_generic(text, page_url, selectors or {})
