#include "bot/pipeline.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

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
                   StepFunction step)
    : store_(store),
      flow_(flow),
      ref_(ref),
      options_(std::move(options)),
      clock_(std::move(clock)),
      step_(std::move(step)) {}

Result<Processed> Pipeline::process(const InboundMessage& msg) {
  for (int attempt = 0; attempt <= options_.max_conflict_retries; ++attempt) {
    auto loaded = store_.load(msg.platform, msg.user_id, msg.message_id);
    if (!loaded.ok()) return loaded.status();
    if (loaded->seen) return duplicate();

    dialogs::Session session;
    if (!loaded->session_json.empty()) {
      json j = json::parse(loaded->session_json, nullptr, false);
      if (!j.is_discarded()) session = j.get<dialogs::Session>();
    }
    const int64_t now = clock_();
    dialogs::StepContext ctx{.now_ms = now,
                             .fresh_episode = make_unique_id(now),
                             .utc_offset_minutes = options_.utc_offset_minutes};
    dialogs::StepResult step;
    std::string step_error;
    try {
      step = step_(flow_, ref_, session, msg, ctx);
    } catch (const std::exception& e) {
      step_error = e.what();
      std::cerr << "nivaran: dialog step failed for a " << msg.platform
                << " message; committed with an apology: " << step_error << "\n";
      step = dialogs::StepResult{};
      step.session = session;
      if (step.session.episode.empty()) step.session.episode = ctx.fresh_episode;
      auto apology = flow_.messages.find("internal_error");
      if (apology != flow_.messages.end()) {
        step.replies.push_back(Reply{dialogs::text_in(apology->second, session.lang), {}});
      }
    }

    ConversationCommit c;
    c.platform = msg.platform;
    c.user_id = msg.user_id;
    c.message_id = msg.message_id;
    c.expected_version = loaded->version;
    c.now_ms = now;

    for (const auto& effect : step.effects) {
      if (effect.type == "create_ticket" && c.new_ticket_ref.empty()) {
        std::string district = effect.data.value("district", "");
        auto prefix = options_.ticket_prefixes.find(district);
        bool in_range = prefix != options_.ticket_prefixes.end();
        auto ref = store_.next_ticket_ref(in_range ? prefix->second : options_.triage_prefix, now);
        if (!ref.ok()) return ref.status();
        c.new_ticket_ref = ref.value();
        c.new_ticket_district = in_range ? district : "triage";
        for (auto& [k, v] : effect.data.items()) c.new_ticket_fields[k] = as_field(v);
        c.new_ticket_fields["id"] = c.new_ticket_ref;
        c.new_ticket_fields["district"] = in_range ? district : "";
        c.new_ticket_fields["status"] = "new";
        c.new_ticket_fields["platform"] = msg.platform;
        c.new_ticket_fields["user_id"] = msg.user_id;
        c.new_ticket_fields["chat_id"] = msg.chat_id;
        c.new_ticket_fields["created_at"] = std::to_string(now);
        c.new_ticket_fields["updated_at"] = std::to_string(now);
        c.new_ticket_fields["transcript"] = step.session.episode;
        if (c.new_ticket_fields["priority"].empty()) c.new_ticket_fields["priority"] = "normal";
        step.session.open_ticket = c.new_ticket_ref;
        for (auto& r : step.replies) replace_all(r.text, "{ticket_ref}", c.new_ticket_ref);
      } else if (effect.type == "attach_to_ticket") {
        c.attach_ticket_ref = effect.data.value("ticket", "");
      } else if (effect.type == "ticket_status") {
        auto status = store_.ticket_status_for(effect.data.value("ticket", ""), msg.platform,
                                               msg.user_id);
        if (!status.ok()) return status.status();
        std::string key = status->empty() ? "ticket_not_found" : "ticket_status_" + status.value();
        auto text = flow_.messages.find(key);
        std::string said = text == flow_.messages.end()
                               ? status.value()
                               : dialogs::text_in(text->second, step.session.lang);
        for (auto& r : step.replies) replace_all(r.text, "{ticket_status}", said);
      }
    }
    step.session.updated_at_ms = now;
    c.session_json = json_text(json(step.session));
    c.episode = step.session.episode.empty() ? ctx.fresh_episode : step.session.episode;
    c.episode_has_ticket = !step.session.open_ticket.empty();

    json inbound = {{"dir", "in"}, {"at", now}, {"msg", msg}};
    if (!step_error.empty()) inbound["error"] = step_error;
    c.transcript.push_back(json_text(inbound));
    for (const auto& r : step.replies) {
      c.transcript.push_back(json_text({{"dir", "out"}, {"at", now}, {"by", "bot"}, {"reply", r}}));
    }
    if (options_.queue_replies && !step.replies.empty()) {
      c.outbox_json = json_text({{"platform", msg.platform},
                            {"chat_id", msg.chat_id},
                            {"callback_id", msg.callback_id},
                            {"replies", step.replies},
                            {"attempt", 0}});
    }

    auto outcome = store_.commit(c);
    if (!outcome.ok()) return outcome.status();
    switch (outcome.value()) {
      case ConversationStore::Outcome::kDuplicate:
        return duplicate();
      case ConversationStore::Outcome::kCommitted:
        return Processed{.duplicate = false,
                         .replies = std::move(step.replies),
                         .ticket_ref = c.new_ticket_ref};
      case ConversationStore::Outcome::kConflict:
        // Another delivery for this citizen won the race: re-read and re-step, after a short
        // random pause so that two losers do not collide again.
        backoff_after_conflict(attempt);
        continue;
    }
  }
  return Status::unavailable("conversation is busy with concurrent updates; retry");
}

}  // namespace nivaran
