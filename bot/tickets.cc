#include "bot/tickets.h"

#include <algorithm>
#include <regex>

#include "bot/keys.h"
#include "core/message.h"

namespace nivaran {

using nlohmann::json;

namespace {

// One change to one ticket, applied atomically. KEYS: 1 ticket, 2 history, 3 audit,
// 4 transcript, 5 outbox, 6 local inbox, 7 SLA deadlines, 8 session, then the `nrem` indexes
// the ticket leaves and the `nadd` indexes it joins. ARGV[1]: the spec as JSON (see
// TicketUpdate). Answers OK, MISSING, or STALE when the ticket is no longer in the state the
// change was decided on.
const RedisScript kUpdateScript(R"lua(
local spec = cjson.decode(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then return 'MISSING' end
if spec.expect_status ~= '' and redis.call('HGET', KEYS[1], 'status') ~= spec.expect_status then
  return 'STALE'
end
if spec.expect_level ~= '' and (redis.call('HGET', KEYS[1], 'escalation_level') or '0') ~= spec.expect_level then
  return 'STALE'
end
if #spec.set > 0 then redis.call('HSET', KEYS[1], unpack(spec.set)) end
for i = 1, #spec.setnx, 2 do redis.call('HSETNX', KEYS[1], spec.setnx[i], spec.setnx[i + 1]) end
for i = 1, spec.nrem do redis.call('ZREM', KEYS[8 + i], spec.ref) end
for i = 1, spec.nadd do redis.call('ZADD', KEYS[8 + spec.nrem + i], spec.score, spec.ref) end
if spec.history ~= '' then redis.call('XADD', KEYS[2], '*', 'e', spec.history) end
if spec.audit ~= '' then redis.call('XADD', KEYS[3], '*', 'e', spec.audit) end
if spec.transcript ~= '' then redis.call('XADD', KEYS[4], '*', 'e', spec.transcript) end
if spec.outbox ~= '' then redis.call('XADD', KEYS[5], '*', 'm', spec.outbox) end
for _, r in ipairs(spec.inbox) do
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', '1000', '*', 'r', r)
end
if #spec.inbox > 0 and redis.call('PTTL', KEYS[6]) == -1 then
  redis.call('PEXPIRE', KEYS[6], spec.session_ttl)
end
for _, m in ipairs(spec.sla_rem) do redis.call('ZREM', KEYS[7], m) end
for i = 1, #spec.sla_add, 2 do redis.call('ZADD', KEYS[7], spec.sla_add[i], spec.sla_add[i + 1]) end
if #spec.session_set > 0 then
  redis.call('HSET', KEYS[8], unpack(spec.session_set))
  redis.call('HINCRBY', KEYS[8], 'v', 1)
  redis.call('HDEL', KEYS[8], 't')  -- no process's cached copy matches this hash any more
  if redis.call('PTTL', KEYS[8]) == -1 then redis.call('PEXPIRE', KEYS[8], spec.session_ttl) end
end
return 'OK'
)lua");

const std::vector<std::string> kStatuses = {"new",      "in_progress", "forwarded",
                                            "resolved", "closed",      "reopened"};
const std::vector<std::string> kPriorities = {"urgent", "high", "normal"};

const std::map<std::string, std::vector<std::string>>& lifecycle() {
  static const std::map<std::string, std::vector<std::string>> m = {
      {"new", {"in_progress", "forwarded", "resolved"}},
      {"in_progress", {"forwarded", "resolved"}},
      {"forwarded", {"in_progress", "resolved"}},
      {"resolved", {"closed", "reopened"}},
      {"closed", {"reopened"}},
      {"reopened", {"in_progress", "forwarded", "resolved"}},
  };
  return m;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

const std::string& field(const std::map<std::string, std::string>& f, const std::string& k) {
  static const std::string kEmpty;
  auto it = f.find(k);
  return it == f.end() ? kEmpty : it->second;
}

int64_t int_field(const std::map<std::string, std::string>& f, const std::string& k) {
  const std::string& v = field(f, k);
  if (v.empty()) return 0;
  try {
    return std::stoll(v);
  } catch (...) {
    return 0;
  }
}

std::string district_of(const std::map<std::string, std::string>& f) {
  const std::string& d = field(f, "district");
  return d.empty() ? "triage" : d;
}

std::map<std::string, std::string> to_map(const RedisValue& hgetall) {
  std::map<std::string, std::string> m;
  for (size_t i = 0; i + 1 < hgetall.elements.size(); i += 2) {
    m[hgetall.elements[i].str] = hgetall.elements[i + 1].str;
  }
  return m;
}

// What is hidden from a role that must not see a citizen's identity: any run of digits long
// enough to be a phone number, and the name as given.
std::string scrub(std::string text, const std::string& name) {
  static const std::regex kPhone("(\\+?\\d[\\d \\-]{8,}\\d)");
  text = std::regex_replace(text, kPhone, "[छिपाया गया]");
  if (name.size() >= 2) {
    for (size_t pos = text.find(name); pos != std::string::npos; pos = text.find(name, pos)) {
      text.replace(pos, name.size(), "[छिपाया गया]");
    }
  }
  return text;
}

struct TicketUpdate {
  std::string ref;
  std::string expect_status;
  std::string expect_level;
  std::vector<std::string> set;    // field, value, ...
  std::vector<std::string> setnx;  // field, value, ...: only when not set yet
  std::vector<std::string> index_remove;
  std::vector<std::string> index_add;
  int64_t score = 0;  // created_at, the order of every queue
  std::string history, audit, transcript_key, transcript, outbox, inbox_key;
  std::vector<std::string> inbox;
  std::vector<std::string> sla_remove;
  std::vector<std::string> sla_add;  // score, member, ...
  std::string session_key;
  std::vector<std::string> session_set;
  int64_t session_ttl_ms = 30LL * 24 * 3600 * 1000;
};

Result<std::string> apply(Redis& redis, const TicketUpdate& u) {
  const std::string none = "nv:none";
  std::vector<std::string> keys_list = {
      keys::ticket(u.ref),
      keys::ticket_history(u.ref),
      keys::audit(),
      u.transcript_key.empty() ? none : u.transcript_key,
      keys::outbox(),
      u.inbox_key.empty() ? none : u.inbox_key,
      keys::sla_due(),
      u.session_key.empty() ? none : u.session_key,
  };
  keys_list.insert(keys_list.end(), u.index_remove.begin(), u.index_remove.end());
  keys_list.insert(keys_list.end(), u.index_add.begin(), u.index_add.end());
  json spec = {{"ref", u.ref},
               {"expect_status", u.expect_status},
               {"expect_level", u.expect_level},
               {"set", u.set},
               {"setnx", u.setnx},
               {"nrem", u.index_remove.size()},
               {"nadd", u.index_add.size()},
               {"score", std::to_string(u.score)},
               {"history", u.history},
               {"audit", u.audit},
               {"transcript", u.transcript},
               {"outbox", u.outbox},
               {"inbox", u.inbox},
               {"sla_rem", u.sla_remove},
               {"sla_add", u.sla_add},
               {"session_set", u.session_set},
               {"session_ttl", std::to_string(u.session_ttl_ms)}};
  auto r = redis.eval(kUpdateScript, keys_list, {json_text(spec)});
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status::unavailable("Redis: " + r->str);
  return r->str;
}

}  // namespace

const std::vector<std::string>& ticket_statuses() { return kStatuses; }

const std::vector<std::string>& next_statuses(const std::string& from) {
  static const std::vector<std::string> kNone;
  auto it = lifecycle().find(from);
  return it == lifecycle().end() ? kNone : it->second;
}

bool transition_allowed(const std::string& from, const std::string& to) {
  return contains(next_statuses(from), to);
}

std::vector<std::string> ticket_scopes(const std::string& district) {
  return {"district:" + (district.empty() ? std::string("triage") : district), "range"};
}

std::vector<std::string> ticket_index_keys(const std::string& district, const std::string& status,
                                           const std::string& category,
                                           const std::string& priority) {
  std::vector<std::string> out;
  for (const auto& scope : ticket_scopes(district)) {
    out.push_back(keys::ticket_index(scope, "status", status));
    out.push_back(keys::ticket_index(scope, "category", category));
    out.push_back(keys::ticket_index(scope, "priority", priority));
  }
  return out;
}

bool must_mask(const Actor& actor, const std::map<std::string, std::string>& fields) {
  const std::string& m = field(fields, "mask_personal_data");
  bool sensitive = m == "true" || m == "1";
  return sensitive && actor.role == "staff";
}

json ticket_view(const std::map<std::string, std::string>& f, bool mask) {
  static const std::vector<std::string> kNumbers = {
      "created_at", "updated_at", "first_response_at", "resolved_at", "closed_at",
      "citizen_last_at", "citizen_messages", "escalation_level", "sla_first_due",
      "sla_resolve_due"};
  static const std::vector<std::string> kBools = {"consent", "emergency", "mask_personal_data",
                                                  "involves_child"};
  static const std::vector<std::string> kHidden = {"user_id", "chat_id", "transcript",
                                                   "feedback_pending"};
  json v = json::object();
  for (const auto& [k, val] : f) {
    if (contains(kHidden, k)) continue;
    if (contains(kNumbers, k)) {
      v[k] = int_field(f, k);
    } else if (contains(kBools, k)) {
      v[k] = val == "true" || val == "1";
    } else if (k == "attachments") {
      json a = json::parse(val, nullptr, false);
      v[k] = a.is_discarded() ? json::array() : a;
    } else if (k == "incident_time" && !val.empty() && val.front() == '{') {
      json t = json::parse(val, nullptr, false);  // {"date", "time"?, "part"?, "said"}
      v[k] = t.is_discarded() ? json(val) : t;
    } else {
      v[k] = val;
    }
  }
  for (const char* k : {"first_response_at", "resolved_at", "closed_at"}) {
    if (!v.contains(k) || v[k] == 0) v[k] = nullptr;
  }
  for (const char* k : {"district", "police_station", "assignee"}) {
    if (!v.contains(k) || v[k] == "" || v[k] == "null") v[k] = nullptr;
  }
  if (!v.contains("escalation_level")) v["escalation_level"] = 0;
  if (mask) {
    const std::string& mobile = field(f, "mobile");
    v["name"] = field(f, "name").empty() ? "" : "[छिपाया गया]";
    v["mobile"] = mobile.size() >= 2 ? std::string(mobile.size() - 2, '*') + mobile.substr(mobile.size() - 2) : "";
    v["description"] = scrub(field(f, "description"), field(f, "name"));
    v["personal_data_masked"] = true;
  }
  return v;
}

TicketService::TicketService(Redis& redis, const dialogs::ReferenceData& reference,
                             const dialogs::Flow& flow, Clock clock,
                             std::vector<std::string> local_platforms)
    : redis_(redis),
      reference_(reference),
      flow_(flow),
      clock_(std::move(clock)),
      local_platforms_(std::move(local_platforms)) {}

std::string TicketService::text(const std::string& key, const std::string& lang) const {
  auto it = flow_.messages.find(key);
  return it == flow_.messages.end() ? std::string() : dialogs::text_in(it->second, lang);
}

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

// Queues `reply` to the ticket's citizen: into the local inbox for the web chat, the outbox for
// a messaging platform, nowhere for the terminal.
void queue_to_citizen(TicketUpdate& u, const std::map<std::string, std::string>& f,
                      const Reply& reply, const std::vector<std::string>& local_platforms,
                      int64_t now) {
  const std::string& platform = field(f, "platform");
  const std::string& chat = field(f, "chat_id");
  if (contains(local_platforms, platform)) {
    u.inbox_key = keys::local_inbox(platform, chat);
    u.inbox.push_back(json_text(json(reply)));
  } else if (platform != "terminal" && !platform.empty()) {
    json out = {{"platform", platform},
                {"chat_id", chat},
                {"replies", json::array({reply})},
                {"attempt", 0},
                {"ticket", field(f, "id")}};
    if (field(f, "kind") == "mention") out["kind"] = "mention";
    const int64_t last = int_field(f, "citizen_last_at") ? int_field(f, "citizen_last_at")
                                                         : int_field(f, "created_at");
    // WhatsApp and Messenger let a business answer freely only within 24 hours of the
    // citizen's last message; after that WhatsApp takes only a pre-approved template, and
    // Messenger a message tagged as a human agent's (the handlers render either).
    if ((platform == "whatsapp" || platform == "messenger") && now - last > 24LL * 3600 * 1000) {
      out["outside_window"] = true;
    }
    u.outbox = json_text(out);
  }
}

}  // namespace

Result<TicketService::Loaded> TicketService::load(const Actor& actor, const std::string& ref) {
  static const std::regex kRef("[A-Z]{3}-\\d{2}-\\d{6}");
  if (!std::regex_match(ref, kRef)) return Status::not_found("no such ticket: " + ref);
  auto r = redis_.command({"HGETALL", keys::ticket(ref)});
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status::unavailable("Redis: " + r->str);
  Loaded l{to_map(r.value())};
  if (l.fields.empty()) return Status::not_found("no such ticket: " + ref);
  if (!actor.range_wide() && district_of(l.fields) != actor.district) {
    return Status::not_found("no such ticket: " + ref);  // never confirm it exists
  }
  return l;
}

Result<TicketPage> TicketService::list(const Actor& actor, const TicketQuery& q) {
  if (!q.status.empty() && !contains(kStatuses, q.status)) {
    return Status::invalid("status: unknown \"" + q.status + "\"; one of " + join(kStatuses));
  }
  if (!q.priority.empty() && !contains(kPriorities, q.priority)) {
    return Status::invalid("priority: unknown \"" + q.priority + "\"; one of " + join(kPriorities));
  }
  if (!q.category.empty() && !reference_.find_category(q.category)) {
    return Status::invalid("category: unknown \"" + q.category + "\"");
  }
  if (!q.district.empty() && q.district != "triage" && !reference_.find_district(q.district)) {
    return Status::invalid("district: unknown \"" + q.district + "\"");
  }
  if (q.limit < 1 || q.limit > 200) return Status::invalid("limit: expected 1 to 200");
  std::string district = q.district;
  if (!actor.range_wide()) {
    if (!district.empty() && district != actor.district) {
      return Status::forbidden("you may only see the tickets of " + actor.district);
    }
    district = actor.district;
  }
  // The cursor is "<created_at>:<ref>" of the last ticket of the previous page.
  int64_t max_score = INT64_MAX;
  std::string after_ref;
  if (!q.cursor.empty()) {
    static const std::regex kCursor("(\\d{1,19}):([A-Z]{3}-\\d{2}-\\d{6})");
    std::smatch m;
    if (!std::regex_match(q.cursor, m, kCursor)) return Status::invalid("cursor: malformed");
    max_score = std::stoll(m[1].str());
    after_ref = m[2].str();
  }

  // Walk the smallest index that covers one filter; check the others on the ticket itself.
  const std::string scope = district.empty() ? "range" : "district:" + district;
  std::vector<std::string> candidates;
  if (!q.status.empty()) candidates.push_back(keys::ticket_index(scope, "status", q.status));
  if (!q.category.empty()) candidates.push_back(keys::ticket_index(scope, "category", q.category));
  if (!q.priority.empty()) candidates.push_back(keys::ticket_index(scope, "priority", q.priority));
  std::string index = district.empty() ? keys::all_tickets() : keys::district_tickets(district);
  if (!candidates.empty()) {
    std::vector<std::vector<std::string>> cmds;
    for (const auto& k : candidates) cmds.push_back({"ZCARD", k});
    auto cards = redis_.pipeline(cmds);
    if (!cards.ok()) return cards.status();
    size_t best = 0;
    for (size_t i = 1; i < candidates.size(); ++i) {
      if (cards->at(i).integer < cards->at(best).integer) best = i;
    }
    index = candidates[best];
  }

  TicketPage page;
  const size_t limit = static_cast<size_t>(q.limit);
  // An index that is exactly the query needs one entry more than the page (to know whether
  // another page follows); with more filters, read ahead.
  const size_t batch = candidates.size() <= 1 ? limit + 1 : std::max<size_t>(limit * 2, 500);
  // Each round reads on from where the last one stopped by score, not by offset (an offset
  // costs Redis a walk over everything before it): `bound` is the last score read and `tied`
  // how many entries with exactly that score were already read.
  int64_t bound = max_score;  // INT64_MAX: +inf
  int64_t tied = 0;
  bool exhausted = false;  // the index has nothing older
  bool leftover = false;   // entries read but not looked at once the page was full
  std::string examined;    // cursor of the last ticket looked at
  auto cursor_of = [](const std::pair<std::string, int64_t>& r) {
    return std::to_string(r.second) + ":" + r.first;
  };
  // Budget: at most 50 reads of the index per page (with several filters, 50 x 500 entries,
  // each checked against the other indexes in Redis). A rare combination of filters may need
  // more; then the page is short and its cursor says where to go on from.
  for (int rounds = 0; rounds < 50; ++rounds) {
    auto r = redis_.command({"ZREVRANGEBYSCORE", index,
                             bound == INT64_MAX ? "+inf" : std::to_string(bound), "-inf",
                             "WITHSCORES", "LIMIT", std::to_string(tied), std::to_string(batch)});
    if (!r.ok()) return r.status();
    if (r->is_error()) return Status::unavailable("Redis: " + r->str);
    const auto& el = r->elements;
    if (el.empty()) {
      exhausted = true;
      break;
    }
    std::vector<int64_t> scores;
    for (size_t i = 0; i + 1 < el.size(); i += 2) scores.push_back(std::stoll(el[i + 1].str));
    std::vector<std::pair<std::string, int64_t>> refs;
    for (size_t i = 0; i + 1 < el.size(); i += 2) {
      int64_t score = scores[i / 2];
      // Same created_at as the cursor: those at or before the cursor's ref were on a page.
      if (!after_ref.empty() && score == max_score && el[i].str >= after_ref) continue;
      refs.emplace_back(el[i].str, score);
    }
    // With several filters, the other filters' indexes say which of these match (ZMSCORE),
    // so only matching tickets are read: a combination that matches nothing costs index
    // reads, not thousands of hashes.
    std::vector<bool> wanted(refs.size(), true);
    if (candidates.size() > 1 && !refs.empty()) {
      std::vector<std::vector<std::string>> scores;
      for (const auto& other : candidates) {
        if (other == index) continue;
        std::vector<std::string> cmd = {"ZMSCORE", other};
        for (const auto& r : refs) cmd.push_back(r.first);
        scores.push_back(std::move(cmd));
      }
      auto got = redis_.pipeline(scores);
      if (!got.ok()) return got.status();
      for (const auto& reply : got.value()) {
        if (reply.is_error()) return Status::unavailable("Redis: " + reply.str);
        for (size_t j = 0; j < refs.size() && j < reply.elements.size(); ++j)
          if (reply.elements[j].is_nil()) wanted[j] = false;
      }
    }
    // Read the matching tickets the page still needs (the hash is checked again below);
    // refs[0..consider) are looked at in this round, the rest in the next.
    std::vector<std::vector<std::string>> reads;
    std::vector<int> read_of(refs.size(), -1);
    const size_t needed = limit - page.tickets.size();
    size_t consider = refs.size();
    for (size_t j = 0; j < refs.size(); ++j) {
      if (!wanted[j]) continue;
      if (reads.size() == needed) {
        consider = j;
        break;
      }
      read_of[j] = static_cast<int>(reads.size());
      reads.push_back({"HGETALL", keys::ticket(refs[j].first)});
    }
    size_t i = 0;
    {
      Result<std::vector<RedisValue>> got = std::vector<RedisValue>{};
      if (!reads.empty()) got = redis_.pipeline(reads);
      if (!got.ok()) return got.status();
      for (; i < consider && page.tickets.size() < limit; ++i) {
        examined = cursor_of(refs[i]);
        if (read_of[i] < 0) continue;  // not in every filter's index
        auto f = to_map(got->at(static_cast<size_t>(read_of[i])));
        if (f.empty()) continue;
        if (!q.status.empty() && field(f, "status") != q.status) continue;
        if (!q.category.empty() && field(f, "category") != q.category) continue;
        if (!q.priority.empty() && field(f, "priority") != q.priority) continue;
        if (!district.empty() && district_of(f) != district) continue;
        page.tickets.push_back(ticket_view(f, must_mask(actor, f)));
        page.next_cursor = cursor_of(refs[i]);
      }
    }
    leftover = i < refs.size();
    if (scores.size() < batch) exhausted = true;
    size_t unread = 0;  // entries at the end of this batch to read again next round
    if (page.tickets.size() < limit && i < refs.size()) {
      // A ticket read failed its check (changed since the index said it matched): the
      // entries not looked at yet are read again next round.
      unread = refs.size() - i;
      exhausted = false;
    }
    const size_t consumed = scores.size() - unread;
    if (consumed > 0) {
      const int64_t last = scores[consumed - 1];
      const int64_t same = std::count(scores.begin(), scores.begin() + consumed, last);
      if (last == bound) {
        tied += same;
      } else {
        bound = last;
        tied = same;
      }
    }
    if (page.tickets.size() >= limit || exhausted) break;
  }
  if (page.tickets.size() >= limit) {
    if (exhausted && !leftover) page.next_cursor.clear();
  } else if (exhausted) {
    page.next_cursor.clear();
  } else {
    page.next_cursor = examined;  // the budget ran out: more may match further on
  }
  return page;
}

Result<json> TicketService::get(const Actor& actor, const std::string& ref, bool with_transcript) {
  auto loaded = load(actor, ref);
  if (!loaded.ok()) return loaded.status();
  const auto& f = loaded->fields;
  bool mask = must_mask(actor, f);
  std::vector<std::vector<std::string>> cmds = {
      {"XRANGE", keys::ticket_history(ref), "-", "+", "COUNT", "2000"}};
  if (with_transcript) {
    cmds.push_back({"XRANGE", keys::transcript(field(f, "transcript")), "-", "+", "COUNT", "5000"});
  }
  const int64_t now = clock_();
  if (!mask) {
    cmds.push_back({"XADD", keys::audit(), "*", "e",
                    json_text({{"at", now},
                               {"actor", actor.login},
                               {"role", actor.role},
                               {"action", "read_ticket"},
                               {"ticket", ref},
                               {"personal_data", true}})});
  }
  auto r = redis_.pipeline(cmds);
  if (!r.ok()) return r.status();
  json view = ticket_view(f, mask);
  auto entries = [&](const RedisValue& v) {
    json out = json::array();
    for (const auto& e : v.elements) {
      if (e.elements.size() != 2) continue;
      const auto& kv = e.elements[1].elements;
      for (size_t i = 0; i + 1 < kv.size(); i += 2) {
        if (kv[i].str != "e") continue;
        std::string text = mask ? scrub(kv[i + 1].str, field(f, "name")) : kv[i + 1].str;
        json j = json::parse(text, nullptr, false);
        if (!j.is_discarded()) out.push_back(std::move(j));
      }
    }
    return out;
  };
  view["history"] = entries(r->at(0));
  if (with_transcript) {
    view["transcript"] = entries(r->at(1));
    // A complaint the same citizen made on another platform and that was linked to this ticket
    // keeps its own transcript; show it here too, marked with its platform.
    std::vector<std::vector<std::string>> linked;
    std::vector<std::string> platforms;
    for (const auto& h : view["history"]) {
      if (h.value("action", "") == "linked" && h.contains("episode")) {
        linked.push_back({"XRANGE", keys::transcript(h.value("episode", "")), "-", "+", "COUNT",
                          "5000"});
        platforms.push_back(h.value("platform", ""));
      }
    }
    if (!linked.empty()) {
      auto more = redis_.pipeline(linked);
      if (!more.ok()) return more.status();
      for (size_t i = 0; i < more->size(); ++i) {
        for (auto& e : entries(more->at(i))) {
          e["linked_from"] = platforms[i];
          view["transcript"].push_back(std::move(e));
        }
      }
    }
  }
  return view;
}

namespace {

json history_entry(int64_t now, const Actor& actor, const std::string& action) {
  return {{"at", now}, {"by", actor.login}, {"role", actor.role}, {"action", action}};
}

}  // namespace

Result<json> TicketService::reply(const Actor& actor, const std::string& ref,
                                  const std::string& text) {
  if (text.empty() || text.size() > 4000) {
    return Status::invalid("text: expected 1 to 4000 bytes of text for the citizen");
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto loaded = load(actor, ref);
    if (!loaded.ok()) return loaded.status();
    const auto& f = loaded->fields;
    const std::string& status = field(f, "status");
    if (status == "closed") {
      return Status::refused("ticket " + ref + " is closed; reopen it before replying");
    }
    const int64_t now = clock_();
    Reply reply{text, {}};
    TicketUpdate u;
    u.ref = ref;
    u.expect_status = status;
    u.score = int_field(f, "created_at");
    u.set = {"updated_at", std::to_string(now)};
    u.setnx = {"first_response_at", std::to_string(now)};
    if (status == "new") {
      u.set.insert(u.set.end(), {"status", "in_progress"});
      u.index_remove = {keys::ticket_index(ticket_scopes(field(f, "district"))[0], "status", "new"),
                        keys::ticket_index("range", "status", "new")};
      u.index_add = {
          keys::ticket_index(ticket_scopes(field(f, "district"))[0], "status", "in_progress"),
          keys::ticket_index("range", "status", "in_progress")};
    }
    if (field(f, "assignee").empty() && actor.role == "staff") {
      u.set.insert(u.set.end(), {"assignee", actor.login});
    }
    json h = history_entry(now, actor, "reply");
    h["text"] = text;
    if (status == "new") h["status"] = {{"from", "new"}, {"to", "in_progress"}};
    u.history = json_text(h);
    u.audit = json_text({{"at", now}, {"actor", actor.login}, {"role", actor.role},
                         {"action", "reply"}, {"ticket", ref}});
    u.transcript_key = keys::transcript(field(f, "transcript"));
    u.transcript =
        json_text({{"dir", "out"}, {"at", now}, {"by", actor.login}, {"reply", reply}});
    u.sla_remove = {"first:" + ref};
    std::string wrapped = this->text("staff_reply", field(f, "lang"));
    if (wrapped.empty()) {
      wrapped = text;
    } else {
      replace_all(wrapped, "{ticket_ref}", ref);
      replace_all(wrapped, "{text}", text);
    }
    queue_to_citizen(u, f, Reply{wrapped, {}}, local_platforms_, now);
    auto applied = apply(redis_, u);
    if (!applied.ok()) return applied.status();
    if (applied.value() == "STALE") continue;
    if (applied.value() == "MISSING") return Status::not_found("no such ticket: " + ref);
    return get(actor, ref, false);
  }
  return Status::unavailable("the ticket is changing too fast; retry");
}

Result<json> TicketService::dead_letters(const Actor& actor, int limit) {
  if (actor.role != "ig" && actor.role != "admin") {
    return Status::forbidden("undelivered messages are shown to the range (IG, admin) only");
  }
  if (limit < 1 || limit > 500) return Status::invalid("limit: expected 1 to 500");
  auto r = redis_.command({"XREVRANGE", keys::dead_letters(), "+", "-", "COUNT",
                           std::to_string(limit)});
  if (!r.ok()) return r.status();
  if (r->is_error()) return Status::unavailable("Redis: " + r->str);
  json out = json::array();
  for (const auto& e : r->elements) {
    if (e.elements.size() != 2) continue;
    const auto& kv = e.elements[1].elements;
    for (size_t i = 0; i + 1 < kv.size(); i += 2) {
      if (kv[i].str != "m") continue;
      json j = json::parse(kv[i + 1].str, nullptr, false);
      if (!j.is_discarded()) out.push_back(std::move(j));
    }
  }
  return out;
}

Result<json> TicketService::add_note(const Actor& actor, const std::string& ref,
                                     const std::string& text) {
  if (text.empty() || text.size() > 4000) return Status::invalid("text: expected 1 to 4000 bytes");
  auto loaded = load(actor, ref);
  if (!loaded.ok()) return loaded.status();
  const int64_t now = clock_();
  TicketUpdate u;
  u.ref = ref;
  u.set = {"updated_at", std::to_string(now)};
  json h = history_entry(now, actor, "note");
  h["text"] = text;
  u.history = json_text(h);
  u.audit = json_text({{"at", now}, {"actor", actor.login}, {"role", actor.role},
                       {"action", "note"}, {"ticket", ref}});
  auto applied = apply(redis_, u);
  if (!applied.ok()) return applied.status();
  if (applied.value() == "MISSING") return Status::not_found("no such ticket: " + ref);
  return get(actor, ref, false);
}

Result<json> TicketService::set_status(const Actor& actor, const std::string& ref,
                                       const std::string& to, const std::string& note,
                                       const std::string& police_station) {
  if (!contains(kStatuses, to)) {
    return Status::invalid("status: unknown \"" + to + "\"; one of " + join(kStatuses));
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto loaded = load(actor, ref);
    if (!loaded.ok()) return loaded.status();
    const auto& f = loaded->fields;
    const std::string from = field(f, "status");
    if (!transition_allowed(from, to)) {
      const auto& next = next_statuses(from);
      return Status::refused("a ticket that is " + from + " cannot become " + to +
                             (next.empty() ? std::string() : "; it can become: " + join(next)));
    }
    const std::string district = field(f, "district");
    const int64_t now = clock_();
    TicketUpdate u;
    u.ref = ref;
    u.expect_status = from;
    u.score = int_field(f, "created_at");
    u.set = {"status", to, "updated_at", std::to_string(now)};
    const std::string scope = ticket_scopes(district)[0];
    u.index_remove = {keys::ticket_index(scope, "status", from),
                      keys::ticket_index("range", "status", from)};
    u.index_add = {keys::ticket_index(scope, "status", to),
                   keys::ticket_index("range", "status", to)};
    json h = history_entry(now, actor, "status");
    h["from"] = from;
    h["to"] = to;
    if (!note.empty()) h["note"] = note;
    if (to == "forwarded") {
      const dialogs::PoliceStation* ps =
          district.empty() ? nullptr : reference_.find_police_station(district, police_station);
      if (!ps) {
        return Status::invalid("police_station: forwarding needs a police station of " +
                               (district.empty() ? std::string("the ticket's district") : district));
      }
      u.set.insert(u.set.end(), {"police_station", police_station, "forwarded_to", police_station});
      h["police_station"] = police_station;
    }
    if (to == "resolved") {
      u.set.insert(u.set.end(), {"resolved_at", std::to_string(now)});
      u.sla_remove = {"first:" + ref, "resolve:" + ref};
    }
    if (to == "resolved") {
      // Ask the citizen whether they are satisfied; their answer closes or reopens the ticket
      // (Pipeline::draft_feedback). The session remembers the question for a typed answer.
      const std::string lang = field(f, "lang");
      std::string question = text("feedback_question", lang);
      replace_all(question, "{ticket_ref}", ref);
      if (!question.empty() && field(f, "platform") != "terminal") {
        Reply ask{question,
                  {{"feedback:yes:" + ref, text("feedback_yes", lang)},
                   {"feedback:no:" + ref, text("feedback_no", lang)}}};
        queue_to_citizen(u, f, ask, local_platforms_, now);
        u.session_key = keys::session(field(f, "platform"), field(f, "user_id"));
        u.session_set = {"fb", ref};
        u.transcript_key = keys::transcript(field(f, "transcript"));
        u.transcript = json_text({{"dir", "out"}, {"at", now}, {"by", "bot"}, {"reply", ask}});
      }
    }
    if (to == "closed") u.set.insert(u.set.end(), {"closed_at", std::to_string(now)});
    u.history = json_text(h);
    u.audit = json_text({{"at", now}, {"actor", actor.login}, {"role", actor.role},
                         {"action", "status"}, {"ticket", ref}, {"from", from}, {"to", to}});
    auto applied = apply(redis_, u);
    if (!applied.ok()) return applied.status();
    if (applied.value() == "STALE") continue;
    if (applied.value() == "MISSING") return Status::not_found("no such ticket: " + ref);
    return get(actor, ref, false);
  }
  return Status::unavailable("the ticket is changing too fast; retry");
}

}  // namespace nivaran
