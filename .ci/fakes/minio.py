#!/usr/bin/env python3
"""A stand-in for MinIO in brickyard's Docker tier (no registry here).

An S3 endpoint on 9000 that keeps buckets and objects in memory and checks
every request's Signature V4 with botocore, AWS's own implementation (so a
wrongly signed request gets 403 SignatureDoesNotMatch, as from MinIO), plus
/minio/health/live and `mc ready local` for the healthcheck. Keys come from
MINIO_ROOT_USER / MINIO_ROOT_PASSWORD. It is not MinIO: bucket create, object
put and get only, no console on 9001.
"""

import os
import re
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUCKETS = {}
LOCK = threading.Lock()
AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                  r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$")


def signature_problem(method, path, headers, body):
    """None when the request is signed with the root keys, else why not."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    match = AUTH.match(headers.get("Authorization", ""))
    if not match:
        return "no Signature V4 Authorization header"
    access, day, region, signed, signature = match.groups()
    if access != os.environ.get("MINIO_ROOT_USER", "minioadmin"):
        return "unknown access key %s" % access
    amz_date = headers.get("x-amz-date", "")
    if not amz_date.startswith(day):
        return "x-amz-date does not match the credential scope"
    names = signed.split(";")
    request = AWSRequest(method=method, url="http://%s%s" % (headers["Host"], path), data=body,
                         headers={n: headers[n] for n in names if n != "host"})
    request.context["timestamp"] = amz_date
    auth = S3SigV4Auth(Credentials(access, os.environ.get("MINIO_ROOT_PASSWORD", "")), "s3", region)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if expected != signature:
        return "SignatureDoesNotMatch; canonical request was:\n" + canonical
    return None


class S3(BaseHTTPRequestHandler):
    def answer(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_s3(self, method):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        if path == "/minio/health/live":
            return self.answer(200)
        problem = signature_problem(method, path, self.headers, body)
        if problem:
            print("403 %s %s: %s" % (method, path, problem), flush=True)
            return self.answer(403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>")
        bucket, _, key = path.lstrip("/").partition("/")
        with LOCK:
            if method == "PUT" and not key:
                if bucket in BUCKETS:
                    return self.answer(409, b"<Error><Code>BucketAlreadyOwnedByYou</Code></Error>")
                BUCKETS[bucket] = {}
                return self.answer(200)
            if bucket not in BUCKETS:
                return self.answer(404, b"<Error><Code>NoSuchBucket</Code></Error>")
            if method == "PUT":
                BUCKETS[bucket][key] = body
                return self.answer(200)
            if key in BUCKETS[bucket]:
                return self.answer(200, BUCKETS[bucket][key])
            return self.answer(404, b"<Error><Code>NoSuchKey</Code></Error>")

    def do_GET(self):
        self.handle_s3("GET")

    def do_PUT(self):
        self.handle_s3("PUT")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    if sys.argv[1:2] == ["ready"]:  # `mc ready local`
        with urllib.request.urlopen("http://127.0.0.1:9000/minio/health/live", timeout=2) as r:
            sys.exit(0 if r.status == 200 else 1)
    print("minio stand-in: s3 :9000", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 9000), S3).serve_forever()
