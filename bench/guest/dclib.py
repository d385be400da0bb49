"""Helpers the mock-guest bench scripts share (cxl_test DC, sysfs)."""
import glob
import os
import time

MB = 1 << 20


def write(path, text):
    """One write(2) of TEXT to a sysfs attribute (a burst for dc_inject)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def wait(pred):
    """Poll PRED every 2 ms until it holds (the engine is a work item)."""
    while not pred():
        time.sleep(0.002)


def extents(dax):
    """Number of extentR.N devices under the DAX region device DAX."""
    return len(glob.glob(dax + "/extent*"))


def offer(pd, base, n):
    """Offer N 2 MiB extents from DPA BASE as one group, 8 records a write."""
    lines = ["%#x:0x200000:0:%d" % (base + 2 * MB * i, i < n - 1) for i in range(n)]
    for i in range(0, n, 8):
        write(pd + "/dc_inject_extent", "\n".join(lines[i:i + 8]) + "\n")
