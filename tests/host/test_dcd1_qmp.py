"""QEMU dcd1: QMP add and release of dynamic capacity return success.

The base kernel does not read the Dynamic Capacity event log yet, so the
added extent stays pending on the device; what this proves is the lab's
side: QEMU's DCD emulation and the QMP client.
"""
import os
import sys

import dcdlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lab"))
import qmp  # noqa: E402

TOPOLOGY = "dcd1"


def run(vm, t):
    dcdlib.memdevs(vm)
    for dev in ("dcd0", "dcd1"):
        try:
            ret = vm.qmp(*qmp.dc_add(dev, 0, "0:2M"))
            t.check(dev + "-add-returns-success", ret == {}, "reply %r" % ret)
        except qmp.QMPError as e:
            t.fail(dev + "-add-returns-success", str(e))
    try:
        ret = vm.qmp(*qmp.dc_release("dcd0", 0, "0:2M"))
        t.check("dcd0-release-returns-success", ret == {}, "reply %r" % ret)
    except qmp.QMPError as e:
        t.fail("dcd0-release-returns-success", str(e))
    # a request QEMU must refuse: an extent past the end of the region
    try:
        vm.qmp(*qmp.dc_add("dcd0", 0, "1G:2M"))
        t.fail("out-of-range-add-refused", "QEMU accepted an extent outside the region")
    except qmp.QMPError as e:
        t.ok("out-of-range-add-refused")
