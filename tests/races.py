"""Thread-race scaffolding: start several calls at the same moment and collect what they did."""

from __future__ import annotations

import threading
from collections.abc import Callable


def at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Run each call on its own thread, all released together; each result or the error raised
    (in the order they finished)."""
    start = threading.Barrier(len(calls))
    results: list[object] = []
    lock = threading.Lock()

    def run(call: Callable[[], object]) -> None:
        start.wait()
        try:
            result: object = call()
        except Exception as error:  # the outcome under test
            result = error
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
