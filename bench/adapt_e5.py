"""Adapt e5's query side on labelled questions, leave-one-family-out, cheaply on 2 cores.

usage: python3 bench/adapt_e5.py --kb KB study [--recipes NAME ...]   # every fold, base vs adapted
       python3 bench/adapt_e5.py --kb KB ship --recipe NAME --out models/e5-query-adapter.safetensors

Only the query encoder adapts: the passages keep the base model's vectors (the
knowledge base's own index), so the training signal is a softmax over *every*
article of the knowledge base for each question (the whole article space as
negatives, no mining needed), and a knowledge base built with the base model stays
valid. The word embeddings and the lower ``12 - N`` layers are frozen: each text
runs through them once, and their hidden states are cached on disk (fp16, keyed by
the text's digest), so a training step or a re-encoding runs the top ``N`` layers and
mean pooling only.

Training signal (fold = three families train, the fourth tests):
- labelled questions of the training families → their gold articles (multi-positive);
- self-supervised pairs over the whole knowledge base: an article's law, 编/章/节
  headings and first clause → the article;
- typical cases' facts → the articles they cite;
- a pull back to the base model: KL(base ‖ adapted) of the article-score
  distribution on every training text.

Families: equals, lawbench-3-8, lawbench-3-2, llama (lawyer-llama + its zixun
questions, labelled by the same retriever). Dense retrieval over every current article
(units of one article count once, at the first). Seeded and deterministic.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import random
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import EVAL, Pool, read_set  # noqa: E402
from ingest.atomic import replacing  # noqa: E402
from retrieval.evaluate import mean_metrics, query_metrics  # noqa: E402

EVERYDAY = REPO / "tests" / "data" / "eval" / "everyday.jsonl"
FILES = ("equals", "lawbench-3-8", "lawbench-3-2", "lawyer-llama", "lawyer-llama-zixun")
FAMILIES = ("equals", "lawbench-3-8", "lawbench-3-2", "llama")
CUTS = (8, 10)  # cached layer inputs: top 4 or top 2 layers train
SEED = 13
TITLES = 1500  # self-supervised article questions cached
# hidden states of the frozen lower layers (~0.5 GB for the curated tier): beside the
# model cache unless FENGQIAO_SCRATCH says where
SCRATCH = Path(
    os.environ.get("FENGQIAO_SCRATCH")
    or Path(os.environ.get("FENGQIAO_CACHE") or Path.home() / ".cache" / "fengqiao") / "adapt_e5"
)
COLS = ("R@10", "R@100", "Hit@1", "MRR@10")
ALPHAS = (1.0, 0.7, 0.5)  # study: the trained delta scaled (WiSE-FT)


def family(file_stem: str) -> str:
    return "llama" if file_stem.startswith("lawyer-llama") else file_stem


@dataclass
class Item:
    """A training or test text: the query as encoded, its gold article rows, its family."""

    text: str
    gold: list[int]
    fam: str
    kind: str  # "label", "title", "case", "everyday"
    curated: bool = True
    law: str = ""
    extra: bool = False  # an article question beyond the first ``TITLES`` (``every_article``)


# ---- the frozen lower part, cached ------------------------------------------------


class StateCache:
    """Hidden states entering layer ``cut`` for each text, plus the base embedding.

    One ``.npz`` chunk per batch of new texts under ``root``; loaded whole (queries are
    short: a few hundred MB for every text here).
    """

    def __init__(self, root: Path, model_dir: Path) -> None:
        self.root = root
        self.model_dir = model_dir
        root.mkdir(parents=True, exist_ok=True)
        self.index: dict[str, tuple[int, int]] = {}  # key -> (chunk, row)
        self.chunks: list[dict[str, Any]] = []
        for p in sorted(root.glob("chunk-*.npz")):
            self._add_chunk(dict(np.load(p)))
        self._bert: Any = None

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def _add_chunk(self, z: dict[str, Any]) -> None:
        c = len(self.chunks)
        self.chunks.append(z)
        for r, k in enumerate(z["keys"]):
            self.index[str(k)] = (c, r)

    def bert(self) -> Any:
        if self._bert is None:
            from transformers import AutoModel, AutoTokenizer

            self._bert = AutoModel.from_pretrained(
                str(self.model_dir), local_files_only=True, attn_implementation="eager"
            ).eval()
            self._tok = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
        return self._bert

    def ensure(self, texts: Sequence[str], batch: int = 32, log_every: int = 20) -> None:
        """Run the frozen model once over every text not cached yet (``query: `` prefixed)."""
        import torch

        todo = sorted({t for t in texts if self.key(t) not in self.index}, key=len)
        if not todo:
            return
        bert = self.bert()
        t0 = time.time()
        for start in range(0, len(todo), 512):
            part = todo[start : start + 512]
            keys, lens, embs = [], [], []
            states: dict[int, list[np.ndarray]] = {c: [] for c in CUTS}
            for i in range(0, len(part), batch):
                b = part[i : i + batch]
                enc = self._tok(
                    ["query: " + t for t in b],
                    padding=True,
                    truncation=True,
                    max_length=512,
                    return_tensors="pt",
                )
                with torch.no_grad():
                    out = bert(**enc, output_hidden_states=True)
                m = enc["attention_mask"]
                h = out.last_hidden_state
                mf = m.unsqueeze(-1).float()
                e = torch.nn.functional.normalize((h * mf).sum(1) / mf.sum(1), dim=1)
                for j, t in enumerate(b):
                    n = int(m[j].sum())
                    keys.append(self.key(t))
                    lens.append(n)
                    embs.append(e[j].numpy())
                    for c in CUTS:
                        states[c].append(out.hidden_states[c][j, :n].numpy().astype(np.float16))
            z = {
                "keys": np.array(keys),
                "offsets": np.concatenate([[0], np.cumsum(lens)]).astype(np.int64),
                "emb": np.stack(embs).astype(np.float32),
                **{f"h{c}": np.concatenate(states[c]) for c in CUTS},
            }
            path = self.root / f"chunk-{keys[0][:16]}.npz"  # unique across processes
            with replacing(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, **z)
            self._add_chunk(z)
            print(
                f"  cached {start + len(part)}/{len(todo)} texts {(time.time() - t0) / 60:.1f} min",
                flush=True,
            )

    def derive(self, texts: Sequence[str], cut: int = 11) -> None:
        """States entering layer ``cut`` > 10, run from the cached layer-10 inputs by the
        frozen base layers once, kept in ``derived-h{cut}.npz`` beside the chunks."""
        import torch

        path = self.root / f"derived-h{cut}.npz"
        if not hasattr(self, "_derived"):
            self._derived: dict[str, np.ndarray] = dict(np.load(path)) if path.exists() else {}
        todo = sorted({t for t in texts if self.key(t) not in self._derived}, key=len)
        if not todo:
            return
        layers = Top(self.bert(), 10)
        layers.layers = layers.layers[: cut - 10]
        for i in range(0, len(todo), 64):
            b = todo[i : i + 64]
            with torch.no_grad():
                h = layers.hidden([self.get(t, 10) for t in b])
            for t, x, s in zip(b, h, (self.get(t, 10) for t in b), strict=True):
                self._derived[self.key(t)] = x[: len(s)].numpy().astype(np.float16)
        with replacing(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, **self._derived)

    def get(self, text: str, cut: int) -> np.ndarray:
        if cut not in CUTS:
            return self._derived[self.key(text)]
        c, r = self.index[self.key(text)]
        z = self.chunks[c]
        o = z["offsets"]
        return z[f"h{cut}"][o[r] : o[r + 1]]  # type: ignore[no-any-return]

    def base(self, text: str) -> np.ndarray:
        c, r = self.index[self.key(text)]
        return self.chunks[c]["emb"][r]  # type: ignore[no-any-return]


class Top:
    """The top ``12 - cut`` layers of e5 plus mean pooling and L2 norm, over cached states."""

    def __init__(self, bert: Any, cut: int) -> None:
        self.cut = cut
        self.layers = copy.deepcopy(bert.encoder.layer[cut:])
        self.base = {k: v.detach().clone() for k, v in self.layers.state_dict().items()}

    def encode(self, states: Sequence[np.ndarray], train: bool = False) -> Any:
        import torch

        h, m = self._run(states, train)
        mf = m.unsqueeze(-1)
        v = (h * mf).sum(1) / mf.sum(1)
        return torch.nn.functional.normalize(v, dim=1)

    def hidden(self, states: Sequence[np.ndarray]) -> Any:
        return self._run(states, False)[0]

    def _run(self, states: Sequence[np.ndarray], train: bool) -> Any:
        import torch

        n = max(len(s) for s in states)
        x = np.zeros((len(states), n, states[0].shape[1]), np.float32)
        mask = np.zeros((len(states), n), np.float32)
        for i, s in enumerate(states):
            x[i, : len(s)] = s
            mask[i, : len(s)] = 1
        h = torch.from_numpy(x)
        m = torch.from_numpy(mask)
        add = (1.0 - m)[:, None, None, :] * torch.finfo(torch.float32).min
        self.layers.train(train)
        for layer in self.layers:
            h = layer(h, attention_mask=add)
            h = h[0] if isinstance(h, tuple) else h
        return h, m

    def scale_delta(self, alpha: float) -> None:
        """Set the weights to base + alpha * (trained - base) (the trained delta is kept)."""
        import torch

        if not hasattr(self, "_trained"):
            self._trained = {k: v.detach().clone() for k, v in self.layers.state_dict().items()}
        with torch.no_grad():
            self.layers.load_state_dict(
                {k: self.base[k] + alpha * (v - self.base[k]) for k, v in self._trained.items()}
            )

    def delta(self) -> dict[str, Any]:
        """Adapted minus base weights, per parameter name under ``encoder.layer.{i}``."""
        out = {}
        for k, v in self.layers.state_dict().items():
            i, rest = k.split(".", 1)
            out[f"encoder.layer.{int(i) + self.cut}.{rest}"] = (v - self.base[k]).detach()
        return out


# ---- data ------------------------------------------------------------------------


@dataclass
class Data:
    pool: Pool
    units: Any  # torch [n_units, 384] base passage vectors of current articles
    unit_art: Any  # torch long [n_units] article row (in ``arts``)
    arts: list[str]  # ids of the current articles ranked
    row: dict[str, int]
    items: list[Item] = field(default_factory=list)


_FIRST = re.compile(r"^(.{6,60}?)[，。；：]")


def title_text(a: Any) -> str:
    """The self-supervised question of an article: law, headings, first clause."""
    m = _FIRST.match(a.text.strip())
    clause = m.group(1) if m else a.text.strip()[:40]
    heads = [h for h in a.path[-2:] if h]
    return " ".join([a.law, *heads, clause])


def load_data(kb: str, every_article: bool = False) -> Data:
    import torch

    pool = Pool.load(kb)
    ok = pool.a_ok
    arts = [a.id for a, k in zip(pool.articles, ok, strict=True) if k]
    row = {a: i for i, a in enumerate(arts)}
    sel = [i for i, p in enumerate(pool._a_parent) if ok[p]]
    units = torch.from_numpy(np.asarray(pool._a_vec[sel], np.float32))
    unit_art = torch.tensor([row[pool.articles[pool._a_parent[i]].id] for i in sel])
    d = Data(pool, units, unit_art, arts, row)
    for stem in FILES:
        for q in read_set(EVAL / f"{stem}.jsonl"):
            gold = [row[g] for g in q.gold if g in row]
            if gold:
                d.items.append(
                    Item(q.text, gold, family(stem), "label", "curated" in q.tiers, q.gold[0])
                )
    for q in read_set(EVERYDAY):
        gold = [row[g] for g in q.gold if g in row]
        if gold:
            d.items.append(Item(q.text, gold, "everyday", "everyday", True))
    # a seeded sample of the articles (the shipped recipes); ``every_article`` adds the rest
    # (a recipe with ``titles`` above TITLES: 2.4 min more to cache on a quiet machine)
    pick = [a for a in pool.articles if a.id in row and len(a.text) >= 8]
    sample = random.Random(SEED).sample(pick, min(TITLES, len(pick)))
    for a in sample:
        d.items.append(Item(title_text(a), [row[a.id]], "kb", "title"))
    if every_article:  # the rest, after the sample, so the sample's recipes train as before
        seen = {a.id for a in sample}
        for a in pick:
            if a.id not in seen:
                d.items.append(Item(title_text(a), [row[a.id]], "kb", "title", extra=True))
    for c in pool.cases:
        if c.kind != "法院典型案例":
            continue
        gold = list(dict.fromkeys(row[g] for g in c.cited_ids if g in row))
        text = (c.facts or c.title or "")[:512]
        if gold and text:
            d.items.append(Item(text, gold, "kb", "case"))
    return d


def article_scores(q: Any, d: Data) -> Any:
    """[B, n_articles]: each article's best unit cosine."""
    import torch

    s = q @ d.units.T
    out = torch.full((q.shape[0], len(d.arts)), -2.0)
    return out.scatter_reduce(1, d.unit_art.expand(q.shape[0], -1), s, "amax")


