"""脱敏: names, numbers, addresses and plates masked; organisations, roles and citations kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.anonymise import Anonymiser, anonymise, masked_positions, masking_scores

DATA = Path(__file__).parent / "data" / "anonymise"


def load(name: str) -> list[dict[str, str]]:
    return [
        json.loads(line) for line in (DATA / name).read_text("utf-8").splitlines() if line.strip()
    ]


@pytest.mark.parametrize(
    ("name", "floor_p", "floor_r"),
    [
        # sentences: the development set the rules were tuned on. heldout: written
        # before tuning, first run P 0.974 R 1.000. heldout2: written later and not
        # looked at before its first run, P 1.000 R 0.888 (both fixed since).
        ("sentences.jsonl", 0.98, 0.98),
        ("heldout.jsonl", 0.95, 0.95),
        ("heldout2.jsonl", 0.95, 0.95),
    ],
)
def test_masking_precision_and_recall(name: str, floor_p: float, floor_r: float) -> None:
    rows = load(name)
    outputs = [Anonymiser()(r["input"]) for r in rows]
    scores = masking_scores([r["input"] for r in rows], [r["expected"] for r in rows], outputs)
    assert scores["precision"] >= floor_p, scores
    assert scores["recall"] >= floor_r, scores


def test_test_set_is_large_enough() -> None:
    assert len(load("sentences.jsonl")) + len(load("heldout.jsonl")) >= 50
    assert len(load("sentences.jsonl")) >= 50


def test_same_person_same_mask_within_a_case() -> None:
    anon = Anonymiser()
    first = anon("申请人王建国与被申请人刘秀英系邻居。")
    second = anon("王建国称刘秀英家装修噪音扰民，刘秀英不认可。")
    assert first == "申请人王某某与被申请人刘某某系邻居。"
    assert second == "王某某称刘某某家装修噪音扰民，刘某某不认可。"
    assert anon.counts["姓名"] == 5


def test_two_people_with_one_surname_stay_distinct() -> None:
    out, _ = anonymise("申请人张伟与被申请人张强系兄弟。")
    assert out == "申请人张某与被申请人张某乙系兄弟。"


def test_seeded_names_are_masked_even_without_context() -> None:
    out, counts = anonymise("此事经欧阳修远同意。", names=["欧阳修远"])
    assert out == "此事经欧阳某某同意。"
    assert counts["姓名"] == 1


def test_numbers_masked_by_kind() -> None:
    text = "身份证号330106198506120026，手机13957112345，座机0571-87012345，卡号6228480402564890018，车牌浙A12345。"
    out, counts = anonymise(text)
    assert out == "身份证号[身份证号]，手机[手机号]，座机[电话]，卡号[银行卡号]，车牌[车牌号]。"
    assert dict(counts) == {"身份证号": 1, "手机号": 1, "固定电话": 1, "银行卡号": 1, "车牌号": 1}


def test_address_keeps_county() -> None:
    out, _ = anonymise("住广东省深圳市南山区科技园南区深南大道9988号。")
    assert out == "住广东省深圳市南山区[地址]。"
    out, _ = anonymise("住浙江省绍兴市诸暨市枫桥镇和平路18号2单元301室。")
    assert out == "住浙江省绍兴市诸暨市[地址]。"


def test_things_that_stay() -> None:
    keep = [
        "经枫桥镇人民调解委员会调解，由杭州某某物业服务有限公司负责维修。",
        "依据《中华人民共和国道路交通安全法》第七十六条，交警认定主要责任。",
        "村委会主任、派出所民警和司法所所长参与调解。",
        "楼下的王大爷和李阿姨多次协商无果。",
        "（2023）浙0681民调字第128号，赔偿款8000元，2024年1月15日前付清。",
        "前排人家是二层楼房，他家在二层开凿了后窗。",
        "王某与李某某因宅基地界址发生争议。",
    ]
    for text in keep:
        assert anonymise(text)[0] == text


def test_ordinary_words_are_not_names() -> None:
    for text in [
        "谢谢律师，我和姐姐商量一下。",
        "食品安全法规定的惩罚性赔偿",
        "男方和孩子一起住，原则上由女方抚养。",
    ]:
        assert anonymise(text)[0] == text


def test_masked_positions() -> None:
    assert masked_positions("张建国来了", "张某某来了") == {1, 2}
    assert masked_positions("电话13957112345", "电话[手机号]") == set(range(2, 13))
