"""The installed `vidstyle` command: vidstyle.cli.main.main, with a Ctrl-C during its imports
(about 0.2 s, before main can catch one) said in one line like any other interruption."""
import sys


def main() -> int:
    try:
        from .main import main as run
    except KeyboardInterrupt:
        print("vidstyle: error: interrupted", file=sys.stderr)
        return 130
    return run()
