"""Helpers shared by the host-side QEMU DCD tests."""
import json
import time

# QEMU ids and serial numbers of the type 3 devices in the dcd topologies
SERIALS = {"dcd0": 0xdcd0, "dcd1": 0xdcd1}
MiB = 1 << 20


def memdevs(vm, want=2, timeout=60):
    """`cxl list -M` once `want` memdevs have probed (asynchronous)."""
    deadline = time.monotonic() + timeout
    while True:
        r = vm.run("cxl list -M 2>/dev/null")
        try:
            mems = json.loads(r.out) if r.rc == 0 and r.out.strip() else []
        except ValueError:
            mems = []
        if len(mems) >= want or time.monotonic() > deadline:
            return mems
        time.sleep(1)


def by_serial(mems):
    return {m.get("serial"): m for m in mems}


def dc_partitions(vm, memdev):
    """{N: size} of the memdev's memX/dynamic_ram_N partitions."""
    r = vm.run("for d in /sys/bus/cxl/devices/%s/dynamic_ram_*; do "
               "[ -d $d ] && echo ${d##*_} $(cat $d/size); done" % memdev)
    parts = {}
    for line in r.out.splitlines():
        n, size = line.split()
        parts[int(n)] = int(size, 0)
    return parts
