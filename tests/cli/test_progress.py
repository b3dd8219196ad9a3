"""The CLI's progress line for long jobs."""

from __future__ import annotations

import io

from explorer.commands import drive, progress_line
from explorer.core.results import JobStep


def job(n: int):
    for i in range(1, n + 1):
        yield JobStep(i, n, f"step {i}")
    return "result"


def test_drive_returns_the_jobs_value_and_writes_progress():
    stream = io.StringIO()
    assert drive(job(3), label="test", stream=stream) == "result"
    first = stream.getvalue().splitlines()[0]
    assert first.startswith("test  [") and "1/3" in first and "step 1" in first


def test_drive_closes_the_job_when_interrupted():
    closed = []

    def endless():
        try:
            while True:
                yield JobStep(0, 0)
        finally:
            closed.append(True)

    steps = endless()

    class Boom(io.StringIO):
        def write(self, text):
            raise KeyboardInterrupt

    try:
        drive(steps, stream=Boom())
    except KeyboardInterrupt:
        pass
    assert closed == [True]


def test_progress_line_estimates_time_left():
    line = progress_line(JobStep(1, 4, "sampling"), elapsed=10.0)
    assert "1/4" in line and "30s left" in line and "sampling" in line
