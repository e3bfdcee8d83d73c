"""The demo portal's content model: agencies, columns and items, generated deterministically."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from xxgk.demo.corpus import people_daily_sentences, seed_report

SEED_TITLE_YEAR = 2016
CN_DIGITS = "〇一二三四五六七八九"


@dataclass
class AttachmentSpec:
    """A generated attachment file linked from an item."""

    path: str
    name: str
    kind: str  # "pdf" | "docx"
    lines: list[str]


@dataclass
class Item:
    """One disclosure item of the demo portal."""

    agency: Agency
    column: Column
    number: int
    title: str
    published: date
    doc_no: str
    index_no: str
    topic: str
    paragraphs: list[str]
    written: date | None = None
    attachments: list[AttachmentSpec] = field(default_factory=list)
    path: str = ""
    # The multi-agency portal: who the page names as publisher ("" when it names none), whether the
    # page states its date, and the date its list and URL show (a migration's, for the old archive).
    publisher: str | None = None
    dated: bool = True
    listed: date | None = None
    signed: bool = True  # the body ends with the issuing body and the date (落款)

    @property
    def body_text(self) -> str:
        return "\n".join(self.paragraphs)

    @property
    def list_date(self) -> date:
        """The date the column list (and the URL) shows."""
        return self.listed or self.published

    @property
    def expected_agency(self) -> str:
        """The 发布机构 a careful reader finds: as the page states it, else the signature's issuer, else none."""
        if self.publisher is None:
            return self.agency.name
        return self.publisher or (self.paragraphs[-2] if self.signed else "")

    @property
    def expected_published(self) -> date | None:
        """The 发布日期 a careful reader finds: as stated, else the signature's date, else unknown."""
        return self.published if self.dated or self.signed else None


@dataclass
class Column:
    """A 栏目 of an agency; `key` is its path segment, `colid`/`unitid` its Hanweb ids."""

    key: str
    name: str
    size: int
    colid: int = 0
    unitid: int = 0
    items: list[Item] = field(default_factory=list)


@dataclass
class Agency:
    """An agency site on the demo portal and the CMS platform it is built with."""

    key: str
    name: str
    short: str
    platform: str  # "hanweb" | "trs" | "generic"
    encoding: str
    org_code: str
    doc_prefix: str
    topics: list[str]
    columns: list[Column]
    publishers: list[str] = field(default_factory=list)  # a portal publishing for many agencies
    migrated: date | None = None  # the day a site migration re-issued the old archive (its URLs and lists)


TOWNS = [
    "临平街道",
    "南苑街道",
    "东湖街道",
    "星桥街道",
    "五常街道",
    "仓前街道",
    "闲林街道",
    "良渚街道",
    "瓶窑镇",
    "径山镇",
    "黄湖镇",
    "鸬鸟镇",
    "百丈镇",
    "塘栖镇",
    "运河街道",
    "崇贤街道",
    "仁和街道",
    "乔司街道",
]
MZ_TOPICS = [
    "最低生活保障",
    "特困人员供养",
    "临时救助",
    "居家养老服务",
    "社会组织登记",
    "婚姻登记",
    "殡葬管理",
    "慈善捐赠",
    "残疾人两项补贴",
    "城乡社区建设",
    "地名管理",
    "未成年人保护",
    "双拥优抚",
    "低收入家庭认定",
]
JY_TOPICS = [
    "义务教育招生",
    "学前教育",
    "教师招聘",
    "校园安全",
    "中小学课后服务",
    "学生资助",
    "教育督导",
    "民办学校管理",
    "职业教育",
    "学校食堂食品安全",
    "体育艺术教育",
    "家庭经济困难学生资助",
]
WJ_TOPICS = [
    "基本公共卫生服务",
    "家庭医生签约",
    "疫苗接种",
    "医疗机构执业登记",
    "爱国卫生运动",
    "健康教育",
    "无偿献血",
    "传染病防控",
    "计划生育奖励扶助",
    "医疗废物管理",
]
LAWS = [
    "中华人民共和国政府信息公开条例",
    "社会救助暂行办法",
    "浙江省社会救助条例",
    "中华人民共和国老年人权益保障法",
    "中华人民共和国慈善法",
    "中华人民共和国教育法",
    "中华人民共和国基本医疗卫生与健康促进法",
]
QZF_TOPICS = ["优化营商环境", "城乡居民医疗保险", "老旧小区改造", "就业创业补贴", "安全生产", "农村集体资产管理", "数字化改革"]
QZF_PUBLISHERS = [
    "余杭区人民政府办公室",
    "余杭区发展和改革局",
    "余杭区财政局",
    "余杭区人力资源和社会保障局",
    "余杭区住房和城乡建设局",
    "余杭区市场监督管理局",
]
NUMERALS = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"]


