"""QEMU dcd1: capacity added over QMP becomes region extents.

With a DC region over dcd0's first DC partition, QMP adds of one extent and
of a group of eight appear as extentR.N devices with the offsets and
lengths added; a group too large for QEMU's 8-record event log loses its
closing record and is rejected, after which the device takes new groups
again; a QMP release gives capacity back (all or part of an extent); a DC
region on dcd1's second partition places QEMU's records by DPA (QEMU says
region 0 for all of them).  A region torn down leaves its extents accepted
by the device (read from user space with cxl_pci unbound), and a new
region finds them again.  Everything is released at the end, so that the
devices are empty for the next test.
"""
import json
import os
import sys
import time

import dcdlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lab"))
import qmp  # noqa: E402

TOPOLOGY = "dcd1"
HELPER = "/lab/tests/guest/lib/dc-region"
MBOX = "/lab/lab/guest/cxlmbox.py"
C = "/sys/bus/cxl/devices"
MiB = dcdlib.MiB


def host_view(vm, region):
    """[(offset, length)] of the region's extents, sorted."""
    r = vm.run("for e in %s/%s/dax_region*/extent*; do [ -e $e ] && "
               "echo $(cat $e/offset) $(cat $e/length); done" % (C, region))
    return sorted((int(o, 0), int(n, 0)) for o, n in
                  (line.split() for line in r.out.splitlines() if line.strip()))


def wait_view(vm, region, want, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        got = host_view(vm, region)
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(1)


def create(vm, t, name, mem, n):
    r = vm.run("%s create %s %d" % (HELPER, mem, n))
    if not t.check(name, r.rc == 0, r.out):
        return None
    return r.out.strip().splitlines()[-1]


def dcd0_region(vm, t):
    """dcd0's memdev and a new region over its first DC partition, the
    kernel log cleared; (None, None) when either is missing."""
    mems = dcdlib.by_serial(dcdlib.memdevs(vm))
    dcd0 = mems.get(dcdlib.SERIALS["dcd0"])
    if not t.check("memdev-found", dcd0, "%r" % mems):
        return None, None
    vm.run("dmesg -C")
    return dcd0, create(vm, t, "region-created", dcd0["memdev"], 1)


def device_view(vm, bdf):
    """The device's accepted extents, read with cxl_pci unbound."""
    vm.run("echo %s > /sys/bus/pci/drivers/cxl_pci/unbind" % bdf)
    r = vm.run("%s %s dc-extents" % (MBOX, bdf))
    vm.run("echo %s > /sys/bus/pci/drivers/cxl_pci/bind && udevadm settle" % bdf)
    dcdlib.memdevs(vm)
    try:
        return sorted((x["dpa"], x["length"]) for x in json.loads(r.out)["extents"])
    except (ValueError, KeyError):
        return r.out


def run(vm, t):
    mems = dcdlib.by_serial(dcdlib.memdevs(vm))
    dcd0, dcd1 = mems.get(dcdlib.SERIALS["dcd0"]), mems.get(dcdlib.SERIALS["dcd1"])
    if not t.check("memdevs-found", dcd0 and dcd1, "%r" % mems):
        return
    vm.run("dmesg -C")
    region = create(vm, t, "dcd0-region-created", dcd0["memdev"], 1)
    if not region:
        return

    # dcd0 is DC only: its region 0 starts at DPA 0, the region maps it all
    vm.qmp(*qmp.dc_add("dcd0", 0, "0:2M"))
    want = [(0, 2 * MiB)]
    got = wait_view(vm, region, want)
    t.check("add-1-extent", got == want, "extents %r" % got)

    eight = ",".join("%dM:4M" % (16 + 8 * i) for i in range(8))
    vm.qmp(*qmp.dc_add("dcd0", 0, eight))
    want += [((16 + 8 * i) * MiB, 4 * MiB) for i in range(8)]
    got = wait_view(vm, region, want)
    t.check("add-group-of-8", got == want, "extents %r" % got)

    # Ten records: QEMU's log keeps eight and loses the closing one
    ten = ",".join("%dM:2M" % (128 + 4 * i) for i in range(10))
    vm.qmp(*qmp.dc_add("dcd0", 0, ten))
    deadline = time.monotonic() + 30
    while "closing record was lost" not in vm.run("dmesg").out and time.monotonic() < deadline:
        time.sleep(1)
    log = vm.run("dmesg | grep -E 'lost|rejected whole'").out
    t.check("too-large-group-rejected", "closing record was lost" in log, log)
    got = host_view(vm, region)
    t.check("too-large-group-not-added", got == want, "extents %r" % got)
    vm.qmp(*qmp.dc_add("dcd0", 0, "200M:2M"))
    want.append((200 * MiB, 2 * MiB))
    got = wait_view(vm, region, want)
    t.check("device-takes-groups-again", got == want, "extents %r" % got)

    # Release: a whole extent, then half of another (it is split)
    vm.qmp(*qmp.dc_release("dcd0", 0, "0:2M"))
    want.remove((0, 2 * MiB))
    got = wait_view(vm, region, want)
    t.check("release-whole-extent", got == want, "extents %r" % got)
    vm.qmp(*qmp.dc_release("dcd0", 0, "16M:2M"))
    want.remove((16 * MiB, 4 * MiB))
    want = sorted(want + [(18 * MiB, 2 * MiB)])
    got = wait_view(vm, region, want)
    t.check("release-part-splits", got == want, "extents %r" % got)

    # dcd1: 256M ram, then DC region 1 at 512M; QEMU says region index 0
    region1 = create(vm, t, "dcd1-region-created", dcd1["memdev"], 2)
    if region1:
        vm.qmp(*qmp.dc_add("dcd1", 1, "4M:2M"))
        got = wait_view(vm, region1, [(4 * MiB, 2 * MiB)])
        t.check("dcd1-region1-extent-placed-by-dpa", got == [(4 * MiB, 2 * MiB)],
                "extents %r" % got)
        vm.qmp(*qmp.dc_release("dcd1", 1, "4M:2M"))
        got = wait_view(vm, region1, [])
        t.check("dcd1-region1-extent-released", got == [], "extents %r" % got)
        t.check("dcd1-region-destroyed",
                vm.run("%s destroy %s" % (HELPER, region1)).rc == 0, "")

    # Region teardown keeps the capacity accepted; a new region finds it
    r = vm.run("%s destroy %s" % (HELPER, region))
    t.check("region-destroyed-with-extents", r.rc == 0, r.out)
    dev = device_view(vm, dcd0["host"])
    t.check("device-keeps-extents", dev == want, "device %r, host had %r" % (dev, want))
    region = create(vm, t, "region-created-again", dcd0["memdev"], 1)
    if region:
        got = wait_view(vm, region, want)
        t.check("existing-extents-found", got == want, "extents %r" % got)
        # give everything back: the next test wants an empty device
        # (a few at a time: QEMU's event log holds eight records)
        for i in range(0, len(want), 4):
            vm.qmp(*qmp.dc_release("dcd0", 0, ",".join("%d:%d" % x for x in want[i:i + 4])))
            time.sleep(2)
        got = wait_view(vm, region, [])
        t.check("all-released", got == [], "extents %r" % got)
        vm.run("%s destroy %s" % (HELPER, region))
    dev = device_view(vm, dcd0["host"])
    t.check("device-empty", dev == [], "device %r" % dev)

    log = vm.run("dmesg | grep -iE 'cxl|dynamic' | grep -iE 'fail|error'").out
    t.check("no-errors-logged", not log.strip(), log)
