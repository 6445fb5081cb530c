"""`python -m bench.national`: see run.py."""

from bench.national.run import main

main()
