"""QEMU dcd1: capacity under online memory is never given back.

kmem onlines a dax device's memory as System RAM and is then unbound
without taking it offline: kmem leaves it "stuck online until reboot",
and the dax device cannot be destroyed.  A release the device asks for
waits for it.  Unbinding the cxl region kills the dax device, which pins
its extent.  From then on no path may release that capacity: not the
release that waited, nor a release asked after that.  Bound again, the
region has no dax region (the core leaves out a region with online
System RAM in it), so the capacity is offered to nobody.  The evidence is the device's own extent list (read with
cxl_pci unbound, after the test took the memory offline by hand) and the
engine's debug line for every Release Dynamic Capacity it sends.

The pinned memory stays in the guest until it reboots: this test runs last
in its boot (the file name sorts last among the dcd1 tests).
"""
import os
import re
import sys
import time

import dcdlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lab"))
import qmp  # noqa: E402

from test_dcd1_extents import host_view, wait_view, create, device_view  # noqa: E402
from test_dcd1_extents_dax import created  # noqa: E402

TOPOLOGY = "dcd1"
C = "/sys/bus/cxl/devices"
MiB = dcdlib.MiB
SIZE = 128 * MiB


def said(vm, pattern, count=1, timeout=60):
    """Wait until the kernel log has `count` lines matching `pattern`."""
    deadline = time.monotonic() + timeout
    while True:
        log = vm.run("dmesg").out
        n = len([line for line in log.splitlines() if re.search(pattern, line)])
        if n >= count or time.monotonic() > deadline:
            return n


def released(vm):
    """The engine's debug lines for Release Dynamic Capacity commands sent."""
    return [line for line in vm.run("dmesg").out.splitlines() if "released DC" in line]


def run(vm, t):
    mems = dcdlib.by_serial(dcdlib.memdevs(vm))
    dcd0 = mems.get(dcdlib.SERIALS["dcd0"])
    if not t.check("memdev-found", dcd0, "%r" % mems):
        return
    vm.run("dmesg -C")
    r = vm.run("echo 'file extent.c +p' > /proc/dynamic_debug/control && "
               "grep -c 'extent.c:[0-9]* .*=p ' /proc/dynamic_debug/control")
    if not t.check("engine-debug-on", r.rc == 0 and int(r.out or 0) > 0, r.out):
        return
    region = create(vm, t, "region-created", dcd0["memdev"], 1)
    if not region:
        return
    rid = region[len("region"):]

    vm.qmp(*qmp.dc_add("dcd0", 0, "0:128M"))
    want = [(0, SIZE)]
    got = wait_view(vm, region, want)
    t.check("extent-added", got == want, "extents %r" % got)
    r = vm.run("daxctl create-device -r %s -s 128M" % rid)
    dev = created(r.out)
    if not t.check("device-created", dev is not None, r.out):
        return
    r = vm.run("daxctl reconfigure-device -m system-ram %s" % dev)
    online = vm.run("daxctl list -d %s" % dev).out.replace(" ", "")
    if not t.check("memory-online", r.rc == 0 and '"online_memblocks":1' in online,
                   r.out + online):
        return
    # the memory blocks, for taking them offline by hand at the end
    start = int(vm.run("cat %s/%s/resource" % (C, region)).out, 0)
    bsize = int(vm.run("cat /sys/devices/system/memory/block_size_bytes").out, 16)
    blocks = ["memory%d" % ((start + i * bsize) // bsize) for i in range(SIZE // bsize)]

    # kmem lets go of the device with its memory still online
    vm.run("echo %s > /sys/bus/dax/drivers/kmem/unbind" % dev)
    t.check("kmem-leaves-memory-online",
            said(vm, "stuck online until reboot", timeout=30) >= 1,
            vm.run("dmesg | tail -5").out)
    r = vm.run("daxctl destroy-device %s" % dev)
    t.check("device-not-destroyed", r.rc != 0, r.out)

    # bound: the device asks for it back; the release waits for the device
    vm.qmp(*qmp.dc_release("dcd0", 0, "0:128M"))
    t.check("release-waits-while-bound",
            said(vm, r"release of DC (0x)?0-0x7ffffff waits for its users", timeout=60) >= 1,
            vm.run("dmesg | tail -5").out)

    # unbound: the dax device goes, its extent is pinned, and what waited
    # is refused instead of going out with the region's extents
    r = vm.run("echo %s > /sys/bus/cxl/drivers/cxl_region/unbind" % region)
    t.check("region-unbound", r.rc == 0, r.out)
    t.check("extent-pinned", said(vm, "still online: extent", timeout=30) >= 1,
            vm.run("dmesg | tail -5").out)
    t.check("waiting-release-refused", said(vm, "refused: its memory", timeout=60) >= 1,
            vm.run("dmesg | tail -5").out)
    # unbound: a release asked now is refused as well
    try:
        vm.qmp(*qmp.dc_release("dcd0", 0, "0:128M"))
        t.check("release-refused-after-unbind",
                said(vm, "refused: its memory", count=2, timeout=60) >= 2,
                vm.run("dmesg | tail -5").out)
    except qmp.QMPError as e:
        t.fail("release-refused-after-unbind", "the device no longer has it: %s" % e)
    rel = released(vm)
    t.check("no-release-sent", rel == [], "\n".join(rel))

    # bound again: a region with online System RAM in it is not managed
    # (cxl_region_probe() leaves out its dax region): the pinned capacity
    # is offered to nobody, and new capacity is rejected, not accepted
    r = vm.run("echo %s > /sys/bus/cxl/drivers/cxl_region/bind" % region)
    t.check("region-bound-again", r.rc == 0, r.out)
    r = vm.run("ls -d %s/%s/dax_region* 2>/dev/null; readlink %s/%s/driver"
               % (C, region, C, region))
    t.check("no-dax-region-over-online-memory",
            "dax_region" not in r.out and r.out.strip().endswith("cxl_region"), r.out)
    vm.qmp(*qmp.dc_add("dcd0", 0, "128M:64M"))
    t.check("new-capacity-rejected",
            said(vm, "0x8000000\\+0x4000000 rejected: not mapped", timeout=60) >= 1,
            vm.run("dmesg | tail -5").out)

    # the device still has it: read its list with the memory offline
    off = vm.run("for b in %s; do echo offline > /sys/devices/system/memory/$b/state; done"
                 % " ".join(blocks))
    t.check("offlined-by-hand", off.rc == 0, off.out)
    dev_view = device_view(vm, dcd0["host"])
    t.check("device-keeps-capacity", dev_view == [(0, SIZE)], "device %r" % dev_view)
    rel = released(vm)
    t.check("no-release-sent-at-all", rel == [], "\n".join(rel))
    log = vm.run("dmesg | grep -E 'WARNING|BUG|Call Trace'").out
    t.check("no-warnings", not log.strip(), log)
