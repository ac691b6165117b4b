"""Unit store backends (see retrieval/store.py): ``flat`` (FAISS + bm25s files, the default), ``milvus`` (a Milvus server or milvus-lite file)."""
