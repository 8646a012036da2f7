#include "bot/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <cstdio>
#include <iostream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>
#include <openssl/sha.h>

#include "bot/keys.h"
#include "bot/metrics.h"
#include "bot/tickets.h"
#include "core/json_write.h"
#include "dialogs/match.h"

namespace nivaran {

using nlohmann::json;

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

Processed duplicate() {
  Processed p;
  p.duplicate = true;
  return p;
}

std::string as_field(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return json_text(v);
}

// The transcript entry of a citizen's message: {"at", "dir": "in", "error" (when the step
// failed), "msg"}, written straight, as json_text would write it.
std::string inbound_entry(const InboundMessage& msg, int64_t now, const std::string& error) {
  std::string out = R"({"at":)" + std::to_string(now) + R"(,"dir":"in",)";
  if (!error.empty()) {
    out += R"("error":)";
    append_json_string(out, error);
    out += ',';
  }
  out += R"("msg":)";
  append_json(out, msg);
  out += '}';
  return out;
}

void backoff_after_conflict(int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  // Exponential, so a delivery that keeps losing to a busy conversation still gets through.
  int max_us = std::min(100 << std::min(attempt, 8), 20000);
  std::this_thread::sleep_for(
      std::chrono::microseconds(std::uniform_int_distribution<int>(0, max_us)(rng)));
}

}  // namespace

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string make_unique_id(int64_t now_ms) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%llx%016llx", static_cast<unsigned long long>(now_ms),
                static_cast<unsigned long long>(rng()));
  return buf;
}

Pipeline::Pipeline(ConversationStore& store, const dialogs::Flow& flow,
                   const dialogs::ReferenceData& ref, PipelineOptions options, Clock clock,
                   StepFunction step, SessionCache* cache)
    : store_(store),
      flow_(flow),
      ref_(ref),
      options_(std::move(options)),
      clock_(std::move(clock)),
      step_(std::move(step)),
      cache_(cache) {}

std::string mobile_key(const std::string& mobile) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  const std::string input = "nivaran-mobile:" + mobile;
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string Pipeline::text(const std::string& key, const std::string& lang) const {
  auto it = flow_.messages.find(key);
  return it == flow_.messages.end() ? std::string() : dialogs::text_in(it->second, lang);
}

Result<Processed> Pipeline::record_receipt(const InboundMessage& msg) {
  // What became of a message the bot sent. A failure the platform reports later (WhatsApp's
  // "failed" status) joins the dead letters staff see; the rest go to a capped log. The
  // conversation itself is not touched.
  const int64_t now = clock_();
  json record = {{"platform", msg.platform}, {"chat_id", msg.chat_id}, {"sent_id", msg.button},
                 {"state", msg.text},        {"at", now}};
  const bool failed = msg.text == "failed";
  if (failed) record["reason"] = "the platform reported that it could not deliver the message";
  // Once per receipt: a webhook redelivered (because another event in it got a 503) must not
  // show staff the same failure twice.
  auto recorded = store_.record_once(msg.platform, msg.message_id,
                                     failed ? keys::dead_letters() : keys::receipts(),
                                     failed ? "m" : "r", json_text(record));
  if (!recorded.ok()) return recorded.status();
  if (!recorded.value()) return duplicate();
  return Processed{};
}

