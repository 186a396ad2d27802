#!/usr/bin/env python3
"""A stand-in for CouchDB in brickyard's Docker tier (no registry here).

CouchDB's HTTP API on 5984 for what brickyard's apps and checks use, kept in
memory: GET /_up, and with the admin's basic auth (COUCHDB_USER /
COUCHDB_PASSWORD) PUT /{db} (201, or 412 when it exists), POST /{db} (a new
document: 201 with id and rev), GET /{db}/{id}, DELETE /{db}/{id}?rev= (409
on a stale rev). Answers 401 without the right credentials, as CouchDB does.
It is not CouchDB: no views, no replication, no Fauxton, no persistence.
"""

import base64
import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DBS = {}
LOCK = threading.Lock()


class Couch(BaseHTTPRequestHandler):
    def answer(self, code, doc):
        body = json.dumps(doc, separators=(",", ":")).encode()  # compact, as CouchDB answers
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        expected = "%s:%s" % (os.environ.get("COUCHDB_USER", "admin"), os.environ.get("COUCHDB_PASSWORD", ""))
        given = self.headers.get("Authorization", "")
        if given.startswith("Basic ") and base64.b64decode(given[6:]).decode(errors="replace") == expected:
            return True
        self.answer(401, {"error": "unauthorized", "reason": "Name or password is incorrect."})
        return False

    def route(self, method):
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        if method == "GET" and parts == ["_up"]:
            return self.answer(200, {"status": "ok"})
        if not self.authorized():
            return None
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with LOCK:
            if len(parts) == 1 and method == "PUT":
                if parts[0] in DBS:
                    return self.answer(412, {"error": "file_exists", "reason": "The database could not be created, the file already exists."})
                DBS[parts[0]] = {}
                return self.answer(201, {"ok": True})
            db = DBS.get(parts[0]) if parts else None
            if db is None:
                return self.answer(404, {"error": "not_found", "reason": "Database does not exist."})
            if len(parts) == 1 and method == "POST":
                doc = json.loads(body or b"{}")
                doc_id = doc.get("_id") or uuid.uuid4().hex
                rev = "1-" + uuid.uuid4().hex
                db[doc_id] = dict(doc, _id=doc_id, _rev=rev)
                return self.answer(201, {"ok": True, "id": doc_id, "rev": rev})
            if len(parts) == 2 and parts[1] in db:
                doc = db[parts[1]]
                if method == "GET":
                    return self.answer(200, doc)
                if method == "DELETE":
                    if parse_qs(url.query).get("rev", [""])[0] != doc["_rev"]:
                        return self.answer(409, {"error": "conflict", "reason": "Document update conflict."})
                    del db[parts[1]]
                    return self.answer(200, {"ok": True, "id": parts[1], "rev": "2-" + uuid.uuid4().hex})
            return self.answer(404, {"error": "not_found", "reason": "missing"})

    def do_GET(self):
        self.route("GET")

    def do_PUT(self):
        self.route("PUT")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")

    def log_message(self, fmt, *args):
        print("couchdb: " + fmt % args, flush=True)


if __name__ == "__main__":
    print("couchdb stand-in listening on :5984", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 5984), Couch).serve_forever()
