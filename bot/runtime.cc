#include "bot/runtime.h"

#include <optional>

namespace nivaran {

Result<std::unique_ptr<Runtime>> load_runtime(const std::string& config_path,
                                              std::vector<std::string>& errors,
                                              PipelineOptions options) {
  auto config = load_config(config_path);
  if (!config.ok()) {
    errors.push_back(config.status().message());
    return config.status();
  }
  auto rt = std::make_unique<Runtime>();
  rt->config = std::move(config.value());
  const Config& c = rt->config;

  auto ref = dialogs::load_reference_data(c.districts_file, c.categories_file);
  if (!ref.ok()) {
    errors.push_back(ref.status().message());
  } else {
    rt->reference = std::move(ref.value());
  }
  auto flow = dialogs::load_flow(c.flow_file);
  if (!flow.ok()) {
    errors.push_back(flow.status().message());
  } else {
    rt->flow = std::move(flow.value());
    if (ref.ok()) {
      for (auto& e : dialogs::validate_flow(rt->flow, rt->reference, c.flow_file)) {
        errors.push_back(e);
      }
    }
  }
  std::optional<WebChatOptions> webchat;
  for (const auto& [name, block] : c.platforms) {
    if (name == "webchat") {  // served by the bot itself, not a platform's webhook
      if (!block.value("enabled", true)) continue;
      auto o = webchat_options(block, c.dir);
      if (!o.ok()) {
        errors.push_back(c.file + ": " + o.status().message());
      } else {
        webchat = std::move(o.value());
      }
      continue;
    }
    auto h = make_handler(name, block);
    if (!h.ok()) {
      errors.push_back(c.file + ": " + h.status().message());
    } else {
      rt->handlers[name] = h.value();
    }
  }
  if (auto sla = sla_policy(c.sla); !sla.ok()) {
    errors.push_back(c.file + ": " + sla.status().message());
  } else {
    rt->sla = sla.value();
  }
  if (!errors.empty()) return Status::invalid(errors.front());
  options.sla = rt->sla;
  options.intake_limit = static_cast<int>(c.intake.max_per_mobile);
  options.intake_window_ms = c.intake.window_days * 24 * 3600 * 1000;
  options.link_window_ms = c.intake.link_hours * 3600 * 1000;

  for (const auto& d : rt->reference.districts) options.ticket_prefixes[d.code] = d.ticket_prefix;
  rt->redis = std::make_unique<Redis>(c.redis);
  StoreLimits limits{.session_ttl_ms = c.sessions.ttl_seconds * 1000,
                     .dedupe_ttl_ms = c.sessions.dedupe_ttl_seconds * 1000,
                     .draft_transcript_ttl_ms = c.sessions.draft_transcript_ttl_seconds * 1000};
  rt->store = std::make_unique<ConversationStore>(*rt->redis, limits);
  rt->session_cache = std::make_unique<SessionCache>(static_cast<size_t>(c.sessions.cache_entries));
  rt->pipeline = std::make_unique<Pipeline>(*rt->store, rt->flow, rt->reference,
                                            std::move(options), system_now_ms, dialogs::step,
                                            rt->session_cache.get());
  AccountOptions account_options;
  for (const auto& d : rt->reference.districts) account_options.known_districts.push_back(d.code);
  account_options.token_ttl_s = c.auth.token_ttl_seconds;
  account_options.scrypt.n = static_cast<uint64_t>(c.auth.scrypt_n);
  rt->accounts = std::make_unique<Accounts>(*rt->redis, account_options);
  rt->tickets = std::make_unique<TicketService>(*rt->redis, rt->reference, rt->flow, system_now_ms);
  rt->console =
      std::make_unique<ConsoleApi>(*rt->redis, *rt->accounts, *rt->tickets, system_now_ms);
  if (webchat) {
    rt->webchat = std::make_unique<WebChat>(*rt->redis, *rt->pipeline, std::move(*webchat),
                                            system_now_ms);
  }
  return rt;
}

}  // namespace nivaran