def agencies_spec() -> list[Agency]:
    """The three agencies with their columns (names as the portals show them)."""
    mzj_cols = [
        ("jggk", "机构概况", 4),
        ("xxdt", "信息动态", 24),
        ("dwgk", "党务公开", 12),
        ("wsbs", "网上办事", 8),
        ("gzdt", "工作动态", 30),
        ("zcfg", "政策法规", 20),
        ("qkjb", "期刊简报", 14),
        ("hdpt", "互动平台", 10),
        ("mzzt", "民政专题", 12),
        ("tzgg", "通知公告", 26),
        ("ndbg", "政府信息公开年度报告", 9),
    ]
    jyj_cols = [("tzgg", "通知公告", 30), ("zcwj", "政策文件", 24), ("gzdt", "工作动态", 36), ("ndbg", "政府信息公开年度报告", 9)]
    wjw_cols = [("tzgg", "通知公告", 22), ("gzdt", "工作动态", 26), ("zcwj", "政策文件", 14), ("ndbg", "政府信息公开年度报告", 8)]
    mzj = Agency(
        "mzj",
        "余杭区民政局",
        "民政局",
        "hanweb",
        "utf-8",
        "002510738",
        "余民",
        MZ_TOPICS,
        [Column(k, n, s, colid=1229101 + i, unitid=5401 + i) for i, (k, n, s) in enumerate(mzj_cols)],
    )
    jyj = Agency(
        "jyj", "余杭区教育局", "教育局", "trs", "gbk", "002510746", "余教", JY_TOPICS, [Column(k, n, s) for k, n, s in jyj_cols]
    )
    wjw = Agency(
        "wjw",
        "余杭区卫生健康局",
        "卫生健康局",
        "generic",
        "utf-8",
        "002510754",
        "余卫",
        WJ_TOPICS,
        [Column(k, n, s) for k, n, s in wjw_cols],
    )
    qzf_cols = [("zfwj", "政府文件", 14), ("bmwj", "部门文件", 18), ("lswj", "历史文件", 15)]
    qzf = Agency(
        "qzf",
        "余杭区人民政府",
        "区政府",
        "hanweb",
        "utf-8",
        "002510701",
        "余政办",
        QZF_TOPICS,
        [Column(k, n, s, colid=1229201 + i, unitid=5501 + i) for i, (k, n, s) in enumerate(qzf_cols)],
        publishers=QZF_PUBLISHERS,
        migrated=date(2025, 6, 18),
    )
    return [mzj, jyj, wjw, qzf]


def chinese_date(d: date) -> str:
    """二〇一七年三月二十八日 style, as signatures on official documents are written."""

    def num(n: int) -> str:
        if n <= 10:
            return NUMERALS[n - 1] if n else "〇"
        tens, ones = divmod(n, 10)
        return (NUMERALS[tens - 1] if tens > 1 else "") + "十" + (NUMERALS[ones - 1] if ones else "")

    year = "".join(CN_DIGITS[int(c)] for c in str(d.year))
    return f"{year}年{num(d.month)}月{num(d.day)}日"


