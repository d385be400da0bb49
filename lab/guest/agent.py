#!/usr/bin/env python3
"""Guest agent: runs the host's commands, one at a time, over virtio-serial.

Protocol, one JSON object per line.  Host to guest: {"id": N, "cmd": "...",
"timeout": S} runs `bash -c cmd`; {"id": N, "poweroff": true} ends the guest.
Guest to host: {"ready": true, "release": "..."} once, then for each command
{"id": N, "out": "..."} chunks (stdout and stderr, merged) and {"id": N,
"rc": R} (124 on timeout).
"""
import glob
import json
import os
import select
import signal
import subprocess
import time


def find_port(name="lab.agent"):
    for path in glob.glob("/sys/class/virtio-ports/*/name"):
        with open(path) as f:
            if f.read().strip() == name:
                return "/dev/" + path.split("/")[-2]
    raise SystemExit("agent: no virtio port named " + name)


class Port:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR)
        self.buf = b""

    def send(self, obj):
        data = (json.dumps(obj) + "\n").encode()
        while data:
            n = os.write(self.fd, data)
            data = data[n:]

    def recv(self):
        while b"\n" not in self.buf:
            chunk = os.read(self.fd, 65536)
            if not chunk:
                time.sleep(0.1)	# host not connected yet
                continue
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def run(port, req):
    rid = req["id"]
    deadline = time.monotonic() + req.get("timeout", 3600)
    proc = subprocess.Popen(["bash", "-c", req["cmd"]], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=req.get("cwd", "/"), start_new_session=True)
    fd = proc.stdout.fileno()
    rc = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            port.send({"id": rid, "out": "\nagent: command timed out\n"})
            rc = 124
            break
        ready, _, _ = select.select([fd], [], [], min(left, 1.0))
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                rc = proc.wait()
                break
            port.send({"id": rid, "out": chunk.decode(errors="replace")})
    port.send({"id": rid, "rc": rc})


def main():
    port = Port(find_port())
    port.send({"ready": True, "release": os.uname().release})
    while True:
        req = port.recv()
        if req.get("poweroff"):
            port.send({"id": req["id"], "rc": 0})
            os.sync()
            with open("/proc/sysrq-trigger", "w") as f:
                f.write("b")	# QEMU runs with -no-reboot: this ends it
            return
        run(port, req)


if __name__ == "__main__":
    main()
