"""QEMU dcd1: both DC-capable type 3 devices enumerate as CXL memdevs."""
import dcdlib

TOPOLOGY = "dcd1"


def run(vm, t):
    mems = dcdlib.memdevs(vm)
    t.check("two-memdevs", len(mems) == 2, "cxl list -M: %r" % mems)
    devs = dcdlib.by_serial(mems)
    dc_only = devs.get(dcdlib.SERIALS["dcd0"], {})
    with_ram = devs.get(dcdlib.SERIALS["dcd1"], {})
    if dc_only.get("ram_size") == 1:
        # Known base-kernel bug: with no partition at all, cxl_ram_size()
        # reads the zeroed part[0] (mode RAM, res [0, 0]) and reports 1 byte.
        # The DC partition work (kernel series part 1) fixes it; this skip
        # then turns into a pass.
        t.skip("dc-only-device-no-static-capacity",
               "known base bug: ram_size 0x1 for a device without static capacity")
    else:
        t.check("dc-only-device-no-static-capacity",
                dc_only and not dc_only.get("ram_size") and not dc_only.get("pmem_size"),
                "dcd0: %r" % dc_only)
    t.check("ram-device-256MiB-static-ram", with_ram.get("ram_size") == 256 * dcdlib.MiB,
            "dcd1: %r" % with_ram)
