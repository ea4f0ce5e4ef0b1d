"""The chat model behind Memoir: a protocol, and its llama.cpp implementation."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from memory.llm.prefill import READ_AHEAD_CHUNK, Interrupted, prefill
from memory.llm.state_cache import MIN_GAIN, StateCache
from memory.runtime.text import json_from_model

GGUF_MAGIC = b"GGUF"
# Anything smaller cannot hold a GGUF header plus a single tensor.
MIN_GGUF_BYTES = 1024

# llama.cpp's fused attention, on: bench/bench_model_form.py chose it with the F16 form (model_form.py's
# FORM; bench/results/model_form.json): 372.9 against 281.8 tokens/s 800 tokens deep, still as
# faithful as F32, and its logits move 0.054 when a prompt is split (the packaged file's 0.52). With
# Q8_0 it was rejected: no faster in one run, and fewer greedy tokens agreeing (8.3 against 10.5).
FLASH_ATTENTION = True

# Used when a GGUF carries no chat template of its own: ChatML is the most common format.
CHATML_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class ModelError(Exception):
    """A model that cannot be used; the message is written for the user."""


def json_grammar(schema: dict[str, Any]) -> str:
    """llama.cpp's grammar for ``schema``, with raw control characters kept out of strings: its
    ``char`` rule lets a model type a bare newline or tab inside a JSON string."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    grammar = json_schema_to_gbnf(json.dumps(schema))
    return grammar.replace('char ::= [^"\\\\] |', 'char ::= [^"\\\\\\x7F\\x00-\\x1F] |')


class TemplateRefused(Exception):
    """The model's chat template rejected the messages (e.g. a system message after the first)."""


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    reused_tokens: int = 0  # prompt tokens llama.cpp found already in its KV cache
    completion_tokens: int = 0
    time_to_first_token: float = 0.0
    seconds: float = 0.0
    stopped: bool = False  # the user pressed Stop
    truncated: bool = False  # hit the max-tokens limit
    looped: bool = False  # stopped by Memoir on a runaway repetition (memory/llm/repetition.py)

    @property
    def evaluated_tokens(self) -> int:
        return self.prompt_tokens - self.reused_tokens

    @property
    def tokens_per_second(self) -> float:
        decode = self.seconds - self.time_to_first_token
        if self.completion_tokens <= 1 or decode <= 0:
            return 0.0
        return (self.completion_tokens - 1) / decode


@dataclass
class Generation:
    """An iterator of text pieces; ``stats`` is complete once iteration ends."""

    pieces: Iterator[str]
    stats: GenerationStats = field(default_factory=GenerationStats)

    def __iter__(self) -> Iterator[str]:
        return self.pieces


class ChatModel(Protocol):
    name: str
    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def format_prompt(self, messages: list[dict[str, str]]) -> list[int]: ...

    def generate(
        self,
        prompt: list[int],
        *,
        max_tokens: int,
        temperature: float,
        should_stop: Callable[[], bool],
    ) -> Generation: ...

    def complete_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        max_tokens: int,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Any: ...

    def close(self) -> None: ...


def check_model_file(path: Path) -> None:
    """Raise :class:`ModelError` with a clear reason unless ``path`` looks like a GGUF model."""
    if not path.exists():
        raise ModelError(f"The model file {path} does not exist.")
    if path.is_dir():
        raise ModelError(f"{path} is a folder; choose a .gguf model file.")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelError(f"The model file {path} cannot be read: {exc.strerror}.") from exc
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path.name} is not a GGUF model file (it does not start with 'GGUF').")
    if path.stat().st_size < MIN_GGUF_BYTES:
        raise ModelError(f"{path.name} is too small to be a model: the file looks truncated.")


def thread_counts(setting: int, cores: int | None = None) -> tuple[int, int]:
    """(generation, prompt evaluation) threads for the Threads setting; 0 picks.

    Prompt evaluation is compute-bound and uses every core. Generation is memory-bound, and
    llama.cpp's threads meet at a barrier after every layer of every token: one thread stalled by
    another program stalls them all. On 2 cores with one kept busy elsewhere, 2 generation threads
    fell from 86.6 to 23.6 tokens/s (0.27x) and 1 thread from 62.0 to 58.0 (0.94x)
    (bench/bench_latency.py --sweep, bench/results/latency.json): a quarter slower when the machine
    is idle, three times faster when it is not, and still far above reading speed. So generation
    leaves a core free on small machines; on more than 4 cores (not measured here) two.
    A number set by the user is used for both, as it says.
    """
    if setting > 0:
        return setting, setting
    cores = max(1, cores or os.cpu_count() or 1)
    return max(1, cores - 1) if cores <= 4 else cores - 2, cores


