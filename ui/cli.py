"""The ``fengqiao`` command: a thin argparse layer over ingest/ and retrieval/."""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import IngestError
from ingest.records import Article, Case

if TYPE_CHECKING:
    from retrieval.build import BuildReport
    from retrieval.evaluate import EvalResult
    from retrieval.hits import SearchResult

REPO = Path(__file__).resolve().parent.parent
APP = Path(__file__).resolve().parent / "app.py"


def default_kb() -> Path:
    return Path(os.environ.get("FENGQIAO_KB") or REPO / "kb")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from retrieval.errors import FengqiaoError

    try:
        return int(args.handler(args) or 0)
    except (FengqiaoError, IngestError) as exc:
        hint = f"。建议：{exc.hint}" if getattr(exc, "hint", "") else ""
        print(f"错误：{exc.message}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已中断。已完成的部分保存在缓存中，再次运行会从中断处继续。", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fengqiao", description="枫桥：人民调解法律知识检索助手")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def kb_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--kb", type=Path, default=None, help="知识库文件夹（默认 kb/ 或 FENGQIAO_KB）"
        )

    def source_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--statutes", type=Path, nargs="+", action="extend", default=[], help="法规文件夹"
        )
        sp.add_argument(
            "--cases", type=Path, nargs="+", action="extend", default=[], help="案例文件夹或文件"
        )
        sp.add_argument(
            "--model", default=None, help="sentence-transformers 模型名称或路径（默认 e5-small）"
        )

    sp = sub.add_parser("fetch", help="下载法规合集（需要联网）")
    sp.add_argument("--url", default=None, help="压缩包地址（默认固定版本的 LawRefBook Laws）")
    sp.add_argument("--sha256", default=None, help="压缩包的 SHA-256 校验值")
    kb_arg(sp)
    sp.set_defaults(handler=_fetch)

    sp = sub.add_parser("build", help="从法规和案例文件建立（或增量更新）知识库")
    source_args(sp)
    kb_arg(sp)
    sp.set_defaults(handler=_build)

    sp = sub.add_parser("add", help="把自己的法规或调解记录文件加入知识库并增量更新")
    sp.add_argument("files", type=Path, nargs="+")
    kb_arg(sp)
    sp.set_defaults(handler=_add)

    sp = sub.add_parser("query", help="在终端检索法条和类似案例")
    sp.add_argument("question")
    sp.add_argument("--k", type=int, default=10, help="返回的法条数")
    sp.add_argument("--cases-k", type=int, default=5, help="返回的案例数")
    sp.add_argument("--json", action="store_true", help="输出 JSON")
    kb_arg(sp)
    sp.set_defaults(handler=_query)

    sp = sub.add_parser("eval", help="用查询集评估检索质量")
    sp.add_argument("--queries", type=Path, required=True, nargs="+", action="extend")
    sp.add_argument("--tier", choices=["curated", "national"], default="curated")
    sp.add_argument("--limit", type=int, default=None, help="只评估前 N 条查询")
    sp.add_argument("--json", action="store_true")
    kb_arg(sp)
    sp.set_defaults(handler=_eval)

    sp = sub.add_parser("serve", help="打开网页界面")
    sp.add_argument("--port", type=int, default=8501)
    kb_arg(sp)
    sp.set_defaults(handler=_serve)

    sp = sub.add_parser("run", help="需要时先建立知识库，再打开网页界面")
    source_args(sp)
    sp.add_argument("--port", type=int, default=8501)
    kb_arg(sp)
    sp.set_defaults(handler=_run)
    return p


