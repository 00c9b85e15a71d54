#!/usr/bin/python3
"""sink.py: tests/api/lib/smtp-sink.py with TCP_NODELAY on every accepted
connection, for bench/mail/run.

  sink.py SMTP-SINK.PY DIR [PORT]

The sink (Python's smtpd) writes its multi-line EHLO answer as one send()
a line; with Nagle's algorithm on, the second line waits for the client's
delayed ACK, about 40 ms on Linux. That costs every new connection 40 ms
in the sink (20 messages/s when each message has its own connection, as
itsup's dispatcher does), which a real MTA does not: Postfix writes the
answer at once. Everything else is the sink unchanged (its main())."""
import importlib.util
import socket
import sys

spec = importlib.util.spec_from_file_location("smtp_sink", sys.argv.pop(1))
sink = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sink)
channel_init = sink.smtpd.SMTPChannel.__init__


def init(self, server, conn, addr, *args, **kw):
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    channel_init(self, server, conn, addr, *args, **kw)


sink.smtpd.SMTPChannel.__init__ = init
sink.main()
