#!/usr/bin/python3
"""The interactive shell in a real pseudo-terminal, as a person uses it.

    shell_interactive_test.py PATH_TO_SEMDB

Ctrl-C abandons the line being typed and leaves the shell running; each
entered line is in the history file at once, so even a shell killed with
SIGKILL keeps its session's history.
"""
import os
import pty
import select
import signal
import sys
import tempfile
import time


class Terminal:
    """The shell on the other side of a pseudo-terminal."""

    def __init__(self, semdb, db, history):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["SEMDB_HISTORY"] = history
            os.environ["TERM"] = "xterm"
            os.execv(semdb, [semdb, db])
        self.pending = b""

    def type(self, keys):
        os.write(self.fd, keys)

    def read_until(self, needle, timeout=30.0):
        """What the screen showed up to and including `needle`."""
        deadline = time.monotonic() + timeout
        while needle not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {needle!r}; saw {self.pending!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:  # the shell has exited
                chunk = b""
            if not chunk:
                raise AssertionError(f"the shell ended before {needle!r}; saw {self.pending!r}")
            self.pending += chunk
        end = self.pending.index(needle) + len(needle)
        seen, self.pending = self.pending[:end], self.pending[end:]
        return seen

    def wait(self):
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return status


def main():
    semdb = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        db = os.path.join(work, "db")
        history = os.path.join(work, "history")
        prompt = b"semdb:default> "

        shell = Terminal(semdb, db, history)
        shell.read_until(prompt)
        shell.type(b"insert the first document\r")
        shell.read_until(b"inserted")
        shell.read_until(prompt)
        # Ctrl-C in the middle of a line: the line is dropped, the shell stays.
        shell.type(b"delete this-line-is-abandoned")
        shell.read_until(b"abandoned")
        shell.type(b"\x03")
        shell.read_until(prompt)
        shell.type(b"count\r")
        screen = shell.read_until(b"\n1\r\n")
        assert b"abandoned" not in screen, screen
        shell.read_until(prompt)
        # The history is on disk before the shell ends, however it ends.
        os.kill(shell.pid, signal.SIGKILL)
        shell.wait()
        with open(history, encoding="utf-8", errors="replace") as f:
            lines = [line.rstrip("\n") for line in f]
        assert any("insert" in line and "first" in line for line in lines), lines
        assert "count" in lines, lines
        assert not any("abandoned" in line for line in lines), lines

        # A new session reads that history (up-arrow recalls `count`).
        shell = Terminal(semdb, db, history)
        shell.read_until(prompt)
        shell.type(b"\x1b[A\r")
        shell.read_until(b"\n1\r\n")
        shell.read_until(prompt)
        shell.type(b"quit\r")
        status = shell.wait()
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
