"""QEMU dcd1: capacity under online memory is never given back.

Two 128M extents, A and B, each become a dax device that kmem onlines as
System RAM; kmem is then unbound without taking it offline, so it stays
"stuck online until reboot" and the dax devices cannot be destroyed.  The
device asks for B back: the release waits for B's dax device.  Removing
dax_cxl kills both dax devices with their memory online, which pins both
extents.  From then on no path may release that capacity or hand it out
again: not B's release that waited; not A to a dax device once dax_cxl
is back (A has no release pending that would refuse it by chance); not a
release of A asked while the region is bound or after it is unbound.
Bound again, the region has no dax region (the core leaves out a region
with online System RAM in it).  The evidence is the device's own extent
list (read with cxl_pci unbound, after the test took the memory offline
by hand) and the engine's debug line for every Release Dynamic Capacity
it sends.

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

from test_dcd1_extents import wait_view, device_view, dcd0_region  # noqa: E402
from test_dcd1_extents_dax import created  # noqa: E402

TOPOLOGY = "dcd1"
C = "/sys/bus/cxl/devices"
MiB = dcdlib.MiB
SIZE = 128 * MiB
A, B = (0, SIZE), (SIZE, SIZE)
REFUSED_A = "release of DC (0x)?0-0x7ffffff refused: its memory"
REFUSED_B = "release of DC 0x8000000-0xfffffff refused: its memory"


def said(vm, pattern, count=1, timeout=60):
    """Wait until the kernel log has `count` lines matching `pattern`."""
    deadline = time.monotonic() + timeout
    while True:
        log = vm.run("dmesg").out
        n = len([line for line in log.splitlines() if re.search(pattern, line)])
        if n >= count or time.monotonic() > deadline:
            return n
        time.sleep(0.5)


def released(vm):
    """The engine's debug lines for Release Dynamic Capacity commands sent."""
    return [line for line in vm.run("dmesg").out.splitlines() if "released DC" in line]


def online_stuck(vm, t, rid, name):
    """A 128M dax device onlined by kmem, kmem then unbound: stuck online."""
    r = vm.run("daxctl create-device -r %s -s 128M" % rid)
    dev = created(r.out)
    if not t.check("%s-device-created" % name, dev is not None, r.out):
        return None
    r = vm.run("daxctl reconfigure-device -m system-ram %s" % dev)
    online = vm.run("daxctl list -d %s" % dev).out.replace(" ", "")
    if not t.check("%s-online" % name, r.rc == 0 and '"online_memblocks":1' in online,
                   r.out + online):
        return None
    n = said(vm, "stuck online until reboot", timeout=0)
    vm.run("echo %s > /sys/bus/dax/drivers/kmem/unbind" % dev)
    t.check("%s-stuck-online" % name,
            said(vm, "stuck online until reboot", count=n + 1, timeout=30) > n,
            vm.run("dmesg | tail -5").out)
    r = vm.run("daxctl destroy-device %s" % dev)
    t.check("%s-device-not-destroyed" % name, r.rc != 0, r.out)
    return dev