Result<Processed> Pipeline::process(const InboundMessage& msg) {
  if (msg.kind == "receipt") return record_receipt(msg);
  const std::string cache_key = msg.platform + '\n' + msg.user_id;
  bool use_cache = cache_ != nullptr;
  for (int attempt = 0; attempt <= options_.max_conflict_retries; ++attempt) {
    LoadedSession loaded;
    std::optional<dialogs::Session> read_session;  // the session read from Redis
    const dialogs::Session* stored = nullptr;       // that one or the cached one, not copied
    std::shared_ptr<const CachedSession> hit;
    if (use_cache) hit = cache_->get(cache_key);
    // A session waiting for feedback is read afresh: the answer changes a ticket.
    const bool cached = hit && hit->feedback_for.empty();
    if (cached) {
      metrics::counters().session_cache_hits++;
      loaded.version = hit->version;
      loaded.token = hit->token;
      loaded.open_ticket = hit->open_ticket;
      loaded.open_ticket_status = hit->open_ticket_status;
      stored = &hit->session;
    } else {
      auto read = store_.load(msg.platform, msg.user_id, msg.message_id);
      if (!read.ok()) return read.status();
      if (read->seen) return duplicate();
      loaded = std::move(read.value());
      if (!loaded.session_json.empty()) {
        json j = json::parse(loaded.session_json, nullptr, false);
        if (!j.is_discarded()) read_session = j.get<dialogs::Session>();
      }
      if (!read_session) read_session.emplace();
      stored = &*read_session;
    }
    const int64_t now = clock_();

    Draft d;
    ConversationCommit& c = d.commit;
    c.platform = msg.platform;
    c.user_id = msg.user_id;
    c.message_id = msg.message_id;
    c.expected_version = loaded.version;
    c.expected_token = loaded.token;
    c.new_token = make_unique_id(now);
    c.now_ms = now;

    Status drafted;
    if (msg.kind == "mention") {
      drafted = draft_mention(msg, *stored, now, d);
    } else {
      auto feedback = draft_feedback(msg, loaded, *stored, now, d);
      if (!feedback.ok()) return feedback.status();
      if (!feedback.value()) drafted = draft_step(msg, loaded, *stored, now, d);
    }
    if (!drafted.is_ok()) return drafted;

    record_replies(msg, now, d);

    auto outcome = store_.commit(c);
    if (!outcome.ok()) {
      if (cache_) cache_->erase(cache_key);  // whether it was applied is unknown
      return outcome.status();
    }
    switch (outcome->outcome) {
      case ConversationStore::Outcome::kDuplicate:
        return duplicate();
      case ConversationStore::Outcome::kCommitted:
        if (!c.new_ticket.empty()) name_new_ticket(outcome->ticket_ref, d);
        if (cache_) remember(cache_key, loaded, d);
        return Processed{.duplicate = false,
                         .replies = std::move(d.replies),
                         .ticket_ref = outcome->ticket_ref};
      case ConversationStore::Outcome::kConflict:
        if (cached) {
          // The cached session was stale (another process, a staff action, a closed ticket):
          // read Redis and step again, at once.
          metrics::counters().session_cache_stale++;
          cache_->erase(cache_key);
          use_cache = false;
          continue;
        }
        // Another delivery for this citizen won the race: re-read and re-step, after a short
        // random pause so that two losers do not collide again.
        backoff_after_conflict(attempt);
        continue;
    }
  }
  return Status::unavailable("conversation is busy with concurrent updates; retry");
}

void Pipeline::record_replies(const InboundMessage& msg, int64_t now, Draft& d) const {
  // Each reply is written out once and that text spliced into its transcript entry and into the
  // outbox entry (or the web chat's inbox): the same JSON a json object would give, as
  // nlohmann orders an object's keys.
  ConversationCommit& c = d.commit;
  std::vector<std::string> texts;
  texts.reserve(d.replies.size());
  for (const auto& r : d.replies) {
    texts.emplace_back();
    append_json(texts.back(), r);
  }
  const std::string at = std::to_string(now);
  for (const auto& t : texts) {
    c.transcript.push_back(R"({"at":)" + at + R"(,"by":"bot","dir":"out","reply":)" + t + "}");
  }
  if (!options_.queue_replies || texts.empty()) return;
  if (options_.local_platforms.count(msg.platform)) {
    c.inbox_key = keys::local_inbox(msg.platform, msg.chat_id);
    c.inbox_entries = std::move(texts);
    return;
  }
  std::string out = R"({"attempt":0,"callback_id":)";
  append_json_string(out, msg.callback_id);
  out += R"(,"chat_id":)";
  append_json_string(out, msg.chat_id);
  if (!d.reply_kind.empty()) {
    out += R"(,"kind":)";
    append_json_string(out, d.reply_kind);
  }
  out += R"(,"platform":)";
  append_json_string(out, msg.platform);
  out += R"(,"replies":[)";
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i > 0) out += ',';
    out += texts[i];
  }
  out += "]}";
  c.outbox_json = std::move(out);
}

void Pipeline::name_new_ticket(const std::string& ref, Draft& d) {
  // The commit wrote the reference in place of the placeholder in Redis; the same here, for the
  // replies returned to the caller and the session kept in the cache.
  const std::string& placeholder = d.commit.new_ticket;
  for (auto& r : d.replies) replace_all(r.text, placeholder, ref);
  if (d.session && d.session->open_ticket == placeholder) d.session->open_ticket = ref;
  if (d.commit.open_ticket == placeholder) d.commit.open_ticket = ref;
  d.commit.new_ticket = ref;
}

