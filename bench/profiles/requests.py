#!/usr/bin/env python3
"""Send N requests over one keep-alive connection and check each status: the load for the
callgrind counts (instructions per request), where a fixed number of requests matters and
wall-clock speed does not.

    requests.py URL METHOD N [BODY]
"""
import http.client
import sys
import urllib.parse

url, method, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
body = sys.argv[4].encode() if len(sys.argv) > 4 else None
parts = urllib.parse.urlsplit(url)
conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
headers = {"Content-Type": "application/json"} if body is not None else {}
for _ in range(n):
    conn.request(method, parts.path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    if response.status >= 300:
        sys.exit(f"{method} {url}: status {response.status}")
conn.close()
