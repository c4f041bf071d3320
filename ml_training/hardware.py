"""What this CPU can do, read once: training speed depends on it more than on the core count."""

from __future__ import annotations

import functools
import platform
from pathlib import Path

# Native bfloat16 arithmetic (AMX on Sapphire Rapids and newer, or AVX-512 BF16). Without one of
# them oneDNN has no fast bfloat16 kernels, and mixed precision would cost instead of save.
BFLOAT16_FLAGS = ("amx_bf16", "avx512_bf16")


@functools.cache
def cpu_info() -> tuple[str, frozenset[str]]:
    """The CPU's model name and its feature flags (none known outside Linux)."""
    model, flags = platform.processor() or platform.machine(), frozenset()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = frozenset(value.split())
                break
    except OSError:  # not Linux: the platform's name is all there is
        pass
    return model, flags


def native_bfloat16() -> bool:
    """Whether training in mixed bfloat16 pays on this CPU."""
    return any(flag in cpu_info()[1] for flag in BFLOAT16_FLAGS)
