#include "bot/commands.h"

#include <unistd.h>

#include <iostream>

#include "bot/http_server.h"
#include "bot/outbox.h"
#include "bot/router.h"
#include "bot/runtime.h"

namespace nivaran {

namespace {

std::unique_ptr<Runtime> load_or_report(const std::string& path, std::ostream& err,
                                        PipelineOptions options = {}) {
  std::vector<std::string> errors;
  auto rt = load_runtime(path, errors, std::move(options));
  if (rt.ok()) return std::move(rt.value());
  for (const auto& e : errors) err << "nivaran: " << e << "\n";
  return nullptr;
}

std::string plain_text(const Reply& r) {
  std::string out = r.text;
  for (size_t i = 0; i < r.options.size(); ++i) {
    out += (i == 0 ? "\n\n" : "\n") + std::to_string(i + 1) + ". " + r.options[i].title;
  }
  return out;
}

}  // namespace

int run_check_config(const std::string& config_path, std::ostream& out, std::ostream& err) {
  std::vector<std::string> errors;
  auto rt = load_runtime(config_path, errors);
  if (!rt.ok()) {
    for (const auto& e : errors) err << e << "\n";
    err << errors.size() << (errors.size() == 1 ? " error" : " errors") << " in " << config_path
        << "\n";
    return 1;
  }
  out << config_path << ": ok (" << rt.value()->reference.districts.size() << " districts, "
      << rt.value()->reference.categories.size() << " categories, "
      << rt.value()->handlers.size() << " platforms)\n";
  return 0;
}

int run_serve(const std::string& config_path, const sigset_t& signals) {
  auto rt = load_or_report(config_path, std::cerr);
  if (!rt) return 1;
  const Config& c = rt->config;
  initialize_http_threads(c.http.threads);  // before any cpprestsdk object exists

  Router router(*rt);
  HttpServer server(c.http.host, c.http.port, c.http.max_body_bytes,
                    [&router](const HttpRequest& req) { return router.handle(req); });
  if (Status st = server.start(); !st.is_ok()) {
    std::cerr << "nivaran: " << st.message() << "\n";
    return 1;
  }

  // The outbox blocks on reads, so it gets its own connections with room for the wait.
  RedisEndpoint outbox_redis = c.redis;
  OutboxOptions outbox_options;
  outbox_options.max_attempts = c.outbox.max_attempts;
  outbox_options.reclaim_idle_ms = c.outbox.reclaim_idle_ms;
  outbox_options.max_backoff_ms = c.outbox.max_backoff_ms;
  outbox_redis.timeout_ms += outbox_options.block_ms;
  Redis outbox_store(outbox_redis);
  auto transport = make_http_transport(std::chrono::milliseconds(c.outbox.request_timeout_ms));
  OutboxSender sender(outbox_store, rt->handlers, *transport, outbox_options, system_now_ms);
  char host[256] = "host";
  gethostname(host, sizeof host - 1);
  sender.start(c.outbox.workers, std::string(host) + "-" + std::to_string(getpid()));

  std::cout << "nivaran: listening on http://" << c.http.host << ":" << c.http.port
            << " (Redis " << c.redis.host << ":" << c.redis.port << ", " << c.http.threads
            << " HTTP threads, " << c.outbox.workers << " outbox workers)" << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "nivaran: signal " << sig << ", shutting down" << std::endl;
  server.stop();
  sender.stop();
  return 0;
}

int run_chat(const std::string& config_path, const std::string& user, std::istream& in,
             std::ostream& out) {
  PipelineOptions options;
  options.queue_replies = false;  // replies are printed here, not sent anywhere
  auto rt = load_or_report(config_path, std::cerr, options);
  if (!rt) return 1;
  out << "Nivaran — शिकायत चैट (terminal). अपना संदेश लिखें; बाहर निकलने के लिए Ctrl-D.\n"
      << "Type your message; Ctrl-D to quit.\n\n";
  std::string line;
  while (out << "आप> " << std::flush, std::getline(in, line)) {
    InboundMessage msg;
    msg.platform = "terminal";
    msg.user_id = user;
    msg.chat_id = user;
    msg.message_id = make_unique_id(system_now_ms());
    msg.text = line;
    msg.sent_at_ms = system_now_ms();
    auto processed = rt->pipeline->process(msg);
    if (!processed.ok()) {
      out << "[" << processed.status().message() << " — संदेश सहेजा नहीं गया, फिर से भेजें]\n";
      continue;
    }
    for (const auto& r : processed->replies) out << "\nनिवारण> " << plain_text(r) << "\n\n";
  }
  out << "\n";
  return 0;
}

}  // namespace nivaran
