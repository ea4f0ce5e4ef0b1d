"""Reflect on one conversation as the app's jobs do, for tests that check what reflection wrote."""

from __future__ import annotations

from memory.reflection.jobs import ReflectionJobs
from memory.reflection.plan import Stats
from memory.reflection.prospective import Reflector
from memory.retrieval.service import MemoryService


def reflect_on(memory: MemoryService, conversation_id: int, reflector: Reflector) -> Stats | None:
    """Queue the conversation's turns as a job and run it with ``reflector``."""
    jobs = ReflectionJobs(memory.store, memory.items)
    job = jobs.enqueue(conversation_id)
    assert job is not None
    return jobs.run(job, reflector)
