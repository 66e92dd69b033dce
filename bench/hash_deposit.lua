-- wrk script: POST a fresh hash deposit each request (never the same content twice).
-- Usage: wrk -t1 -c16 -d10s -s bench/hash_deposit.lua -H "Authorization: Bearer nk_..." URL
local counter = 0
local prefix = ""

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  prefix = string.format("%08x", math.random(0, 2147483646))
  wrk.headers["Content-Type"] = "application/json"  -- beside -H Authorization
end

function request()
  counter = counter + 1
  local body = string.format('{"sha256":"%s%056d"}', prefix, counter)
  return wrk.format("POST", nil, nil, body)
end