void Pipeline::remember(const std::string& cache_key, const LoadedSession& loaded, Draft& d) {
  const ConversationCommit& c = d.commit;
  // What the session hash holds now is known exactly only after a dialog step (the answer to
  // the feedback question changes "fb") on a session not waiting for feedback, and when the
  // status of its open ticket is known (a ticket it was linked to was not read).
  std::string status;
  bool known = d.session.has_value() && loaded.feedback_for.empty();
  if (c.open_ticket.empty()) {
    status.clear();
  } else if (c.open_ticket == c.new_ticket) {
    status = "new";
  } else if (c.open_ticket == c.checked_ticket) {
    status = c.checked_ticket_status;
  } else {
    known = false;
  }
  if (!known) {
    cache_->erase(cache_key);
    return;
  }
  cache_->put(cache_key, std::make_shared<const CachedSession>(
                             CachedSession{.version = c.expected_version + 1,
                                           .token = c.new_token,
                                           .session = std::move(*d.session),
                                           .feedback_for = "",
                                           .open_ticket = c.open_ticket,
                                           .open_ticket_status = status}));
}

Status Pipeline::draft_step(const InboundMessage& msg, const LoadedSession& loaded,
                            const dialogs::Session& stored, int64_t now, Draft& d) {
  ConversationCommit& c = d.commit;
  const dialogs::Session* current = &stored;
  std::optional<dialogs::Session> reopened;  // a copy, only when a closed ticket is let go
  // A closed ticket takes no more messages: what the citizen writes next is a new complaint,
  // not something to add to it. load() read the ticket's status; a session committed before
  // the store kept its open ticket beside it pays one more read.
  if (!stored.open_ticket.empty()) {
    std::string status;
    if (loaded.open_ticket == stored.open_ticket) {
      status = loaded.open_ticket_status;
    } else {
      auto fields = store_.ticket_fields(stored.open_ticket, {"status"});
      if (!fields.ok()) return fields.status();
      auto it = fields->find("status");
      if (it != fields->end()) status = it->second;
    }
    c.checked_ticket = stored.open_ticket;
    c.checked_ticket_status = status;
    if (status == "closed") {
      reopened = stored;
      reopened->open_ticket.clear();
      reopened->held.clear();
      if (reopened->pending == "attach_or_new" || reopened->pending == "attaching")
        reopened->pending.clear();
      current = &*reopened;
    }
  }
  dialogs::StepContext ctx{.now_ms = now,
                           .fresh_episode = make_unique_id(now),
                           .utc_offset_minutes = options_.utc_offset_minutes};
  dialogs::StepResult step;
  std::string step_error;
  try {
    step = step_(flow_, ref_, *current, msg, ctx);
  } catch (const std::exception& e) {
    step_error = e.what();
    std::cerr << "nivaran: dialog step failed for a " << msg.platform
              << " message; committed with an apology: " << step_error << "\n";
    step = dialogs::StepResult{};
    step.session = *current;
    // A session let go of its closed ticket still names that ticket's episode: the apology
    // starts a new one, or that ticket's transcript would be given the expiry of a draft.
    if (step.session.episode.empty() || reopened) step.session.episode = ctx.fresh_episode;
    std::string apology = text("internal_error", current->lang);
    if (!apology.empty()) step.replies.push_back(Reply{apology, {}});
  }

  for (const auto& effect : step.effects) {
    if (effect.type == "create_ticket" && c.new_ticket.empty()) {
      auto handled = intake_check(msg, effect.data, step.session, now, d);
      if (!handled.ok()) return handled.status();
      if (handled.value()) {
        step.replies = d.replies;
        continue;
      }
      const std::string district = string_field(effect.data, "district");
      auto prefix = options_.ticket_prefixes.find(district);
      bool in_range = prefix != options_.ticket_prefixes.end();
      c.new_ticket = new_ticket_placeholder();
      c.new_ticket_numbering =
          ticket_numbering(in_range ? prefix->second : options_.triage_prefix, now);
      c.new_ticket_district = in_range ? district : "triage";
      auto& f = c.new_ticket_fields;
      for (auto& [k, v] : effect.data.items()) f[k] = as_field(v);
      f["id"] = c.new_ticket;
      f["district"] = in_range ? district : "";
      f["status"] = "new";
      f["platform"] = msg.platform;
      f["user_id"] = msg.user_id;
      f["chat_id"] = msg.chat_id;
      f["created_at"] = std::to_string(now);
      f["updated_at"] = std::to_string(now);
      f["citizen_last_at"] = std::to_string(now);
      f["escalation_level"] = "0";
      f["transcript"] = step.session.episode;
      if (f["priority"].empty()) f["priority"] = "normal";
      // A complaint about a child hides the citizen's identity from staff, whatever its
      // category (women's-safety complaints already do, by their category).
      if (flow_.child_words.occurs_in(dialogs::Utterance::of(f["description"]))) {
        f["involves_child"] = "true";
        f["mask_personal_data"] = "true";
      }
      c.new_ticket_indexes = ticket_index_keys(f["district"], "new", f["category"], f["priority"]);
      if (!f["mobile"].empty()) c.new_ticket_indexes.push_back(keys::mobile_tickets(mobile_key(f["mobile"])));
      c.new_ticket_deadlines = initial_deadlines(options_.sla, c.new_ticket, f["priority"], now);
      c.change.history = json_text({{"at", now},
                                    {"by", "citizen"},
                                    {"role", "citizen"},
                                    {"action", "created"},
                                    {"platform", msg.platform},
                                    {"cell", f["cell"]},
                                    {"priority", f["priority"]}});
      step.session.open_ticket = c.new_ticket;
      for (auto& r : step.replies) replace_all(r.text, "{ticket_ref}", c.new_ticket);
    } else if (effect.type == "attach_to_ticket") {
      c.attach_ticket_ref = string_field(effect.data, "ticket");
      if (string_field(effect.data, "priority") == "urgent") {
        if (Status st = raise_to_urgent(c.attach_ticket_ref, msg, now, d); !st.is_ok()) return st;
      }
    } else if (effect.type == "ticket_status") {
      auto status = store_.ticket_status_for(string_field(effect.data, "ticket"), msg.platform,
                                             msg.user_id, msg.text);
      if (!status.ok()) return status.status();
      std::string key = status->empty() ? "ticket_not_found" : "ticket_status_" + status.value();
      std::string said = text(key, step.session.lang);
      if (said.empty()) said = status.value();
      for (auto& r : step.replies) replace_all(r.text, "{ticket_status}", said);
    }
  }
  step.session.updated_at_ms = now;
  c.session_json = dialogs::session_json_text(step.session);
  c.open_ticket = step.session.open_ticket;
  if (c.episode.empty()) {
    c.episode = step.session.episode.empty() ? ctx.fresh_episode : step.session.episode;
  }
  c.episode_has_ticket = c.episode_has_ticket || !step.session.open_ticket.empty();

  c.transcript.push_back(inbound_entry(msg, now, step_error));
  d.replies = std::move(step.replies);
  d.session = std::move(step.session);
  return Status::ok();
}

