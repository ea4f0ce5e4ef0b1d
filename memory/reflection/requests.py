"""What the user asks of every answer: their sentences that read as standing requests ("Please keep
your answers short", "From now on, call me Sam") become proposed preferences, in their own words.

SmolLM2 cannot find these: asked for the user's preferences, it answers with the prompt's own example
("I'm vegetarian") for nearly any conversation (seen on MSC and in the app). So, as the self-disclosure
selector does for memories (disclosure.py), a sentence is scored by its MiniLM nearness to generic
examples of such requests (``resources/reflection/answer_requests.txt``) minus ONE_OFF_WEIGHT times its
nearness to one-off requests and friendly remarks (``one_off.txt``: "Tell me a joke about penguins."),
and proposed under its nearest example's category when the score reaches THRESHOLD. Nothing changes
until the user accepts the proposal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from memory.embed.minilm import Embedder
from memory.preferences.preference_store import CATEGORIES
from memory.reflection.disclosure import examples, sentences
from memory.store.database import Message

# Chosen on the tune half of bench/data/answer_requests.jsonl (sentences written for Memoir) with
# bench/tune_requests.py; its check half and the proposals it makes on MSC are in the README.
THRESHOLD = 0.15
ONE_OFF_WEIGHT = 0.5
MIN_WORDS, MAX_WORDS = 2, 30
# A request is said as one: an imperative or "I'd like you to…", at the start of the sentence or of a
# clause ("When you recommend books, stick to non-fiction"). Nearness alone is topical in MiniLM
# ("The food I bake is not good for them." is near "Avoid recipes with pork").
_DIRECTIVE = re.compile(
    r"(?:^|[,;:]\s+|\b(?:but|so|and)\s+)(?:(?:please|from now on|in future|next time|going forward)[,]?\s+)*"
    r"(?:(?:please|do(?:n't| not)|never|always|stop|keep|use|avoid|skip|call|give|explain|answer|write|"
    r"talk|speak|put|mention|be|include|show|reply|respond|remember|stick|check|no|less|more)\b"
    r"|i(?:'d| would) (?:like|prefer|rather)\b|i (?:prefer|want|like it when|like answers|need you)\b"
    r"|(?:can|could|would|will) you (?:always|please|stop|never)\b)",
    re.IGNORECASE,
)
_POLITE = re.compile(r"(?:please\s+)?(?:can|could|would|will) you\b", re.IGNORECASE)


@dataclass
class Request:
    text: str
    category: str
    message_id: int
    score: float


def requests_examples() -> list[tuple[str, str]]:
    """(category, example) from answer_requests.txt, one "category | example" per line."""
    found = []
    for line in examples("answer_requests.txt"):
        category, _, text = line.partition("|")
        category, text = category.strip(), text.strip()
        found.append((category if category in CATEGORIES else "other", text))
    return found


def is_request_shaped(sentence: str) -> bool:
    """Said as a request; a question only as a polite one ("Could you stop adding emojis?")."""
    if not MIN_WORDS <= len(sentence.split()) <= MAX_WORDS or _DIRECTIVE.search(sentence) is None:
        return False
    return not sentence.endswith("?") or _POLITE.match(sentence) is not None


class RequestSelector:
    """Scores the user's sentences by how much they ask for something of every answer."""

    def __init__(self, embedder: Embedder, threshold: float = THRESHOLD) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._examples: list[tuple[str, str]] = requests_examples()
        self._vectors: tuple[np.ndarray, np.ndarray] | None = None

    def scores(self, texts: list[str]) -> tuple[np.ndarray, list[str]]:
        """Each text's score and the category of its nearest example."""
        if self._vectors is None:
            self._vectors = (
                np.asarray(self.embedder.embed([text for _, text in self._examples])),
                np.asarray(self.embedder.embed(examples("one_off.txt"))),
            )
        wanted, one_off = self._vectors
        vectors = np.asarray(self.embedder.embed(texts))
        near = vectors @ wanted.T
        score = near.max(axis=1) - ONE_OFF_WEIGHT * (vectors @ one_off.T).max(axis=1)
        return score, [self._examples[int(i)][0] for i in near.argmax(axis=1)]

    def select(self, messages: list[Message]) -> list[Request]:
        found = [
            (sentence, m.id)
            for m in messages
            if m.role == "user"
            for sentence in sentences(m.content)
            if is_request_shaped(sentence)
        ]
        if not found:
            return []
        score, categories = self.scores([text for text, _ in found])
        return [
            Request(text, category, message_id, float(s))
            for (text, message_id), s, category in zip(found, score, categories, strict=True)
            if s >= self.threshold
        ]


def as_preference(sentence: str) -> str:
    """The user's sentence as a preference reads: capitalised, ending like a sentence."""
    text = sentence.strip().rstrip(",;:- ")  # a clause cut at a comma ends as a sentence, not ",."
    text = text[:1].upper() + text[1:]
    return text if text[-1:] in ".!?" else f"{text}."
