"""How long a results page is, and whether the first answer fits a phone's first screen.

Starts `streamlit run ui/app.py` on a knowledge base, opens a question in Debian chromium
at 390×844 and 1400×1000, and prints the height of the page's content and the bottom of
the first answer point (px).

    python bench/bench_page_height.py --kb /work/kb-old --question 邻居装修噪音很大，晚上也施工，怎么处理？
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = ((390, 844), (1400, 1000))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", required=True)
    parser.add_argument("--question", default="邻居装修噪音很大，晚上也施工，怎么处理？")
    parser.add_argument("--repo", default=str(REPO), help="checkout whose ui/app.py to serve")
    parser.add_argument("--wait", type=float, default=25.0, help="seconds to let the page settle")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = _port()
    env = dict(os.environ, FENGQIAO_KB=str(Path(args.kb).resolve()), PYTHONPATH=args.repo)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "ui/app.py", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=args.repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/?q={urllib.parse.quote(args.question)}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            for width, height in SIZES:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(url)
                page.wait_for_timeout(args.wait * 1000)
                content = page.evaluate(
                    "() => document.querySelector('[data-testid=stMainBlockContainer]').scrollHeight"
                )
                first = page.evaluate(
                    "() => { const q = document.querySelector('.fq-quote');"
                    " return q ? Math.round(q.getBoundingClientRect().bottom) : null; }"
                )
                print(f"{width}×{height}: page {content} px, first answer point ends at {first} px")
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