def _fetch(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ingest.fetch import fetch

    kb = args.kb or default_kb()
    with tqdm(unit="B", unit_scale=True, desc="下载", file=sys.stderr) as bar:

        def progress(done: int, total: int | None) -> None:
            bar.total = total
            bar.update(done - bar.n)

        got = fetch(kb, url=args.url, sha256=args.sha256, progress=progress)
    note = "校验通过" if got.verified else "没有已知校验值，已记录本次的值"
    print(f"已下载并解压到 {got.path}（{got.bytes / 1e6:.1f} MB，SHA-256 {got.sha256}，{note}）")
    print(f"下一步：fengqiao build --statutes {got.path}")
    return 0


def _build(args: argparse.Namespace) -> int:
    from retrieval.build import build_kb

    kb = args.kb or default_kb()
    report = build_kb(
        kb, statutes=args.statutes, cases=args.cases, model=args.model, show_progress=True
    )
    _print_build(report)
    return 0


def _print_build(report: BuildReport) -> None:
    for problem in report.problems:
        print(f"注意：{problem}", file=sys.stderr)
    for note in report.notes:
        print(note)
    print(report.summary())


def _add(args: argparse.Namespace) -> int:
    from ingest.dropin import add_files
    from retrieval.build import build_kb

    kb = args.kb or default_kb()
    for path in add_files(kb, args.files):
        print(f"已加入 {path}")
    _print_build(build_kb(kb, show_progress=True))
    return 0


def _query(args: argparse.Namespace) -> int:
    from retrieval.kb import KnowledgeBase
    from retrieval.serialise import result_json

    kb = KnowledgeBase.load(args.kb or default_kb())
    result = kb.search(args.question, k=args.k, k_cases=args.cases_k)
    if args.json:
        print(json.dumps(result_json(result), ensure_ascii=False, indent=1))
        return 0
    _print_result(result)
    fresh = kb.freshness_notice()
    if fresh is not None:
        print(f"\n【数据】{fresh.text}")
    return 0


def _print_result(result: SearchResult) -> None:
    for notice in result.notices:
        print(f"【提示】{notice.text}")
    print(f"适用法条（{len(result.articles)}）")
    for hit in result.articles:
        a = hit.record
        assert isinstance(a, Article)
        print(f"\n{hit.rank}. {a.citation}  [{a.status}]  {' / '.join(a.path)}")
        print(f"   {a.text}".replace("\n", "\n   "))
    if result.cases:
        print(f"\n类似案例（{len(result.cases)}）")
    for hit in result.cases:
        c = hit.record
        assert isinstance(c, Case)
        outcome = c.outcome.replace("\n", " ")
        print(f"\n{hit.rank}. {c.title}  [{c.kind} · {c.dispute_type}]")
        if outcome:
            print(f"   结果：{outcome[:160]}{'…' if len(outcome) > 160 else ''}")


def _eval(args: argparse.Namespace) -> int:
    from retrieval.evaluate import evaluate
    from retrieval.kb import KnowledgeBase

    kb_dir = args.kb or default_kb()
    kb = KnowledgeBase.load(kb_dir)
    for path in args.queries:
        result = evaluate(kb, path, tier=args.tier, limit=args.limit, show_progress=not args.json)
        if args.json:
            # One object per query file; "file" says which (an added field, INTERFACES allows it).
            print(json.dumps({"file": str(path), **result.to_json()}, ensure_ascii=False, indent=1))
        else:
            _print_eval(path, result)
    return 0


def _print_eval(path: Path, result: EvalResult) -> None:
    names = ["R@1", "R@5", "R@10", "R@20", "R@100", "Hit@10", "MRR@10", "nDCG@10"]
    print(f"{path.name}: {result.queries} 条查询，层级 {result.tier}，模型 {result.model}")
    print(f"{'配置':<14}" + "".join(f"{n:>9}" for n in names))
    for config, metrics in result.by_config.items():
        mark = " *" if config == result.default else ""
        print(f"{config + mark:<16}" + "".join(f"{metrics.get(n, 0.0):>9.3f}" for n in names))


def _serve(args: argparse.Namespace) -> int:
    from retrieval.kb import resolve_index
    from retrieval.manifest import read_manifest

    kb = args.kb or default_kb()
    read_manifest(resolve_index(kb))  # a missing index fails here, in one line, not in the browser
    env = dict(os.environ, FENGQIAO_KB=str(kb.resolve()))
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(args.port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    print(f"枫桥已启动：在浏览器中打开 http://localhost:{args.port} （按 Ctrl+C 退出）")
    return subprocess.call(cmd, env=env)


def _run(args: argparse.Namespace) -> int:
    from retrieval.build import build_kb

    kb = args.kb or default_kb()
    report = build_kb(
        kb, statutes=args.statutes, cases=args.cases, model=args.model, show_progress=True
    )
    _print_build(report)
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())