def evaluate(vecs: np.ndarray, items: Sequence[Item], d: Data) -> dict[str, float]:
    import torch

    rows = []
    with torch.no_grad():
        for i in range(0, len(items), 256):
            s = article_scores(torch.from_numpy(vecs[i : i + 256]), d).numpy()
            top = np.argsort(-s, axis=1)[:, :100]
            for it, t in zip(items[i : i + 256], top, strict=True):
                rows.append(query_metrics([d.arts[j] for j in t], [d.arts[g] for g in it.gold]))
    return mean_metrics(rows)


# ---- training ----------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    cut: int = 11  # train layers cut..11
    lr: float = 3e-5
    epochs: int = 1
    batch: int = 32
    scale: float = 50.0  # logits = scale * cosine
    kl: float = 1.0  # weight of KL(base || adapted) over articles
    per_family: int = 800  # labelled questions per training family (sampled)
    titles: int = 800  # self-supervised article questions (0: none)
    cases: bool = True
    l2: float = 0.0  # penalty on the squared distance to the base weights
    max_tokens: int = 64  # training truncation of cached states (test: all tokens)


RECIPES: dict[str, Recipe] = {
    "top1": Recipe(),
    "top1-nokl": Recipe(kl=0.0),
    "top1-labels": Recipe(titles=0, cases=False),
    "top1-lr1e-4": Recipe(lr=1e-4),
    "top2": Recipe(cut=10, lr=2e-5),
    "top1-x2": Recipe(epochs=2),
    "top1-pull": Recipe(kl=3.0, titles=1500),
    # the article side only (cases keep the base vector): room for a stronger adapter?
    "top2-pull": Recipe(cut=10, lr=2e-5, kl=3.0, titles=1500),
    "top1-pull-x2": Recipe(kl=3.0, titles=1500, epochs=2),
    "top1-pull-all": Recipe(kl=3.0, titles=1500, per_family=2000),
    # every current article's question, not a sample of 1,500: the whole article space
    "top1-pull-every": Recipe(kl=3.0, titles=100_000),
}


