"""QEMU dcd1: dax devices carved from Dynamic Capacity extents.

A DC region over dcd0's first DC partition gets two extents over QMP; the
stock daxctl creates one dax device across both, and a pattern written
through an mmap of /dev/daxX.Y reads back.  A release QEMU asks for while
the device is mapped waits until the device is destroyed.  A forced release
is tried too, but QEMU 11.1 refuses forced removal (cxl_test covers it).  A
128M extent is onlined as system RAM with kmem, a release waits while it is
online, and completes once it is offlined and the device destroyed.  The
device is empty at the end (read with cxl_pci unbound).
"""
import json
import os
import sys
import time
from importlib.machinery import SourceFileLoader

import dcdlib

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lab"))
import qmp  # noqa: E402

TOPOLOGY = "dcd1"
HELPER = "/lab/tests/guest/lib/dc-region"
MAP = "/lab/tests/guest/lib/dax-map"
C = "/sys/bus/cxl/devices"
D = "/sys/bus/dax/devices"
MiB = dcdlib.MiB

# extents_test's helpers: the host's view of the region, the device's
from test_dcd1_extents import host_view, wait_view, device_view, dcd0_region  # noqa: E402


def dax_devices(vm, rid):
    """{name: (size, mode)} of the region's dax devices, from daxctl."""
    r = vm.run("daxctl list -D -r %s" % rid)
    try:
        return {d["chardev"]: (d["size"], d.get("mode")) for d in json.loads(r.out or "[]")}
    except ValueError:
        return {}


def created(out):
    try:
        return json.loads(out[out.index("["):])[0]["chardev"]
    except (ValueError, KeyError, IndexError):
        return None


def hold(vm, dev, size, tag):
    """Map and touch the whole device in the background until told to go."""
    vm.run("rm -f /tmp/go-%s /tmp/rc-%s; setsid sh -c '%s /dev/%s %d hold /tmp/go-%s "
           ">/tmp/out-%s 2>&1; echo $? > /tmp/rc-%s' </dev/null >/dev/null 2>&1 &"
           % (tag, tag, MAP, dev, size, tag, tag, tag))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "mapped" in vm.run("cat /tmp/out-%s 2>/dev/null" % tag).out:
            return True
        time.sleep(0.5)
    return False


def let_go(vm, tag):
    """Tell the holder to touch its mapping again; its exit status."""
    vm.run("touch /tmp/go-%s" % tag)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = vm.run("cat /tmp/rc-%s 2>/dev/null" % tag)
        if r.out.strip():
            return int(r.out)
        time.sleep(0.5)
    return None


# dax-map's own pattern (the first 8 bytes of the page at a device offset)
word = SourceFileLoader("dax_map", os.path.join(os.path.dirname(__file__), "..", "guest", "lib",
                                                "dax-map")).load_module().word


