"""Index parts: tokenizer, BM25, dense, fusion, units, manifest, embedding cache."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ingest.records import Article
from retrieval import fusion, vocab
from retrieval.bm25 import BM25Index
from retrieval.dense import DenseIndex
from retrieval.encoders.embcache import EmbeddingCache
from retrieval.errors import KBError
from retrieval.index_folder import MANIFEST, IndexFolder, check_model
from retrieval.service import Service
from retrieval.tokenizer import JiebaTokenizer
from retrieval.units import article_units


def test_tokenizer_keeps_legal_words_and_round_trips(tmp_path):
    tok = JiebaTokenizer()
    words = tok("村里的宅基地纠纷和彩礼返还，还有工伤认定")
    for w in ("宅基地", "彩礼", "工伤"):
        assert w in words
    assert "的" not in words and "，" not in words
    tok2 = tok.with_words(["最高人民法院关于审理民间借贷案件适用法律若干问题的规定"])
    tok2.save(tmp_path / "tok")
    back = JiebaTokenizer.load(tmp_path / "tok")
    assert back.digest == tok2.digest
    assert back("民间借贷的利息") == tok2("民间借贷的利息")


def test_vocab_expands_lay_words():
    assert "家庭暴力" in vocab.expand("老公打我怎么办")
    assert "劳动报酬" in vocab.expand("包工头跑了工资谁给")
    text = vocab.expand_text("欠钱不还")
    assert text.startswith("欠钱不还") and "借款" in text


def test_a_gapped_lay_phrase_matches_its_parts_in_order_inside_one_sentence():
    """狗…咬: "狗没拴绳，把我孩子咬伤了" is a dog bite; the parts in two sentences, reversed
    or far apart are not."""
    assert vocab.matches("狗…咬", "邻居家的狗把我孩子咬伤了，医药费谁出？")
    assert vocab.matches("狗…咬", "邻居家的狗没拴绳，把我家孩子腿咬伤了")
    assert vocab.matches("狗…咬", "被狗咬了")
    assert "饲养动物" in vocab.expand("邻居家的狗把我孩子咬伤了")
    assert not vocab.matches("狗…咬", "狗丢了。孩子被蚊子咬了")
    assert not vocab.matches("狗…咬", "孩子咬了狗")
    assert not vocab.matches("狗…咬", "狗" + "在院子里跑来跑去跑了一整个下午" + "咬")
    assert vocab.matches("没…签…合同", "公司一直没跟我签劳动合同")
    # the tokenizer's dictionary holds the phrase joined, never the marker
    assert "狗咬" in set(vocab.terms()) and not any(vocab.GAP in w for w in vocab.terms())


def test_bm25_scores_and_round_trip(tmp_path):
    idx = BM25Index().index([["离婚", "调解"], ["噪声", "相邻"], []])
    s = idx.scores(["噪声", "未知词"])
    assert s.shape == (3,) and s[1] > 0 and s[0] == 0 and s[2] == 0
    assert not idx.scores(["未知词"]).any()
    idx.save(tmp_path / "bm")
    back = BM25Index.load(tmp_path / "bm", 3)
    np.testing.assert_allclose(back.scores(["噪声"]), idx.scores(["噪声"]))


def test_dense_round_trip_and_search(tmp_path):
    rng = np.random.default_rng(0)
    v = rng.normal(size=(20, 8)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    d = DenseIndex(v)
    d.save(tmp_path / "x.faiss")
    back = DenseIndex.load(tmp_path / "x.faiss")
    np.testing.assert_allclose(back.vectors, v)
    assert back.scores(v[3])[3] == pytest.approx(1.0, abs=1e-5)
    assert np.argmax(back.scores(v[7])) == 7


def test_fusion_functions():
    a = {"x": 3.0, "y": 2.0, "z": 1.0}
    b = {"y": 0.9, "w": 0.5}
    r = fusion.rrf([a, b], k=60)
    assert r["y"] == pytest.approx(1 / 62 + 1 / 61)
    assert fusion.ranked(r)[0] == "y"
    w = fusion.weighted([a, b], [0.5, 0.5])
    assert w["y"] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    assert w["z"] == 0.0 and fusion.minmax({"a": 2.0}) == {"a": 1.0}


def _article(text: str, number: int = 1) -> Article:
    return Article(
        f"某法:{number}", "某法", "中华人民共和国某法", number, "", f"第{number}条", text
    )


def test_long_article_is_chunked_by_kuan_with_parent():
    paras = [f"第{i}款内容" + "很长的条文" * 20 for i in range(1, 7)]
    units = article_units([_article("\n".join(paras)), _article("短条文", 2)], len, max_tokens=250)
    long_units = [u for u in units if u.parent == "某法:1"]
    assert len(long_units) > 1 and all(u.id.startswith("某法:1#") for u in long_units)
    assert long_units[0].section.startswith("第1")
    assert "".join(u.text.split(" ", 2)[-1] for u in long_units).replace("\n", "") == "".join(paras)
    assert [u.id for u in units if u.parent == "某法:2"] == ["某法:2"]


def test_embedding_cache_survives_reload_and_ignores_partial_shards(tmp_path):
    c = EmbeddingCache(tmp_path, "m")
    c.add(["a", "b"], np.eye(2, dtype=np.float32))
    (c.folder / "shard-000009-1.tmp.npz").write_bytes(b"half written")
    (c.folder / "shard-000010-1.npz").write_bytes(b"damaged")
    back = EmbeddingCache(tmp_path, "m")
    assert len(back) == 2 and back.has("a")
    np.testing.assert_array_equal(back.get("b"), [0, 1])
    back.add(["c"], np.ones((1, 2), np.float32))
    back.compact()
    assert len(EmbeddingCache(tmp_path, "m")) == 3


def test_mismatched_manifest_fails_clearly(tiny_kb_dir, fake_embedder, tmp_path):
    import shutil

    folder = tmp_path / "index"
    shutil.copytree(tiny_kb_dir / "index", folder)
    m = IndexFolder(folder).manifest()

    class Other:
        name, key, dim = "other-model", "other-key", fake_embedder.dim

    with pytest.raises(KBError) as e:
        Service.load(folder, embedder=Other())
    assert "fake-chars" in e.value.message and "重新运行" in e.value.hint
    with pytest.raises(KBError):
        check_model(folder, m, "x", m["model"]["key"], 768)

    m["format_version"] = 999
    (folder / MANIFEST).write_text(json.dumps(m))
    with pytest.raises(KBError) as e:
        Service.load(folder, embedder=fake_embedder)
    assert "格式" in e.value.message

    with pytest.raises(KBError) as e:
        Service.load(tmp_path / "nowhere", embedder=fake_embedder)
    assert "fengqiao build" in e.value.hint


def test_routing_lifts_the_group_with_most_evidence():
    from retrieval.fusion import route

    law = {
        "劳动合同法:38": "劳动合同法",
        "劳动合同法:46": "劳动合同法",
        "劳动合同法:47": "劳动合同法",
    }
    law["民法典:577"] = "民法典"
    # one stray 民法典 article edges out 劳动合同法:38, but three 劳动合同法 articles agree
    run = {"民法典:577": 0.62, "劳动合同法:38": 0.6, "劳动合同法:46": 0.5, "劳动合同法:47": 0.4}
    routed = route(run, law, w=0.5, top=3)
    assert max(routed, key=routed.__getitem__) == "劳动合同法:38"
    # within a group the order is kept
    assert routed["劳动合同法:38"] > routed["劳动合同法:46"] > routed["劳动合同法:47"]
    # without weight nothing changes
    assert route(run, law, w=0.0, top=3) == run
