"""What the benches say about the machine they ran on."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo ('unknown CPU' where there is none)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def add_server_env_option(parser: argparse.ArgumentParser) -> None:
    """``--server-env NAME=VALUE`` (repeatable): a variable for the server processes alone."""
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="for the server only, e.g. MALLOC_ARENA_MAX=2 or GLIBC_TUNABLES=glibc.malloc.tcache_count=0",
    )


def server_settings(settings: list[str]) -> dict[str, str]:
    """The ``--server-env`` settings as a mapping."""
    return dict(setting.split("=", 1) for setting in settings)
