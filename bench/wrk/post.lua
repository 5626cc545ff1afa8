-- POST an action that takes no input: no body, as the reference's captures show.
wrk.method = "POST"
dofile("bench/wrk/report.lua")
