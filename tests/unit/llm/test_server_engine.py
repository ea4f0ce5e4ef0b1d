"""The model-server engine against a scripted OpenAI-compatible server (stdlib, on 127.0.0.1): what a
server that is unreachable, not OpenAI-compatible, empty, refusing JSON schemas or failing mid-stream
makes of it. (tests/e2e/test_model_server.py runs it against a real llama-cpp-python server.)"""

from __future__ import annotations

import pytest

from memory.llm.engine import ModelError
from memory.llm.server_engine import ServerChatModel, merge_late_system, server_address
from tests.fake_server import Script, free_port


def test_server_addresses_are_read_leniently_and_refused_clearly() -> None:
    assert server_address("192.168.1.20:8080") == ("192.168.1.20", 8080, False, "")
    assert server_address("https://gpu.home/v1/") == ("gpu.home", 443, True, "")
    assert server_address("http://[::1]:11434") == ("::1", 11434, False, "")
    for bad in ("ftp://host", "http://", "http://host:99999"):
        with pytest.raises(ModelError, match=r"server address|unusable port"):
            server_address(bad)


def test_an_unreachable_server_says_so() -> None:
    with pytest.raises(ModelError, match="cannot be reached"):
        ServerChatModel(f"http://127.0.0.1:{free_port()}").connect()


def test_a_server_that_is_not_openai_compatible_or_has_no_model_says_so(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.models = None
    with pytest.raises(ModelError, match="not an OpenAI-compatible"):
        ServerChatModel(url).connect()
    script.models = []
    with pytest.raises(ModelError, match="offers no model"):
        ServerChatModel(url).connect()


def test_a_server_that_asks_for_an_api_key_gets_it_and_says_when_it_is_missing(
    scripted: tuple[Script, str],
) -> None:
    script, url = scripted
    script.api_key = "s3cret"
    with pytest.raises(ModelError, match="asks for an API key"):
        ServerChatModel(url).connect()
    with pytest.raises(ModelError, match="API key in Settings was refused"):
        ServerChatModel(url, api_key="wrong").connect()
    model = ServerChatModel(url, api_key="s3cret").connect()
    reply = model.generate(
        model.format_prompt([{"role": "user", "content": "hi"}]),
        max_tokens=8,
        temperature=0.0,
        should_stop=lambda: False,
    )
    assert "".join(reply).strip()  # the streamed request carried the key too


def test_the_first_model_is_used_unless_one_is_named(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.models = ["llama3.2:3b", "qwen"]
    assert ServerChatModel(url).connect().name == "llama3.2:3b on 127.0.0.1"
    model = ServerChatModel(url, model="qwen").connect()
    list(
        model.generate(
            model.format_prompt([{"role": "user", "content": "hi"}]),
            max_tokens=8,
            temperature=0.0,
            should_stop=lambda: False,
        )
    )
    assert script.requests[-1]["model"] == "qwen" and script.requests[-1]["stream"] is True


def test_a_smaller_context_reported_by_the_server_wins_over_the_setting(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    model = ServerChatModel(url, n_ctx=4096).connect()
    assert (model.n_ctx, model.context_from_server) == (4096, False)  # nothing reported: the setting
    script.n_ctx = 2048
    model = ServerChatModel(url, n_ctx=4096).connect()
    assert (model.n_ctx, model.context_from_server) == (2048, True)


def test_without_a_token_counter_tokens_are_estimated_generously(scripted: tuple[Script, str]) -> None:
    model = ServerChatModel(scripted[1]).connect()
    assert model.count_tokens("a" * 30) == 10  # 3 bytes a token: more than most tokenizers count


def test_a_server_refusing_json_schemas_is_asked_for_plain_json(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    model = ServerChatModel(url).connect()
    schema = {"type": "object", "properties": {"memories": {"type": "array"}}}
    messages = [{"role": "user", "content": "What did I say?"}]
    script.refuse_schema = True
    assert model.complete_json(messages, schema, max_tokens=50) == {"memories": ["I have a beagle."]}
    assert not model.json_schema_supported
    assert "response_format" not in script.requests[-1]
    assert script.requests[-1]["messages"][-1]["content"].endswith("Answer with JSON only.")
    assert messages[-1]["content"] == "What did I say?"  # the caller's messages are left alone


def test_a_refusal_that_is_not_about_the_schema_does_not_turn_schemas_off(
    scripted: tuple[Script, str],
) -> None:
    script, url = scripted
    script.refuse_schema, script.refusal = True, "the request exceeds the available context"
    model = ServerChatModel(url).connect()
    schema = {"type": "object", "properties": {"memories": {"type": "array"}}}
    assert model.complete_json([{"role": "user", "content": "x"}], schema, max_tokens=50) == {
        "memories": ["I have a beagle."]
    }  # answered plain this once
    assert model.json_schema_supported


def test_an_error_in_the_stream_is_reported_not_taken_as_text(scripted: tuple[Script, str]) -> None:
    script, url = scripted
    script.reply, script.error_mid_stream = "Once upon a time", True
    model = ServerChatModel(url).connect()
    pieces: list[str] = []
    with pytest.raises(ModelError, match="out of memory"):
        for piece in model.generate(
            model.format_prompt([{"role": "user", "content": "story"}]),
            max_tokens=50,
            temperature=0.7,
            should_stop=lambda: False,
        ):
            pieces.append(piece)
    assert "".join(pieces) == "Once upon a time "


def test_late_system_messages_are_folded_into_the_next_turn() -> None:
    messages = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "system", "content": "memories"},
        {"role": "user", "content": "c"},
    ]
    assert merge_late_system(messages) == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "memories\n\nc"},
    ]
