"""Boot lab guests under QEMU (TCG) and run commands in them.

    with VM("dcd1") as vm:
        print(vm.run("cxl list -M").out)
        vm.qmp("cxl-add-dynamic-capacity", {...})
        vm.run("...")

QEMU 11.1 runs from the lab's trixie root (chroot, in a private mount
namespace so that no bind mount outlives it), always under `timeout`.  The
guest's root is the same trixie root over 9p; the project clone is /lab, the
kernel's modules /lib/modules, and the run directory /out.  Commands go to a
guest agent over virtio-serial.  The console is captured to
build/vm/<name>/console.log and scanned for kernel splats.
"""
import ctypes
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qmp as qmplib  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("DCD_LAB_CACHE", "/var/cache/dcd-lab")
ROOT = os.path.join(CACHE, "root", "trixie")

# Kernel messages that fail a run, wherever they appear.
SPLATS = re.compile(
    r"(BUG: |WARNING: |Oops|general protection fault|Kernel panic|"
    r"KASAN|UBSAN|kmemleak: \d+ new suspected|unreferenced object|"
    r"possible circular locking|possible recursive locking|"
    r"inconsistent lock state|DEBUG_LOCKS_WARN_ON|lockdep is turned off|"
    r"ODEBUG|list_add corruption|list_del corruption|"
    r"sleeping function called from invalid context|"
    r"INFO: task .* blocked for more than|detected stalls|self-detected stall|"
    r"soft lockup|workqueue lockup|"
    r"invoked oom-killer|Out of memory|page allocation failure|"
    r"kmemleak: .*disabled|Kernel memory leak detector disabled)")

TOPOLOGIES = ("mock", "dcd1", "dcd2")


def _die_with_parent():
    """In the child: get SIGTERM when the lab process goes; `timeout`
    passes it on to QEMU, so no guest outlives a killed run."""
    ctypes.CDLL(None, use_errno=True).prctl(1, 15)	# PR_SET_PDEATHSIG, SIGTERM


class VMError(Exception):
    pass


class Result:
    def __init__(self, rc, out):
        self.rc, self.out = rc, out

    def __repr__(self):
        return "Result(rc=%d)" % self.rc


def qemu_topology(name, run="/host/run"):
    """QEMU arguments for a named topology (beyond the common machine).

    A device's DC memory is a file in the run directory (RUN as QEMU sees
    it), shared: a host test reads what the guest wrote where the device
    keeps it (VM.dc_backend), so a wrong HPA to DPA mapping shows."""
    if name == "mock":
        return ["-M", "q35"]
    # One host bridge, two root ports, two type 3 devices; DC regions are
    # backend size / num-dc-regions (each a multiple of 256 MiB).
    devs = {
        # one DC-only device, one with static ram plus DC capacity
        "dcd1": [("dcd0", None, "512M"), ("dcd1", "256M", "512M")],
        # two DC-only devices behind one host bridge (interleave later)
        "dcd2": [("dcd0", None, "512M"), ("dcd1", None, "512M")],
    }[name]
    args = ["-M", "q35,cxl=on",
            "-device", "pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1"]
    for i, (dev, ram, dc) in enumerate(devs):
        args += ["-device", "cxl-rp,port=%d,bus=cxl.1,id=rp%d,chassis=0,slot=%d" % (i, i, i + 2)]
        t3 = "cxl-type3,bus=rp%d,id=%s,sn=0x%x" % (i, dev, 0xdcd0 + i)
        if ram:
            args += ["-object", "memory-backend-ram,id=%s-ram,size=%s" % (dev, ram)]
            t3 += ",volatile-memdev=%s-ram" % dev
        args += ["-object", "memory-backend-file,id=%s-dc,size=%s,mem-path=%s/%s-dc.mem,share=on"
                 % (dev, dc, run, dev)]
        t3 += ",volatile-dc-memdev=%s-dc,num-dc-regions=2" % dev
        args += ["-device", t3]
    args += ["-M", "cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G"]
    return args


