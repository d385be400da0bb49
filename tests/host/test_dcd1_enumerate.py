"""QEMU dcd1: both DC-capable type 3 devices enumerate as CXL memdevs."""
import dcdlib

TOPOLOGY = "dcd1"


def run(vm, t):
    mems = dcdlib.memdevs(vm)
    t.check("two-memdevs", len(mems) == 2, "cxl list -M: %r" % mems)
    devs = dcdlib.by_serial(mems)
    dc_only = devs.get(dcdlib.SERIALS["dcd0"], {})
    with_ram = devs.get(dcdlib.SERIALS["dcd1"], {})
    t.check("dc-only-device-no-static-capacity",
            dc_only and not dc_only.get("ram_size") and not dc_only.get("pmem_size"),
            "dcd0: %r" % dc_only)
    t.check("ram-device-256MiB-static-ram", with_ram.get("ram_size") == 256 * dcdlib.MiB,
            "dcd1: %r" % with_ram)

    # QEMU was given 512M of DC backend and two DC regions per device
    for name, serial in dcdlib.SERIALS.items():
        m = devs.get(serial)
        if not m:
            t.fail(name + "-two-dc-partitions-256MiB", "no memdev")
            continue
        parts = dcdlib.dc_partitions(vm, m["memdev"])
        t.check(name + "-two-dc-partitions-256MiB",
                parts == {1: 256 * dcdlib.MiB, 2: 256 * dcdlib.MiB},
                "%s dynamic_ram_N sizes: %r" % (m["memdev"], parts))