def encode_items(top: Top, items: Sequence[Item], cache: StateCache) -> np.ndarray:
    import torch

    out = []
    with torch.no_grad():
        order = sorted(range(len(items)), key=lambda i: len(items[i].text))
        vecs = np.zeros((len(items), 384), np.float32)
        for i in range(0, len(order), 64):
            idx = order[i : i + 64]
            v = top.encode([cache.get(items[j].text, top.cut) for j in idx]).numpy()
            vecs[idx] = v
        out.append(vecs)
    return vecs


def train(
    recipe: Recipe, train_items: Sequence[Item], d: Data, cache: StateCache, seed: int = SEED
) -> tuple[Top, float]:
    import torch

    torch.manual_seed(seed)
    rng = random.Random(seed)
    t0 = time.time()
    top = Top(cache.bert(), recipe.cut)
    params = [p for p in top.layers.parameters()]
    opt = torch.optim.AdamW(params, lr=recipe.lr, weight_decay=0.0)
    labels = []
    for fam in sorted({it.fam for it in train_items if it.kind == "label"}):
        mine = [it for it in train_items if it.kind == "label" and it.fam == fam]
        labels += rng.sample(mine, min(recipe.per_family, len(mine)))
    titles = [
        it for it in train_items if it.kind == "title" and (recipe.titles > TITLES or not it.extra)
    ]
    cases = [it for it in train_items if it.kind == "case"] if recipe.cases else []
    epochs = []
    for _ in range(recipe.epochs):
        e = labels + cases + rng.sample(titles, min(recipe.titles, len(titles)))
        rng.shuffle(e)
        epochs.append(e)
    steps = sum((len(e) + recipe.batch - 1) // recipe.batch for e in epochs)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / steps)
    )
    step = 0
    for e in epochs:
        for i in range(0, len(e), recipe.batch):
            b = e[i : i + recipe.batch]
            q = top.encode([cache.get(it.text, recipe.cut)[: recipe.max_tokens] for it in b], True)
            s = recipe.scale * article_scores(q, d)
            logp = torch.log_softmax(s, dim=1)
            pos = torch.zeros_like(s, dtype=torch.bool)
            for j, it in enumerate(b):
                pos[j, it.gold] = True
            loss = -torch.logsumexp(logp.masked_fill(~pos, -1e9), dim=1).mean()
            if recipe.kl:
                with torch.no_grad():
                    base = torch.from_numpy(np.stack([cache.base(it.text) for it in b]))
                    tp = torch.softmax(recipe.scale * article_scores(base, d), dim=1)
                kl = (tp * (torch.log(tp.clamp_min(1e-12)) - logp)).sum(1).mean()
                loss = loss + recipe.kl * kl
            if recipe.l2:
                sd = dict(top.layers.named_parameters())
                loss = loss + recipe.l2 * sum(((sd[k] - top.base[k]) ** 2).sum() for k in sd)
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if step % 50 == 0:
                print(f"    step {step}/{steps} loss {loss.item():.3f}", flush=True)
    return top, (time.time() - t0) / 60


