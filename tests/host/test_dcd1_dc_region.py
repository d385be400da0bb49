"""QEMU dcd1: a Dynamic Capacity region can be built on each device.

For every DC partition of both devices: an endpoint decoder takes mode
dynamic_ram_N, a region created through create_dynamic_ram_N_region reads
back mode dynamic_ram_N, commits, gets a sparse DAX region, and is torn
down again, leaving no DPA allocated.  Interleave ways other than 1 are
refused.
"""
import dcdlib

TOPOLOGY = "dcd1"
HELPER = "/lab/tests/guest/lib/dc-region"
C = "/sys/bus/cxl/devices"


def cat(vm, path):
    return vm.run("cat %s" % path).out.strip()


def interleave_refused(vm, t, mem):
    """A DC region refuses 2-way interleave, saying why."""
    rd = vm.run("%s root-decoder %s 1" % (HELPER, mem)).out.strip()
    region = cat(vm, "%s/%s/create_dynamic_ram_1_region" % (C, rd))
    r = vm.run("echo %s > %s/%s/create_dynamic_ram_1_region" % (region, C, rd))
    if not t.check("interleave-probe-region-created", r.rc == 0, r.out):
        return
    vm.run("dmesg -c >/dev/null")
    iw = vm.run("echo 2 > %s/%s/interleave_ways" % (C, region))
    log = vm.run("dmesg").out
    t.check("interleave-2-refused", iw.rc != 0 and "Operation not supported" in iw.out and
            "Dynamic Capacity regions support only 1" in log, "%s | %s" % (iw.out, log))
    t.check("interleave-1-accepted",
            vm.run("echo 1 > %s/%s/interleave_ways" % (C, region)).rc == 0, "")
    r = vm.run("echo %s > %s/%s/delete_region" % (region, C, rd))
    t.check("interleave-probe-region-deleted", r.rc == 0, r.out)


def run(vm, t):
    mems = dcdlib.by_serial(dcdlib.memdevs(vm))
    if dcdlib.SERIALS["dcd0"] in mems:
        interleave_refused(vm, t, mems[dcdlib.SERIALS["dcd0"]]["memdev"])
    for name, serial in dcdlib.SERIALS.items():
        m = mems.get(serial)
        if not t.check(name + "-present", m is not None, "no memdev %#x" % serial):
            continue
        mem = m["memdev"]
        for n in sorted(dcdlib.dc_partitions(vm, mem)):
            tag = "%s-dynamic_ram_%d" % (name, n)
            r = vm.run("%s create %s %d" % (HELPER, mem, n))
            if not t.check(tag + "-region-created", r.rc == 0, r.out):
                continue
            region = r.out.strip().splitlines()[-1]
            t.check(tag + "-region-mode", cat(vm, "%s/%s/mode" % (C, region)) == "dynamic_ram_%d" % n,
                    "mode %r" % cat(vm, "%s/%s/mode" % (C, region)))
            ed = cat(vm, "%s/%s/target0" % (C, region))
            t.check(tag + "-decoder-mode", cat(vm, "%s/%s/mode" % (C, ed)) == "dynamic_ram_%d" % n,
                    "%s mode %r" % (ed, cat(vm, "%s/%s/mode" % (C, ed))))
            t.check(tag + "-committed", cat(vm, "%s/%s/commit" % (C, region)) == "1", "")
            dax = vm.run("ls -d %s/%s/dax_region*" % (C, region))
            t.check(tag + "-sparse-dax-region", dax.rc == 0, dax.out)
            r = vm.run("%s destroy %s" % (HELPER, region))
            t.check(tag + "-torn-down", r.rc == 0 and vm.run("test -e %s/%s" % (C, region)).rc != 0,
                    r.out)
            t.check(tag + "-dpa-freed", int(cat(vm, "%s/%s/dpa_size" % (C, ed)) or "-1", 0) == 0,
                    "%s dpa_size %s" % (ed, cat(vm, "%s/%s/dpa_size" % (C, ed))))