class _Writer:
    """Builds titles and bodies for one agency from templates and corpus sentences."""

    def __init__(self, rng: random.Random, agency: Agency, sentences: tuple[str, ...]) -> None:
        self.rng = rng
        self.agency = agency
        self.sentences = sentences

    def pick(self, seq):  # type: ignore[no-untyped-def]
        return seq[self.rng.randrange(len(seq))]

    def sentences_block(self, n: int) -> str:
        return "".join(self.pick(self.sentences) for _ in range(n))

    def title(self, column: Column, topic: str, year: int, n: int) -> str:
        a, town = self.agency, self.pick(TOWNS)
        kind = column.name
        if kind == "机构概况":
            return [f"{a.name}主要职责", f"{a.name}内设机构", f"{a.name}领导信息", f"{a.name}联系方式"][n % 4]
        if kind in ("通知公告",):
            return self.pick(
                [
                    f"关于做好{year}年度{topic}工作的通知",
                    f"关于{topic}有关事项的公告",
                    f"{a.name}关于{year}年{topic}对象名单的公示",
                    f"关于开展{topic}专项检查的通知",
                ]
            )
        if kind in ("政策法规", "政策文件", "政府文件", "部门文件", "历史文件"):
            return self.pick(
                [
                    f"关于印发《余杭区{topic}管理办法》的通知",
                    f"余杭区{topic}实施细则",
                    f"关于进一步加强{topic}工作的实施意见",
                    f"关于调整{topic}标准的通知",
                ]
            )
        if kind in ("工作动态", "信息动态"):
            return self.pick(
                [
                    f"{town}开展{topic}宣传活动",
                    f"区{a.short}召开{year}年{topic}工作会议",
                    f"{town}举办{topic}业务培训",
                    f"区{a.short}赴{town}调研{topic}工作",
                ]
            )
        if kind == "党务公开":
            return self.pick(
                [
                    f"区{a.short}党委召开{year}年党风廉政建设工作会议",
                    f"{a.name}机关党支部开展主题党日活动",
                    f"区{a.short}党委理论学习中心组专题学习",
                ]
            )
        if kind == "网上办事":
            return f"{topic}办事指南"
        if kind == "期刊简报":
            return f"《余杭民政动态》{year}年第{n % 12 + 1}期"
        if kind == "互动平台":
            return self.pick([f"关于{topic}问题的答复", f"{year}年{topic}网上咨询答复汇总"])
        if kind == "民政专题":
            return f"{topic}专题：{town}{year}年工作纪实"
        # Portals title the same report differently; these forms are all in use.
        return {
            "mzj": f"{a.name}{year}年度政府信息公开工作年度报告",
            "jyj": f"{a.name}{year}年政府信息公开工作年报",
            "wjw": f"{year}年度{a.name}政府信息公开工作报告",
        }.get(a.key, f"{a.name}{year}年度政府信息公开工作年度报告")

    def body(self, column: Column, title: str, topic: str, published: date, target: int) -> list[str]:
        a = self.agency
        law = self.pick(LAWS)
        paras = [f"为进一步做好{topic}工作，根据《{law}》等有关规定，结合我区实际，现就{title}有关事项说明如下。"]
        section = 0
        while sum(len(p) for p in paras) < target:
            heading = (
                f"{NUMERALS[section % 10]}、{self.pick(['工作目标', '主要任务', '实施步骤', '保障措施', '工作要求', '具体内容'])}"
            )
            section += 1
            paras.append(heading)
            paras.append(f"各镇街要高度重视{topic}工作，" + self.sentences_block(self.rng.randint(2, 4)))
            paras.append(self.sentences_block(self.rng.randint(2, 5)))
        paras.append(f"{a.name}")
        paras.append(chinese_date(published))
        return paras

    def annual_report(self, year: int) -> list[str]:
        prose = self._prose_report(year)
        if year < 2019:
            return prose
        # From the 2019 reports on, the State Council's standard tables replace sections 二, 三 and 七,
        # here flattened with " | " as many sites show them (own generator: the portal's sequence stays).
        from xxgk.demo.annual import as_lines, standard_tables

        tables = standard_tables(seed=year * 100 + sum(map(ord, self.agency.key)), edition=2019 if year < 2021 else 2021)
        before = prose[: prose.index("二、主动公开政府信息情况")]
        after = prose[prose.index("八、存在的主要问题及改进情况") :]
        return before + as_lines(tables) + ["五、存在的主要问题及改进情况", *after[1:]]

    def _prose_report(self, year: int) -> list[str]:
        a, rng = self.agency, self.rng
        active, requests = rng.randint(80, 600), rng.randint(0, 12)
        staff, consults = rng.randint(2, 8), rng.randint(50, 900)
        return [
            f"根据《中华人民共和国政府信息公开条例》的相关规定，特公布{year}年度{a.name}政府信息公开工作报告。"
            f"本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。如对本报告有任何疑问，请与{a.name}办公室联系。",
            "一、概述",
            f"{year}年，{a.name}认真贯彻落实上级关于政务公开工作的部署，进一步健全组织保障体系，不断规范公开工作。"
            + self.sentences_block(4),
            "（一）加强领导，落实责任",
            "成立以局长为组长的工作领导小组，局办公室具体负责日常工作。" + self.sentences_block(3),
            "（二）完善制度，规范程序",
            self.sentences_block(4),
            "二、主动公开政府信息情况",
            f"全年共主动公开政府信息{active}条，其中规范性文件{rng.randint(1, 20)}件，工作动态{rng.randint(20, 300)}条。"
            + self.sentences_block(4),
            "三、依申请公开政府信息情况",
            f"全年共收到依申请公开{requests}件，已全部按时办结。" + self.sentences_block(2),
            "四、收费及减免情况",
            "本年度未收取任何费用。",
            "五、咨询处理情况",
            f"全年共受理各类咨询{consults}件，均按规定及时处理、反馈。" + self.sentences_block(2),
            "六、工作人员和支出情况",
            f"目前有兼职工作人员{staff}人，未发生直接费用支出。",
            "七、行政复议和行政诉讼情况",
            "无因公开问题被提起的行政复议和行政诉讼。",
            "八、存在的主要问题及改进情况",
            "公开的规范性、时效性有待进一步提高。" + self.sentences_block(4),
        ]


