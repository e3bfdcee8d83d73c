"""`xxgk sources add URL`: read a portal's 政府信息公开 page, find its platform and columns, write a source file."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

from bs4 import BeautifulSoup

from archive.charset import decode
from archive.models import Document
from archive.settings import Settings
from crawler.dates import ISSUER_END, parse_date
from crawler.errors import FetchError, SourceError
from crawler.extract import extract_item
from crawler.fetch import Fetcher, FetchResult
from crawler.links import is_attachment_link
from crawler.listing import ListItem, parse_listing
from crawler.probe import first_list, throwaway_fetcher
from crawler.sources import Column, Source

log = logging.getLogger(__name__)

MAX_CANDIDATES = 60  # column links probed at most (a portal's navigation, not its archive)
_HANWEB_COLUMN = re.compile(r"/col/col\d+/")
_HANWEB_MARKS = ("<datastore>", "jpage(", "dataproxy.jsp", "大汉")
_TRS_MARKS = ("createPageHTML", "createPage(", "TRS_Editor", "TRS_UEDITOR")
_TRS_DETAIL = re.compile(r"""href=["']?[^"'>]*t\d{8}_\d+\.s?html?""")
_GKMLPT = re.compile(r"""window\._CONFIG\s*=|SID\s*:\s*['"]?\w+""")
_TITLE_PARTS = re.compile(r"\s*[_|－—-]\s*")
_PAGER = frozenset("首页 上一页 下一页 尾页 末页 上页 下页 前一页 后一页 跳转 返回".split())
_MORE = ("更多", "more", "MORE", "查看更多")  # a block's link to its column: named by the column's other links


@dataclass
class FoundColumn:
    """A column found on the portal: its list, and what one of its detail pages yielded."""

    name: str
    url: str  # relative to the base URL
    items: int = 0
    more_pages: int = 0
    sample: Document | None = None
    note: str = ""  # why it is written commented out ("" when it is crawled)


@dataclass
class Discovery:
    """What `sources add` found: the platform, the site's name, its columns."""

    entry: str
    platform: str
    base_url: str
    name: str
    id: str
    columns: list[FoundColumn] = field(default_factory=list)
    allow_private: bool = False

    @property
    def crawled(self) -> list[FoundColumn]:
        return [c for c in self.columns if not c.note]


def detect_platform(url: str, html: str) -> str:
    """The CMS a page was built with: gkmlpt, hanweb, trs or generic."""
    if "/gkmlpt/" in urlsplit(url).path or ("gkmlpt" in html and _GKMLPT.search(html)):
        return "gkmlpt"
    if any(mark in html for mark in _HANWEB_MARKS) or len(_HANWEB_COLUMN.findall(html)) >= 2:
        return "hanweb"
    if any(mark in html for mark in _TRS_MARKS) or len(_TRS_DETAIL.findall(html)) >= 2:
        return "trs"
    return "generic"


def site_name(html: str) -> str:
    """The site's (agency's) name: <meta name="SiteName">, else the part of <title> that names a body."""
    soup = BeautifulSoup(html, "lxml")
    meta = soup.find("meta", attrs={"name": "SiteName"})
    if meta is not None and str(meta.get("content") or "").strip():
        return _bare(str(meta.get("content")).strip())
    title = " ".join((soup.title.get_text() if soup.title else "").split())
    parts = [_bare(p) for p in _TITLE_PARTS.split(title) if p]
    named = [p for p in parts if p.endswith(ISSUER_END)]
    return (named or parts or [""])[-1]


_SITE_WORDS = tuple("政府信息公开平台 政府信息公开网 政府信息公开 信息公开平台 信息公开 门户网站 网站 平台 官网".split())


def _bare(name: str) -> str:
    """A site's name without the words that name the website rather than its owner."""
    changed = True
    while changed:
        changed = False
        for word in _SITE_WORDS:
            if name.endswith(word) and len(name) > len(word) + 1:
                name, changed = name[: -len(word)], True
    return name


def source_id(url: str) -> str:
    """A source id from the portal's host and sub-site (mzj.cq.gov.cn → mzj-cq; an address → portal)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if re.fullmatch(r"[\d.:]+", host) or host == "localhost":
        return "portal"
    labels = [x for x in host.split(".") if x not in ("www", "gov", "cn", "com", "net", "org", "xxgk", "zwgk")]
    return "-".join(labels[:2]) or "portal"


def gkmlpt_columns(html: str) -> list[tuple[int, str]]:
    """(id, name) of the leaves of gkmlpt's column tree (window._CONFIG.TREE), in page order."""
    start = html.find("TREE")
    bracket = html.find("[", start) if start >= 0 else -1
    if bracket < 0:
        return []
    depth, end = 0, bracket
    for end in range(bracket, len(html)):
        depth += {"[": 1, "]": -1}.get(html[end], 0)
        if depth == 0:
            break
    literal = html[bracket : end + 1]
    as_json = re.sub(r"([{,]\s*)([A-Za-z_]\w*)\s*:", r'\1"\2":', literal).replace("'", '"')
    try:
        tree = json.loads(as_json)
    except json.JSONDecodeError:
        return [(int(i), n) for i, n in re.findall(r"""id["']?\s*:\s*(\d+)\s*,\s*["']?name["']?\s*:\s*["']([^"']+)""", literal)]
    leaves: list[tuple[int, str]] = []

    def walk(nodes: list) -> None:  # type: ignore[type-arg]
        for node in nodes:
            if not isinstance(node, dict):
                continue
            if node.get("children"):
                walk(node["children"])
            elif str(node.get("id", "")).isdigit():
                leaves.append((int(node["id"]), str(node.get("name") or node["id"])))

    walk(tree if isinstance(tree, list) else [])
    return leaves


def column_links(html: str, page_url: str, platform: str) -> list[tuple[str, str]]:
    """(name, absolute URL) of links that may lead to columns: same host, short text, not a file or detail page."""
    soup = BeautifulSoup(html, "lxml")
    host = urlsplit(page_url).netloc
    found: dict[str, str] = {}
    for link in soup.find_all("a", href=True):
        href = str(link.get("href") or "").strip()
        if not href or href.lower().startswith(("javascript:", "mailto:", "#")):
            continue
        url = urldefrag(urljoin(page_url, href)).url
        name = " ".join(link.get_text(" ", strip=True).split()) or str(link.get("title") or "").strip()
        parts = urlsplit(url)
        if parts.netloc != host or not 2 <= len(name) <= 16 or parse_date(name):
            continue
        if url in found and not found[url].strip("»>› ").startswith(_MORE):
            continue
        if name in _PAGER or name.isdigit():
            continue
        if is_attachment_link(url, name) or _TRS_DETAIL.search(f'href="{url}"') or "/art/" in parts.path:
            continue
        if platform == "hanweb" and not _HANWEB_COLUMN.search(parts.path):
            continue
        if parts.path in ("", "/") and not parts.query:
            continue  # the portal's home page
        found[url] = name
    # A column reached by "更多>>" and by its name keeps its name; "更多" links come last.
    ordered = sorted(found.items(), key=lambda pair: pair[1].strip("»>› ").startswith(_MORE))
    return [(name, url) for url, name in ordered][:MAX_CANDIDATES]


def _get(fetcher: Fetcher, url: str, form: bytes | None = None) -> FetchResult | None:
    try:
        result = fetcher.get(url, form=form)
    except FetchError as exc:
        log.info("sources add: %s not read: %s", url, exc)
        return None
    return result if result.status == 200 else None


def _listing(fetcher: Fetcher, source: Source, url: str) -> tuple[list[ListItem], int, str]:
    """(items of the column's first list page, further list pages, why it is left out: "" when it is not)."""
    try:
        found = first_list(fetcher, source, url)
    except FetchError as exc:
        return [], 0, "robots.txt 不允许抓取" if exc.reason == "robots" else f"无法读取：{exc.message}"
    if found.status != 200:
        return [], 0, f"列表页返回 HTTP {found.status}"
    return found.items, found.more_pages, ""


def discover(entry: str, settings: Settings, allow_private: bool = False, source_id_: str = "") -> Discovery:
    """Read `entry` (a 政府信息公开 page or any column page), find the platform and the columns, and probe
    one list page and one detail page of each."""
    parts = urlsplit(entry)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"{entry!r} is not an http(s) URL", "give the address of the portal's 政府信息公开 page")
    base_url = f"{parts.scheme}://{parts.netloc}"
    draft = Source(id="probe", name="", agency="", platform="generic", base_url=base_url, columns=(), allow_private=allow_private)
    with throwaway_fetcher(draft, settings) as fetcher:
        first = _get(fetcher, entry)
        if first is None:
            raise SourceError(f"{entry} could not be read", "open it in a browser; check the address and allow_private")
        html, _ = decode(first.body, first.content_type, "")
        platform = detect_platform(entry, html)
        found = Discovery(
            entry=entry,
            platform=platform,
            base_url=base_url,
            name=site_name(html),
            id=source_id_ or source_id(entry),
            allow_private=allow_private,
        )
        if platform == "gkmlpt":
            index = entry.split("#", 1)[0]
            index = index if index.rstrip("/").endswith("/gkmlpt/index") else index.split("/gkmlpt/", 1)[0] + "/gkmlpt/index"
            candidates = [(name, f"{index}#{column_id}") for column_id, name in gkmlpt_columns(html)]
        else:
            # The navigation's columns, then the entry page itself when it is a list of its own.
            listing = parse_listing(platform, html, entry)
            own = {i.url for i in listing.items} | {p for p in listing.more_pages if isinstance(p, str)}
            links = [(n, u) for n, u in column_links(html, entry, platform) if u not in own]
            candidates = [*links, (found.name or "信息公开", entry)]
        source = Source(
            id=found.id, name=found.name, agency=found.name, platform=platform, base_url=base_url, columns=(),
            allow_private=allow_private,
        )  # fmt: skip
        seen_items: set[str] = set()
        for name, url in candidates:
            items, more, note = _listing(fetcher, source, url)
            relative = url.removeprefix(base_url) or "/"
            if note:
                found.columns.append(FoundColumn(name, relative, note=note))
                continue
            fresh = [i for i in items if i.url not in seen_items]
            if not fresh and platform != "gkmlpt":
                continue  # navigation, the home page, or a list already found under another link
            seen_items.update(i.url for i in items)
            column = FoundColumn(name, relative, len(items), more)
            if items:
                column.sample = _sample(fetcher, source, Column(name, relative, name), items[0])
            found.columns.append(column)
    return found


