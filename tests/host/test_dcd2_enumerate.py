"""QEMU dcd2: two DC-only devices enumerate behind one host bridge."""
import dcdlib

TOPOLOGY = "dcd2"


def run(vm, t):
    mems = dcdlib.memdevs(vm)
    t.check("two-memdevs", len(mems) == 2, "cxl list -M: %r" % mems)
    r = vm.run("for m in /sys/bus/cxl/devices/mem*; do readlink -f $m; done")
    roots = {p.split("/")[3] for p in r.out.split() if p.startswith("/sys/devices/pci")}
    t.check("one-host-bridge", len(roots) == 1 and len(r.out.split()) == 2,
            "memdev paths: %s" % r.out.strip())
    for dev, serial in dcdlib.SERIALS.items():
        m = dcdlib.by_serial(mems).get(serial, {})
        t.check(dev + "-dc-only", m and not m.get("ram_size") and not m.get("pmem_size"), "%r" % m)