def build_agencies(seed: int = 20170328) -> list[Agency]:
    """Generate every agency, column and item; same seed, same portal, byte for byte."""
    rng = random.Random(seed)
    sentences = people_daily_sentences()
    gbk_safe = tuple(s for s in sentences if _encodes(s, "gbk"))
    rong = next(s for s in gbk_safe if "镕" in s)  # 镕 is in GBK but not GB2312: a charset trap
    seed_title, seed_published, seed_paragraphs = seed_report()
    agencies = agencies_spec()
    art_id = 2000001
    for agency in agencies:
        writer = _Writer(rng, agency, gbk_safe if agency.encoding == "gbk" else sentences)
        serial: dict[int, int] = {}
        for column in agency.columns:
            items = []
            for n in range(column.size):
                topic = writer.pick(agency.topics)
                if column.name in ("政府信息公开年度报告", "机构概况"):
                    topic = "政务公开" if column.name == "政府信息公开年度报告" else "机构职能"
                if column.name == "政府信息公开年度报告":
                    year = 2012 + n
                    published = date(year + 1, 3, 1) + timedelta(days=rng.randrange(28))
                else:
                    span = 5 if column.name == "历史文件" else 13  # the migrated archive is old
                    published = date(2012, 1, 4) + timedelta(days=rng.randrange(span * 365))
                    year = published.year
                title = writer.title(column, topic, year, n)
                if column.name == "政府信息公开年度报告" and agency.key == "mzj" and year == SEED_TITLE_YEAR:
                    title, published, paragraphs = seed_title, date.fromisoformat(seed_published), list(seed_paragraphs)
                elif column.name == "政府信息公开年度报告":
                    paragraphs = writer.annual_report(year)
                else:
                    low, high = (300, 1500) if column.name in ("工作动态", "信息动态", "党务公开") else (800, 5200)
                    paragraphs = writer.body(column, title, topic, published, rng.randint(low, high - 200))
                serial[published.year] = serial.get(published.year, 0) + 1
                is_policy = column.name in ("政策法规", "政策文件", "通知公告", "政府文件", "历史文件")
                doc_no = f"{agency.doc_prefix}〔{published.year}〕{rng.randint(1, 80)}号" if is_policy else ""
                item = Item(
                    agency,
                    column,
                    art_id,
                    title,
                    published,
                    doc_no,
                    f"{agency.org_code}/{published.year}-{serial[published.year]:05d}",
                    topic,
                    paragraphs,
                    written=published - timedelta(days=rng.randint(0, 6)) if is_policy else None,
                )
                art_id += 1
                items.append(item)
            items.sort(key=lambda it: (it.published, it.number), reverse=True)
            column.items = items
        if agency.encoding == "gbk":
            target = agency.columns[2].items[0]
            target.paragraphs.insert(1, rong)
    for agency in agencies:
        if agency.publishers:
            _portal_statements(agency)
    _assign_paths_and_attachments(agencies, rng)
    from xxgk.demo.showcase import add_showcase  # written documents that show relations (after the generated ones)

    for item in add_showcase(agencies):
        item.path = item_path(item)
    return agencies