Status Pipeline::raise_to_urgent(const std::string& ref, const InboundMessage& msg, int64_t now,
                                 Draft& d) {
  // An emergency written about an open ticket makes it urgent: it moves up the queues, and its
  // SLA deadlines still pending are brought forward to an urgent ticket's.
  auto f = store_.ticket_fields(ref, {"priority", "district", "status", "created_at"});
  if (!f.ok()) return f.status();
  auto& t = f.value();
  if (t.empty() || t["priority"] == "urgent" || t["status"] == "closed") return Status::ok();
  const int64_t created = std::atoll(t["created_at"].c_str());
  TicketChange& ch = d.commit.change;
  ch.set = {"priority", "urgent"};
  ch.score = created;
  for (const auto& scope : ticket_scopes(t["district"])) {
    ch.index_remove.push_back(keys::ticket_index(scope, "priority", t["priority"]));
    ch.index_add.push_back(keys::ticket_index(scope, "priority", "urgent"));
  }
  ch.sla_tighten = initial_deadlines(options_.sla, ref, "urgent", created);
  ch.history = json_text({{"at", now},
                          {"by", "citizen"},
                          {"role", "citizen"},
                          {"action", "priority"},
                          {"platform", msg.platform},
                          {"from", t["priority"]},
                          {"to", "urgent"},
                          {"reason", "the citizen wrote of an emergency"}});
  return Status::ok();
}

