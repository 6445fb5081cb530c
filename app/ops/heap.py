"""Keeping a long-running process's permanent objects out of the garbage collector's scans."""

import gc

# CPython's default is (700, 10, 10): a young collection every 700 net allocations. An import
# batch keeps ~100,000 objects alive while it is built (parsed lines, planned rows, outcomes, and
# the next batch prepared meanwhile), so at the default a 5,000-unit batch set off ~130 young
# collections and one or two full ones, each walking everything the batch holds with the event
# loop stopped: a fifth of the worker's CPU in a unit import. At these thresholds the young
# collections are 70 times rarer and the older generations are hardly ever reached in a batch;
# the worker's time in collections fell from ~1 s to ~0.3 s per 100,000 units.
WORKER_GC_THRESHOLDS = (50_000, 20, 10)


def freeze_startup_heap() -> None:
    """Move everything the process holds once started (modules, models, schemas, table metadata:
    hundreds of thousands of objects living as long as the process) to the permanent generation.

    Every full collection otherwise walks all of them again. Requests and import batches allocate
    enough to set collections off often: on a directive import a seventh of the worker's time went
    to them, and each one stalls the event loop. Reference counting still frees frozen objects;
    only cycles among them would stay, and the collection just before freezing clears those.
    """
    gc.collect()
    gc.freeze()


def collect_less_often() -> None:
    """For a worker: batch-sized allocations set collections off at a rate tuned for small programs.

    Almost everything a batch builds is freed by reference counting when the batch ends; the
    cycle collector only has to find the rare cycle, which it still does, less often.
    """
    gc.set_threshold(*WORKER_GC_THRESHOLDS)
