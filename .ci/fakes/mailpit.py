#!/usr/bin/env python3
"""A stand-in for Mailpit in brickyard's Docker tier (no registry here).

SMTP on 1025 that keeps every mail in memory, and the two HTTP paths
brickyard's checks read on 8025: /readyz and /api/v1/messages (Mailpit's
JSON shape, the fields that matter). `mailpit readyz` is the image's
healthcheck, as upstream's. It is not Mailpit: it proves the app speaks
SMTP well enough to deliver a mail, and that the check reads the API.
"""

import email
import json
import socketserver
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MESSAGES = []
LOCK = threading.Lock()


class Smtp(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        self.reply("220 mailpit stand-in ESMTP")
        sender, recipients = None, []
        while True:
            line = self.rfile.readline().decode(errors="replace")
            if not line:
                return
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-mailpit\r\n250 8BITMIME\r\n" if verb == "EHLO" else b"250 mailpit\r\n")
            elif line.upper().startswith("MAIL FROM:"):
                sender, recipients = line[10:].strip(), []
                self.reply("250 OK")
            elif line.upper().startswith("RCPT TO:"):
                if sender is None:
                    self.reply("503 MAIL first")
                else:
                    recipients.append(line[8:].strip())
                    self.reply("250 OK")
            elif verb == "DATA":
                if not recipients:
                    self.reply("503 RCPT first")
                    continue
                self.reply("354 end with <CR><LF>.<CR><LF>")
                body = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    body.append(data[1:] if data.startswith(b"..") else data)
                mail = email.message_from_bytes(b"".join(body))
                with LOCK:
                    MESSAGES.append({"From": {"Address": sender}, "To": [{"Address": r} for r in recipients],
                                     "Subject": mail.get("Subject", "")})
                sender, recipients = None, []
                self.reply("250 OK: queued")
            elif verb == "RSET":
                sender, recipients = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class Api(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path in ("/readyz", "/livez"):
            body, code = b"ok", 200
        elif path == "/api/v1/messages":
            with LOCK:
                page = {"total": len(MESSAGES), "messages_count": len(MESSAGES), "messages": list(reversed(MESSAGES))}
            body, code = json.dumps(page, separators=(",", ":")).encode(), 200
        else:
            body, code = b"not found", 404
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Threaded(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    if sys.argv[1:] == ["readyz"]:
        with urllib.request.urlopen("http://127.0.0.1:8025/readyz", timeout=2) as r:
            sys.exit(0 if r.status == 200 else 1)
    smtp = Threaded(("0.0.0.0", 1025), Smtp)
    threading.Thread(target=smtp.serve_forever, daemon=True).start()
    print("mailpit stand-in: smtp :1025, http :8025", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8025), Api).serve_forever()