def _sample(fetcher: Fetcher, source: Source, column: Column, item: ListItem) -> Document | None:
    result = _get(fetcher, item.url)
    if result is None:
        return None
    doc, _ = extract_item(source, column, item, result.body, result.content_type)
    return doc


def _toml(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def source_file(found: Discovery) -> str:
    """The commented TOML source file for what was found (the user reviews it before crawling)."""
    platforms = {"hanweb": "大汉 Hanweb jpage", "trs": "TRS WCM", "gkmlpt": "广东 gkmlpt 政务公开平台", "generic": "通用列表页"}
    lines = [
        f"# 由 `xxgk sources add {found.entry}` 生成，请核对后再抓取（`xxgk sources check {found.id} --all`）。",
        f"# 平台：{platforms[found.platform]}；找到 {len(found.crawled)} 个栏目。",
        f"id = {_toml(found.id)}",
        f"name = {_toml(found.name or found.id)}",
        f"agency = {_toml(found.name or found.id)}",
        "# 只有整个网站的文件都由上面的 agency 发布时，才打开下一行；否则页面未写明发布机构的文件显示“未注明”。",
        "# default_agency = true",
        f"platform = {_toml(found.platform)}",
        f"base_url = {_toml(found.base_url)}",
    ]
    if found.allow_private:
        lines.append("allow_private = true  # 本机或内网地址（演示门户、测试）")
    lines += [
        "# crawl_delay_s = 2.0  # 两次请求的最短间隔；不写则按设置 crawl_delay_s，robots.txt 要求更慢时从其要求",
        '# schedule = "15 2 * * *"  # 每天 02:15 抓取（Asia/Shanghai）',
        "",
    ]
    for column in found.columns:
        prefix = "# " if column.note else ""
        summary = f"首页 {column.items} 条" + (f"，另有 {column.more_pages} 个列表页" if column.more_pages else "")
        if column.note:
            summary = column.note + "，未启用"
        sample = column.sample
        if sample is not None:
            summary += f"；样例：{sample.title[:30]}（{sample.published or '日期不详'}，{sample.agency or '发布机构未注明'}）"
        lines += [f"# {column.name}：{summary}", f"{prefix}[[columns]]", f"{prefix}name = {_toml(column.name)}"]
        lines += [f"{prefix}url = {_toml(column.url)}", ""]
    return "\n".join(lines)