def backend_pages(vm, memdev, dev, region, seed):
    """Read back where the device keeps them (its DC memory file) the pages
    dax-map wrote through /dev/DEV, at the DPA the host says they have: each
    of the dax device's mappings (HPA, page offset), the region extent whose
    HPA range (iomem) holds it, that extent's DPA (its offset attribute),
    and the DC partition's first DPA (QEMU keeps DC region 0 at the file's
    start).  The views checks (the extents' offsets and lengths are what
    QMP asked the device for, and at the end what its list says) tie those
    DPAs to the device's; this ties the HPAs the dax device uses to them.
    Assumes a 1-way region over dcd0 (no static capacity).  (pages, bad, why): nothing read when the layout cannot be
    worked out, which fails the caller's page count."""
    rid = region[len("region"):]
    r = vm.run("for m in %s/%s/mapping[0-9]*; do echo $(cat $m/start) $(cat $m/end) $(cat $m/page_offset); done; "
               "echo --; grep ': extent%s\\.' /proc/iomem; echo --; "
               "for e in %s/%s/dax_region%s/extent*; do echo ${e##*/} $(cat $e/offset); done; echo --; "
               "cat %s/$(cat %s/%s/target0)/dpa_resource; "
               "grep ': dynamic_ram_1$' /sys/kernel/debug/cxl/%s/dpamem"
               % (D, dev, rid, C, region, rid, C, C, region, memdev))
    try:
        maps, iomem, exts, rest = r.out.split("--\n")
        maps = [tuple(int(x, 0) for x in l.split()) for l in maps.splitlines()]
        hpa = {}
        for line in iomem.splitlines():
            span, name = line.strip().split(" : ")
            a, b = span.split("-")
            hpa[name] = (int(a, 16), int(b, 16))
        off = {l.split()[0]: int(l.split()[1], 0) for l in exts.splitlines()}
        dpa_res, dc = rest.splitlines()
        dpa0, dc0 = int(dpa_res, 0), int(dc.strip().split("-")[0], 16)
    except (ValueError, IndexError):
        return 0, 0, r.out
    pages = bad = 0
    why = ""
    with open(vm.dc_backend("dcd0"), "rb") as f:
        for start, end, pgoff in maps:
            for h in range(start, end + 1, 4096):
                ext = [n for n, (a, b) in hpa.items() if a <= h <= b]
                if len(ext) != 1 or ext[0] not in off:
                    return pages, bad + 1, "HPA %#x in extents %r" % (h, ext)
                dpa = dpa0 + off[ext[0]] + h - hpa[ext[0]][0]
                f.seek(dpa - dc0)
                at = pgoff * 4096 + h - start
                pages += 1
                if f.read(8) != word(seed, at):
                    if not bad:
                        why = "device offset %#x (HPA %#x, %s, DPA %#x): not what was written" % (at, h, ext[0], dpa)
                    bad += 1
    return pages, bad, why


