#!/usr/bin/env python3
"""A tiny HTTP(S) server for the redirect tests of the Git integration suite.

redirect mode: asks for basic auth (401) until the right credentials come,
then answers every request with a 302 to TARGET + the request path.
sink mode: logs each request (and whether it carried an Authorization header)
and answers 401, as a server fishing for credentials would.
answer mode: answers every request with --status (and --type, a small body):
a server that is not a Git smart-HTTP server, or is failing.

Usage: redirect_server.py MODE PORTFILE LOGFILE [--tls CERT KEY] [--auth USER:PASSWORD] [--target URL]
                          [--status CODE] [--type CONTENT-TYPE]
"""
import base64
import http.server
import ssl
import sys


def main():
    mode, port_file, log_file = sys.argv[1:4]
    args = sys.argv[4:]
    cert = key = auth = target = None
    status, ctype = 200, "text/html"
    while args:
        if args[0] == "--tls":
            cert, key, args = args[1], args[2], args[3:]
        elif args[0] == "--auth":
            auth, args = args[1], args[2:]
        elif args[0] == "--target":
            target, args = args[1], args[2:]
        elif args[0] == "--status":
            status, args = int(args[1]), args[2:]
        elif args[0] == "--type":
            ctype, args = args[1], args[2:]
        else:
            sys.exit("unknown argument " + args[0])
    expected = "Basic " + base64.b64encode(auth.encode()).decode() if auth else None

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def handle_any(self):
            got = self.headers.get("Authorization")
            with open(log_file, "a") as log:
                log.write("%s %s auth=%s\n" % (self.command, self.path, "yes" if got else "no"))
            if mode == "answer":
                body = b"<html>not a Git server</html>\n"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if mode == "redirect" and got == expected:
                self.send_response(302)
                self.send_header("Location", target + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="gitfed-test"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = handle_any
        do_POST = handle_any

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
