#!/usr/bin/env python3
"""A RESP server for loadgen_test.sh: answers every command +OK, with one scripted fault.

  stall_server.py PORT_FILE stall SECONDS   the first command arriving 0.5 s after start or later
                                            is answered SECONDS late (the others at once)
  stall_server.py PORT_FILE die             0.5 s after start, stops listening and closes every
                                            connection (a killed node)

Listens on 127.0.0.1 on a free port, written to PORT_FILE once listening. Exits after 30 s.
Commands are counted by their leading '*' (loadgen sends whole RESP arrays and waits for each
reply, so one read holds at most one command)."""
import os
import socket
import sys
import threading
import time

port_file, mode = sys.argv[1], sys.argv[2]
stall_s = float(sys.argv[3]) if mode == "stall" else 0.0
start = time.monotonic()
lock = threading.Lock()
stalled = [False]
conns = []
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)


def serve(conn):
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            for _ in range(data.count(b"*")):
                delay = 0.0
                with lock:
                    if mode == "stall" and not stalled[0] and time.monotonic() - start >= 0.5:
                        stalled[0] = True
                        delay = stall_s
                time.sleep(delay)
                conn.sendall(b"+OK\r\n")
    except OSError:
        return


def die_later():
    time.sleep(0.5)
    listener.close()
    with lock:
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass


if mode == "die":
    threading.Thread(target=die_later, daemon=True).start()
with open(port_file + ".tmp", "w") as f:
    f.write(str(listener.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
threading.Timer(30, lambda: os._exit(0)).start()
while True:
    try:
        c, _ = listener.accept()
    except OSError:
        break
    with lock:
        conns.append(c)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
time.sleep(30)
