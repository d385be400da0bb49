#!/usr/bin/env python3
"""Talk to a CXL type 3 device's primary mailbox from user space.

For the lab only, on a device that no driver owns (unbind cxl_pci first):
it finds the mailbox through the Register Locator DVSEC and the device
capabilities array, then sends commands through the BAR.  It gives tests a
view of the device that does not go through the kernel under test.

    cxlmbox.py BDF dc-config                 Get Dynamic Capacity Configuration
    cxlmbox.py BDF dc-extents                Get Dynamic Capacity Extent List
    cxlmbox.py BDF dc-accept DPA:LEN[,...]   Add Dynamic Capacity Response
    cxlmbox.py BDF dc-release DPA:LEN[,...]  Release Dynamic Capacity
    cxlmbox.py BDF events [--clear]          Get Event Records (DC log), and clear them

Output is JSON.  Exit status 0 on mailbox success, 2 on a device error code.
"""
import ctypes
import json
import mmap
import os
import struct
import sys
import time

CXL_VENDOR = 0x1E98
DVSEC_REG_LOCATOR = 8
BLOCK_MEMDEV = 3
CAP_MAILBOX = 0x0002
OP = {"dc-config": 0x4800, "dc-extents": 0x4801, "dc-accept": 0x4802,
      "dc-release": 0x4803, "events": 0x0100}
OP_CLEAR_EVENTS = 0x0101
LOG_DC = 4


class MailboxError(Exception):
    def __init__(self, code):
        super().__init__("mailbox return code %#x" % code)
        self.code = code


class Device:
    def __init__(self, bdf):
        self.sys = "/sys/bus/pci/devices/" + bdf
        if os.path.exists(self.sys + "/driver"):
            raise SystemExit("%s is bound to %s: unbind it first" %
                             (bdf, os.path.basename(os.readlink(self.sys + "/driver"))))
        with open(self.sys + "/enable", "w") as f:
            f.write("1")
        bar, off = self._locate()
        fd = os.open("%s/resource%d" % (self.sys, bar), os.O_RDWR | os.O_SYNC)
        size = os.fstat(fd).st_size
        self.mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        os.close(fd)
        self.mb = off + self._mailbox_offset(off)
        self.payload_max = 1 << (self.r32(self.mb) & 0x1F)

    def _locate(self):
        with open(self.sys + "/config", "rb") as f:
            cfg = f.read()
        pos = 0x100
        while pos and pos + 4 <= len(cfg):
            hdr = struct.unpack_from("<I", cfg, pos)[0]
            if hdr & 0xFFFF == 0x23:	# DVSEC
                h1 = struct.unpack_from("<I", cfg, pos + 4)[0]
                h2 = struct.unpack_from("<H", cfg, pos + 8)[0]
                if h1 & 0xFFFF == CXL_VENDOR and h2 == DVSEC_REG_LOCATOR:
                    length = (h1 >> 20) & 0xFFF
                    for e in range(pos + 0xC, pos + length, 8):
                        lo, hi = struct.unpack_from("<II", cfg, e)
                        if (lo >> 8) & 0xFF == BLOCK_MEMDEV:
                            return lo & 0x7, (hi << 32) | (lo & 0xFFFF0000)
            pos = hdr >> 20
        raise SystemExit("no CXL memory device register block found")

    def _mailbox_offset(self, base):
        count = (self.r64(base) >> 32) & 0xFFFF
        for i in range(1, count + 1):
            hdr = base + i * 16
            if self.r32(hdr) & 0xFFFF == CAP_MAILBOX:
                return self.r32(hdr + 4)
        raise SystemExit("device has no primary mailbox capability")

    def r32(self, off):
        return ctypes.c_uint32.from_buffer(self.mm, off).value

    def r64(self, off):
        return ctypes.c_uint64.from_buffer(self.mm, off).value

    def w32(self, off, val):
        ctypes.c_uint32.from_buffer(self.mm, off).value = val

    def w64(self, off, val):
        ctypes.c_uint64.from_buffer(self.mm, off).value = val

    def send(self, opcode, payload=b""):
        if len(payload) > self.payload_max:
            raise ValueError("payload of %d bytes exceeds %d" % (len(payload), self.payload_max))
        if self.r32(self.mb + 4) & 1:
            raise SystemExit("mailbox busy")
        padded = payload + b"\0" * (-len(payload) % 4)
        for i in range(0, len(padded), 4):
            self.w32(self.mb + 0x20 + i, struct.unpack_from("<I", padded, i)[0])
        self.w64(self.mb + 8, opcode | (len(payload) << 16))
        self.w32(self.mb + 4, 1)	# doorbell
        deadline = time.monotonic() + 10
        while self.r32(self.mb + 4) & 1:
            if time.monotonic() > deadline:
                raise SystemExit("mailbox timeout")
            time.sleep(0.001)
        code = (self.r64(self.mb + 0x10) >> 32) & 0xFFFF
        if code:
            raise MailboxError(code)
        n = (self.r64(self.mb + 8) >> 16) & 0x1FFFFF
        out = bytearray()
        for i in range(0, n + (-n % 4), 4):
            out += struct.pack("<I", self.r32(self.mb + 0x20 + i))
        return bytes(out[:n])


