"""Resident memory while `fengqiao run` serves, after a build that embedded something.

Usage::

    python bench/bench_run_memory.py --kb KB --statutes S --cases C [--mode both|child|inprocess]

``child`` is today's ``fengqiao run``: the build runs in a child process, then the
command replaces itself with the Streamlit server. ``inprocess`` is what ``run`` did
before (commit 80bbb40^): ``build_kb`` in the command's own process, then
``subprocess.call`` of Streamlit, so the command kept the build's memory while it waited.

Each mode works on a fresh copy of KB with one new drop-in statute, so the build really
loads the model and embeds (a build with nothing to do loads neither). After the server
answers one question (so its own index and model are loaded), the script sums the
resident memory (RSS) of every process of the command, and names the largest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from bench_load import free_port, one_user, wait_healthy  # noqa: E402

from ui.samples import QUESTIONS as SAMPLE_QUESTIONS  # noqa: E402

NEW_STATUTE = """# 某某村村规民约（测试 {stamp}）

<!-- INFO END -->

第一条 村民之间发生纠纷，先由村人民调解委员会调解。编号 {stamp}。
"""

INPROCESS = """
import subprocess, sys
from pathlib import Path
from retrieval.build import build_kb
from ui.cli import APP, _print_build
kb, port = Path(sys.argv[1]), sys.argv[2]
statutes, cases = [Path(sys.argv[3])], [Path(sys.argv[4])]
report = build_kb(kb, statutes=statutes, cases=cases, show_progress=False)
_print_build(report)
import os
env = dict(os.environ, FENGQIAO_KB=str(kb.resolve()))
cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", port,
       "--server.address", "127.0.0.1", "--server.headless", "true",
       "--browser.gatherUsageStats", "false"]
sys.exit(subprocess.call(cmd, env=env))
"""


def tree_rss(root: int) -> list[tuple[int, int, str]]:
    """(pid, RSS bytes, command) for ``root`` and all its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parents[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    pids, frontier = [root], [root]
    while frontier:
        frontier = [p for p, pp in parents.items() if pp in frontier]
        pids += frontier
    out = []
    page = os.sysconf("SC_PAGE_SIZE")
    for pid in pids:
        try:
            rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
            cmd = " ".join(Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0"))
            cmd = " ".join(cmd.split())[:90]
        except OSError:
            continue
        out.append((pid, rss, cmd))
    return out


def measure(mode: str, kb_src: Path, statutes: Path, cases: Path) -> list[tuple[int, int, str]]:
    work = Path(tempfile.mkdtemp(prefix=f"runmem-{mode}-"))
    kb = work / "kb"
    shutil.copytree(kb_src, kb, ignore=shutil.ignore_patterns("users.json", "*.sqlite3"))
    (kb / "drop-in").mkdir(exist_ok=True)
    stamp = f"{mode}{time.time_ns()}"
    (kb / "drop-in" / f"村规民约{stamp}.md").write_text(NEW_STATUTE.format(stamp=stamp), "utf-8")
    port = free_port()
    if mode == "child":
        cmd = [sys.executable, "-m", "ui.cli", "run", "--kb", str(kb), "--port", str(port)]
        cmd += ["--statutes", str(statutes), "--cases", str(cases)]
    else:
        cmd = [sys.executable, "-c", INPROCESS, str(kb), str(port), str(statutes), str(cases)]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    log = (work / "log.txt").open("w")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, timeout=1800)
        asyncio.run(one_user(url, [SAMPLE_QUESTIONS[0]]))
        time.sleep(2)
        return tree_rss(proc.pid)
    finally:
        for pid, _, _ in reversed(tree_rss(proc.pid)):
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        proc.wait(timeout=60)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kb", type=Path, required=True, help="a built knowledge base (copied)")
    ap.add_argument("--statutes", type=Path, required=True)
    ap.add_argument("--cases", type=Path, required=True)
    ap.add_argument("--mode", choices=("both", "child", "inprocess"), default="both")
    args = ap.parse_args()
    modes = ("inprocess", "child") if args.mode == "both" else (args.mode,)
    names = {"inprocess": "之前：进程内构建后启动", "child": "现在：子进程构建，exec 服务器"}
    for mode in modes:
        rows = measure(mode, args.kb, args.statutes.resolve(), args.cases.resolve())
        total = sum(r for _, r, _ in rows)
        print(f"{names[mode]}：共 {len(rows)} 个进程，常驻内存合计 {total / 2**20:.0f} MB")
        for pid, rss, cmd in rows:
            print(f"  pid {pid:>7}  {rss / 2**20:>7.0f} MB  {cmd}")
    print(f"机器负载：{os.getloadavg()[0]:.1f}（2 核）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
