"""``python -m jts`` is the ``jts`` command (what ``jts serve all`` starts its children with)."""

from jts.cli.main import main

main()
