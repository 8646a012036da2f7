// Runtime: everything one configuration file brings to life, loaded and validated together.
//
// `serve`, `chat` and `check-config` all start here, so what check-config accepts is exactly
// what the server will run with.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bot/accounts.h"
#include "bot/config.h"
#include "bot/console_api.h"
#include "bot/conversation_store.h"
#include "bot/pipeline.h"
#include "bot/redis.h"
#include "bot/sla.h"
#include "bot/tickets.h"
#include "bot/webchat.h"
#include "dialogs/engine.h"
#include "dialogs/flow.h"
#include "dialogs/reference_data.h"
#include "handlers/handler.h"

namespace nivaran {

struct Runtime {
  Config config;
  dialogs::ReferenceData reference;
  dialogs::Flow flow;
  std::map<std::string, std::shared_ptr<Handler>> handlers;  // configured platforms only
  std::unique_ptr<Redis> redis;
  std::unique_ptr<ConversationStore> store;
  std::unique_ptr<SessionCache> session_cache;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<WebChat> webchat;  // null unless platforms.webchat is configured and enabled
  SlaPolicy sla;
  std::unique_ptr<Accounts> accounts;
  std::unique_ptr<TicketService> tickets;
  std::unique_ptr<ConsoleApi> console;
};

// Loads the configuration, reference data, flow and platform handlers. On failure returns
// invalid() and appends every problem found (file and field) to `errors`.
Result<std::unique_ptr<Runtime>> load_runtime(const std::string& config_path,
                                              std::vector<std::string>& errors,
                                              PipelineOptions options = {});

}  // namespace nivaran
