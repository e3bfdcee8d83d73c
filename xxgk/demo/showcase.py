"""Demo documents that show relations: a 2016 办法 amended in 2018 and repealed by the 2021 办法, a 政策解读
of the 2021 办法, and a district notice reposted by two of its agencies (one result with the others listed).

They are written out (not generated) so that the relations between them are known; `QUERIES` are what
`make run` prints for a user to see each.
"""

from __future__ import annotations

from datetime import date

from xxgk.demo.model import Agency, Column, Item, chinese_date

FIRST_NUMBER = 2900001
QUERIES = (
    ("一份被废止的办法（已废止，及其修订与替代文件）", "余杭区困难群众临时救助实施办法"),
    ("一份政策解读及其解读的文件", "临时救助办法 政策解读"),
    ("一份被两个部门转发的通知（合并显示）", "2024年防汛防台"),
)

_ARTICLES_2016 = [
    "第一条 为规范困难群众临时救助工作，切实保障困难群众基本生活，"
    "根据《社会救助暂行办法》和《浙江省临时救助办法》，结合本区实际，制定本办法。",
    "第二条 本办法所称临时救助，是指对遭遇突发性、紧迫性、临时性生活困难的家庭或者个人给予的应急性、过渡性救助。",
    "第三条 区民政局负责全区临时救助工作的组织实施，各镇人民政府、街道办事处负责临时救助申请的受理、调查和初审。",
    "第四条 临时救助标准按照救助对象困难程度确定，一般不超过当地月最低生活保障标准的3倍，特殊情况不超过6倍。",
    "第五条 申请临时救助应当提交书面申请、家庭收入和财产状况说明以及遭遇困难的相关证明材料。",
    "第六条 对情况紧急的，镇人民政府、街道办事处可以先行救助，并在5个工作日内补齐审核审批手续。",
    "第七条 临时救助资金纳入区财政预算，实行专账管理、专款专用。",
    "第八条 本办法由区民政局负责解释，自2016年5月1日起施行。",
]
_AMENDMENT_2018 = [
    "各镇人民政府、街道办事处：",
    "为进一步提高临时救助时效，经研究，现对《余杭区困难群众临时救助实施办法》（余民〔2016〕8号）作如下修改：",
    "一、将第四条中的“一般不超过当地月最低生活保障标准的3倍”修改为“一般不超过当地月最低生活保障标准的4倍”。",
    "二、将第六条中的“5个工作日内”修改为“3个工作日内”。",
    "三、增加一条作为第七条：“对因火灾、交通事故等意外事件导致基本生活暂时出现严重困难的家庭，可以直接给予一次性救助。”",
    "各镇人民政府、街道办事处要做好政策衔接，对本通知施行前已受理尚未审批的申请，按照修改后的规定办理，并做好政策宣传解释工作。",
    "本通知自印发之日起施行。",
]
_ARTICLES_2021 = [
    "第一条 为健全临时救助制度，发挥临时救助兜底作用，"
    "根据《社会救助暂行办法》和《浙江省社会救助条例》，结合本区实际，制定本办法。",
    "第二条 临时救助实行属地管理，区民政局统筹全区临时救助工作，镇人民政府、街道办事处负责审核确认。",
    "第三条 临时救助标准分为一般救助和急难救助，一般救助不超过当地月最低生活保障标准的6倍，急难救助可以一事一议。",
    "第四条 推行“线上申请、一网通办”，申请人可以通过浙里办提交临时救助申请。",
    "第五条 建立主动发现机制，村（社区）发现困难群众的，应当及时报告并协助申请。",
    "第六条 本办法自2021年4月1日起施行，《余杭区困难群众临时救助实施办法》（余民〔2016〕8号）同时废止。",
]
_INTERPRETATION = [
    "一、出台背景",
    "2016年我区出台《余杭区困难群众临时救助实施办法》，2018年作了修改。为落实《浙江省社会救助条例》，区民政局起草了新的办法。",
    "二、主要内容",
    "《余杭区困难群众临时救助办法》共六条，明确了救助标准分为一般救助和急难救助，一般救助不超过当地月最低生活保障标准的6倍。",
    "三、主要变化",
    "与原办法相比，新办法提高了救助标准，推行线上申请，并建立了困难群众主动发现机制，救助更加及时、更加精准。",
    "四、如何申请",
    "困难群众可以向户籍所在地或者居住地的镇人民政府、街道办事处申请，也可以通过浙里办在线申请。",
    "五、咨询方式",
    "对办法有疑问的，可以拨打区民政局社会救助科电话咨询，或者通过区政府门户网站政民互动栏目留言。",
]
_FLOOD_2024 = [
    "一、提高思想认识。今年我区汛期降雨偏多，防汛防台形势严峻，各单位要牢固树立底线思维，切实把防汛防台工作摆在突出位置。",
    "二、落实防汛责任。严格落实防汛防台行政首长负责制，逐级明确责任人，层层压实责任，确保责任落实到岗到人。",
    "三、开展隐患排查。汛前对水库山塘、地质灾害点、危旧房屋、地下空间等开展全面排查，建立隐患清单，落实整改措施。",
    "四、加强监测预警。密切关注天气变化，及时发布预警信息，做好人员转移避险准备，确保人民群众生命安全。",
    "五、做好应急准备。储备必要的防汛物资，组建抢险队伍，汛期严格执行24小时值班和领导带班制度。",
]


