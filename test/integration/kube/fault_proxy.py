#!/usr/bin/env python3
"""A fault-injecting HTTPS proxy in front of a test kube-apiserver.

    fault_proxy.py --upstream https://127.0.0.1:PORT --ca CA.crt --ca-key CA.key \
                   --workdir DIR --ready-file FILE

The client under test talks TLS to this proxy and verifies it exactly as it
verifies the apiserver: the proxy's serving certificate (127.0.0.1,
localhost) is minted here, with openssl, by the cluster's own CA (test/env
keeps its key in pki/ca.key). The proxy talks TLS to the apiserver, verified
against the same CA, and forwards requests unchanged (bearer tokens pass
through; client certificates cannot, so tests through the proxy use a token).

Faults are rules set on a plain-HTTP control port on loopback:

    POST /faults  [{"method": "GET", "path": "/configmaps/x", "status": 429,
                    "retryAfter": "1", "count": 2}, ...]
        replaces the rules. A request matching a rule (method, if given,
        equal; path, if given, a substring of the request target) with count
        left (-1 = forever) is answered with `status` (a Kubernetes Status
        body, Retry-After when given) instead of being forwarded;
        "action": "close" drops the connection instead of answering;
        "delayMs" with no status forwards after a delay.
    GET /log      every request seen: [{"t": seconds (monotonic), "method",
                   "path", "injected": status|"close"|null}], and the peak
                   number of requests in flight
    POST /reset   clears rules and log

When both ports listen, FILE gets {"port": N, "control": M} (atomically).
Standard library only. Runs until SIGTERM.
"""
import argparse
import http.client
import http.server
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length"}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []
        self.log = []
        self.inflight = 0
        self.peak = 0

    def match(self, method, path):
        with self.lock:
            for rule in self.rules:
                if rule.get("count", -1) == 0:
                    continue
                if "method" in rule and rule["method"] != method:
                    continue
                if "path" in rule and rule["path"] not in path:
                    continue
                if rule.get("count", -1) > 0:
                    rule["count"] -= 1
                return dict(rule)
        return None


STATE = State()
UPSTREAM = {}


def make_cert(workdir, ca, ca_key):
    key = os.path.join(workdir, "proxy.key")
    csr = os.path.join(workdir, "proxy.csr")
    crt = os.path.join(workdir, "proxy.crt")
    ext = os.path.join(workdir, "proxy.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    run = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    run("openssl", "req", "-new", "-key", key, "-subj", "/CN=gitfed-fault-proxy", "-out", csr)
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-CAserial", os.path.join(workdir, "ca.srl"), "-days", "2", "-sha256", "-extfile", ext, "-out", crt)
    return crt, key


class Upstream(threading.local):
    conn = None


UPSTREAM_CONN = Upstream()


def upstream_request(method, path, body, headers):
    for attempt in range(2):
        if UPSTREAM_CONN.conn is None:
            UPSTREAM_CONN.conn = http.client.HTTPSConnection(UPSTREAM["host"], UPSTREAM["port"],
                                                             context=UPSTREAM["ctx"], timeout=120)
        try:
            UPSTREAM_CONN.conn.request(method, path, body=body, headers=headers)
            resp = UPSTREAM_CONN.conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        except (OSError, http.client.HTTPException):
            UPSTREAM_CONN.conn.close()
            UPSTREAM_CONN.conn = None
            if attempt == 1:
                raise


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        entry = {"t": time.monotonic(), "method": self.command, "path": self.path, "injected": None}
        with STATE.lock:
            STATE.log.append(entry)
            STATE.inflight += 1
            STATE.peak = max(STATE.peak, STATE.inflight)
        try:
            rule = STATE.match(self.command, self.path)
            if rule and rule.get("delayMs"):
                time.sleep(rule["delayMs"] / 1000.0)
            if rule and rule.get("action") == "close":
                entry["injected"] = "close"
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if rule and rule.get("status"):
                status = int(rule["status"])
                entry["injected"] = status
                payload = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                      "message": rule.get("message", "injected by the fault proxy"),
                                      "reason": rule.get("reason", "InjectedFault"), "code": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if rule.get("retryAfter") is not None:
                    self.send_header("Retry-After", str(rule["retryAfter"]))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            try:
                status, resp_headers, data = upstream_request(self.command, self.path, body, headers)
            except Exception as e:  # the apiserver is down: a gateway error
                data = json.dumps({"kind": "Status", "status": "Failure", "code": 502, "reason": "BadGateway",
                                   "message": "fault proxy: upstream: %s" % e}).encode()
                status, resp_headers = 502, [("Content-Type", "application/json")]
            self.send_response(status)
            for k, v in resp_headers:
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            with STATE.lock:
                STATE.inflight -= 1

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


class ControlHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, obj):
        data = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with STATE.lock:
            self.reply({"requests": list(STATE.log), "peakInFlight": STATE.peak})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with STATE.lock:
            if self.path == "/faults":
                STATE.rules = json.loads(body or b"[]")
            elif self.path == "/reset":
                STATE.rules, STATE.log, STATE.peak = [], [], 0
        self.reply({"ok": True})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--ca-key", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--ready-file", required=True)
    args = ap.parse_args()

    hostport = args.upstream.split("://", 1)[1].rstrip("/")
    host, port = hostport.rsplit(":", 1)
    up = ssl.create_default_context(cafile=args.ca)
    UPSTREAM.update(host=host, port=int(port), ctx=up)

    crt, key = make_cert(args.workdir, args.ca, args.ca_key)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    ctx.set_alpn_protocols(["http/1.1"])

    proxy = Server(("127.0.0.1", 0), ProxyHandler)
    proxy.socket = ctx.wrap_socket(proxy.socket, server_side=True, do_handshake_on_connect=False)
    control = Server(("127.0.0.1", 0), ControlHandler)
    for s in (proxy, control):
        threading.Thread(target=s.serve_forever, daemon=True).start()

    tmp = args.ready_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"port": proxy.server_address[1], "control": control.server_address[1]}, f)
    os.rename(tmp, args.ready_file)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
