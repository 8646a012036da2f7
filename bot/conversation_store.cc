#include "bot/conversation_store.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <random>

#include <nlohmann/json.hpp>

#include "bot/keys.h"
#include "core/message.h"

namespace nivaran {

namespace {

// KEYS: 1 seen, 2 session. ARGV: 1 the prefix of ticket keys. Returns [seen, v, s, fb, ot,
// status of ticket ot, t]: whether the message was seen, the session, and the status of the
// ticket it has open (a closed one takes no more messages), in one trip.
const RedisScript kLoadScript(R"lua(
local seen = redis.call('EXISTS', KEYS[1])
local s = redis.call('HMGET', KEYS[2], 'v', 's', 'fb', 'ot', 't')
local status = false
if s[4] and s[4] ~= '' then status = redis.call('HGET', ARGV[1] .. s[4], 'status') end
return {seen, s[1], s[2], s[3], s[4], status, s[5]}
)lua");

// KEYS: 1 session, 2 seen, 3 transcript, 4 outbox, 5 sequence of the new ticket's references,
//       6 all tickets, 7 district queue, 8 citizen's tickets, 9 attached ticket, 10 local inbox
//       (web chat), 11 SLA deadlines, 12 history of the attached ticket, 13 audit log,
//       14 the ticket the step took to be the session's open one,
//       15.. the new ticket's queue indexes, or the indexes the attached ticket leaves then joins
// ARGV: 1 expected version, 2 session JSON, 3 session ttl ms, 4 dedupe ttl ms,
//       5 draft transcript ttl ms, 6 now ms, 7 outbox JSON, 8 the new ticket's placeholder ('' no
//       new ticket), 9 ticket fields JSON (flat, strings), 10 attach ref, 11 episode has ticket
//       (0/1), 12 n = number of transcript entries, 13 SLA deadlines JSON [score, member, ...] of
//       the new ticket, 14 ticket change JSON or '' (TicketChange), 15 the session's open ticket
//       ('' none; kept beside the session so load() can read its status in the same trip),
//       16 '1' when the step took KEYS[14]'s status to be ARGV[17] (refused otherwise, as a
//       conflict: staff closed the ticket meanwhile), 17 that status, 18 the new ticket's
//       reference prefix ("BLY-26-"), 19 the prefix of ticket keys, 20 the prefix of ticket
//       history keys, 21 the session's token as the step found it ('' none), 22 the token
//       this commit writes, 23..22+n transcript entries, then inbox entries.
// The session is compared on its version and its token: a version restarts at 1 when the hash
// expires and is created again, a random token does not repeat, so a step taken on a copy of
// an older incarnation (a process's session cache) is refused.
// A new ticket's reference is taken here, once every check has passed, so references have no
// gaps; the placeholder is replaced by it in every argument that may hold it. Returns 'DUP',
// 'CONFLICT', 'OK', or 'OK:' and the new ticket's reference. The checks come first and the
// dedupe key is taken with SET NX after them, before any other write, so nothing is written
// unless all pass; a message seen before whose session has changed since gets 'CONFLICT', and
// the fresh read that follows finds it seen.
// KEYS: 1 dedupe key, 2 capped stream. ARGV: 1 dedupe TTL ms, 2 field, 3 record.
const RedisScript kRecordOnceScript(R"lua(
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 'DUP' end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', '100000', '*', ARGV[2], ARGV[3])
return 'OK'
)lua");

const RedisScript kCommitScript(R"lua(
local current = redis.call('HMGET', KEYS[1], 'v', 't')
local v = tonumber(current[1] or '0')
if v ~= tonumber(ARGV[1]) or (current[2] or '') ~= ARGV[21] then return 'CONFLICT' end
if ARGV[16] == '1' and (redis.call('HGET', KEYS[14], 'status') or '') ~= ARGV[17] then
  return 'CONFLICT'
end
local change = nil
if ARGV[14] ~= '' then change = cjson.decode(ARGV[14]) end
-- A change decided on the ticket's status (the citizen's answer to "are you satisfied?") is
-- refused whole when staff changed that status meanwhile: re-read, it is decided afresh.
if change and change.expect_status ~= '' and ARGV[10] ~= '' and
   (redis.call('HGET', KEYS[9], 'status') or '') ~= change.expect_status then
  return 'CONFLICT'
end
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[4]) then return 'DUP' end
local ref = nil
if ARGV[8] ~= '' then
  ref = ARGV[18] .. string.format('%06d', redis.call('INCR', KEYS[5]))
end
local function fill(text)
  if not ref then return text end
  local i, j = string.find(text, ARGV[8], 1, true)
  if not i then return text end
  local parts = {}
  local from = 1
  while i do
    parts[#parts + 1] = string.sub(text, from, i - 1)
    parts[#parts + 1] = ref
    from = j + 1
    i, j = string.find(text, ARGV[8], from, true)
  end
  parts[#parts + 1] = string.sub(text, from)
  return table.concat(parts)
end
-- A TTL is set again only when it has run down by more than 1/64 (or is missing, or longer
-- than the configured one): a PEXPIRE per message would be a write, and an AOF entry, per
-- message for nothing. PTTL only reads. So a key expires between 63/64 and 1 x its TTL after
-- the last message that wrote it.
local function keep_ttl(key, ttl)
  ttl = tonumber(ttl)
  local left = redis.call('PTTL', key)
  if left < 0 or left < ttl - ttl / 64 or left > ttl then redis.call('PEXPIRE', key, ttl) end
end
redis.call('HSET', KEYS[1], 'v', v + 1, 't', ARGV[22], 's', fill(ARGV[2]), 'ot', fill(ARGV[15]))
keep_ttl(KEYS[1], ARGV[3])
local n = tonumber(ARGV[12])
for i = 23, 22 + n do
  redis.call('XADD', KEYS[3], '*', 'e', fill(ARGV[i]))
end
if ref then
  local fields = cjson.decode(fill(ARGV[9]))
  local flat = {}
  for k, val in pairs(fields) do
    flat[#flat + 1] = k
    flat[#flat + 1] = val
  end
  redis.call('HSET', ARGV[19] .. ref, unpack(flat))
  redis.call('ZADD', KEYS[6], ARGV[6], ref)
  redis.call('ZADD', KEYS[7], ARGV[6], ref)
  redis.call('ZADD', KEYS[8], ARGV[6], ref)
  for i = 15, #KEYS do redis.call('ZADD', KEYS[i], ARGV[6], ref) end
  local deadlines = cjson.decode(fill(ARGV[13]))
  for i = 1, #deadlines, 2 do redis.call('ZADD', KEYS[11], deadlines[i], deadlines[i + 1]) end
  if change and change.history ~= '' then
    redis.call('XADD', ARGV[20] .. ref, '*', 'e', fill(change.history))
  end
elseif ARGV[10] ~= '' and redis.call('EXISTS', KEYS[9]) == 1 then
  redis.call('HSET', KEYS[9], 'updated_at', ARGV[6], 'citizen_last_at', ARGV[6])
  redis.call('HINCRBY', KEYS[9], 'citizen_messages', 1)
  if change then  -- its expected status was checked above
    -- Only the answer to the question clears it: a link to another ticket does not.
    if change.expect_status ~= '' then redis.call('HDEL', KEYS[1], 'fb') end
    if #change.set > 0 then redis.call('HSET', KEYS[9], unpack(change.set)) end
    for i = 1, change.nrem do redis.call('ZREM', KEYS[14 + i], ARGV[10]) end
    for i = 1, change.nadd do redis.call('ZADD', KEYS[14 + change.nrem + i], change.score, ARGV[10]) end
    for _, m in ipairs(change.sla_rem) do redis.call('ZREM', KEYS[11], m) end
    for i = 1, #change.sla_add, 2 do
      redis.call('ZADD', KEYS[11], change.sla_add[i], change.sla_add[i + 1])
    end
    for i = 1, #change.sla_tighten, 2 do
      redis.call('ZADD', KEYS[11], 'XX', 'LT', change.sla_tighten[i], change.sla_tighten[i + 1])
    end
    if change.history ~= '' then redis.call('XADD', KEYS[12], '*', 'e', change.history) end
    if change.audit ~= '' then redis.call('XADD', KEYS[13], '*', 'e', change.audit) end
  end
end
if n > 0 then
  if ARGV[11] == '1' then
    redis.call('PERSIST', KEYS[3])  -- a no-op (nothing written) once it is persistent
  else
    keep_ttl(KEYS[3], ARGV[5])
  end
end
if ARGV[7] ~= '' then
  redis.call('XADD', KEYS[4], '*', 'm', fill(ARGV[7]))
end
if #ARGV > 22 + n then
  for i = 23 + n, #ARGV do
    redis.call('XADD', KEYS[10], 'MAXLEN', '~', '1000', '*', 'r', fill(ARGV[i]))
  end
  redis.call('PEXPIRE', KEYS[10], ARGV[3])
end
if ref then return 'OK:' .. ref end
return 'OK'
)lua");

}  // namespace

ConversationStore::ConversationStore(Redis& redis, StoreLimits limits)
    : redis_(redis), limits_(limits) {}

Result<LoadedSession> ConversationStore::load(const std::string& platform,
                                              const std::string& user_id,
                                              const std::string& message_id) {
  // Ticket keys are built in the script from their prefix: which ticket is open is known only
  // there. Nivaran runs on one Redis, not a cluster, so an undeclared key is fine.
  auto r = redis_.eval(kLoadScript,
                       {keys::seen(platform, message_id), keys::session(platform, user_id)},
                       {keys::ticket("")});
  if (!r.ok()) return r.status();
  if (r->is_error() || r->elements.size() != 7) return Status::unavailable("Redis: " + r->str);
  const auto& e = r->elements;
  LoadedSession s;
  s.seen = e[0].integer == 1;
  if (!e[1].is_nil()) {
    s.version = std::stoll(e[1].str);
    s.session_json = e[2].str;
    s.feedback_for = e[3].str;
    s.open_ticket = e[4].str;
    s.open_ticket_status = e[5].str;
    s.token = e[6].str;
  }
  return s;
}

TicketNumbering ticket_numbering(const std::string& prefix, int64_t now_ms) {
  std::time_t secs = now_ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char yy[8];
  std::snprintf(yy, sizeof yy, "%02d", (tm.tm_year + 1900) % 100);
  return TicketNumbering{.ref_prefix = prefix + "-" + yy + "-",
                         .sequence = keys::ticket_sequence(prefix, yy)};
}

std::string new_ticket_placeholder() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[48];
  std::snprintf(buf, sizeof buf, "{ticket:%016llx%016llx}", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

namespace {

// The standalone 4-digit numbers in `text`, Devanagari digits read as ASCII.
std::vector<std::string> four_digit_words(const std::string& text) {
  std::string ascii;
  for (size_t i = 0; i < text.size(); ++i) {
    // Devanagari digits are U+0966..U+096F: E0 A5 A6..AF.
    if (i + 2 < text.size() && static_cast<unsigned char>(text[i]) == 0xE0 &&
        static_cast<unsigned char>(text[i + 1]) == 0xA5 &&
        static_cast<unsigned char>(text[i + 2]) >= 0xA6 &&
        static_cast<unsigned char>(text[i + 2]) <= 0xAF) {
      ascii += static_cast<char>('0' + (static_cast<unsigned char>(text[i + 2]) - 0xA6));
      i += 2;
    } else {
      ascii += text[i];
    }
  }
  std::vector<std::string> out;
  size_t i = 0;
  while (i < ascii.size()) {
    if (!std::isdigit(static_cast<unsigned char>(ascii[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < ascii.size() && std::isdigit(static_cast<unsigned char>(ascii[j]))) ++j;
    bool joined = (i > 0 && ascii[i - 1] == '-') || (j < ascii.size() && ascii[j] == '-');
    if (j - i == 4 && !joined) out.push_back(ascii.substr(i, 4));
    i = j;
  }
  return out;
}

}  // namespace

Result<std::string> ConversationStore::ticket_status_for(const std::string& ref,
                                                         const std::string& platform,
                                                         const std::string& user_id,
                                                         const std::string& text) {
  if (ref.empty()) return std::string();
  auto r = redis_.command({"HMGET", keys::ticket(ref), "platform", "user_id", "status", "mobile"});
  if (!r.ok()) return r.status();
  if (r->is_error() || r->elements.size() != 4) return Status::unavailable("Redis: " + r->str);
  const auto& e = r->elements;
  if (e[2].str.empty()) return std::string();
  if (e[0].str == platform && e[1].str == user_id) return e[2].str;
  const std::string& mobile = e[3].str;
  if (mobile.size() >= 4) {
    for (const auto& w : four_digit_words(text)) {
      if (w == mobile.substr(mobile.size() - 4)) return e[2].str;
    }
  }
  return std::string();
}

namespace {

// The named fields of one HMGET reply; an empty map when none is set (no such ticket).
std::map<std::string, std::string> fields_of(const RedisValue& r,
                                             const std::vector<std::string>& names) {
  std::map<std::string, std::string> out;
  bool any = false;
  for (size_t i = 0; i < names.size(); ++i) {
    any = any || !r.elements[i].is_nil();
    out[names[i]] = r.elements[i].str;
  }
  if (!any) out.clear();
  return out;
}

}  // namespace

Result<std::map<std::string, std::string>> ConversationStore::ticket_fields(
    const std::string& ref, const std::vector<std::string>& names) {
  auto all = tickets_fields({ref}, names);
  if (!all.ok()) return all.status();
  return std::move(all->front());
}

Result<std::vector<std::map<std::string, std::string>>> ConversationStore::tickets_fields(
    const std::vector<std::string>& refs, const std::vector<std::string>& names) {
  std::vector<std::vector<std::string>> cmds;
  for (const auto& ref : refs) {
    std::vector<std::string> cmd = {"HMGET", keys::ticket(ref)};
    cmd.insert(cmd.end(), names.begin(), names.end());
    cmds.push_back(std::move(cmd));
  }
  std::vector<std::map<std::string, std::string>> out;
  if (cmds.empty()) return out;
  auto r = redis_.pipeline(cmds);
  if (!r.ok()) return r.status();
  for (const auto& reply : r.value()) {
    if (reply.is_error() || reply.elements.size() != names.size()) {
      return Status::unavailable("Redis: " + reply.str);
    }
    out.push_back(fields_of(reply, names));
  }
  return out;
}

Result<ConversationStore::MobileTickets> ConversationStore::tickets_by_mobile(
    const std::string& mobile_key, int64_t count_since_ms, int64_t recent_since_ms,
    int max_recent) {
  const std::string key = keys::mobile_tickets(mobile_key);
  auto r = redis_.pipeline({{"ZCOUNT", key, std::to_string(count_since_ms), "+inf"},
                            {"ZREVRANGEBYSCORE", key, "+inf", std::to_string(recent_since_ms),
                             "LIMIT", "0", std::to_string(max_recent)}});
  if (!r.ok()) return r.status();
  const auto& replies = r.value();
  if (replies.size() != 2 || replies[0].is_error() || replies[1].is_error()) {
    return Status::unavailable("Redis: " + (replies.empty() ? "" : replies[0].str + replies[1].str));
  }
  MobileTickets out;
  out.count = replies[0].integer;
  for (const auto& e : replies[1].elements) out.recent.push_back(e.str);
  return out;
}

Result<ConversationStore::CommitResult> ConversationStore::commit(const ConversationCommit& c) {
  const std::string none = "nv:none";
  const bool files = !c.new_ticket.empty();
  std::vector<std::string> keys_list = {
      keys::session(c.platform, c.user_id),
      keys::seen(c.platform, c.message_id),
      keys::transcript(c.episode),
      keys::outbox(),
      files ? c.new_ticket_numbering.sequence : none,
      keys::all_tickets(),
      keys::district_tickets(c.new_ticket_district.empty() ? "triage" : c.new_ticket_district),
      keys::citizen_tickets(c.platform, c.user_id),
      c.attach_ticket_ref.empty() ? none : keys::ticket(c.attach_ticket_ref),
      c.inbox_key.empty() ? none : c.inbox_key,
      keys::sla_due(),
      c.attach_ticket_ref.empty() ? none : keys::ticket_history(c.attach_ticket_ref),
      keys::audit(),
      c.checked_ticket.empty() ? none : keys::ticket(c.checked_ticket),
  };
  if (files) {
    keys_list.insert(keys_list.end(), c.new_ticket_indexes.begin(), c.new_ticket_indexes.end());
  } else {
    keys_list.insert(keys_list.end(), c.change.index_remove.begin(), c.change.index_remove.end());
    keys_list.insert(keys_list.end(), c.change.index_add.begin(), c.change.index_add.end());
  }
  // Numbers and small texts made here; the large values (session, transcript, outbox entry)
  // are passed to Redis where they lie.
  const std::string version = std::to_string(c.expected_version);
  const std::string session_ttl = std::to_string(limits_.session_ttl_ms);
  const std::string dedupe_ttl = std::to_string(limits_.dedupe_ttl_ms);
  const std::string draft_ttl = std::to_string(limits_.draft_transcript_ttl_ms);
  const std::string now = std::to_string(c.now_ms);
  const std::string ticket_fields = files ? json_text(nlohmann::json(c.new_ticket_fields)) : "{}";
  const std::string entries = std::to_string(c.transcript.size());
  const std::string deadlines =
      c.new_ticket_deadlines.empty() ? "[]" : json_text(nlohmann::json(c.new_ticket_deadlines));
  const std::string change =
      c.change.empty() ? std::string()
                       : json_text({{"expect_status", c.change.expect_status},
                                    {"set", c.change.set},
                                    {"nrem", c.change.index_remove.size()},
                                    {"nadd", c.change.index_add.size()},
                                    {"score", std::to_string(c.change.score)},
                                    {"sla_rem", c.change.sla_remove},
                                    {"sla_add", c.change.sla_add},
                                    {"sla_tighten", c.change.sla_tighten},
                                    {"history", c.change.history},
                                    {"audit", c.change.audit}});
  const std::string ticket_prefix = keys::ticket("");
  const std::string history_prefix = keys::ticket_history("");
  std::vector<std::string_view> args = {
      version,
      c.session_json,
      session_ttl,
      dedupe_ttl,
      draft_ttl,
      now,
      c.outbox_json,
      c.new_ticket,
      ticket_fields,
      c.attach_ticket_ref,
      c.episode_has_ticket || files ? "1" : "0",
      entries,
      deadlines,
      change,
      c.open_ticket,
      c.checked_ticket.empty() ? "" : "1",
      c.checked_ticket_status,
      c.new_ticket_numbering.ref_prefix,
      ticket_prefix,
      history_prefix,
      c.expected_token,
      c.new_token,
  };
  args.insert(args.end(), c.transcript.begin(), c.transcript.end());
  if (!c.inbox_key.empty()) args.insert(args.end(), c.inbox_entries.begin(), c.inbox_entries.end());
  auto r = redis_.eval_views(kCommitScript, keys_list, args);
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status::unavailable("Redis commit failed: " + r->str);
  CommitResult result;
  if (r->str == "DUP") {
    result.outcome = Outcome::kDuplicate;
  } else if (r->str == "CONFLICT") {
    result.outcome = Outcome::kConflict;
  } else if (r->str.rfind("OK:", 0) == 0) {
    result.ticket_ref = r->str.substr(3);
  }
  return result;
}

Result<bool> ConversationStore::record_once(const std::string& platform,
                                            const std::string& message_id,
                                            const std::string& stream, const std::string& field,
                                            const std::string& record) {
  auto r = redis_.eval(kRecordOnceScript, {keys::seen(platform, message_id), stream},
                       {std::to_string(limits_.dedupe_ttl_ms), field, record});
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status::unavailable("Redis: " + r->str);
  return r->str != "DUP";
}

}  // namespace nivaran
