"""Progress bars for the terminal (tqdm; silent when stderr is not a terminal)."""
from __future__ import annotations

from contextlib import contextmanager

from tqdm import tqdm


class Progress:
    """An overall bar over files (when there are several) and one bar per file."""

    def __init__(self, files: int):
        self._overall = tqdm(total=files, unit="file", position=0, disable=None if files > 1 else True,
                             desc="overall")

    @contextmanager
    def file(self, name: str):
        bar = tqdm(desc=name, unit="frame", position=1 if not self._overall.disable else 0,
                   leave=False, disable=None, dynamic_ncols=True)

        def on_progress(done: int, total: int, fps: float) -> None:
            if total and bar.total != total:
                bar.total = max(total, done)
            bar.n = done
            bar.set_postfix_str(f"{fps:.1f} FPS", refresh=False)
            bar.refresh()

        try:
            yield on_progress
        finally:
            bar.close()
            self._overall.update(1)

    def write(self, message: str) -> None:
        tqdm.write(message)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self._overall.close()
