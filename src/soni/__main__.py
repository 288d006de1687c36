"""``python -m soni``: the soni command line."""

from soni.cli import main

main()