def run(vm, t):
    dcd0, region = dcd0_region(vm, t)
    if not region:
        return
    rid = region[len("region"):]

    # Two extents, one dax device across both, a pattern through mmap
    vm.qmp(*qmp.dc_add("dcd0", 0, "0:32M,64M:32M"))
    want = [(0, 32 * MiB), (64 * MiB, 32 * MiB)]
    got = wait_view(vm, region, want)
    t.check("two-extents-added", got == want, "extents %r" % got)
    r = vm.run("grep -c ': extent%s\\.' /proc/iomem" % rid)
    t.check("extents-in-iomem", r.out.strip() == "2", vm.run("cat /proc/iomem").out)
    r = vm.run("daxctl create-device -r %s -s 48M" % rid)
    dev = created(r.out)
    maps = vm.run("ls -d %s/%s/mapping[0-9]* | wc -l" % (D, dev)).out.strip() if dev else ""
    t.check("create-by-size-across-extents",
            dev and dax_devices(vm, rid).get(dev) == (48 * MiB, "devdax") and maps == "2",
            "%s %r mappings %s" % (r.out, dax_devices(vm, rid), maps))
    if not dev:
        return
    r = vm.run("%s /dev/%s %d write 7 && %s /dev/%s %d verify 7" % (MAP, dev, 48 * MiB, MAP, dev, 48 * MiB))
    t.check("mmap-pattern-reads-back", r.rc == 0, r.out)
    pages, bad, why = backend_pages(vm, dcd0["memdev"], dev, region, 7)
    t.check("pattern-where-the-device-keeps-it", pages == 48 * MiB // 4096 and not bad,
            "%d pages read, %d bad: %s" % (pages, bad, why))

    # A release while it is mapped waits for the device to be destroyed
    t.check("mapped-for-release", hold(vm, dev, 48 * MiB, "rel"), "")
    vm.qmp(*qmp.dc_release("dcd0", 0, "0:32M"))
    time.sleep(5)
    got = host_view(vm, region)
    t.check("release-in-use-deferred", got == want, "extents %r" % got)
    t.check("holder-unharmed", let_go(vm, "rel") == 0, vm.run("cat /tmp/out-rel").out)
    r = vm.run("daxctl disable-device %s && daxctl destroy-device %s" % (dev, dev))
    t.check("destroy-device", r.rc == 0, r.out)
    want = [(64 * MiB, 32 * MiB)]
    got = wait_view(vm, region, want)
    t.check("release-completes-after-destroy", got == want, "extents %r" % got)

    # A forced release kills the device under a process that maps it
    r = vm.run("daxctl create-device -r %s -s 32M" % rid)
    dev = created(r.out)
    t.check("create-on-remaining-extent", dev is not None, r.out)
    if dev:
        t.check("mapped-for-forced-release", hold(vm, dev, 32 * MiB, "force"), "")
        try:
            vm.qmp(*qmp.dc_release("dcd0", 0, "64M:32M", forced=True))
            forced = True
        except qmp.QMPError as e:
            # QEMU 11.1: "Forced removal not supported yet"; the mock covers it
            t.skip("forced-release", "QEMU refuses it: %s" % e)
            forced = False
        if forced:
            got = wait_view(vm, region, [])
            t.check("forced-release-removes-extent", got == [], "extents %r" % got)
            t.check("forced-release-kills-device",
                    vm.run("test -e %s/%s" % (D, dev)).rc != 0, "")
            rc = let_go(vm, "force")
            t.check("sigbus-after-revoke", rc == 128 + 7,
                    "exit %r: %s" % (rc, vm.run("cat /tmp/out-force").out))
        else:
            let_go(vm, "force")
            vm.run("daxctl disable-device %s; daxctl destroy-device %s" % (dev, dev))
            vm.qmp(*qmp.dc_release("dcd0", 0, "64M:32M"))
            got = wait_view(vm, region, [])
            t.check("released-after-destroy", got == [], "extents %r" % got)

    # kmem: online memory holds its extent; offlined and destroyed, it goes
    vm.qmp(*qmp.dc_add("dcd0", 0, "128M:128M"))
    want = [(128 * MiB, 128 * MiB)]
    got = wait_view(vm, region, want)
    t.check("kmem-extent-added", got == want, "extents %r" % got)
    r = vm.run("daxctl create-device -r %s -s 128M" % rid)
    dev = created(r.out)
    if t.check("kmem-device-created", dev is not None, r.out):
        r = vm.run("daxctl reconfigure-device -m system-ram %s" % dev)
        online = vm.run("daxctl list -d %s" % dev).out
        t.check("kmem-online", r.rc == 0 and '"online_memblocks":1' in online.replace(" ", ""),
                r.out + online)
        vm.qmp(*qmp.dc_release("dcd0", 0, "128M:128M"))
        time.sleep(5)
        got = host_view(vm, region)
        t.check("kmem-release-deferred-while-online", got == want, "extents %r" % got)
        r = vm.run("daxctl offline-memory %s && daxctl reconfigure-device -m devdax %s && "
                   "daxctl disable-device %s && daxctl destroy-device %s" % (dev, dev, dev, dev))
        t.check("kmem-offlined-and-destroyed", r.rc == 0, r.out)
        got = wait_view(vm, region, [])
        t.check("kmem-release-completes", got == [], "extents %r" % got)

    r = vm.run("daxctl list -RDM -r %s | python3 -c 'import json,sys; json.load(sys.stdin)' && "
               "cxl list -R -X -r %s | python3 -c 'import json,sys; json.load(sys.stdin)'" % (rid, region))
    t.check("stock-lists-parse", r.rc == 0, r.out)

    r = vm.run("%s destroy %s" % (HELPER, region))
    t.check("region-destroyed", r.rc == 0, r.out)
    dev = device_view(vm, dcd0["host"])
    t.check("device-empty", dev == [], "device %r" % dev)
    log = vm.run("dmesg | grep -E 'WARNING|BUG|Call Trace|Hotplug regions stuck'").out
    t.check("no-warnings", not log.strip(), log)
