-- GET the URL given to wrk (a property, or a Thing Description).
dofile("bench/wrk/report.lua")
