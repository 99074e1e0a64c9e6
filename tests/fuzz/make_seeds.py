#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/<harness>/): small real files of each
format, valid and slightly broken, so that libFuzzer starts from inputs that reach deep paths.
Run once; the files are committed. Plain Python: .npy members are written by hand."""
import gzip
import io
import os
import struct
import zipfile


HERE = os.path.dirname(os.path.abspath(__file__))


def put(harness, name, data):
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def npy(descr, shape, values):
    """NPY 1.0 as NumPy writes it: header padded to 64 bytes, little-endian data."""
    dims = "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, dims)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    fmt = {"<f4": "<%df", "<f8": "<%dd"}[descr] % len(values)
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + struct.pack(fmt, *values)


def npz(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name + ".npy", (1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def npz_seeds():
    shapes = {"0.weight": (3, 2), "0.bias": (3,), "2.weight": (1, 3), "2.bias": (1,)}
    def model(descr, override=None):
        members = {}
        for k, s in shapes.items():
            s = (override or {}).get(k, s)
            n = 1
            for d in s:
                n *= d
            members[k] = npy(descr, s, [0.25 * i - 0.5 for i in range(n)])
        return members
    put("npz", "mlp_2_3_1.npz", npz(model("<f4")))
    put("npz", "wrong_shape.npz", npz(model("<f4", {"0.bias": (4,)})))
    put("npz", "float64.npz", npz(model("<f8")))
    put("npz", "missing_entry.npz", npz({k: v for k, v in model("<f4").items() if k != "2.bias"}))
    put("npz", "truncated.npz", npz(model("<f4"))[:300])
    put("npz", "empty_zip.npz", npz({}))


def be32(*vs):
    return b"".join(struct.pack(">I", v) for v in vs)


def idx_input(images, labels, gz_images=False, gz_labels=False):
    flags = (1 if gz_images else 0) | (2 if gz_labels else 0)
    return bytes([flags]) + struct.pack("<H", len(images)) + images + labels


def idx_seeds():
    images = be32(0x803, 3, 2, 2) + bytes(range(12))
    labels = be32(0x801, 3) + bytes([0, 1, 2])
    put("idx", "plain", idx_input(images, labels))
    put("idx", "gzip_both", idx_input(images, labels, True, True))
    put("idx", "gzip_images", idx_input(images, labels, True, False))
    put("idx", "raw_gzip_images", idx_input(gzip.compress(images, mtime=0), labels))
    put("idx", "count_mismatch", idx_input(images, be32(0x801, 2) + bytes([0, 1])))
    put("idx", "huge_header", idx_input(be32(0x803, 4, 1 << 31, 1 << 31), labels))
    put("idx", "truncated", idx_input(images[:-3], labels))


def csv_seeds():
    put("csv", "header", b"\x04" + b"a,b,label\n1.5,2,0\n3,4.25,1\n-1e-1,5,2\n")
    put("csv", "no_header", b"\x01" + b"1,2,3,4\n5,6,7,8\n")
    put("csv", "crlf_blank", b"\x02" + b"x, y\r\n\r\n1e-3, 2e3\r\n")
    put("csv", "out_of_range", b"\x01" + b"1e39,1\n")
    put("csv", "subnormal_first", b"\x01" + b"1e-320,5\n2,6\n")
    put("csv", "ragged", b"\x00" + b"1,2\n3\n")


def ops_seeds():
    # Opcode streams for fuzz_ops.cpp: make, unary, binary, reduce/shape (first byte % 4).
    put("ops", "mlp_like", bytes([0, 2, 2, 3, 0, 8, 4, 0, 2, 3, 2, 0, 8, 7, 2, 0, 1, 6, 3, 0, 3, 1, 1, 8]))
    put("ops", "zero_size", bytes([0, 2, 0, 3, 0, 8, 9, 3, 0, 7, 1, 3, 0, 0, 1, 1, 0, 1]))
    put("ops", "huge", bytes([0, 2, 250, 0, 0, 0, 9, 3, 0, 9, 2, 1, 3, 2, 0, 0, 6]))
    put("ops", "nan_anomaly", bytes([0xA5, 1, 3, 0, 0, 255, 1, 0, 8, 3, 0, 7, 1]))
    put("ops", "slice_pad", bytes([0, 1, 3, 0, 8, 3, 0, 12, 1, 2, 3, 0, 15, 0, 1, 3, 4, 1]))


if __name__ == "__main__":
    npz_seeds()
    idx_seeds()
    csv_seeds()
    ops_seeds()
