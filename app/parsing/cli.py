"""``dondoc parse FILE [--json]``: parse a directive's text from a file or stdin.

Exit codes: 0 parsed, 2 unusable input (not UTF-8, over 1 MB, unreadable file).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import BinaryIO

from app.parsing.parser import parse_directive

MAX_INPUT_BYTES = 1024 * 1024
EXIT_BAD_INPUT = 2


class InputError(Exception):
    """Input the parser will not read; the message is for a person."""


def _read_limited(stream: BinaryIO, name: str) -> bytes:
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{name}: input is over 1 MB ({MAX_INPUT_BYTES} bytes); split it or trim attachments")
    return data


def read_input(path: str) -> str:
    """The text of ``path`` (``-`` for stdin) as UTF-8, at most 1 MB."""
    name = "stdin" if path == "-" else path
    try:
        if path == "-":
            data = _read_limited(sys.stdin.buffer, name)
        else:
            with Path(path).open("rb") as stream:
                data = _read_limited(stream, name)
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (bad byte at offset {exc.start}); convert it to UTF-8 first") from exc


def _short(text: str | None, width: int = 100) -> str:
    if not text:
        return "-"
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(result: dict[str, object]) -> str:
    """A person's view of a parse result: notation, type, date, subject, tasks."""
    signer = result.get("signer") or {}
    lines = [
        f"Notation:  {result.get('notation') or result.get('symbol') or '-'}",
        f"Type:      {result.get('doc_type') or '-'}",
        f"Issuer:    {result.get('issuer') or '-'}",
        f"Issued:    {result.get('place') or '-'}, {result.get('issued_on') or 'date not given'}",
        f"Urgency:   {result.get('urgency') or 'normal'}",
        f"Subject:   {_short(result.get('subject'))}",  # type: ignore[arg-type]
        f"Signer:    {' '.join(filter(None, [signer.get('title'), signer.get('name')])) or '-'}",  # type: ignore[union-attr]
    ]
    references = result.get("references") or []
    lines.append(f"References ({len(references)}):")  # type: ignore[arg-type]
    for ref in references:  # type: ignore[union-attr]
        lines.append(f"  {ref['notation']}  {ref.get('issued_on') or ''}".rstrip())
    tasks = result.get("tasks") or []
    lines.append(f"Tasks ({len(tasks)}):")  # type: ignore[arg-type]
    for task in tasks:  # type: ignore[union-attr]
        lines.append(f"  {task['ordinal']}. {_short(task['text'], 90)}")
        who = ", ".join(task["lead"]) or ", ".join(task["assignees"]) or "-"
        role = "lead" if task["lead"] else "assignees"
        deadline = task.get("deadline")
        due = f"{deadline['due_on'] or '?'} ({deadline['kind']}, \"{deadline['phrase']}\")" if deadline else "-"
        lines.append(f"     {role}: {who}; deadline: {due}")
    return "\n".join(lines)


def run(argv: list[str] | None = None) -> int:
    """Entry point for ``dondoc parse`` and ``python -m app.parsing``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 and args[0] == "parse":
        args = args[1:]
    parser = argparse.ArgumentParser(prog="dondoc parse", description="Parse a Vietnamese directive's text.")
    parser.add_argument("file", help="text file to parse, or - for stdin")
    parser.add_argument("--json", action="store_true", help="print the parse result as JSON")
    try:
        options = parser.parse_args(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        text = read_input(options.file)
    except InputError as exc:
        print(f"dondoc parse: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    result = parse_directive(text)
    if options.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(summary(result) + "\n")
    return 0
