"""Machine facts for the benchmarks' results files (imported by the scripts'
report code, which runs from the checkout's root): the numbers of a shared
build machine mean little without them."""
import os
import platform
import subprocess


def version(cmd):
    """The first line a tool prints for CMD (e.g. ["restic", "version"]); "?" when it does not run."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception:
        return "?"


def machine():
    """Cores, CPU model, RAM and kernel, as one phrase."""
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem_kib = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    return f"{os.cpu_count()} cores ({cpu}), {mem_kib / 2**20:.1f} GiB RAM, Linux {platform.release()}"
