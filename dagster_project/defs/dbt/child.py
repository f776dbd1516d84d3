"""`c360-dbt`: dbt, as a child that dies with the refresh that started it.

A refresh killed with kill -9 cannot stop its dbt subprocess, which would then keep
writing the working file and hold its lock against the next refresh. On Linux the
kernel kills this child when its parent dies (PR_SET_PDEATHSIG); elsewhere it is
plain dbt.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        return
    if os.getppid() == 1:  # the parent died before the signal was armed
        os._exit(1)


def main() -> int:
    die_with_parent()
    from dbt.cli.main import cli

    return cli()


if __name__ == "__main__":
    sys.exit(main())
