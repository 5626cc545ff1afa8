-- PUT a property: body `5` (bare JSON), as the Python client and curl send it.
wrk.method = "PUT"
wrk.body = "5"
wrk.headers["Content-Type"] = "application/json"
dofile("bench/wrk/report.lua")
