"""``python -m lingtan`` is ``vpp``."""

from lingtan.cli import main

main()
