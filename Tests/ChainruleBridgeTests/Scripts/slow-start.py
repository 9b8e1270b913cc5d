"""A layer whose start takes 30 s (a slow import, say), for interrupting chainrule meanwhile.
It writes its pid to $CHAINRULE_TEST_PID_FILE first, so the test can check it was stopped."""
import os
import time

pid_file = os.environ.get("CHAINRULE_TEST_PID_FILE")
if pid_file:
    with open(pid_file, "w") as file:
        file.write(str(os.getpid()))
time.sleep(30)

import chainrule  # noqa: E402

chainrule.serve(lambda x: 2 * x, lambda x, out, grad: 2 * grad, inputs={"x": (3,)})
