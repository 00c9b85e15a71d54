#!/usr/bin/python3
"""smtp-sink.py: a real SMTP server on 127.0.0.1 for the API tests and the
benchmark (Python's smtpd from Debian's python3.11 standard library).

  smtp-sink.py DIR [PORT]

Listens on 127.0.0.1:PORT (0 or absent: any free port), prints
"ready PORT" once listening, and writes every message it accepts to
DIR/<n>.json as {"from": ..., "to": [...], "data": "..."} (n counts from
1; written to a temporary name and renamed, so a reader never sees half a
file). A recipient whose local part starts with "reject" is refused with
550 (a permanent failure), one starting with "later" with 451."""
import json
import os
import sys
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
import asyncore  # noqa: E402
import smtpd  # noqa: E402


class Sink(smtpd.SMTPServer):
    def __init__(self, addr, out):
        super().__init__(addr, None, decode_data=False)
        self.out = out
        self.n = 0

    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        for r in rcpttos:
            local = r.split("@")[0].lower()
            if local.startswith("reject"):
                return "550 5.1.1 no such user here"
            if local.startswith("later"):
                return "451 4.3.0 try again later"
        self.n += 1
        path = os.path.join(self.out, "%d.json" % self.n)
        with open(path + ".tmp", "w") as f:
            json.dump({"from": mailfrom, "to": rcpttos,
                       "data": data.decode("utf-8", "replace")}, f)
        os.rename(path + ".tmp", path)
        return None


def main():
    out = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    os.makedirs(out, exist_ok=True)
    s = Sink(("127.0.0.1", port), out)
    print("ready %d" % s.socket.getsockname()[1], flush=True)
    asyncore.loop(timeout=0.2)


if __name__ == "__main__":
    main()
