"""Unit store backends (see retrieval/store.py): ``flat`` (FAISS + bm25s files, the default)."""
