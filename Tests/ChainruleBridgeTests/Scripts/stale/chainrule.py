"""A chainrule module from another protocol version, left beside a layer file."""
import json
import os
import struct


def serve(forward, backward, inputs, seed=0):
    meta = json.dumps({"protocol": 0, "name": "old", "inputs": [], "output": [], "branches": False}).encode()
    body = struct.pack("<I", len(meta)) + meta
    os.write(4, b"HELO" + struct.pack("<I", len(body)) + body)
