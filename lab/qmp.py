#!/usr/bin/env python3
"""A small QMP client (standard library only).

    lab/qmp.py SOCKET COMMAND [JSON-ARGUMENTS]

prints the reply's "return" as JSON and exits 0, or prints the error and
exits 1.  Shorthands for the DCD commands:

    lab/qmp.py SOCK dc-add DEVICE REGION OFFSET:LEN[,OFFSET:LEN...] [TAG]
    lab/qmp.py SOCK dc-release DEVICE REGION OFFSET:LEN[,...] [--forced]

DEVICE is the QEMU id of the cxl-type3 (dcd0, dcd1); sizes take K/M/G.
"""
import json
import socket
import sys


class QMPError(Exception):
    pass


def _lines(sock):
    buf = b""
    while True:
        while b"\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise QMPError("QMP connection closed")
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        if line.strip():
            yield json.loads(line)


def command(path, name, arguments=None, timeout=60):
    """Send one command; return its "return" value or raise QMPError."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(path)
        msgs = _lines(s)
        next(msgs)	# greeting
        for cmd, args in (("qmp_capabilities", None), (name, arguments)):
            req = {"execute": cmd}
            if args is not None:
                req["arguments"] = args
            s.sendall(json.dumps(req).encode() + b"\n")
            for msg in msgs:
                if "event" in msg:
                    continue
                if "error" in msg:
                    raise QMPError("%s: %s" % (msg["error"].get("class"), msg["error"].get("desc")))
                break
        return msg.get("return")


def size(text):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip()
    if text[-1:].upper() in mult:
        return int(text[:-1], 0) * mult[text[-1].upper()]
    return int(text, 0)


def extents(spec):
    out = []
    for item in spec.split(","):
        off, length = item.split(":")
        out.append({"offset": size(off), "len": size(length)})
    return out


def dc_add(dev, region, spec, tag=None):
    args = {"path": "/machine/peripheral/" + dev, "host-id": 0,
            "selection-policy": "prescriptive", "region": int(region),
            "extents": extents(spec)}
    if tag:
        args["tag"] = tag
    return "cxl-add-dynamic-capacity", args


def dc_release(dev, region, spec, forced=False):
    return "cxl-release-dynamic-capacity", {
        "path": "/machine/peripheral/" + dev, "host-id": 0,
        "removal-policy": "prescriptive", "region": int(region),
        "extents": extents(spec), "forced-removal": forced,
        "sanitize-on-release": False}


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    path, name, rest = argv[1], argv[2], argv[3:]
    if name == "dc-add":
        name, args = dc_add(*rest)
    elif name == "dc-release":
        forced = "--forced" in rest
        name, args = dc_release(*[a for a in rest if a != "--forced"], forced=forced)
    else:
        args = json.loads(rest[0]) if rest else None
    try:
        ret = command(path, name, args)
    except (QMPError, OSError) as e:
        print("qmp: %s: %s" % (name, e), file=sys.stderr)
        return 1
    print(json.dumps(ret))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
