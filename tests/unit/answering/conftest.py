"""What the answering tests share: a memory of an earlier conversation about a dog and pottery."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.retrieval.service import MemoryService
from memory.store.database import Store
from tests.fakes import FakeEmbedder

PAST = [
    ("user", "My greyhound Biscuit is scared of stairs"),
    ("assistant", "Poor Biscuit! Try treats on each step."),
    ("user", "I start a pottery class in Porto next week"),
    ("assistant", "Enjoy the pottery class!"),
    ("user", "Biscuit waits on the stairs while I glaze pottery"),
]


@pytest.fixture
def memory(store: Store, tmp_path: Path) -> MemoryService:
    service = MemoryService(store, tmp_path / "index", FakeEmbedder())
    conv = store.create_conversation("Earlier")
    for role, text in PAST:
        service.remember_message(store.add_message(conv.id, role, text))
    service.indexer.sync()
    return service