def _item(
    agency: Agency, column: Column, number: int, title: str, published: date, doc_no: str, paras: list[str], issuer: str
) -> Item:
    return Item(
        agency,
        column,
        number,
        title,
        published,
        doc_no,
        f"{agency.org_code}/{published.year}-9{number % 1000:04d}",
        "社会救助" if "救助" in title else "应急管理",
        [*paras, issuer, chinese_date(published)],
        written=published,
    )


def add_showcase(agencies: list[Agency]) -> list[Item]:
    """Put the showcase documents into the demo's columns (paths are assigned by the caller)."""
    by_key = {a.key: a for a in agencies}
    mzj, wjw, jyj, qzf = by_key["mzj"], by_key["wjw"], by_key["jyj"], by_key["qzf"]
    policy = next(c for c in mzj.columns if c.name == "政策法规")
    wjw_notices = next(c for c in wjw.columns if c.name == "通知公告")
    jyj_notices = next(c for c in jyj.columns if c.name == "通知公告")
    government = next(c for c in qzf.columns if c.name == "政府文件")
    n = FIRST_NUMBER
    flood_head = "余杭区人民政府办公室关于做好2024年防汛防台工作的通知"
    flood = [
        "各镇人民政府、街道办事处，区政府各部门、各直属单位：",
        "为切实做好2024年防汛防台工作，确保安全度汛，现将有关事项通知如下。",
        *_FLOOD_2024,
    ]
    items = [
        _item(
            mzj,
            policy,
            n,
            "余杭区民政局关于印发《余杭区困难群众临时救助实施办法》的通知",
            date(2016, 4, 12),
            "余民〔2016〕8号",
            ["各镇人民政府、街道办事处：", "现将《余杭区困难群众临时救助实施办法》印发给你们，请认真贯彻执行。", *_ARTICLES_2016],
            mzj.name,
        ),
        _item(
            mzj,
            policy,
            n + 1,
            "余杭区民政局关于修改《余杭区困难群众临时救助实施办法》的通知",
            date(2018, 6, 20),
            "余民〔2018〕15号",
            _AMENDMENT_2018,
            mzj.name,
        ),
        _item(
            mzj,
            policy,
            n + 2,
            "余杭区民政局关于印发《余杭区困难群众临时救助办法》的通知",
            date(2021, 3, 1),
            "余民〔2021〕5号",
            ["各镇人民政府、街道办事处：", "现将《余杭区困难群众临时救助办法》印发给你们，请认真贯彻执行。", *_ARTICLES_2021],
            mzj.name,
        ),
        _item(mzj, policy, n + 3, "《余杭区困难群众临时救助办法》政策解读", date(2021, 3, 5), "", _INTERPRETATION, mzj.name),
        _item(qzf, government, n + 4, flood_head, date(2024, 5, 6), "余政办〔2024〕22号", flood, "余杭区人民政府办公室"),
        _item(
            wjw,
            wjw_notices,
            n + 5,
            f"余杭区卫生健康局关于转发{flood_head}的通知",
            date(2024, 5, 8),
            "余卫〔2024〕41号",
            ["各医疗卫生单位：", f"现将《{flood_head}》转发给你们，请结合实际认真贯彻执行。", *_FLOOD_2024],
            wjw.name,
        ),
        _item(
            jyj,
            jyj_notices,
            n + 6,
            f"余杭区教育局关于转发{flood_head}的通知",
            date(2024, 5, 9),
            "余教〔2024〕52号",
            ["各中小学、幼儿园：", f"现将《{flood_head}》转发给你们，请各校认真抓好落实。", *_FLOOD_2024],
            jyj.name,
        ),
    ]
    items[4].publisher = "余杭区人民政府办公室"  # the multi-agency portal names the office on its pages
    for item in items:
        item.column.items.append(item)
        item.column.items.sort(key=lambda it: (it.published, it.number), reverse=True)
    return items
