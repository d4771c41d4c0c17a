"""What the PostgreSQL server did during a benchmark run, read from the server itself.

A run's speed on this shared 2-core machine moves with the database server's state (its
buffers, a checkpoint falling inside the run), so the benchmarks print it beside their
figures: CPU seconds of the whole server, buffer hits and reads of the run's database,
checkpoints started, the database's size and ``shared_buffers``.
"""

import os
from dataclasses import dataclass
from pathlib import Path


def postgres_cpu() -> float | None:
    """CPU seconds of the whole PostgreSQL server (every backend, ended ones included: the
    postmaster's children's times), or None when it is not on this machine."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    try:
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError):
        return None
    ticks = sum(int(value) for value in fields[11:15])  # its own and its reaped children's
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            child = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if child[1] == str(postmaster):
            ticks += int(child[11]) + int(child[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class State:
    cpu: float | None
    hits: int
    reads: int
    checkpoints: int
    size_mb: float
    shared_buffers: str

    def since(self, before: "State") -> str:
        """One line: what the server did between ``before`` and this reading."""
        hits, reads = self.hits - before.hits, self.reads - before.reads
        ratio = 100 * hits / (hits + reads) if hits + reads else 100.0
        cpu = (
            f"{self.cpu - before.cpu:.1f} s CPU"
            if self.cpu is not None and before.cpu is not None
            else "CPU n/a"
        )
        return (
            f"PostgreSQL: {cpu}; buffer hits {ratio:.2f}% ({reads} blocks read from outside "
            f"shared_buffers {self.shared_buffers}); checkpoints started "
            f"{self.checkpoints - before.checkpoints}; database {self.size_mb:.0f} MB"
        )


def read() -> State | None:
    """The server's counters now, or None off PostgreSQL. Statistics are flushed first so
    that this session's own counts are in."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT blks_hit, blks_read, pg_database_size(datname) FROM pg_stat_database "
            "WHERE datname = current_database()"
        )
        hits, reads, size = cursor.fetchone()
        cursor.execute("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
        (checkpoints,) = cursor.fetchone()
        cursor.execute("SHOW shared_buffers")
        (buffers,) = cursor.fetchone()
    return State(postgres_cpu(), hits, reads, checkpoints, size / 2**20, buffers)
