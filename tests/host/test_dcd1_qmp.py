"""QEMU dcd1: QMP add and release of dynamic capacity, end to end.

The base kernel does not handle Dynamic Capacity yet, so the guest plays
the host's part from user space (lab/guest/cxlmbox.py on dcd0 with cxl_pci
unbound): it reads the DC configuration, sees the Add event that the QMP add
raised, accepts the extent, and after the QMP release sees the Release event
and releases it.  Both QMP commands must return success, and the device's
extent list must follow.
"""
import json
import os
import sys

import dcdlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lab"))
import qmp  # noqa: E402

TOPOLOGY = "dcd1"
MBOX = "/lab/lab/guest/cxlmbox.py"


def mbox(vm, bdf, *args):
    r = vm.run(" ".join([MBOX, bdf] + list(args)))
    try:
        return json.loads(r.out)
    except ValueError:
        return {"failed": r.out.strip()}


def qmp_succeeds(vm, t, name, request):
    try:
        ret = vm.qmp(*request)
        return t.check(name, ret == {}, "reply %r" % ret)
    except qmp.QMPError as e:
        t.fail(name, str(e))
        return False


def run(vm, t):
    mems = dcdlib.memdevs(vm)
    dev = dcdlib.by_serial(mems).get(dcdlib.SERIALS["dcd0"])
    if not t.check("dcd0-found", dev is not None, "cxl list -M: %r" % mems):
        return
    bdf = dev["host"]
    r = vm.run("echo %s > /sys/bus/pci/drivers/cxl_pci/unbind" % bdf)
    if not t.check("unbind-cxl_pci", r.rc == 0, r.out):
        return

    cfg = mbox(vm, bdf, "dc-config")
    regions = cfg.get("regions", [])
    t.check("device-reports-two-256MiB-dc-regions",
            len(regions) == 2 and all(g["length"] == 256 * dcdlib.MiB and
                                      g["block_size"] == 2 * dcdlib.MiB for g in regions),
            "dc-config: %r" % cfg)
    if not regions:
        return
    base = regions[0]["base"]
    ext = "%#x:%#x" % (base, 2 * dcdlib.MiB)

    qmp_succeeds(vm, t, "qmp-add-returns-success", qmp.dc_add("dcd0", 0, "0:2M"))
    ev = mbox(vm, bdf, "events", "--clear")
    recs = ev.get("records", [])
    t.check("add-event-raised", any(x["type"] == 0 and x["dpa"] == base and
                                    x["length"] == 2 * dcdlib.MiB and x["more"] == 0
                                    for x in recs), "events: %r" % ev)
    acc = mbox(vm, bdf, "dc-accept", ext)
    lst = mbox(vm, bdf, "dc-extents")
    t.check("extent-accepted", acc.get("sent") == 1 and
            [(x["dpa"], x["length"]) for x in lst.get("extents", [])] == [(base, 2 * dcdlib.MiB)],
            "accept %r, list %r" % (acc, lst))

    qmp_succeeds(vm, t, "qmp-release-returns-success", qmp.dc_release("dcd0", 0, "0:2M"))
    ev = mbox(vm, bdf, "events", "--clear")
    t.check("release-event-raised", any(x["type"] == 1 and x["dpa"] == base
                                        for x in ev.get("records", [])), "events: %r" % ev)
    rel = mbox(vm, bdf, "dc-release", ext)
    lst = mbox(vm, bdf, "dc-extents")
    t.check("extent-released", rel.get("sent") == 1 and lst.get("extents") == [],
            "release %r, list %r" % (rel, lst))

    # QEMU refuses what no device could do: an extent past the region's end.
    try:
        vm.qmp(*qmp.dc_add("dcd0", 0, "1G:2M"))
        t.fail("out-of-range-add-refused", "QEMU accepted an extent outside the region")
    except qmp.QMPError:
        t.ok("out-of-range-add-refused")

    r = vm.run("echo %s > /sys/bus/pci/drivers/cxl_pci/bind && udevadm settle" % bdf)
    t.check("rebind-cxl_pci", r.rc == 0 and len(dcdlib.memdevs(vm)) == 2, r.out)