def check_cache(d: Data, cache: StateCache, n: int = 24) -> float:
    """Max |Δ| between cached lower + top layers and the full model's embedding."""
    items = [it for it in d.items if it.kind == "label"][:: max(1, len(d.items) // n)][:n]
    worst = 0.0
    for cut in CUTS:
        top = Top(cache.bert(), cut)
        v = encode_items(top, items, cache)
        full = np.stack([cache.base(it.text) for it in items])
        worst = max(worst, float(np.abs(v - full).max()))
    return worst


def fmt(m: dict[str, float]) -> str:
    return " ".join(f"{m[c]:.3f}" for c in COLS)


def study(d: Data, cache: StateCache, names: Sequence[str], out: Path) -> None:
    test_sets = {f: [it for it in d.items if it.fam == f and it.curated] for f in FAMILIES}
    everyday = [it for it in d.items if it.fam == "everyday"]
    base_top = Top(cache.bert(), 10)
    res: dict[str, Any] = {"base": {}}
    for f in FAMILIES:
        res["base"][f] = evaluate(encode_items(base_top, test_sets[f], cache), test_sets[f], d)
    res["base"]["everyday"] = evaluate(encode_items(base_top, everyday, cache), everyday, d)
    print("base", {f: fmt(m) for f, m in res["base"].items()}, flush=True)
    for name in names:
        r = RECIPES[name]
        res[name] = {}
        minutes = 0.0
        for f in FAMILIES:
            tr = [it for it in d.items if it.fam not in (f, "everyday")]
            top, mins = train(r, tr, d, cache)
            minutes += mins
            for alpha in ALPHAS:  # weight-space interpolation towards the base model
                top.scale_delta(alpha)
                m = evaluate(encode_items(top, test_sets[f], cache), test_sets[f], d)
                ev = evaluate(encode_items(top, everyday, cache), everyday, d)
                tag = "" if alpha == 1.0 else f"@{alpha}"
                res[name + tag] = res.get(name + tag, {})
                res[name + tag][f] = m
                res[name + tag][f"everyday|{f}"] = ev
                print(
                    f"  {name}{tag} fold {f}: {fmt(res['base'][f])} -> {fmt(m)}  "
                    f"everyday {fmt(ev)}",
                    flush=True,
                )
            print(f"  {name} fold {f}: trained {mins:.1f} min", flush=True)
        res[name]["train_minutes"] = round(minutes, 1)
        out.write_text(json.dumps(res, indent=1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", default=os.environ.get("FENGQIAO_KB") or str(REPO / "kb"))
    ap.add_argument("--scratch", type=Path, default=SCRATCH)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("study")
    s.add_argument("--recipes", nargs="*", default=list(RECIPES))
    sh = sub.add_parser("ship")
    sh.add_argument("--recipe", required=True)
    sh.add_argument("--out", type=Path, required=True)
    sh.add_argument("--alpha", type=float, default=1.0, help="scale of the shipped delta")
    sh.add_argument("--hold-out", choices=FAMILIES, help="train without this family (a fold)")
    sub.add_parser("cache")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(2)
    from retrieval.encoders.embedder import default_model_dir

    t0 = time.time()
    wanted = args.recipes if args.cmd == "study" else [args.recipe] if args.cmd == "ship" else []
    d = load_data(args.kb, every_article=any(RECIPES[r].titles > TITLES for r in wanted))
    cache = StateCache(args.scratch / "states", default_model_dir())
    cache.ensure([it.text for it in d.items])
    if any(RECIPES[r].cut == 11 for r in wanted):
        cache.derive([it.text for it in d.items])
    print(f"data + cache {(time.time() - t0) / 60:.1f} min, {len(d.items)} texts", flush=True)
    print(f"cached lower + top layers vs full model: max |Δ| {check_cache(d, cache):.2e}")
    if args.cmd == "study":
        study(d, cache, args.recipes, args.scratch / f"study-{'+'.join(args.recipes)}.json")
    elif args.cmd == "ship":
        ship(RECIPES[args.recipe], d, cache, args.out, args.alpha, args.hold_out)
    return 0


def ship(
    recipe: Recipe,
    d: Data,
    cache: StateCache,
    out: Path,
    alpha: float = 1.0,
    hold_out: str | None = None,
) -> None:
    from safetensors.torch import save_file

    tr = [it for it in d.items if it.fam not in ("everyday", hold_out)]
    top, mins = train(recipe, tr, d, cache)
    top.scale_delta(alpha)
    delta = {
        k: v.to(dtype=__import__("torch").float16).contiguous() for k, v in top.delta().items()
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    # the query sources whose questions trained it: `fengqiao eval` on them is in-sample
    trained_on = [
        src
        for fam in FAMILIES
        if fam != hold_out
        for src in (("lawyer-llama", "zixun") if fam == "llama" else (fam,))
    ]
    meta = {
        "trained_on": ",".join(trained_on),
        "recipe": json.dumps(recipe.__dict__),
        "alpha": str(alpha),
        "seed": str(SEED),
        "minutes": f"{mins:.1f}",
    }
    save_file(delta, str(out), metadata=meta)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MB), trained {mins:.1f} min")


if __name__ == "__main__":
    raise SystemExit(main())
