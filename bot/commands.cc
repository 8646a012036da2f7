#include "bot/commands.h"

#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <optional>
#include <thread>

#include "bot/accounts.h"
#include "bot/http_server.h"
#include "bot/outbox.h"
#include "bot/router.h"
#include "bot/runtime.h"
#include "bot/sla.h"

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
  outbox_options.batch_size = c.outbox.batch_size;
  outbox_options.reclaim_idle_ms = c.outbox.reclaim_idle_ms;
  outbox_options.max_backoff_ms = c.outbox.max_backoff_ms;
  outbox_options.sends_per_second = c.outbox.sends_per_second;
  outbox_options.pause_unreachable_ms = c.outbox.pause_unreachable_ms;
  outbox_redis.timeout_ms += outbox_options.block_ms;
  Redis outbox_store(outbox_redis);
  auto transport = make_http_transport(std::chrono::milliseconds(c.outbox.request_timeout_ms));
  OutboxSender sender(outbox_store, rt->handlers, *transport, outbox_options, system_now_ms);
  char host[256] = "host";
  gethostname(host, sizeof host - 1);
  sender.start(c.outbox.workers, std::string(host) + "-" + std::to_string(getpid()));

  // SLA deadlines: every process checks; each breach is escalated by exactly one of them.
  std::atomic<bool> stopping{false};
  std::thread sla_thread([&rt, &stopping] {
    SlaScheduler scheduler(*rt->redis, rt->sla);
    int64_t next = 0;
    while (!stopping.load()) {
      if (system_now_ms() >= next) {
        auto n = scheduler.run_once(system_now_ms());
        if (!n.ok()) {
          std::cerr << "nivaran: SLA check failed: " << n.status().message() << "\n";
        } else if (n.value() > 0) {
          std::cout << "nivaran: escalated " << n.value() << " overdue ticket(s)" << std::endl;
        }
        next = system_now_ms() + rt->sla.check_interval_ms;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  std::cout << "nivaran: listening on http://" << c.http.host << ":" << c.http.port
            << " (Redis " << c.redis.host << ":" << c.redis.port << ", " << c.http.threads
            << " HTTP threads, " << c.outbox.workers << " outbox workers)" << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "nivaran: signal " << sig << ", shutting down" << std::endl;
  server.stop();
  sender.stop();
  stopping = true;
  sla_thread.join();
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
  // A message whose commit was not confirmed (Redis down, or no answer in time: it may have
  // been applied all the same) is sent again under the same id, as a platform redelivers an
  // update, so it is recorded once whatever became of the first try.
  std::optional<InboundMessage> unconfirmed;
  std::string line;
  while (out << "आप> " << std::flush, std::getline(in, line)) {
    InboundMessage msg;
    if (line.empty() && unconfirmed) {
      msg = std::move(*unconfirmed);
    } else {
      msg.platform = "terminal";
      msg.user_id = user;
      msg.chat_id = user;
      msg.message_id = make_unique_id(system_now_ms());
      msg.text = line;
      msg.sent_at_ms = system_now_ms();
    }
    unconfirmed.reset();
    auto processed = rt->pipeline->process(msg);
    for (int wait_ms : {300, 1000}) {  // a short Redis hiccup (a restart) passes unnoticed
      if (processed.ok()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
      processed = rt->pipeline->process(msg);
    }
    if (!processed.ok()) {
      out << "[" << processed.status().message()
          << " — आपका संदेश दर्ज हुआ या नहीं, यह पक्का नहीं है। Enter दबाएँ: यही संदेश दोबारा "
             "भेजा जाएगा, और दो बार दर्ज नहीं होगा।]\n";
      unconfirmed = std::move(msg);
      continue;
    }
    if (processed->duplicate) {
      // An earlier try was applied but its answer did not arrive here.
      out << "[आपका संदेश दर्ज हो चुका है, पर उसका उत्तर यहाँ नहीं पहुँचा। अगला सवाल फिर से "
             "देखने के लिए “मदद” लिखें।]\n";
      continue;
    }
    for (const auto& r : processed->replies) out << "\nनिवारण> " << plain_text(r) << "\n\n";
  }
  out << "\n";
  return 0;
}

namespace {

termios saved_terminal;

// Puts the terminal's echo back when Ctrl-C or SIGTERM arrives while a password is typed.
void restore_terminal_and_exit(int sig) {
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
  _exit(128 + sig);
}

// One line typed without echo after `prompt` on stderr.
std::optional<std::string> read_hidden_line(const std::string& prompt, std::ostream& err) {
  err << prompt << std::flush;
  if (tcgetattr(STDIN_FILENO, &saved_terminal) != 0) return std::nullopt;
  struct sigaction on_signal = {}, old_int = {}, old_term = {};
  on_signal.sa_handler = restore_terminal_and_exit;
  sigaction(SIGINT, &on_signal, &old_int);
  sigaction(SIGTERM, &on_signal, &old_term);
  termios quiet = saved_terminal;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  err << "\n";
  if (!got) return std::nullopt;
  return line;
}

// The new account's password from standard input; invalid() saying what went wrong.
Result<std::string> read_new_password(const std::string& login, std::ostream& err) {
  std::string password;
  if (isatty(STDIN_FILENO)) {
    auto first = read_hidden_line("password for " + login + ": ", err);
    if (!first) return Status::invalid("no password given");
    auto again = read_hidden_line("the same password again: ", err);
    if (!again || *again != *first) return Status::invalid("the two passwords differ");
    password = *first;
  } else if (!std::getline(std::cin, password)) {
    return Status::invalid("no password on standard input (give it as the first line)");
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

std::string unix_user() {
  const passwd* pw = getpwuid(geteuid());
  return pw ? pw->pw_name : std::to_string(geteuid());
}

}  // namespace

int run_user_add(const std::string& config_path, const std::string& login, const std::string& role,
                 const std::string& district, std::ostream& out, std::ostream& err) {
  auto config = load_config(config_path);
  if (!config.ok()) {
    err << "nivaran: " << config.status().message() << "\n";
    return 1;
  }
  const Config& c = config.value();
  auto reference = dialogs::load_reference_data(c.districts_file, c.categories_file);
  if (!reference.ok()) {
    err << "nivaran: " << reference.status().message() << "\n";
    return 1;
  }
  AccountOptions options;
  for (const auto& d : reference->districts) options.known_districts.push_back(d.code);
  options.scrypt.n = static_cast<uint64_t>(c.auth.scrypt_n);
  options.token_ttl_s = c.auth.token_ttl_seconds;

  const StaffAccount account{login, role, district};
  // Refuse a bad role or district before asking for a password.
  if (Status st = check_account(account, options.known_districts); !st.is_ok()) {
    err << "nivaran: user add: " << st.message() << "\n";
    return 1;
  }
  auto password = read_new_password(login, err);
  if (!password.ok()) {
    err << "nivaran: user add: " << password.status().message() << "\n";
    return 1;
  }
  Redis redis(c.redis);
  Accounts accounts(redis, options);
  Status st = accounts.add_user(account, password.value(), "cli:" + unix_user(), system_now_ms());
  if (st.code() == Status::Code::kUnavailable) {
    err << "nivaran: user add: Redis at " << c.redis.host << ":" << c.redis.port
        << " did not answer: " << st.message() << "\n";
    return 1;
  }
  if (!st.is_ok()) {
    err << "nivaran: user add: " << st.message() << "\n";
    return 1;
  }
  out << "user " << login << " added (role " << role << ", "
      << (district.empty() ? std::string("whole range") : "district " + district) << ")\n";
  return 0;
}

}  // namespace nivaran
