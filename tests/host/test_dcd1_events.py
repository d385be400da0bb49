"""QEMU dcd1: QMP Dynamic Capacity adds reach the guest kernel as events.

The device raises the Dynamic Capacity event interrupt; the driver drains
the DC log and traces every record as cxl_dynamic_capacity, in the order
the device logged them, with the group's More flags, the region index and
the extent (DPA is the region base plus the QMP offset).  With no DC
region to map them, the extents are rejected, each with one message.
"""
import re
import time

import dcdlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lab"))
import qmp  # noqa: E402

TOPOLOGY = "dcd1"
T = "/sys/kernel/tracing"
REC = re.compile(r"cxl_dynamic_capacity: memdev=(\S+) .*log=Dynamic Capacity .*"
                 r"event_type='([^']+)' .*region_index=(\d+) flags=(\S+) "
                 r"dpa=(\S+) length=(\S+) tag=(\S+) shared_extent_sequence=(\d+)")


def traced(vm, want, timeout=20):
    """The cxl_dynamic_capacity records in the trace buffer, once `want` are there."""
    deadline = time.monotonic() + timeout
    while True:
        out = vm.run("cat %s/trace" % T).out
        recs = [m.groups() for m in REC.finditer(out)]
        if len(recs) >= want or time.monotonic() > deadline:
            return recs
        time.sleep(1)




def run(vm, t):
    mems = dcdlib.by_serial(dcdlib.memdevs(vm))
    dcd0, dcd1 = mems.get(dcdlib.SERIALS["dcd0"]), mems.get(dcdlib.SERIALS["dcd1"])
    if not t.check("memdevs-found", dcd0 and dcd1, "%r" % mems):
        return
    r = vm.run("mountpoint -q %s || mount -t tracefs nodev %s; "
               "echo 1 > %s/events/cxl/cxl_dynamic_capacity/enable && echo > %s/trace"
               % (T, T, T, T))
    if not t.check("trace-event-enabled", r.rc == 0, r.out):
        return

    # dcd0 is DC only: region 0 at DPA 0, region 1 at 256M
    vm.qmp(*qmp.dc_add("dcd0", 0, "0:2M,4M:2M,8M:4M"))
    recs = traced(vm, 3)
    want = [(dcd0["memdev"], "Add capacity", "0", "0x1", "0x0", "0x200000"),
            (dcd0["memdev"], "Add capacity", "0", "0x1", "0x400000", "0x200000"),
            (dcd0["memdev"], "Add capacity", "0", "0x0", "0x800000", "0x400000")]
    t.check("dcd0-add-group-traced-in-order", [r[:6] for r in recs] == want,
            "traced %r" % recs)
    t.check("untagged-extent-tag-zero",
            recs and all(r[6] == "00000000-0000-0000-0000-000000000000" for r in recs),
            "%r" % recs)

    # dcd1 has 256M static ram: its region 1 starts at 256M + 256M.
    # QEMU 11.1 leaves the record's region index at 0 for adds to any
    # region (lab/guest/cxlmbox.py reads the same raw record): the trace
    # shows what the device sent; the DPA places the extent.
    vm.run("echo > %s/trace" % T)
    vm.qmp(*qmp.dc_add("dcd1", 1, "2M:2M"))
    recs = traced(vm, 1)
    t.check("dcd1-region1-add-traced",
            [r[:2] + r[3:6] for r in recs] == [(dcd1["memdev"], "Add capacity", "0x0",
                                                "0x20200000", "0x200000")],
            "traced %r" % recs)
    log = vm.run("dmesg | grep -iE 'cxl|dynamic' | grep -iE 'error|fail|lost|warn'").out
    t.check("no-event-errors-logged", not log.strip(), log)

    # No DC region maps the capacity: the driver rejects both groups
    # (one message an extent), so the devices have nothing pending.
    deadline = time.monotonic() + 30
    want = ["%#x+0x200000 rejected: not mapped" % d for d in (0, 0x400000, 0x20200000)]
    want.append("0x800000+0x400000 rejected: not mapped")
    while True:
        log = vm.run("dmesg | grep 'rejected: not mapped'").out
        if all(w in log for w in want) or time.monotonic() > deadline:
            break
        time.sleep(1)
    t.check("groups-rejected-without-dc-region", all(w in log for w in want), log)
