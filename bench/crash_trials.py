"""Kill -9 trials: Memoir's core is killed at random moments; after each, nothing sent may be lost.

Each trial starts a worker process on one data folder (kept across trials, so every start must
recover from the last kill). The worker does what the app does — start-up recovery, then a random
mix of: a user message committed and a reply streamed, reflection of a conversation into memories,
indexing, and importing an export — and prints a line each time a user message is committed. The
parent kills it with SIGKILL at a random moment, then a checker process opens the folder as the app
would and verifies: SQLite integrity_check, every committed message present and unchanged, the
Chroma index consistent with SQLite after the start-up repair, pending reflection jobs resumed.
The chat model is the scripted fake (streaming with a delay); embeddings, Chroma and SQLite are real.
A new data folder is started every ``--fresh-every`` trials. Prints counts (and JSON with --json).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPLY = "Here is a longer answer, streamed word by word so that a kill can land in the middle of it. " * 4
JSON_ANSWER = {
    "memories": [{"summary": "The user talked about their garden and their sister.", "references": [1]}],
    "preferences": [],
    "action": "Add",
    "index": 0,
    "merged_summary": "",
}
MESSAGES = [
    "My sister Ana moved to Lisbon last spring.",
    "I grow tomatoes and basil on my balcony.",
    "I work night shifts as a nurse at the city hospital.",
    "Can you suggest a quick dinner after a night shift?",
]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def say(line: str) -> None:
    print(line, flush=True)


# The worker ----------------------------------------------------------------------------------


MIXES = {
    "all": ["chat", "chat", "chat", "reflect", "index", "import"],
    "import": ["import"],
    "reflect": ["chat", "reflect"],
}
IMPORTED_CONVERSATIONS = 40  # per export: big enough that a kill can land inside an import


def worker(home: Path, export: Path, seed: int, mix: str) -> None:
    from memory.answering.chat import ChatService
    from memory.reflection.jobs import ReflectionJobs
    from memory.reflection.prospective import reflector
    from memory.retrieval.service import open_memory
    from memory.runtime.paths import ensure_private_dir, restrict_new_files
    from memory.runtime.settings import Settings
    from memory.store.database import Store
    from memory.store.import_preview import read_export
    from memory.store.importer import apply
    from tests.fake_model import FakeChatModel

    restrict_new_files()
    ensure_private_dir(home)  # as data_dir() does for the app
    store = Store(home / "memoir.db")  # marks replies cut off by the last kill as interrupted
    memory = open_memory(home, store)
    memory.start_up()  # backfill, compare with the index, embed what is missing
    jobs = ReflectionJobs(store, memory.items)
    model = FakeChatModel([REPLY], delay=0.004)
    model.default_json = JSON_ANSWER
    chat = ChatService(store)
    rng = random.Random(seed)
    say("READY")
    while (job := jobs.next_pending()) is not None:  # the app resumes queued reflection at start
        say("DOING resume")
        jobs.run(job, reflector(model, memory.retriever))
    settings = Settings(max_tokens=200, temperature=0.0)
    while True:
        action = rng.choice(MIXES[mix])
        say(f"DOING {action}")
        conversations = store.conversations()
        if action == "chat":
            conversation = (
                rng.choice(conversations)
                if conversations and rng.random() < 0.7
                else store.create_conversation()
            )
            text = f"{rng.choice(MESSAGES)} ({rng.random():.6f})"
            message = chat.send(conversation.id, text)
            say(f"COMMITTED {message.id} {digest(message.content)}")
            memory.remember_message(message)
            result = chat.reply(conversation.id, model, settings)
            memory.remember_message(result.message)
        elif action == "reflect" and conversations:
            jobs.enqueue(rng.choice(conversations).id)
            if (job := jobs.next_pending()) is not None:
                jobs.run(job, reflector(model, memory.retriever))
        elif action == "index":
            memory.indexer.sync()
        elif action == "import":
            apply(store, read_export(export))


# The checker ---------------------------------------------------------------------------------


def check(home: Path, committed: dict[int, str]) -> dict[str, Any]:
    from memory.reflection.jobs import ReflectionJobs
    from memory.reflection.prospective import reflector
    from memory.retrieval.service import open_memory
    from memory.store.database import Store
    from tests.fake_model import FakeChatModel

    store = Store(home / "memoir.db")
    report: dict[str, Any] = {"integrity_ok": store.integrity_ok(), "interrupted_replies": store.recovered}
    rows = store.query("SELECT id, content FROM messages WHERE role = 'user'")
    present = {r["id"]: digest(r["content"]) for r in rows}
    report["lost"] = sum(1 for i, d in committed.items() if present.get(i) != d)
    imported = collections.Counter(
        r["title"].split(".")[0]
        for r in store.query("SELECT title FROM conversations WHERE title LIKE 'Imported %'")
    )
    report["partial_imports"] = sum(1 for n in imported.values() if n != IMPORTED_CONVERSATIONS)
    memory = open_memory(home, store)
    repair = memory.start_up()
    report["index_repaired"] = repair.repaired
    report["index_consistent"] = memory.index.ids() == memory.items.all_ids()
    jobs = ReflectionJobs(store, memory.items)
    report["jobs_pending"] = jobs.pending_count()
    model = FakeChatModel()
    model.default_json = JSON_ANSWER
    while (job := jobs.next_pending()) is not None:
        jobs.run(job, reflector(model, memory.retriever))
    report["jobs_left"] = jobs.pending_count()
    report["index_consistent_after_jobs"] = (memory.indexer.sync() >= 0) and (
        memory.index.ids() == memory.items.all_ids()
    )
    memory.close()
    store.close()
    return report


# The parent ----------------------------------------------------------------------------------


def make_export(path: Path, n: int) -> None:
    """A small export with fresh uids, so each trial's import has something to add."""
    from memory.store.database import Store
    from memory.store.export import export_all

    with tempfile.TemporaryDirectory() as scratch:
        store = Store(Path(scratch) / "memoir.db")
        for k in range(IMPORTED_CONVERSATIONS):
            conversation = store.create_conversation(f"Imported {n}.{k}")
            for turn in range(3):
                store.add_message(conversation.id, "user", f"An imported message {n}.{k}.{turn}")
                store.add_message(conversation.id, "assistant", "An imported reply.")
        export_all(store, path)
        store.close()


