-- bench/create.lua: wrk script for bench/run.  Every request creates one
-- contact under client BENCH_CLIENT (default 1) with a unique e-mail, over
-- wrk's keep-alive connections.  Responses other than 201 are counted by
-- status, and the first such body is kept, so bench/run can show them.
--
-- Environment: BENCH_TOKEN (required), BENCH_RUN (unique per run and
-- scenario, keeps e-mails unique across scenarios), BENCH_CLIENT.

local threads = {}
local next_id = 0

function setup(thread)
	next_id = next_id + 1
	thread:set("tid", next_id)
	table.insert(threads, thread)
end

local token = os.getenv("BENCH_TOKEN") or ""
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local client = os.getenv("BENCH_CLIENT") or "1"
local path = "/api/v1/clients/" .. client .. "/contacts"
local headers = {
	["Authorization"] = "Bearer " .. token,
	["Content-Type"] = "application/json",
}
local n = 0
bad = 0
by_status = {}
first_bad = nil

function request()
	n = n + 1
	local body = string.format(
		'{"name":"Bench Contact %d","email":"b-%s-t%d-%d@bench.example"}',
		n, run, tid, n)
	return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
	if status ~= 201 then
		bad = bad + 1
		local k = tostring(status)
		by_status[k] = (by_status[k] or 0) + 1
		if not first_bad then
			first_bad = k .. " " .. string.sub(body or "", 1, 300)
		end
	end
end

function done(summary, latency, requests)
	local total = 0
	local statuses = {}
	local sample = nil
	for _, t in ipairs(threads) do
		total = total + (t:get("bad") or 0)
		local bs = t:get("by_status")
		if bs then
			for k, v in pairs(bs) do
				statuses[k] = (statuses[k] or 0) + v
			end
		end
		sample = sample or t:get("first_bad")
	end
	io.write(string.format("BENCH_NON201 %d\n", total))
	for k, v in pairs(statuses) do
		io.write(string.format("BENCH_STATUS %s %d\n", k, v))
	end
	if sample then
		io.write("BENCH_FIRST_BAD " .. string.gsub(sample, "\n", " ") .. "\n")
	end
end
