#!/usr/bin/env python3
"""pty_ctrl_c.py — a person at a terminal pressing Ctrl-C.

    pty_ctrl_c.py READY_TEXT TIMEOUT_S CMD...

Runs CMD on a new pseudo-terminal (so it has a controlling terminal and
job control works as in a shell), waits until READY_TEXT appears in its
output, types Ctrl-C (the terminal sends SIGINT to its foreground process
group, as for a real user), and waits for CMD to end.  Prints what CMD
wrote after the Ctrl-C, then a last line "exit N" (N < 0: killed by that
signal; "exit timeout" if it did not end).  Exit status 0 once READY_TEXT
was seen, 1 otherwise.
"""
import os
import pty
import select
import sys
import time


def main():
    ready, timeout, cmd = sys.argv[1].encode(), float(sys.argv[2]), sys.argv[3:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""

    def read_until(pred, deadline):
        nonlocal out
        while not pred() and time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r:
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the other side closed
                return
            if not data:
                return
            out += data

    read_until(lambda: ready in out, time.time() + timeout)
    if ready not in out:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        sys.stdout.write(out.decode(errors="replace"))
        print("\nready text never came")
        return 1
    mark = len(out)
    os.write(fd, b"\x03")
    deadline = time.time() + timeout
    status = None
    while time.time() < deadline:
        read_until(lambda: False, time.time() + 0.2)
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
    read_until(lambda: False, time.time() + 0.5)
    sys.stdout.write(out[mark:].decode(errors="replace").replace("\r", ""))
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        print("\nexit timeout")
    else:
        print("\nexit %d" % os.waitstatus_to_exitcode(status))
    return 0


sys.exit(main())