def run_child(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def trial(
    home: Path, export: Path, seed: int, mix: str, rng: random.Random, env: dict[str, str]
) -> dict[str, Any]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--worker", str(home), str(export), str(seed), mix],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:  # wait until it is up, so kills land in its work, not its imports
        lines.append(line.strip())
        if line.strip() == "READY":
            break
    time.sleep(rng.uniform(0.0, 3.0))
    process.send_signal(signal.SIGKILL)
    out, err = process.communicate()
    lines += out.splitlines()
    committed = {int(p[1]): p[2] for p in (line.split() for line in lines) if p and p[0] == "COMMITTED"}
    doing = [line.split()[1] for line in lines if line.startswith("DOING ")]
    if "READY" not in lines:
        return {"worker_failed": err[-800:]}
    result = run_child(["--check", str(home), json.dumps(committed)], env, timeout=300)
    if result.returncode != 0:
        return {"checker_failed": result.stderr[-800:]}
    report = json.loads(result.stdout.strip().splitlines()[-1])
    report.update(committed=len(committed), killed_during=doing[-1] if doing else "start-up")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--fresh-every",
        type=int,
        default=25,
        help="start a new data folder every N trials (imports pile up and slow each start; 0: never)",
    )
    parser.add_argument(
        "--worker", nargs=4, metavar=("HOME", "EXPORT", "SEED", "MIX"), help=argparse.SUPPRESS
    )
    parser.add_argument("--check", nargs=2, metavar=("HOME", "COMMITTED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), Path(args.worker[1]), int(args.worker[2]), args.worker[3])
        return 0
    if args.check:
        committed = {int(k): v for k, v in json.loads(args.check[1]).items()}
        print(json.dumps(check(Path(args.check[0]), committed)))
        return 0
    rng = random.Random(args.seed)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ANONYMIZED_TELEMETRY": "False"}
    totals: collections.Counter[str] = collections.Counter()
    during: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="memoir-crash-") as tmp:
        export = Path(tmp) / "export.zip"
        for n in range(args.trials):
            # every start in a folder recovers from the kill before it; a new folder now and then
            # keeps trials short (each import adds 240 messages that every later start checks)
            home = Path(tmp) / f"home{n // args.fresh_every if args.fresh_every else 0}"
            make_export(export, n)
            # most trials do everything; every fifth only imports, and every fifth chats and reflects,
            # so that kills also land inside those rarer, longer writes
            mix = {3: "import", 4: "reflect"}.get(n % 5, "all")
            report = trial(home, export, args.seed * 1000 + n, mix, rng, env)
            if "worker_failed" in report or "checker_failed" in report:
                failures.append(json.dumps(report))
                totals["failed_runs"] += 1
                continue
            totals["trials"] += 1
            print(f"trial {n + 1}: {json.dumps(report)}", file=sys.stderr, flush=True)  # a long run's record
            totals["committed"] += report["committed"]
            totals["lost"] += report["lost"]
            totals["partial_imports"] += report["partial_imports"]
            totals["integrity_failures"] += not report["integrity_ok"]
            totals["interrupted_replies_recovered"] += report["interrupted_replies"]
            totals["index_caught_up_at_start"] += report["index_repaired"]
            totals["index_inconsistent_after_start"] += not report["index_consistent"]
            totals["jobs_resumed"] += report["jobs_pending"]
            totals["jobs_stuck"] += report["jobs_left"]
            during[report["killed_during"]] += 1
    summary = {
        **totals,
        "killed_during": dict(during),
        "seconds": round(time.perf_counter() - started),
        "failures": failures[:3],
    }
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key}: {value}")
    bad = totals["lost"] + totals["integrity_failures"] + totals["partial_imports"] + totals["jobs_stuck"]
    return 0 if not failures and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
