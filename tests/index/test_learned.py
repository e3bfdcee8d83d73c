"""Short forms learned from the archive: definitions in the text and agency names (pure functions)."""

from __future__ import annotations

import pytest

from index import learned


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("根据杭州市发展和改革委员会（以下简称“市发改委”）的要求", [("市发改委", "杭州市发展和改革委员会")]),
        ("为了规范城乡居民最低生活保障（以下简称低保）工作", [("低保", "最低生活保障")]),
        ("浙江省人民政府办公厅(以下简称:省府办公厅)", [("省府办公厅", "浙江省人民政府办公厅")]),
        ("《余杭区城乡居民最低生活保障实施办法》（以下简称《低保办法》）", [("低保办法", "余杭区城乡居民最低生活保障实施办法")]),
        # A back-reference to the tail of the name is not an abbreviation people search with.
        ("《中华人民共和国政府信息公开条例》（以下简称《条例》）", []),
        # Nor is a short form whose characters the name does not hold in order.
        ("各区县（市）人民政府（以下简称各地）", []),
        ("没有定义的句子。", []),
    ],
)
def test_definitions(text: str, pairs: list[tuple[str, str]]) -> None:
    assert learned.definitions(text) == pairs


@pytest.mark.parametrize(
    ("agency", "expected"),
    [
        ("余杭区人力资源和社会保障局", {"人社局", "区人社局"}),
        ("杭州市发展和改革委员会", {"发改委", "市发改委"}),
        ("余杭区市场监督管理局", {"市监局"}),
        ("余杭区住房和城乡建设局", {"住建局"}),
        ("余杭区医疗保障局", {"医保局"}),
        ("杭州市卫生健康委员会", {"卫健委", "市卫健委"}),
    ],
)
def test_agency_short_forms(agency: str, expected: set[str]) -> None:
    assert expected <= set(learned.agency_short_forms(agency))


@pytest.mark.parametrize("agency", ["余杭区民政局", "余杭区教育局", "浙江省人民政府", "良渚街道办事处"])
def test_a_name_without_a_usual_short_form_gives_none(agency: str) -> None:
    assert learned.agency_short_forms(agency) == []


def test_collect_groups_the_learned_forms_with_their_full_names() -> None:
    groups = learned.collect(["余杭区医疗保障局"], ["根据杭州市城市更新办公室（以下简称“市更新办”）的部署", "无关。"])
    assert ["区医保局", "医保局", "医疗保障局"] in groups
    assert ["市更新办", "杭州市城市更新办公室"] in groups
