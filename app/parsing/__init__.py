"""Directive-text parser (phân tích văn bản chỉ đạo): text in, the design's JSON out.

Pure and fast: no database, no network, no models.  See DESIGN.md, "Parsing
directive text", for the output; :mod:`app.parsing.schemas` for its models.
"""

from app.parsing.parser import parse, parse_directive
from app.parsing.schemas import ParsedDeadline, ParsedReference, ParsedSigner, ParsedTask, ParseResult

__all__ = [
    "ParseResult",
    "ParsedDeadline",
    "ParsedReference",
    "ParsedSigner",
    "ParsedTask",
    "parse",
    "parse_directive",
]
