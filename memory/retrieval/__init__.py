"""Finding memories: hybrid dense + lexical search, the memory service, the user's view of memories, and the
learned reranker (retrospective reflection).
"""
