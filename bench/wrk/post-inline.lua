-- POST an inline action (`#[action(inline)]`: run on the request's thread, no hand-over to the
-- action pool) that, like `/counter/increment`, takes no input and writes one property.
wrk.method = "POST"
dofile("bench/wrk/report.lua")
