"""Keeping a long-running process's permanent objects out of the garbage collector's scans."""

import gc


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
