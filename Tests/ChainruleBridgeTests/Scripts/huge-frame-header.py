"""Answers FWD with an OUTS header claiming 2 GiB, then sends nothing: chainrule must refuse
the header at once (a protocol error), not allocate 2 GiB and wait."""
import struct
import time

import chainrule


def claim_two_gibibytes(layer, body, pipe):
    pipe.outgoing.write(b"OUTS" + struct.pack("<I", 0x7FFFFFFF))
    pipe.outgoing.flush()
    time.sleep(1000)


chainrule._forward_batch = claim_two_gibibytes
chainrule.serve(lambda x: 2 * x, lambda x, out, grad: 2 * grad, inputs={"x": (3,)})
