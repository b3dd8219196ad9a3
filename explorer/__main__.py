import os
import sys

from explorer.cli import main, torn_down_by_exit

code = main()
if torn_down_by_exit():
    # A process of a torchrun launch has left its process group (explorer.cli): end it here,
    # without the interpreter's teardown, where gloo's native threads can abort a process that
    # has done its work (seen once as SIGABRT after a successful two-process LAMA run).
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that has gone, a stream already closed
            pass
    os._exit(code)
sys.exit(code)