def read_through(path: Path, progress: Callable[[float], None], chunk: int = 8 << 20) -> None:
    """Read the file once so that loading it reports real progress (and warms the page cache)."""
    total = max(1, path.stat().st_size)
    done = 0
    # One buffer, reused: a fresh 8 MB block per read maps and unmaps memory each time, and that
    # churn stalled the GUI thread (measured up to ~75 ms while the window drew its first frame).
    buffer = memoryview(bytearray(chunk))
    with path.open("rb", buffering=0) as handle:
        while got := handle.readinto(buffer):
            done += got
            progress(min(1.0, done / total))


def open_llama(path: Path, **params: Any) -> Any:
    """A ``llama_cpp.Llama`` for ``path``; a file llama.cpp cannot load becomes a :class:`ModelError`."""
    from llama_cpp import Llama

    # Weights are read into memory, not mapped: a mapped file truncated while Memoir runs (a download
    # restarted, a sync tool) kills the process with SIGBUS on the next token; a read one can't.
    params.setdefault("use_mmap", False)
    try:
        return Llama(model_path=str(path), verbose=False, **params)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelError(
            f"llama.cpp could not load {path.name}: the file may be truncated, corrupt, "
            f"or a model architecture this build does not support ({exc})."
        ) from exc


class LlamaChatModel:
    """A GGUF chat model run by llama-cpp-python. Not thread-safe: use it from one lane."""

    def __init__(self, llama: Any, path: Path, flash_attention: bool = False) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._llama = llama
        self.path = path
        self.flash_attention = flash_attention  # its KV cache's layout: saved states depend on it
        self.name = path.stem
        # extra llama.cpp sampler arguments for replies (e.g. repeat_penalty), per model:
        # memory/llm/model_form.py sets the ones measured for the packaged model
        self.sampling: dict[str, Any] = {}
        self.states: StateCache | None = None  # conversations' saved caches (memory/llm/state_cache.py)
        self._holding_reply = False  # what llama.cpp holds is a conversation (not a reflection prompt)
        self.n_ctx = llama.n_ctx()
        metadata = llama.metadata
        self.has_chat_template = "tokenizer.chat_template" in metadata
        eos_id, bos_id = llama.token_eos(), llama.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=metadata.get("tokenizer.chat_template", CHATML_TEMPLATE),
            eos_token=llama._model.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=llama._model.token_get_text(bos_id) if bos_id != -1 else "",
        )

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int = 0,
        n_gpu_layers: int = 0,
        flash_attention: bool = FLASH_ATTENTION,
        progress: Callable[[float], None] = lambda _: None,
    ) -> LlamaChatModel:
        check_model_file(path)
        read_through(path, lambda f: progress(0.9 * f))
        generation, prompt = thread_counts(n_threads)
        params = dict(n_ctx=n_ctx, n_threads=generation, n_threads_batch=prompt, n_gpu_layers=n_gpu_layers)
        try:
            llama = open_llama(path, flash_attn=flash_attention, **params)
        except ModelError:
            if not flash_attention:
                raise
            # a model whose attention llama.cpp cannot fuse still runs, only slower
            llama, flash_attention = open_llama(path, **params), False
        progress(1.0)
        return cls(llama, path, flash_attention)

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def format_prompt(self, messages: list[dict[str, str]]) -> list[int]:
        from jinja2 import TemplateError

        try:
            rendered = self._formatter(messages=messages)  # type: ignore[arg-type]
        except (ValueError, TemplateError) as exc:  # a template's raise_exception() is a ValueError
            raise TemplateRefused(str(exc)) from exc
        return list(
            self._llama.tokenize(
                rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
            )
        )

    def cached_prefix(self, prompt: list[int]) -> int:
        """How many leading prompt tokens llama.cpp can reuse from its KV cache."""
        cached = self._llama._input_ids.tolist()
        common = self._llama.longest_token_prefix(cached, prompt)
        return int(min(common, len(prompt) - 1))

    def _switch_to(self, prompt: list[int]) -> None:
        """Before evaluating ``prompt``: keep the cache being left (if it is worth keeping) and
        bring back a saved one that covers more of ``prompt`` than what llama.cpp holds now."""
        if self.states is None:
            return
        cached = self.cached_prefix(prompt)
        saved = self.states.best(prompt, cached)
        if self._holding_reply and self._llama.n_tokens - cached > MIN_GAIN:
            self.states.save(self._llama)
        if saved is not None:
            self.states.restore(self._llama, saved)

    def read_ahead(self, prompt: list[int], upto: int, should_stop: Callable[[], bool]) -> int:
        """Evaluate the first ``upto`` tokens of the next reply's prompt now, in small chunks that
        give way to ``should_stop`` (the user sent, or typed on); returns how many are cached."""
        self._switch_to(prompt)
        self._holding_reply = True  # a conversation's start: worth keeping when switching away
        with suppress(Interrupted):
            prefill(self._llama, prompt, self.cached_prefix(prompt), should_stop, upto, READ_AHEAD_CHUNK)
        return min(self.cached_prefix(prompt), upto)

    def forget_states(self) -> None:
        """Saved caches deleted, and the one in memory dropped so it is never saved later."""
        if self.states is not None:
            self.states.clear()
        self._llama.reset()

    def generate(
        self,
        prompt: list[int],
        *,
        max_tokens: int,
        temperature: float,
        should_stop: Callable[[], bool],
    ) -> Generation:
        self._switch_to(prompt)
        self._holding_reply = True
        stats = GenerationStats(prompt_tokens=len(prompt), reused_tokens=self.cached_prefix(prompt))
        return Generation(self._stream(prompt, max_tokens, temperature, should_stop, stats), stats)

    def _stream(
        self,
        prompt: list[int],
        max_tokens: int,
        temperature: float,
        should_stop: Callable[[], bool],
        stats: GenerationStats,
    ) -> Iterator[str]:
        start = time.perf_counter()
        chunks = self._llama.create_completion(
            prompt=prompt,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=True,
            stop=[self._formatter.eos_token] if self._formatter.eos_token else None,
            **self.sampling,
        )
        try:
            for chunk in chunks:
                choice = chunk["choices"][0]
                if stats.completion_tokens == 0:
                    stats.time_to_first_token = time.perf_counter() - start
                stats.completion_tokens += 1
                if choice.get("finish_reason") == "length":
                    stats.truncated = True
                if choice["text"]:
                    yield choice["text"]
                if should_stop():
                    stats.stopped = True
                    break
        finally:
            chunks.close()
            stats.seconds = time.perf_counter() - start

    def complete_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        max_tokens: int,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Any:
        """Generate under a JSON-schema grammar, so even a tiny model's output always parses."""
        from llama_cpp import LlamaGrammar

        grammar = LlamaGrammar.from_string(json_grammar(schema), verbose=False)
        prompt = self.format_prompt(messages)
        self._switch_to(prompt)  # reflection between replies: the conversation's cache is kept
        self._holding_reply = False  # and the reflection prompt's own is not worth keeping
        if len(prompt) + max_tokens > self.n_ctx:
            raise ValueError(f"prompt of {len(prompt)} tokens leaves no room in a {self.n_ctx} context")
        prefill(self._llama, prompt, self.cached_prefix(prompt), should_stop)  # it can give way
        text = ""
        chunks = self._llama.create_completion(
            prompt=prompt, max_tokens=max_tokens, temperature=0.0, grammar=grammar, stream=True
        )
        try:
            for chunk in chunks:
                text += chunk["choices"][0]["text"]
                if should_stop():
                    raise Interrupted()
        finally:
            chunks.close()
        return json_from_model(text)  # may raise if max_tokens cut the object short: callers retry

    def close(self) -> None:
        if self.states is not None and self._holding_reply and self._llama.n_tokens > MIN_GAIN:
            self.states.save(self._llama)  # switching back after a restart is quick too
        self._llama.close()
