"""Small helpers the client benchmark scripts share.

option(args, name, default): the value after `name` in `args`, converted to
default's type, or `default` when the flag is absent.
cpu_seconds(pid): the process's user + system CPU time (all its threads).
status_kib(pid, key): a kB field of /proc/PID/status, e.g. VmRSS or VmHWM.
"""
import os
import re

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def option(args, name, default):
    return type(default)(args[args.index(name) + 1]) if name in args else default


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^%s:\s+(\d+) kB" % key, f.read(), re.M)
    return int(m.group(1))