class VM:
    def __init__(self, topology, variant="default", name=None, qmp=None,
                 timeout=3600, cmdline=""):
        if topology not in TOPOLOGIES:
            raise VMError("unknown topology %r (have: %s)" % (topology, ", ".join(TOPOLOGIES)))
        self.topology, self.variant = topology, variant
        self.name = name or topology
        self.kbuild = os.path.join(CACHE, "kbuild", variant)
        self.run_dir = os.path.join(TOP, "build", "vm", self.name)
        self.console = os.path.join(self.run_dir, "console.log")
        self.qmp_link = qmp
        self.timeout = timeout
        self.cmdline = cmdline
        self.proc = None
        self.sock = None
        self.buf = b""
        self.next_id = 1
        self.release = None

    # -- lifecycle -------------------------------------------------------
    def _initramfs(self):
        """A tiny initramfs: static busybox and lab/guest/init."""
        out = os.path.join(TOP, "build", "vm", "initramfs.cpio")
        src = os.path.join(TOP, "lab", "guest", "init")
        if os.path.exists(out) and os.path.getmtime(out) > os.path.getmtime(src):
            return out
        stage = out + ".d"
        shutil.rmtree(stage, ignore_errors=True)
        for d in ("bin", "dev", "proc", "sys"):
            os.makedirs(os.path.join(stage, d))
        shutil.copy("/bin/busybox", os.path.join(stage, "bin", "busybox"))
        shutil.copy(src, os.path.join(stage, "init"))
        files = subprocess.run("cd %s && find . | sort" % stage, shell=True,
                               check=True, capture_output=True).stdout
        with open(out + ".tmp", "wb") as f:
            subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0"],
                           cwd=stage, input=files, stdout=f, check=True)
        os.rename(out + ".tmp", out)
        shutil.rmtree(stage)
        return out

    def start(self):
        bz = os.path.join(self.kbuild, "arch/x86/boot/bzImage")
        if not os.path.exists(bz):
            raise VMError("no kernel at %s: run 'make kernel'" % bz)
        if not os.path.exists(os.path.join(ROOT, ".lab-recipe")):
            raise VMError("no guest root at %s: run 'make root'" % ROOT)
        initrd = self._initramfs()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        os.makedirs(self.run_dir)
        h = "/host"	# where the host's directories appear inside the chroot
        append = ("console=ttyS0 panic=-1 "
                  "rdinit=/init loglevel=7 " + self.cmdline)
        args = [
            "qemu-system-x86_64", "-accel", "tcg", "-cpu", "max",
            "-smp", "2,sockets=2", "-m", "4G,maxmem=8G,slots=4",
            "-object", "memory-backend-ram,id=m0,size=2G",
            "-object", "memory-backend-ram,id=m1,size=2G",
            "-numa", "node,nodeid=0,cpus=0,memdev=m0",
            "-numa", "node,nodeid=1,cpus=1,memdev=m1",
            "-nodefaults", "-display", "none", "-no-reboot",
            "-kernel", h + "/kbuild/arch/x86/boot/bzImage",
            "-initrd", h + "/run/initramfs.cpio",
            "-append", append,
            "-serial", "file:%s/run/console.log" % h,
            "-qmp", "unix:%s/run/qmp.sock,server=on,wait=off" % h,
            "-device", "virtio-serial-pci",
            "-chardev", "socket,id=agent,path=%s/run/agent.sock,server=on,wait=off" % h,
            "-device", "virtserialport,chardev=agent,name=lab.agent",
        ]
        shares = [("root", h + "/groot", True), ("lab", h + "/top", True),
                  ("mods", h + "/kbuild/mods/lib/modules", True), ("out", h + "/run", False)]
        for tag, path, ro in shares:
            args += ["-fsdev", "local,id=%s,path=%s,security_model=none,multidevs=remap%s"
                     % (tag, path, ",readonly=on" if ro else ""),
                     "-device", "virtio-9p-pci,fsdev=%s,mount_tag=%s" % (tag, tag)]
        args += qemu_topology(self.topology)
        shutil.copy(initrd, os.path.join(self.run_dir, "initramfs.cpio"))
        # Inside a private mount namespace: bind what QEMU needs into the
        # root; a non-recursive bind of the root itself is what the guest
        # sees, so /proc and /dev of the chroot never reach it.
        script = r'''
set -e
r=$1; shift
mkdir -p "$r/host/groot" "$r/host/top" "$r/host/kbuild" "$r/host/run"
mount --bind "$r" "$r/host/groot"
mount --bind "$LAB_VM_TOP" "$r/host/top"
mount --bind "$LAB_VM_KBUILD" "$r/host/kbuild"
mount --bind "$LAB_VM_RUN" "$r/host/run"
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"
exec chroot "$r" "$@"
'''
        env = dict(os.environ, LAB_VM_TOP=TOP, LAB_VM_KBUILD=self.kbuild,
                   LAB_VM_RUN=self.run_dir)
        with open(os.path.join(self.run_dir, "qemu.cmd"), "w") as f:
            f.write(" ".join(args) + "\n")
        self.qemu_log = open(os.path.join(self.run_dir, "qemu.log"), "w")
        self.proc = subprocess.Popen(  # QEMU dies with us (PR_SET_PDEATHSIG)
            ["timeout", "--kill-after=10", str(self.timeout),
             "unshare", "--mount", "--propagation", "private",
             "bash", "-c", script, "_", ROOT] + args,
            env=env, stdin=subprocess.DEVNULL, stdout=self.qemu_log,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)
        if self.qmp_link:
            if os.path.lexists(self.qmp_link):
                os.unlink(self.qmp_link)
            os.symlink(os.path.join(self.run_dir, "qmp.sock"), self.qmp_link)
        self._connect()
        return self

    def _connect(self, boot_timeout=600):
        path = os.path.join(self.run_dir, "agent.sock")
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise VMError("QEMU exited (%d) before the guest started; see %s"
                              % (self.proc.returncode, os.path.join(self.run_dir, "qemu.log")))
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise VMError("no agent socket from QEMU")
                time.sleep(0.05)
        msg = self._recv(boot_timeout)
        if not msg.get("ready"):
            raise VMError("unexpected first message from the agent: %r" % msg)
        self.release = msg["release"]

    def _recv(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise VMError("guest did not answer within %ds; console: %s" % (timeout, self.console))
            self.sock.settimeout(min(left, 1.0))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                if self.proc.poll() is not None:
                    raise VMError("QEMU exited (%d); console: %s" % (self.proc.returncode, self.console))
                continue
            if not chunk:
                raise VMError("guest agent went away; console: %s" % self.console)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def run(self, cmd, timeout=1800, echo=False, check=False):
        """Run `bash -c cmd` in the guest; return its status and output.

        echo=True copies the output to stdout as it comes; a callable gets
        each chunk instead.
        """
        rid = self.next_id
        self.next_id += 1
        self.sock.sendall((json.dumps({"id": rid, "cmd": cmd, "timeout": timeout}) + "\n").encode())
        out = []
        while True:
            msg = self._recv(timeout + 60)
            if msg.get("id") != rid:
                continue
            if "out" in msg:
                out.append(msg["out"])
                if callable(echo):
                    echo(msg["out"])
                elif echo:
                    sys.stdout.write(msg["out"])
                    sys.stdout.flush()
            if "rc" in msg:
                res = Result(msg["rc"], "".join(out))
                if check and res.rc:
                    raise VMError("guest command failed (%d): %s\n%s" % (res.rc, cmd, res.out))
                return res

    def dc_backend(self, dev):
        """The host path of device DEV's DC memory (its bytes by DPA from
        the first DC region on: QEMU puts DC regions after static capacity)."""
        return os.path.join(self.run_dir, "%s-dc.mem" % dev)

    def qmp(self, command, arguments=None):
        return qmplib.command(os.path.join(self.run_dir, "qmp.sock"), command, arguments)

    def stop(self):
        if self.proc is None:
            return
        try:
            if self.sock and self.proc.poll() is None:
                if self.variant == "debug":
                    self.kmemleak_scan()
                rid = self.next_id
                self.sock.sendall((json.dumps({"id": rid, "poweroff": True}) + "\n").encode())
        except (OSError, VMError) as e:
            print("lab: guest did not shut down cleanly: %s" % e, file=sys.stderr)
        finally:
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
            if self.sock:
                self.sock.close()
            self.qemu_log.close()
            if self.qmp_link and os.path.islink(self.qmp_link):
                os.unlink(self.qmp_link)
            for mem in glob.glob(os.path.join(self.run_dir, "*-dc.mem")):
                os.unlink(mem)	# sparse, but up to 512 MiB each
            self.proc = None

    def kmemleak_scan(self):
        """Scan twice (kmemleak's advice), keep the report beside the console."""
        r = self.run("k=/sys/kernel/debug/kmemleak; "
                     "echo scan > $k && sleep 6 && echo scan > $k && cat $k", timeout=300)
        with open(os.path.join(self.run_dir, "kmemleak.txt"), "w") as f:
            f.write(r.out)
            if r.rc:	# a detector that did not run must not pass as clean
                f.write("\nkmemleak: scan failed (rc %d): kmemleak disabled or missing\n" % r.rc)

    def splats(self):
        """Lines of the console log that show a kernel splat."""
        found = []
        for path in (self.console, os.path.join(self.run_dir, "kmemleak.txt")):
            if not os.path.exists(path):
                continue
            with open(path, errors="replace") as f:
                found += [line.rstrip() for line in f if SPLATS.search(line)]
        return found

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