Result<bool> Pipeline::intake_check(const InboundMessage& msg, const json& data,
                                    dialogs::Session& session, int64_t now, Draft& d) {
  const std::string mobile = string_field(data, "mobile");
  auto emergency = data.find("emergency");
  const bool urgent = emergency != data.end() && emergency->is_boolean() && emergency->get<bool>();
  if (mobile.empty() || urgent) return false;
  // The number's newest tickets only: with the intake limit a number has a handful, and without
  // it (limit 0) one filing hundreds must not make every new ticket read them all.
  constexpr int kLinkCandidates = 20;
  auto earlier = store_.tickets_by_mobile(mobile_key(mobile), now - options_.intake_window_ms,
                                          now - options_.link_window_ms, kLinkCandidates);
  if (!earlier.ok()) return earlier.status();
  const std::string lang = session.lang;

  // The same complaint, made on another platform a little earlier: add to it.
  const std::string category = string_field(data, "category");
  auto fields =
      store_.tickets_fields(earlier->recent, {"platform", "category", "status", "transcript"});
  if (!fields.ok()) return fields.status();
  for (size_t i = 0; i < earlier->recent.size(); ++i) {
    auto& t = fields.value()[i];
    const std::string& ref = earlier->recent[i];
    if (t.empty() || t["category"] != category || t["platform"] == msg.platform ||
        t["status"] == "closed") {
      continue;
    }
    ConversationCommit& c = d.commit;
    c.attach_ticket_ref = ref;
    c.change.history = json_text({{"at", now},
                                  {"by", "citizen"},
                                  {"role", "citizen"},
                                  {"action", "linked"},
                                  {"platform", msg.platform},
                                  {"episode", session.episode},
                                  {"description", string_field(data, "description")},
                                  {"attachments", data.contains("attachments")
                                                      ? data["attachments"]
                                                      : json::array()}});
    c.episode_has_ticket = true;
    session.open_ticket = ref;
    std::string said = text("linked_ticket", lang);
    replace_all(said, "{ticket_ref}", ref);
    d.replies = {Reply{said, {}}};
    return true;
  }

  // Too many complaints from one number: a polite refusal, no ticket.
  if (options_.intake_limit > 0) {
    if (earlier->count >= options_.intake_limit) {
      std::string said = text("intake_limit", lang);
      replace_all(said, "{limit}", std::to_string(options_.intake_limit));
      replace_all(said, "{days}", std::to_string(options_.intake_window_ms / (24LL * 3600 * 1000)));
      d.replies = {Reply{said, {}}};
      return true;
    }
  }
  return false;
}

Status Pipeline::draft_mention(const InboundMessage& msg, const dialogs::Session& session,
                               int64_t now, Draft& d) {
  ConversationCommit& c = d.commit;
  c.new_ticket = new_ticket_placeholder();
  c.new_ticket_numbering = ticket_numbering(options_.triage_prefix, now);
  c.new_ticket_district = "triage";
  const std::string episode = make_unique_id(now);
  c.new_ticket_fields = {{"id", c.new_ticket},           {"district", ""},
                         {"police_station", ""},          {"category", "other"},
                         {"cell", "triage"},              {"status", "new"},
                         {"priority", "normal"},          {"platform", msg.platform},
                         {"user_id", msg.user_id},        {"chat_id", msg.chat_id},
                         {"kind", "mention"},             {"description", msg.text},
                         {"name", msg.display_name},      {"lang", session.lang},
                         {"created_at", std::to_string(now)}, {"updated_at", std::to_string(now)},
                         {"citizen_last_at", std::to_string(now)}, {"escalation_level", "0"},
                         {"transcript", episode}};
  c.new_ticket_indexes = ticket_index_keys("", "new", "other", "normal");
  c.new_ticket_deadlines = initial_deadlines(options_.sla, c.new_ticket, "normal", now);
  c.change.history = json_text({{"at", now}, {"by", "citizen"}, {"role", "citizen"},
                                {"action", "created"}, {"platform", msg.platform},
                                {"kind", "mention"}});
  c.session_json = dialogs::session_json_text(session);
  c.open_ticket = session.open_ticket;
  c.episode = episode;
  c.episode_has_ticket = true;
  std::string said = text("mention_reply", session.lang);
  replace_all(said, "{ticket_ref}", c.new_ticket);
  d.replies = {Reply{said, {}}};
  d.reply_kind = "mention";
  c.transcript.push_back(inbound_entry(msg, now, ""));
  return Status::ok();
}