def run(vm, t):
    dcd0, region = dcd0_region(vm, t)
    if not region:
        return
    r = vm.run("echo 'file extent.c +p' > /proc/dynamic_debug/control && "
               "grep -c 'extent.c:[0-9]* .*=p ' /proc/dynamic_debug/control")
    if not t.check("engine-debug-on", r.rc == 0 and int(r.out or 0) > 0, r.out):
        return
    rid = region[len("region"):]

    vm.qmp(*qmp.dc_add("dcd0", 0, "0:128M"))
    vm.qmp(*qmp.dc_add("dcd0", 0, "128M:128M"))
    want = [A, B]
    got = wait_view(vm, region, want)
    t.check("extents-added", got == want, "extents %r" % got)
    if not (online_stuck(vm, t, rid, "a") and online_stuck(vm, t, rid, "b")):
        return
    # the memory blocks, for taking them offline by hand at the end
    start = int(vm.run("cat %s/%s/resource" % (C, region)).out, 0)
    bsize = int(vm.run("cat /sys/devices/system/memory/block_size_bytes").out, 16)
    blocks = ["memory%d" % ((start + i * bsize) // bsize) for i in range(2 * SIZE // bsize)]

    # bound: the device asks for B back; the release waits for B's device
    vm.qmp(*qmp.dc_release("dcd0", 0, "128M:128M"))
    t.check("release-waits-while-bound",
            said(vm, "release of DC 0x8000000-0xfffffff waits for its users",
                 timeout=60) >= 1, vm.run("dmesg | tail -5").out)

    # dax_cxl goes: the dax devices go, their memory stays online, the
    # extents are pinned, and the release that waited is refused
    r = vm.run("rmmod dax_cxl")
    t.check("dax_cxl-removed", r.rc == 0, r.out)
    t.check("extents-pinned", said(vm, "still online: extent", count=2, timeout=30) >= 2,
            vm.run("dmesg | tail -5").out)
    t.check("waiting-release-refused", said(vm, REFUSED_B, timeout=60) >= 1,
            vm.run("dmesg | tail -5").out)
    # dax_cxl back: the region's dax region has the extents, but no dax
    # device gets memory that is online
    r = vm.run("modprobe dax_cxl && udevadm settle; for _ in $(seq 100); do "
               "[ -e %s/%s/dax_region%s/driver ] && break; sleep 0.1; done; "
               "readlink %s/%s/dax_region%s/driver" % (C, region, rid, C, region, rid))
    t.check("dax_cxl-back", r.out.strip().endswith("cxl_dax_region"), r.out)
    r = vm.run("daxctl create-device -r %s -s 2M" % rid)
    sizes = vm.run("cat /sys/bus/dax/devices/dax%s.*/size" % rid).out.split()
    t.check("online-memory-not-handed-out",
            created(r.out) is None and sizes and all(x == "0" for x in sizes),
            "%s\nsizes %r" % (r.out, sizes))
    # bound: a release of A is refused at once, not made to wait
    vm.qmp(*qmp.dc_release("dcd0", 0, "0:128M"))
    t.check("release-refused-while-bound", said(vm, REFUSED_A, timeout=60) >= 1,
            vm.run("dmesg | tail -5").out)

    # unbound: nothing goes out with the region's extents, and a release
    # asked now is refused as well
    r = vm.run("echo %s > /sys/bus/cxl/drivers/cxl_region/unbind" % region)
    t.check("region-unbound", r.rc == 0, r.out)
    n = said(vm, REFUSED_A, timeout=0)
    try:
        vm.qmp(*qmp.dc_release("dcd0", 0, "0:128M"))
        t.check("release-refused-after-unbind",
                said(vm, REFUSED_A, count=n + 1, timeout=60) > n,
                vm.run("dmesg | tail -5").out)
    except qmp.QMPError as e:
        t.fail("release-refused-after-unbind", "the device no longer has it: %s" % e)
    rel = released(vm)
    t.check("no-release-sent", rel == [], "\n".join(rel))

    # bound again: a region with online System RAM in it is not managed
    # (cxl_region_probe() leaves out its dax region): the pinned capacity
    # is offered to nobody
    r = vm.run("echo %s > /sys/bus/cxl/drivers/cxl_region/bind" % region)
    t.check("region-bound-again", r.rc == 0, r.out)
    r = vm.run("ls -d %s/%s/dax_region* 2>/dev/null; readlink %s/%s/driver"
               % (C, region, C, region))
    t.check("no-dax-region-over-online-memory",
            "dax_region" not in r.out and r.out.strip().endswith("cxl_region"), r.out)

    # the device still has both: read its list with the memory offline
    off = vm.run("for b in %s; do echo offline > /sys/devices/system/memory/$b/state; done"
                 % " ".join(blocks))
    t.check("offlined-by-hand", off.rc == 0, off.out)
    dev_view = device_view(vm, dcd0["host"])
    t.check("device-keeps-capacity", dev_view == [A, B], "device %r" % dev_view)
    rel = released(vm)
    t.check("no-release-sent-at-all", rel == [], "\n".join(rel))
    log = vm.run("dmesg | grep -E 'WARNING|BUG|Call Trace'").out
    t.check("no-warnings", not log.strip(), log)
