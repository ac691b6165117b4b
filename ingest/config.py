"""The size limits of what a user hands the tool: one set, read by every door a file comes in by.

``fengqiao add``, the knowledge page's upload (and Streamlit's own upload cap, set by
``fengqiao serve``), the drop-in folder, file routing and the statute and committee
readers all refuse a file above ``MAX_FILE_MB``, so a file one door takes is never
refused by another.
"""

from __future__ import annotations

MAX_FILE_MB = 50
"""The largest file a user can import (a provincial statute collection as one PDF is ~20 MB)."""
MAX_FILE_BYTES = MAX_FILE_MB << 20
