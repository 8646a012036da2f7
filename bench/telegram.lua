-- wrk script: many concurrent Telegram conversations walking the grievance dialog to a ticket.
--
--   wrk -t2 -c64 -d20s --latency -s bench/telegram.lua http://127.0.0.1:PORT -- [chats] [run] [starts] [chat offset]
--
-- Each wrk thread owns its own block of chat ids (chats per thread, default 1000). Request k of
-- a thread goes to chat (k % chats), one message per round of all its chats, so a chat's next
-- message is only sent a whole round later: never two in flight for one chat. Each chat walks
-- the steps in order, chats staggered by one step (see request()). update_id (and message_id
-- within a chat) is unique per run, thread and request ("run" defaults to the clock, so
-- repeated runs against one Redis are not deduplicated). "starts" continues each thread's
-- request count from an earlier run against the same server (its COUNTERS line), so that the
-- measured run takes up every conversation where the warm-up left it.
-- done() prints a BENCH line and a COUNTERS line that bench/run parses.

-- The dialog (dialogs/flows/grievance.json), one message per step; after the last step the
-- chat starts a new complaint.
local STEPS = {
  "नई शिकायत",                                       -- start (or start over after a ticket)
  "1",                                               -- category: the first in the menu
  "बरेली",                                           -- district
  "पता नहीं",                                        -- police station: don't know
  "पुराना शहर, किला पुल के पास",                     -- place
  "कल रात 11 बजे",                                   -- time
  "कल रात मेरी मोटरसाइकिल घर के बाहर से चोरी हो गई।", -- description
  "राम कुमार",                                       -- name
  "MOBILE",                                          -- mobile: each chat its own (request())
  "हाँ",                                              -- consent to be contacted
  "हाँ",                                              -- confirm the summary: the ticket is filed
}

local PATH = "/webhook/telegram"
local HEADERS = {
  ["Content-Type"] = "application/json",
  ["X-Telegram-Bot-Api-Secret-Token"] = "bench-secret",
}
local CHAT_BASE = 700000000           -- first chat id; thread t owns [base + t*chats, +chats)
local DEFAULT_CHATS_PER_THREAD = 1000

-- Runs in the main Lua state once per thread, before any request.
local thread_count = 0
local threads = {}
function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

local chats, first_chat, update_base, message_base
counter = 0  -- global: done() reads it from each thread

function init(args)
  chats = tonumber(args[1]) or DEFAULT_CHATS_PER_THREAD
  local run = tonumber(args[2]) or (os.time() % 1000000)
  -- args[4]: added to every chat id, so that two servers sharing one Redis (bench/run
  -- --b-build) never share a conversation.
  first_chat = CHAT_BASE + (tonumber(args[4]) or 0) + thread_index * chats
  -- Where this thread stopped in the previous run against the same server (args[3], one
  -- counter per thread, comma-separated), so that every chat goes on with its own dialog.
  local starts = {}
  for n in string.gmatch(args[3] or "", "%d+") do table.insert(starts, tonumber(n)) end
  counter = starts[thread_index + 1] or 0
  -- < 2^53: run (< 10^6) * 10^9 + thread (< 10) * 10^8 + request (< 10^8)
  update_base = run * 1000000000 + thread_index * 100000000
  message_base = (run % 2000) * 1000000  -- message ids stay under 2^31, as Telegram's do
end

function request()
  local i = counter % chats
  local chat = first_chat + i
  -- Chat i walks the dialog i % #STEPS rounds behind chat 0, starting over ("नई शिकायत") until
  -- its turn comes: after the first #STEPS rounds every round has each step in equal share, so
  -- tickets are filed at a steady one per #STEPS messages, not in bursts every #STEPS rounds.
  local round = math.floor(counter / chats) - i % #STEPS
  local step = round < 0 and 1 or round % #STEPS + 1
  local text = STEPS[step]
  if text == "MOBILE" then
    -- A number of the chat's own, as real citizens have: with one number for all, the intake
    -- limit (10 per number) would refuse nearly every ticket after the first ten.
    text = string.format("9%09d", chat % 1000000000)
  end
  local entities = ""
  if text:sub(1, 1) == "/" then
    entities = ',"entities":[{"offset":0,"length":' .. #text .. ',"type":"bot_command"}]'
  end
  local body = '{"update_id":' .. (update_base + counter) ..
      ',"message":{"message_id":' .. (message_base + counter + 1) ..
      ',"from":{"id":' .. chat .. ',"is_bot":false,"first_name":"राम","language_code":"hi"}' ..
      ',"chat":{"id":' .. chat .. ',"first_name":"राम","type":"private"}' ..
      ',"date":' .. os.time() .. ',"text":' .. json_string(text) .. entities .. '}}'
  counter = counter + 1
  return wrk.format("POST", PATH, HEADERS, body)
end

-- Runs once in the main state after the run: one machine-readable line for bench/run.
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
      "BENCH requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f " ..
      "max_ms=%.2f bad_status=%d socket_errors=%d\n",
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency.max / 1000,
      e.status, e.connect + e.read + e.write + e.timeout))
  local counters = {}
  for _, t in ipairs(threads) do table.insert(counters, tostring(t:get("counter"))) end
  io.write("COUNTERS " .. table.concat(counters, ",") .. "\n")
end
