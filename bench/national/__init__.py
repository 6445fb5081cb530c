"""The national-scale benchmark: `make bench` (or `.venv/bin/python -m bench.national --help`).

    tree.py      the 34 provinces' unit trees (pure data, no database)
    dataset.py   builds ~10,000 units, ~200,000 directives, ~2,000,000 assignments with set-based SQL
    bulk.py      loads big tables with their secondary indexes and foreign keys rebuilt afterwards
    keys.py      API keys per province, minted by the project's own key service
    httpload.py  a small keep-alive HTTP/1.1 client (httptools) driven by one closed loop per connection
    load.py      the operations (inbox, reads, reports, directives, stats) and the mixed-load phases
    baseline.py  the bare FastAPI + asyncpg app the results are divided by
    phases.py    the deadline scan, webhook delivery and import phases
    run.py       the orchestration: servers as subprocesses, phases, the results file and table
"""
