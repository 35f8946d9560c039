#!/usr/bin/env python3
"""A misbehaving peer for the diagnosis tests (issue 9), one mode per port.

usage: diag_peer.py READYFILE ADDR MODE:PORT [MODE:PORT...]
  close   accept, read what the client sends (up to 1 s), close: a FIN
  reset   accept, wait 0.3 s (the client's first bytes arrive), abort: a RST
  resetnow accept and abort at once (SO_LINGER 0)
  closenow accept and close at once, reading nothing: a FIN
  silent  accept and say nothing (bounded: the test kills us)
Writes "ready" to READYFILE once every port listens; runs at most 120 s.
"""
import selectors
import socket
import struct
import sys
import time

ready, addr, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
sel = selectors.DefaultSelector()
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
for spec in specs:
    mode, port = spec.split(":")
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(64)
    sel.register(s, selectors.EVENT_READ, mode)
open(ready, "w").write("ready\n")

held = []
pending = []  # (when, sock, action)
end = time.time() + 120
while time.time() < end:
    for key, _ in sel.select(timeout=0.05):
        mode = key.data
        if mode in ("close", "reset", "resetnow", "closenow", "silent"):
            c, _ = key.fileobj.accept()
            if mode == "resetnow":
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()
            elif mode == "closenow":
                c.close()
            elif mode == "reset":
                pending.append((time.time() + 0.3, c, "reset"))
            elif mode == "close":
                c.settimeout(1.0)
                try:
                    c.recv(65536)
                except OSError:
                    pass
                c.close()
            else:
                held.append(c)
    now = time.time()
    for item in [p for p in pending if p[0] <= now]:
        pending.remove(item)
        c = item[1]
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
