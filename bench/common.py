"""Shared set-up for the benchmarks: a throwaway data folder, Django configured for it,
and CPU accounting for a process tree from /proc."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BACKEND = REPO / "backend"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def django_environment(**extra: str) -> dict[str, str]:
    """An environment for a fresh embedded platform in a temporary folder, migrated."""
    data_dir = tempfile.mkdtemp(prefix="media-analyzer-bench-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "media_analyzer.settings.development",
        "MEDIA_ANALYZER_DATA_DIR": data_dir,
        **extra,
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        if name not in extra:
            env.pop(name, None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=BACKEND, env=env, check=True)
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, str(BACKEND))
    import django

    django.setup()
    return env


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (all its threads, none of its children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its living descendants."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += cpu_seconds(current)
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:
            continue
        pending.extend(int(child) for child in children)
    return total


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its living descendants."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            total += rss_mb(current)
            pending.extend(int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split())
        except FileNotFoundError:
            continue
    return total


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