def _portal_statements(agency: Agency) -> None:
    """What the multi-agency portal's pages state: the government's own files name their office; the
    departments' files their department; the migrated archive neither date nor publisher, only some a
    signature (落款) at the end of the body."""
    for column in agency.columns:
        for n, item in enumerate(column.items):
            issuer = agency.publishers[0] if column.key == "zfwj" else agency.publishers[1 + n % (len(agency.publishers) - 1)]
            item.paragraphs[-2] = issuer
            if column.key == "lswj":
                item.publisher, item.dated, item.listed = "", False, agency.migrated
                if n % 3 == 2:  # no signature: nothing on the page says when or by whom
                    item.signed = False
                    del item.paragraphs[-2:]
            elif column.key == "bmwj" and n % 4 == 3:
                item.publisher = ""  # the metadata block leaves 发布机构 empty: the signature names it
            else:
                item.publisher = issuer


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def item_path(item: Item) -> str:
    """The path of an item's page, as its agency's platform writes it."""
    agency, column, d = item.agency, item.column, item.published
    if agency.platform == "hanweb":
        d = item.list_date
        return f"/art/{d.year}/{d.month}/{d.day}/art_{column.colid}_{item.number}.html"
    if agency.platform == "trs":
        return f"/{agency.key}/zwgk/{column.key}/{d:%Y%m}/t{d:%Y%m%d}_{item.number}.html"
    return f"/{agency.key}/{column.key}/content/post_{item.number}.html"


def _assign_paths_and_attachments(agencies: list[Agency], rng: random.Random) -> None:
    for agency in agencies:
        for column in agency.columns:
            for i, item in enumerate(column.items):
                item.path = item_path(item)
                if column.name in ("政策法规", "政策文件", "通知公告", "政府文件", "部门文件") and i % 5 == 1:
                    kind = ("pdf", "docx", "doc")[(i // 5) % 3]
                    base = item.path.rsplit("/", 1)[0]
                    name = f"附件：{item.topic}工作情况表.{kind}"
                    lines = [item.title, f"{item.topic}工作情况一览（附件）"] + [
                        rng.choice(item.paragraphs[1:-2] or item.paragraphs) for _ in range(4)
                    ]
                    path = f"{base}/P0{item.number}{i:03d}.{kind}"
                    if agency.publishers:  # Hanweb's download handler: the type only in the query, or nowhere
                        path = f"/module/download/downfile.jsp?classid=0&filename=P0{item.number}{i:03d}.{kind}"
                        name = "下载" if i % 2 else name
                    item.attachments.append(AttachmentSpec(path, name, kind, lines))
