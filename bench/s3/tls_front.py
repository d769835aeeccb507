#!/usr/bin/env python3
"""A TLS front for a plain-HTTP S3 server on loopback, for benchmarks.

    tls_front.py CERT KEY BACKEND_PORT PORT_FILE

Listens on a free 127.0.0.1 port, writes it to PORT_FILE, and relays every
TLS connection, decrypted, to 127.0.0.1:BACKEND_PORT. The bytes (and so the
SigV4 Host header) pass through unchanged.

Why: restic's S3 client (minio-go) signs PUTs over plain HTTP with streaming
"aws-chunked" payloads, which Swift's s3api refuses (501); over HTTPS it sends
whole payloads, which Swift takes.
"""
import os
import socket
import ssl
import sys
import threading

cert, key, backend_port, port_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)


def pump(src, dst):
    try:
        while True:
            data = src.recv(1 << 18)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    try:
        tls = ctx.wrap_socket(client, server_side=True)
        back = socket.create_connection(("127.0.0.1", backend_port))
    except OSError:
        client.close()
        return
    for s in (tls, back):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t = threading.Thread(target=pump, args=(back, tls), daemon=True)
    t.start()
    pump(tls, back)
    t.join()
    tls.close()
    back.close()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
with open(port_file + ".tmp", "w") as f:
    f.write(str(listener.getsockname()[1]))
os.replace(port_file + ".tmp", port_file)
while True:
    c, _ = listener.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