Result<bool> Pipeline::draft_feedback(const InboundMessage& msg, const LoadedSession& loaded,
                                      const dialogs::Session& session, int64_t now, Draft& d) {
  std::string ref = loaded.feedback_for;
  std::optional<bool> satisfied;
  bool typed = false;  // the answer was typed, not a button of the question
  static const std::string kYes = "feedback:yes:", kNo = "feedback:no:";
  if (msg.button.rfind(kYes, 0) == 0) {
    ref = msg.button.substr(kYes.size());
    satisfied = true;
  } else if (msg.button.rfind(kNo, 0) == 0) {
    ref = msg.button.substr(kNo.size());
    satisfied = false;
  } else if (!ref.empty() && msg.attachments.empty()) {
    typed = true;
    auto u = dialogs::Utterance::of(msg.text, msg.button);
    if (u.form == "1" || flow_.yes.equals(u)) satisfied = true;
    if (u.form == "2" || flow_.no.equals(u)) satisfied = false;
  }
  if (!satisfied || ref.empty()) return false;
  auto f = store_.ticket_fields(ref, {"status", "platform", "user_id", "district", "created_at",
                                      "escalation_level", "priority", "transcript",
                                      "resolved_at"});
  if (!f.ok()) return f.status();
  auto& t = f.value();
  if (t.empty() || t["status"] != "resolved" || t["platform"] != msg.platform ||
      t["user_id"] != msg.user_id) {
    return false;  // not theirs, or no longer waiting for an answer: an ordinary message
  }
  // A typed "1", "हाँ", "2" or "नहीं" answers the question only if it is the citizen's first
  // word since it was asked: once they have written anything else (started a new complaint,
  // say), the same words answer the dialog's questions. The buttons always count.
  if (typed && session.updated_at_ms > std::atoll(t["resolved_at"].c_str())) return false;
  ConversationCommit& c = d.commit;
  c.attach_ticket_ref = ref;
  c.episode = t["transcript"];
  c.episode_has_ticket = true;
  c.session_json = dialogs::session_json_text(session);
  c.open_ticket = session.open_ticket;
  TicketChange& ch = c.change;
  ch.expect_status = "resolved";
  ch.score = std::atoll(t["created_at"].c_str());
  const std::string scope = ticket_scopes(t["district"])[0];
  const std::string to = *satisfied ? "closed" : "reopened";
  ch.index_remove = {keys::ticket_index(scope, "status", "resolved"),
                     keys::ticket_index("range", "status", "resolved")};
  ch.index_add = {keys::ticket_index(scope, "status", to),
                  keys::ticket_index("range", "status", to)};
  json h = {{"at", now}, {"by", "citizen"}, {"role", "citizen"}, {"action", "feedback"},
            {"satisfied", *satisfied}, {"from", "resolved"}, {"to", to}};
  ch.set = {"status", to, "updated_at", std::to_string(now), "feedback",
            *satisfied ? "satisfied" : "unsatisfied"};
  if (*satisfied) {
    ch.set.insert(ch.set.end(), {"closed_at", std::to_string(now)});
  } else {
    // "No" reopens the ticket one step higher up the ladder, with a fresh resolution deadline.
    const auto& ladder = escalation_ladder();
    int level = std::min<int>(std::atoi(t["escalation_level"].c_str()) + 1,
                              static_cast<int>(ladder.size()) - 1);
    ch.set.insert(ch.set.end(), {"escalation_level", std::to_string(level), "escalated_to",
                                 ladder[level]});
    ch.sla_add = {std::to_string(now + options_.sla.target(t["priority"]).resolution_ms),
                  "resolve:" + ref};
    h["escalated_to"] = ladder[level];
    h["reason"] = "the citizen is not satisfied with the resolution";
  }
  ch.history = json_text(h);
  ch.audit = json_text({{"at", now}, {"actor", "citizen"}, {"action", "feedback"},
                        {"ticket", ref}, {"satisfied", *satisfied}});
  std::string said = text(*satisfied ? "feedback_thanks" : "feedback_reopened", session.lang);
  replace_all(said, "{ticket_ref}", ref);
  d.replies = {Reply{said, {}}};
  c.transcript.push_back(inbound_entry(msg, now, ""));
  return true;
}

}  // namespace nivaran
