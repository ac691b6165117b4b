"""Streamlit entry of 枫桥 (`streamlit run ui/app.py`; kb folder from env FENGQIAO_KB)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

# `streamlit run ui/app.py` puts ui/ on sys.path, not the repo: make the packages importable.
_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

import streamlit as st  # noqa: E402

from ui import auth  # noqa: E402
from ui.chrome import chrome  # noqa: E402
from ui.county_warm import start as warm_county  # noqa: E402
from ui.views import PAGE_FILES  # noqa: E402

log = logging.getLogger("fengqiao.ui")


def main() -> None:
    # "auto": the sidebar starts closed on a phone, so the question box comes first.
    st.set_page_config(
        page_title="枫桥 · 人民调解法律知识检索",
        page_icon="🍁",
        layout="wide",
        initial_sidebar_state="auto",
    )
    chrome()
    warm_county()  # the 研判 page's cold work, once per server, while the user signs in
    if not auth.gate():  # sign-in before any page (ui/auth.py); the pages check roles
        st.stop()
    pages = {
        "ask": st.Page(PAGE_FILES["ask"], title="问答检索", icon=":material/search:", default=True),
        "browse": st.Page(PAGE_FILES["browse"], title="法规浏览", icon=":material/menu_book:"),
        "collections": st.Page(
            PAGE_FILES["collections"], title="案卷与教学集", icon=":material/folder:"
        ),
        "precedents": st.Page(
            PAGE_FILES["precedents"], title="调解案例", icon=":material/handshake:"
        ),
        "knowledge": st.Page(PAGE_FILES["knowledge"], title="知识库", icon=":material/database:"),
        "analysis": st.Page(PAGE_FILES["analysis"], title="研判", icon=":material/monitoring:"),
    }
    page = st.navigation(list(pages.values()))
    # A shared citation link may point at the root: /?law=民法典&article=1079 opens 法规浏览.
    if page is pages["ask"] and "law" in st.query_params:
        st.switch_page(pages["browse"], query_params=st.query_params.to_dict())
    st.sidebar.caption("枫桥 · 离线法律知识检索，供人民调解员参考；结果以法条原文为准。")
    try:
        page.run()
    except Exception:  # noqa: BLE001 - the last guard: a mediator sees Chinese, never a traceback
        # (Streamlit's own rerun/stop signals are BaseException and pass through.)
        log.exception("page %s failed", page.title)
        st.error(
            "页面出了问题，这一步没有完成。建议：刷新页面后重试；如果仍然出现，"
            "请把出问题前的操作告诉知识库管理员。"
        )


main()