def dc_config(dev):
    regions, start, totals = [], 0, {}
    while True:
        out = dev.send(OP["dc-config"], struct.pack("<BB", 8, start))
        avail, returned = out[0], out[1]
        for i in range(returned):
            base, decode, length, block, handle, flags = struct.unpack_from("<QQQQIB", out, 8 + 40 * i)
            regions.append({"base": base, "decode_length": decode * (256 << 20),
                            "length": length, "block_size": block,
                            "dsmad_handle": handle, "flags": flags})
        start += returned
        if returned == 0 or start >= avail:
            t = struct.unpack_from("<IIII", out, 8 + 40 * returned)
            totals = dict(zip(("extents_supported", "extents_available",
                               "tags_supported", "tags_available"), t))
            return {"regions": regions, **totals}


def dc_extents(dev):
    while True:
        exts, start, gen0, total0 = [], 0, None, None
        while True:
            count = (dev.payload_max - 16) // 40
            out = dev.send(OP["dc-extents"], struct.pack("<II", count, start))
            returned, total, gen = struct.unpack_from("<III", out, 0)
            returned = min(returned, max(total - start, 0))	# QEMU over-reports
            if gen0 is None:
                gen0, total0 = gen, total
            elif (gen, total) != (gen0, total0):
                break	# the list changed under us: start again
            for i in range(returned):
                dpa, length = struct.unpack_from("<QQ", out, 16 + 40 * i)
                tag = out[16 + 40 * i + 16:16 + 40 * i + 32].hex()
                seq = struct.unpack_from("<H", out, 16 + 40 * i + 32)[0]
                exts.append({"dpa": dpa, "length": length, "tag": tag, "shared_seq": seq})
            start += returned
            if start >= total or returned == 0:
                return {"generation": gen, "total": total, "extents": exts}


def extent_list(spec):
    out = []
    for item in spec.split(","):
        dpa, length = item.split(":")
        out.append((int(dpa, 0), int(length, 0)))
    return out


def dc_response(dev, opcode, spec):
    exts = extent_list(spec) if spec else []
    body = struct.pack("<IB3x", len(exts), 0)
    for dpa, length in exts:
        body += struct.pack("<QQ8x", dpa, length)
    dev.send(opcode, body)
    return {"sent": len(exts)}


def events(dev, clear=False, log=LOG_DC):
    out = dev.send(OP["events"], struct.pack("<B", log))
    flags, _, overflow = struct.unpack_from("<BBH", out, 0)
    count = struct.unpack_from("<H", out, 0x14)[0]
    recs = []
    for i in range(count):
        rec = out[0x20 + 128 * i:0x20 + 128 * (i + 1)]
        handle = struct.unpack_from("<H", rec, 0x14)[0]
        etype, _, host, region, rflags = struct.unpack_from("<BBHBB", rec, 0x30)
        dpa, length = struct.unpack_from("<QQ", rec, 0x38)
        recs.append({"handle": handle, "type": etype, "region": region,
                     "more": rflags & 1, "dpa": dpa, "length": length})
    if clear and recs:	# oldest first, as the device wants them
        dev.send(OP_CLEAR_EVENTS, struct.pack("<BBB3x", log, 0, len(recs)) +
                 b"".join(struct.pack("<H", r["handle"]) for r in recs))
    return {"flags": flags, "overflow": overflow, "records": recs}


def main(argv):
    if len(argv) < 3 or argv[2] not in OP:
        sys.exit(__doc__)
    dev = Device(argv[1])
    try:
        if argv[2] == "dc-config":
            res = dc_config(dev)
        elif argv[2] == "dc-extents":
            res = dc_extents(dev)
        elif argv[2] in ("dc-accept", "dc-release"):
            res = dc_response(dev, OP[argv[2]], argv[3] if len(argv) > 3 else "")
        else:
            res = events(dev, clear="--clear" in argv[3:])
    except MailboxError as e:
        print(json.dumps({"error": e.code}))
        return 2
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
