#include "bot/runtime.h"

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
  for (const auto& [name, block] : c.platforms) {
    auto h = make_handler(name, block);
    if (!h.ok()) {
      errors.push_back(c.file + ": " + h.status().message());
    } else {
      rt->handlers[name] = h.value();
    }
  }
  if (!errors.empty()) return Status::invalid(errors.front());

  for (const auto& d : rt->reference.districts) options.ticket_prefixes[d.code] = d.ticket_prefix;
  rt->redis = std::make_unique<Redis>(c.redis);
  StoreLimits limits{.session_ttl_ms = c.sessions.ttl_seconds * 1000,
                     .dedupe_ttl_ms = c.sessions.dedupe_ttl_seconds * 1000,
                     .draft_transcript_ttl_ms = c.sessions.draft_transcript_ttl_seconds * 1000};
  rt->store = std::make_unique<ConversationStore>(*rt->redis, limits);
  rt->pipeline = std::make_unique<Pipeline>(*rt->store, rt->flow, rt->reference,
                                            std::move(options), system_now_ms);
  return rt;
}

}  // namespace nivaran
