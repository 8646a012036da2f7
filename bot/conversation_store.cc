#include "bot/conversation_store.h"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "bot/keys.h"
#include "core/message.h"

namespace nivaran {

namespace {

// KEYS: 1 session, 2 seen, 3 transcript, 4 outbox, 5 ticket, 6 all tickets, 7 district queue,
//       8 citizen's tickets, 9 attached ticket
// ARGV: 1 expected version, 2 session JSON, 3 session ttl ms, 4 dedupe ttl ms,
//       5 draft transcript ttl ms, 6 now ms, 7 outbox JSON, 8 new ticket ref,
//       9 ticket fields JSON (flat, strings), 10 attach ref, 11 episode has ticket (0/1),
//       12.. transcript entries
const RedisScript kCommitScript(R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then return 'DUP' end
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return 'CONFLICT' end
redis.call('HSET', KEYS[1], 'v', v + 1, 's', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
for i = 12, #ARGV do
  redis.call('XADD', KEYS[3], '*', 'e', ARGV[i])
end
if ARGV[8] ~= '' then
  local fields = cjson.decode(ARGV[9])
  local flat = {}
  for k, val in pairs(fields) do
    flat[#flat + 1] = k
    flat[#flat + 1] = val
  end
  redis.call('HSET', KEYS[5], unpack(flat))
  redis.call('ZADD', KEYS[6], ARGV[6], ARGV[8])
  redis.call('ZADD', KEYS[7], ARGV[6], ARGV[8])
  redis.call('ZADD', KEYS[8], ARGV[6], ARGV[8])
end
if ARGV[10] ~= '' and redis.call('EXISTS', KEYS[9]) == 1 then
  redis.call('HSET', KEYS[9], 'updated_at', ARGV[6])
  redis.call('HINCRBY', KEYS[9], 'citizen_messages', 1)
end
if #ARGV >= 12 then
  if ARGV[11] == '1' then
    redis.call('PERSIST', KEYS[3])
  else
    redis.call('PEXPIRE', KEYS[3], ARGV[5])
  end
end
if ARGV[7] ~= '' then
  redis.call('XADD', KEYS[4], '*', 'm', ARGV[7])
end
return 'OK'
)lua");

}  // namespace

ConversationStore::ConversationStore(Redis& redis, StoreLimits limits)
    : redis_(redis), limits_(limits) {}

Result<LoadedSession> ConversationStore::load(const std::string& platform,
                                              const std::string& user_id,
                                              const std::string& message_id) {
  auto replies = redis_.pipeline({{"EXISTS", keys::seen(platform, message_id)},
                                  {"HMGET", keys::session(platform, user_id), "v", "s"}});
  if (!replies.ok()) return replies.status();
  const auto& r = replies.value();
  if (r[0].is_error() || r[1].is_error()) return Status::unavailable("Redis: " + r[0].str + r[1].str);
  LoadedSession s;
  s.seen = r[0].integer == 1;
  if (r[1].elements.size() == 2 && !r[1].elements[0].is_nil()) {
    s.version = std::stoll(r[1].elements[0].str);
    s.session_json = r[1].elements[1].str;
  }
  return s;
}

Result<std::string> ConversationStore::next_ticket_ref(const std::string& prefix,
                                                       int64_t now_ms) {
  std::time_t secs = now_ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char yy[8];
  std::snprintf(yy, sizeof yy, "%02d", (tm.tm_year + 1900) % 100);
  auto r = redis_.command({"INCR", keys::ticket_sequence(prefix, yy)});
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status::unavailable("Redis: " + r->str);
  char number[32];
  std::snprintf(number, sizeof number, "%06lld", r->integer);
  return prefix + "-" + yy + "-" + number;
}

Result<std::string> ConversationStore::ticket_status_for(const std::string& ref,
                                                         const std::string& platform,
                                                         const std::string& user_id) {
  if (ref.empty()) return std::string();
  auto r = redis_.command({"HMGET", keys::ticket(ref), "platform", "user_id", "status"});
  if (!r.ok()) return r.status();
  if (r->is_error() || r->elements.size() != 3) return Status::unavailable("Redis: " + r->str);
  if (r->elements[0].str != platform || r->elements[1].str != user_id) return std::string();
  return r->elements[2].str;
}

Result<ConversationStore::Outcome> ConversationStore::commit(const ConversationCommit& c) {
  const std::string none = "nv:none";
  std::vector<std::string> keys_list = {
      keys::session(c.platform, c.user_id),
      keys::seen(c.platform, c.message_id),
      keys::transcript(c.episode),
      keys::outbox(),
      c.new_ticket_ref.empty() ? none : keys::ticket(c.new_ticket_ref),
      keys::all_tickets(),
      keys::district_tickets(c.new_ticket_district.empty() ? "triage" : c.new_ticket_district),
      keys::citizen_tickets(c.platform, c.user_id),
      c.attach_ticket_ref.empty() ? none : keys::ticket(c.attach_ticket_ref),
  };
  std::vector<std::string> args = {
      std::to_string(c.expected_version),
      c.session_json,
      std::to_string(limits_.session_ttl_ms),
      std::to_string(limits_.dedupe_ttl_ms),
      std::to_string(limits_.draft_transcript_ttl_ms),
      std::to_string(c.now_ms),
      c.outbox_json,
      c.new_ticket_ref,
      c.new_ticket_ref.empty() ? "{}" : json_text(nlohmann::json(c.new_ticket_fields)),
      c.attach_ticket_ref,
      c.episode_has_ticket || !c.new_ticket_ref.empty() ? "1" : "0",
  };
  args.insert(args.end(), c.transcript.begin(), c.transcript.end());
  auto r = redis_.eval(kCommitScript, keys_list, args);
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status::unavailable("Redis commit failed: " + r->str);
  if (r->str == "DUP") return Outcome::kDuplicate;
  if (r->str == "CONFLICT") return Outcome::kConflict;
  return Outcome::kCommitted;
}

}  // namespace nivaran
