"""The vector index derived from SQLite (ChromaDB), in a process of its own, and the indexer that keeps it
in step.
"""
