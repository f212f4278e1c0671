#!/usr/bin/python3
"""The interactive shell in a real pseudo-terminal, as a person uses it.

    shell_interactive_test.py PATH_TO_SEMDB

Ctrl-C abandons the line being typed and leaves the shell running; each
entered line is in the history file at once, so even a shell killed with
SIGKILL keeps its session's history. Ctrl-C during an import stops it at a
batch boundary: the shell says how many documents it kept, the database
holds exactly those, and the prompt comes back. An index rebuild shows a
progress bar. Tab completes command
names, option names and collection names; tables take the terminal's width.
"""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import tempfile
import termios
import time


class Terminal:
    """The shell on the other side of a pseudo-terminal."""

    def __init__(self, semdb, db, history, columns=80):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["SEMDB_HISTORY"] = history
            os.environ["TERM"] = "xterm"
            os.environ.pop("COLUMNS", None)  # the width comes from the terminal
            os.execv(semdb, [semdb, db])
        # The terminal's size, as a terminal emulator sets it.
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
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

        check_cancelled_import(semdb, work, history)
        check_completion_and_width(semdb, work, history)
    print("3 passed, 0 failed")


def check_cancelled_import(semdb, work, history):
    """Ctrl-C while an import runs: it stops, keeps what it stored, and says so."""
    big = os.path.join(work, "big.lines")  # a document per line
    words = ["river", "forest", "market", "stock", "storm", "flood", "city", "train",
             "music", "paint", "garden", "engine", "school", "doctor", "bridge", "ocean"]
    with open(big, "w", encoding="utf-8") as f:
        for i in range(400000):  # one document per line; far more than a second's work
            f.write(" ".join(words[(i * k + k) % len(words)] for k in range(1, 9)))
            f.write(f" number{i}\n")
    db = os.path.join(work, "cancel_db")
    prompt = b"semdb:default> "
    shell = Terminal(semdb, db, history)
    shell.read_until(prompt)
    shell.type(b"import " + big.encode() + b"\r")
    # The progress bar shows documents being stored: some batches are in.
    shell.read_until(b"000 documents", timeout=120)
    shell.type(b"\x03")
    screen = shell.read_until(prompt, timeout=120)
    match = re.search(rb"import cancelled: kept the (\d+) documents stored before Ctrl-C", screen)
    assert match, screen
    kept = int(match.group(1))
    assert 0 < kept < 400000 and kept % 1000 == 0, kept  # whole batches of 1000
    shell.type(b"count\r")
    screen = shell.read_until(prompt)
    assert f"\n{kept}\r\n".encode() in screen, (kept, screen)
    # A long operation shows its progress rather than look hung.
    shell.type(b"reindex --index hnsw m=8\r")
    screen = shell.read_until(prompt, timeout=300)
    assert b"index rebuild of 'default': " in screen, screen
    assert f"rebuilt the index of 'default' as 'hnsw m=8' ({kept} documents)".encode() in screen
    shell.type(b"quit\r")
    status = shell.wait()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status


def check_completion_and_width(semdb, work, history):
    db = os.path.join(work, "complete_db")
    shell = Terminal(semdb, db, history, columns=40)
    shell.read_until(b"semdb:default> ")
    shell.type(b"create fireworks\r")
    shell.read_until(b"semdb:fireworks> ")
    # A command name and an option of the command: the completed line runs
    # (the screen shows only the redrawn tail of a completed line).
    shell.type(b"sear\tx --st\tsideways\r")
    screen = shell.read_until(b"semdb:fireworks> ")
    assert b"the strategy must be auto" in screen, screen
    # A collection name.
    shell.type(b"use def\t\r")
    shell.read_until(b"semdb:default> ")
    # The help table fits the 40-column terminal, usage lines wrapped.
    shell.type(b"help\r")
    screen = shell.read_until(b"semdb:default> ")
    table = screen[screen.index(b" command"):screen.index(b"Type 'help")]
    lines = table.decode().split("\r\n")
    assert all(len(line) <= 40 for line in lines), lines
    assert any("[--strategy S]" in line for line in lines), lines
    shell.type(b"quit\r")
    status = shell.wait()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status


if __name__ == "__main__":
    main()
