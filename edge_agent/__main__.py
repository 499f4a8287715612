"""``python -m edge_agent ...``: the same commands as ``vpp agent ...``."""

from edge_agent.cli import app

if __name__ == "__main__":
    app(prog_name="vpp agent")
