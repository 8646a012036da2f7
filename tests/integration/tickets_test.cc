// Tickets after filing, against a real redis-server: queues and scoping, the lifecycle, replies
// and notes, masking, SLA escalation with a controllable clock, the citizen's feedback, the
// intake limit, cross-platform linking and status checks by mobile digits.
#include "bot/tickets.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <regex>
#include <set>
#include <thread>

#include "bot/keys.h"
#include "bot/pipeline.h"
#include "bot/sla.h"
#include "tests/integration/fixture.h"

using namespace nivaran;
using nivaran::testing::RedisFixture;
using nivaran::testing::repo_flow;
using nivaran::testing::repo_reference;
using nlohmann::json;

namespace {

const int64_t kStart = 1795000000000;  // 2026-11-18

// One process's services over a fresh Redis; `cached`: the pipeline keeps a session cache, as
// `nivaran serve` does.
struct World {
  explicit World(PipelineOptions extra = {}, bool cached = false)
      : store(*f.redis, StoreLimits{}), cache(cached ? 1000 : 0) {
    PipelineOptions o = extra;
    for (const auto& d : repo_reference().districts) o.ticket_prefixes[d.code] = d.ticket_prefix;
    pipeline = std::make_unique<Pipeline>(store, repo_flow(), repo_reference(), o,
                                          [this] { return now; }, dialogs::step,
                                          cached ? &cache : nullptr);
    tickets = std::make_unique<TicketService>(*f.redis, repo_reference(), repo_flow(),
                                              [this] { return now; });
  }

  Result<Processed> say(const std::string& platform, const std::string& user,
                        const std::string& text, const std::string& button = "") {
    InboundMessage m;
    m.platform = platform;
    m.user_id = user;
    m.chat_id = user;
    m.message_id = "m" + std::to_string(++next_id);
    m.text = text;
    m.button = button;
    now += 1000;
    return pipeline->process(m);
  }

  // Walks the whole dialog; returns the reference of the ticket filed (or "" when none was).
  std::string file(const std::string& platform, const std::string& user,
                   const std::string& category, const std::string& district,
                   const std::string& mobile, const std::string& story = "") {
    const std::vector<std::string> answers = {
        "नई शिकायत", category, district, "पता नहीं", "स्टेशन रोड, बस अड्डे के पास", "कल शाम 7 बजे",
        story.empty() ? "कल शाम बस अड्डे के पास मेरा मोबाइल फ़ोन किसी ने छीन लिया" : story,
        "सीता देवी", mobile, "हाँ", "हाँ"};
    std::string ref;
    for (const auto& a : answers) {
      auto r = say(platform, user, a);
      REQUIRE(r.ok());
      if (!r->ticket_ref.empty()) ref = r->ticket_ref;
      last_replies = r->replies;
    }
    return ref;
  }

  std::map<std::string, std::string> ticket(const std::string& ref) {
    auto v = f.run({"HGETALL", keys::ticket(ref)});
    std::map<std::string, std::string> m;
    for (size_t i = 0; i + 1 < v.elements.size(); i += 2) m[v.elements[i].str] = v.elements[i + 1].str;
    return m;
  }

  // The outbox entries so far, as JSON.
  std::vector<json> outbox() {
    std::vector<json> out;
    auto v = f.run({"XRANGE", keys::outbox(), "-", "+"});
    for (const auto& e : v.elements) out.push_back(json::parse(e.elements[1].elements[1].str));
    return out;
  }

  RedisFixture f;
  int64_t now = kStart;
  int next_id = 0;
  ConversationStore store;
  SessionCache cache;
  std::unique_ptr<Pipeline> pipeline;
  std::unique_ptr<TicketService> tickets;
  std::vector<Reply> last_replies;
};

const Actor kBareillyStaff{"asha", "staff", "bareilly"};
const Actor kBareillyNodal{"nodal.bly", "nodal", "bareilly"};
const Actor kPilibhitStaff{"ravi", "staff", "pilibhit"};
const Actor kIG{"ig.bareilly", "ig", ""};

}  // namespace

TEST_CASE("a filed ticket is routed, indexed in its district's queues and has a history",
          "[tickets][redis]") {
  World w;
  std::string theft = w.file("telegram", "c1", "1", "बरेली", "9876543210");
  std::string cyber = w.file("telegram", "c2", "2", "बरेली", "9876500001");
  std::string conduct = w.file("telegram", "c3", "8", "पीलीभीत", "9876500002");
  REQUIRE(std::regex_match(theft, std::regex("BLY-26-\\d{6}")));
  CHECK(w.ticket(theft)["cell"] == "social_media");
  CHECK(w.ticket(cyber)["cell"] == "cyber");
  CHECK(w.ticket(conduct)["cell"] == "nodal");  // never the police station concerned
  CHECK(w.ticket(conduct)["district"] == "pilibhit");

  auto page = w.tickets->list(kBareillyStaff, {});
  REQUIRE(page.ok());
  REQUIRE(page->tickets.size() == 2);
  CHECK(page->tickets[0]["id"] == cyber);  // newest first
  CHECK(page->tickets[1]["id"] == theft);
  CHECK(page->next_cursor.empty());

  TicketQuery q;
  q.category = "cyber_fraud";
  auto cyber_page = w.tickets->list(kBareillyStaff, q);
  REQUIRE(cyber_page.ok());
  REQUIRE(cyber_page->tickets.size() == 1);
  CHECK(cyber_page->tickets[0]["id"] == cyber);
  CHECK(cyber_page->tickets[0]["priority"] == "high");

  auto one = w.tickets->get(kBareillyStaff, theft, true);
  REQUIRE(one.ok());
  CHECK(one.value()["status"] == "new");
  CHECK(one.value()["district"] == "bareilly");
  CHECK(one.value()["first_response_at"].is_null());
  CHECK_FALSE(one.value().contains("user_id"));  // platform ids are not shown
  REQUIRE(one.value()["history"].size() == 1);
  CHECK(one.value()["history"][0]["action"] == "created");
  CHECK(one.value()["transcript"].size() >= 11);

  // The queue indexes for both scopes, and SLA deadlines, were written with the ticket.
  CHECK(w.f.run({"ZSCORE", keys::ticket_index("district:bareilly", "status", "new"), theft}).str ==
        w.ticket(theft)["created_at"]);
  CHECK_FALSE(w.f.run({"ZSCORE", keys::ticket_index("range", "category", "theft"), theft}).is_nil());
  CHECK_FALSE(w.f.run({"ZSCORE", keys::sla_due(), "first:" + theft}).is_nil());
  CHECK_FALSE(w.f.run({"ZSCORE", keys::sla_due(), "resolve:" + theft}).is_nil());
}

TEST_CASE("a staff member of one district can read and change nothing of another's",
          "[tickets][redis][scope]") {
  World w;
  std::string bly = w.file("telegram", "c1", "1", "बरेली", "9876543210");
  std::string pbt = w.file("telegram", "c2", "1", "पीलीभीत", "9876500001");

  auto own = w.tickets->list(kPilibhitStaff, {});
  REQUIRE(own.ok());
  REQUIRE(own->tickets.size() == 1);
  CHECK(own->tickets[0]["id"] == pbt);

  TicketQuery other;
  other.district = "bareilly";
  auto refused = w.tickets->list(kPilibhitStaff, other);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().http_status() == 403);

  // Another district's ticket answers exactly like a missing one.
  auto read = w.tickets->get(kPilibhitStaff, bly, true);
  auto missing = w.tickets->get(kPilibhitStaff, "BLY-26-999999", true);
  REQUIRE_FALSE(read.ok());
  CHECK(read.status().http_status() == 404);
  CHECK(read.status().message().find(bly) != std::string::npos);
  CHECK(missing.status().http_status() == 404);
  CHECK_FALSE(w.tickets->reply(kPilibhitStaff, bly, "hello").ok());
  CHECK_FALSE(w.tickets->set_status(kPilibhitStaff, bly, "resolved", "").ok());
  CHECK_FALSE(w.tickets->add_note(kPilibhitStaff, bly, "x").ok());
  CHECK(w.ticket(bly)["status"] == "new");
  CHECK(w.f.run({"XLEN", keys::ticket_history(bly)}).integer == 1);

  // The IG sees the range.
  auto range = w.tickets->list(kIG, {});
  REQUIRE(range.ok());
  CHECK(range->tickets.size() == 2);
  CHECK(w.tickets->get(kIG, bly, false).ok());
}

TEST_CASE("the lifecycle allows only its transitions, each recorded with who and when",
          "[tickets][redis][lifecycle]") {
  World w;
  std::string ref = w.file("telegram", "c1", "1", "बरेली", "9876543210");
  const size_t sent_before = w.outbox().size();

  // A reply reaches the citizen through the outbox, starts the clock and takes the ticket.
  w.now += 60000;
  auto replied = w.tickets->reply(kBareillyStaff, ref, "आपकी शिकायत थाने को भेजी जा रही है।");
  REQUIRE(replied.ok());
  CHECK(replied.value()["status"] == "in_progress");
  CHECK(replied.value()["first_response_at"] == w.now);
  CHECK(replied.value()["assignee"] == "asha");
  auto sent = w.outbox();
  REQUIRE(sent.size() == sent_before + 1);
  CHECK(sent.back()["chat_id"] == "c1");
  std::string text = sent.back()["replies"][0]["text"];
  CHECK(text.find("आपकी शिकायत थाने को भेजी जा रही है।") != std::string::npos);
  CHECK(text.find(ref) != std::string::npos);
  CHECK(w.f.run({"ZSCORE", keys::sla_due(), "first:" + ref}).is_nil());
  CHECK(w.f.run({"ZSCORE", keys::ticket_index("district:bareilly", "status", "new"), ref}).is_nil());
  CHECK_FALSE(
      w.f.run({"ZSCORE", keys::ticket_index("district:bareilly", "status", "in_progress"), ref})
          .is_nil());

  // Forwarding needs a police station of the ticket's district.
  auto no_station = w.tickets->set_status(kBareillyStaff, ref, "forwarded", "");
  REQUIRE_FALSE(no_station.ok());
  CHECK(no_station.status().http_status() == 400);
  CHECK(no_station.status().message().find("police_station") != std::string::npos);
  const std::string station = repo_reference().find_district("bareilly")->police_stations[0].code;
  auto forwarded = w.tickets->set_status(kBareillyStaff, ref, "forwarded", "थाने को भेजा", station);
  REQUIRE(forwarded.ok());
  CHECK(forwarded.value()["police_station"] == station);

  // An impossible move is refused, naming what is possible.
  auto closed_early = w.tickets->set_status(kBareillyStaff, ref, "closed", "");
  REQUIRE_FALSE(closed_early.ok());
  CHECK(closed_early.status().http_status() == 409);
  CHECK(closed_early.status().message().find("in_progress, resolved") != std::string::npos);
  auto unknown = w.tickets->set_status(kBareillyStaff, ref, "done", "");
  CHECK(unknown.status().http_status() == 400);

  REQUIRE(w.tickets->add_note(kBareillyStaff, ref, "SHO से बात हुई").ok());
  w.now += 3600000;
  auto resolved = w.tickets->set_status(kBareillyStaff, ref, "resolved", "मोबाइल बरामद");
  REQUIRE(resolved.ok());
  CHECK(resolved.value()["resolved_at"] == w.now);
  // The citizen is asked whether they are satisfied, with buttons carrying the reference.
  auto asked = w.outbox().back();
  CHECK(asked["replies"][0]["options"].size() == 2);
  CHECK(asked["replies"][0]["options"][0]["id"] == "feedback:yes:" + ref);

  auto history = w.tickets->get(kBareillyNodal, ref, false).value()["history"];
  std::vector<std::string> actions;
  for (const auto& h : history) actions.push_back(h["action"]);
  CHECK(actions == std::vector<std::string>{"created", "reply", "status", "note", "status"});
  CHECK(history[2]["from"] == "in_progress");
  CHECK(history[2]["to"] == "forwarded");
  CHECK(history[2]["by"] == "asha");
  CHECK(history[2]["role"] == "staff");
  CHECK(history[4]["to"] == "resolved");
  CHECK(history[4]["at"] == w.now);

  // Every staff action is in the audit log.
  auto audit = w.f.run({"XRANGE", keys::audit(), "-", "+"});
  std::multiset<std::string> audited;
  for (const auto& e : audit.elements) {
    audited.insert(json::parse(e.elements[1].elements[1].str)["action"].get<std::string>());
  }
  CHECK(audited.count("reply") == 1);
  CHECK(audited.count("status") == 2);
  CHECK(audited.count("note") == 1);
}

TEST_CASE("the citizen's answer to the satisfaction question closes or reopens the ticket",
          "[tickets][redis][feedback]") {
  const bool cached = GENERATE(false, true);
  INFO("session cache: " << (cached ? "on" : "off"));
  World w({}, cached);
  std::string happy = w.file("telegram", "c1", "1", "बरेली", "9876543210");
  REQUIRE(w.tickets->set_status(kBareillyStaff, happy, "resolved", "").ok());
  auto said = w.say("telegram", "c1", "हाँ");
  REQUIRE(said.ok());
  CHECK(w.ticket(happy)["status"] == "closed");
  CHECK(w.ticket(happy)["feedback"] == "satisfied");
  REQUIRE_FALSE(said->replies.empty());
  CHECK(said->replies[0].text.find(happy) != std::string::npos);

  std::string unhappy = w.file("telegram", "c2", "1", "बरेली", "9876500001");
  REQUIRE(w.tickets->set_status(kBareillyStaff, unhappy, "resolved", "").ok());
  auto pressed = w.say("telegram", "c2", "", "feedback:no:" + unhappy);
  REQUIRE(pressed.ok());
  auto t = w.ticket(unhappy);
  CHECK(t["status"] == "reopened");
  CHECK(t["feedback"] == "unsatisfied");
  CHECK(t["escalation_level"] == "1");
  CHECK(t["escalated_to"] == "nodal");
  CHECK_FALSE(w.f.run({"ZSCORE", keys::sla_due(), "resolve:" + unhappy}).is_nil());
  CHECK_FALSE(
      w.f.run({"ZSCORE", keys::ticket_index("range", "status", "reopened"), unhappy}).is_nil());

  // A second press of an old button changes nothing more.
  REQUIRE(w.say("telegram", "c2", "", "feedback:no:" + unhappy).ok());
  CHECK(w.ticket(unhappy)["escalation_level"] == "1");
  // Someone else's button does nothing to the ticket.
  std::string third = w.file("telegram", "c3", "1", "बरेली", "9876500002");
  REQUIRE(w.tickets->set_status(kBareillyStaff, third, "resolved", "").ok());
  REQUIRE(w.say("telegram", "c1", "", "feedback:yes:" + third).ok());
  CHECK(w.ticket(third)["status"] == "resolved");
}

TEST_CASE("an emergency written about an open ticket makes it urgent: queues and SLA deadlines",
          "[tickets][redis][sla]") {
  const bool cached = GENERATE(false, true);
  INFO("session cache: " << (cached ? "on" : "off"));
  World w({}, cached);
  std::string ref = w.file("telegram", "c6", "1", "बरेली", "9876500006");
  REQUIRE(w.ticket(ref)["priority"] == "normal");
  const std::string resolve_before = w.f.run({"ZSCORE", keys::sla_due(), "resolve:" + ref}).str;
  REQUIRE_FALSE(resolve_before.empty());

  auto said = w.say("telegram", "c6", "वो लोग फिर आ गए, मार रहे हैं");
  REQUIRE(said.ok());
  REQUIRE_FALSE(said->replies.empty());
  CHECK(said->replies.front().text.find("112") != std::string::npos);
  CHECK(w.ticket(ref)["priority"] == "urgent");
  for (const std::string scope : {"district:bareilly", "range"}) {
    CHECK_FALSE(w.f.run({"ZSCORE", keys::ticket_index(scope, "priority", "urgent"), ref}).is_nil());
    CHECK(w.f.run({"ZSCORE", keys::ticket_index(scope, "priority", "normal"), ref}).is_nil());
  }
  const std::string resolve_after = w.f.run({"ZSCORE", keys::sla_due(), "resolve:" + ref}).str;
  CHECK(std::stoll(resolve_after) < std::stoll(resolve_before));
  bool recorded = false;
  for (const auto& e : w.f.run({"XRANGE", keys::ticket_history(ref), "-", "+"}).elements) {
    json h = json::parse(e.elements[1].elements[1].str);
    recorded |= h["action"] == "priority" && h["to"] == "urgent";
  }
  CHECK(recorded);

  // A second emergency changes nothing more.
  REQUIRE(w.say("telegram", "c6", "बचाओ").ok());
  CHECK(w.f.run({"ZSCORE", keys::sla_due(), "resolve:" + ref}).str == resolve_after);

  // A deadline no longer pending (staff already answered) is not brought back.
  std::string answered = w.file("telegram", "c7", "1", "बरेली", "9876500007");
  w.f.run({"ZREM", keys::sla_due(), "first:" + answered});
  REQUIRE(w.say("telegram", "c7", "बचाओ").ok());
  CHECK(w.ticket(answered)["priority"] == "urgent");
  CHECK(w.f.run({"ZSCORE", keys::sla_due(), "first:" + answered}).is_nil());
  CHECK_FALSE(w.f.run({"ZSCORE", keys::sla_due(), "resolve:" + answered}).is_nil());
}

TEST_CASE("once a new complaint is begun, a typed answer is not taken for the old ticket's "
          "satisfaction",
          "[tickets][redis][feedback]") {
  const bool cached = GENERATE(false, true);
  INFO("session cache: " << (cached ? "on" : "off"));
  World w({}, cached);
  std::string old = w.file("telegram", "c5", "1", "बरेली", "9876500005");
  REQUIRE(w.tickets->set_status(kBareillyStaff, old, "resolved", "").ok());
  // The citizen does not answer the question and starts another complaint; "2" picks the
  // second category. It once reopened the old ticket, escalated it, and was lost to the menu.
  REQUIRE(w.say("telegram", "c5", "नई शिकायत").ok());
  auto picked = w.say("telegram", "c5", "2");
  REQUIRE(picked.ok());
  CHECK(w.ticket(old)["status"] == "resolved");
  CHECK(w.ticket(old)["escalation_level"] == "0");
  REQUIRE_FALSE(picked->replies.empty());
  CHECK(picked->replies.back().text.find(old) == std::string::npos);
  CHECK(picked->replies.back().text.find("ज़िल") != std::string::npos);  // asked for the district
  // The buttons of the question still answer it.
  REQUIRE(w.say("telegram", "c5", "", "feedback:yes:" + old).ok());
  CHECK(w.ticket(old)["status"] == "closed");
}

TEST_CASE("after filing, a text is asked about, and once the ticket is closed it starts a new "
          "complaint", "[tickets][redis][sessions]") {
  const bool cached = GENERATE(false, true);
  INFO("session cache: " << (cached ? "on" : "off"));
  World w({}, cached);
  std::string ref = w.file("telegram", "c1", "1", "बरेली", "9876543210");
  REQUIRE_FALSE(ref.empty());
  auto asked = w.say("telegram", "c1", "बाइक का नंबर UP25 AB 1234 है");
  REQUIRE(asked.ok());
  REQUIRE_FALSE(asked->replies.empty());
  CHECK(asked->replies.back().text.find(ref) != std::string::npos);
  REQUIRE(asked->replies.back().options.size() == 2);
  CHECK(asked->replies.back().options[0].id == "cmd:attach");
  CHECK(w.ticket(ref)["citizen_messages"].empty());  // not added before the citizen says so
  REQUIRE(w.say("telegram", "c1", "", "cmd:attach").ok());
  CHECK(w.ticket(ref)["citizen_messages"] == "1");

  REQUIRE(w.tickets->set_status(kBareillyStaff, ref, "resolved", "").ok());
  REQUIRE(w.say("telegram", "c1", "हाँ").ok());  // satisfied: closed
  REQUIRE(w.ticket(ref)["status"] == "closed");
  const std::string messages = w.ticket(ref)["citizen_messages"];  // the answer counts too
  auto later = w.say("telegram", "c1", "नमस्ते");
  REQUIRE(later.ok());
  REQUIRE_FALSE(later->replies.empty());
  // A greeting and the category menu, not "add this to your complaint?".
  CHECK(later->replies.back().text.find(ref) == std::string::npos);
  CHECK(later->replies.back().options.size() > 2);
  CHECK(w.ticket(ref)["citizen_messages"] == messages);
}

TEST_CASE("the session keeps its open ticket beside it, and a session from before that still "
          "learns that its ticket was closed", "[tickets][redis][sessions]") {
  const bool cached = GENERATE(false, true);
  INFO("session cache: " << (cached ? "on" : "off"));
  World w({}, cached);
  std::string ref = w.file("telegram", "c1", "1", "बरेली", "9876543210");
  REQUIRE_FALSE(ref.empty());
  const std::string session = keys::session("telegram", "c1");
  CHECK(w.f.run({"HGET", session, "ot"}).str == ref);
  auto loaded = w.store.load("telegram", "c1", "not-seen-yet");
  REQUIRE(loaded.ok());
  CHECK(loaded->open_ticket == ref);
  CHECK(loaded->open_ticket_status == "new");

  // A session committed before the field existed: the pipeline reads the status itself.
  w.f.run({"HDEL", session, "ot"});
  REQUIRE(w.tickets->set_status(kBareillyStaff, ref, "resolved", "").ok());
  REQUIRE(w.tickets->set_status(kBareillyStaff, ref, "closed", "").ok());
  loaded = w.store.load("telegram", "c1", "not-seen-yet");
  REQUIRE(loaded.ok());
  CHECK(loaded->open_ticket.empty());
  auto later = w.say("telegram", "c1", "नमस्ते");
  REQUIRE(later.ok());
  REQUIRE_FALSE(later->replies.empty());
  CHECK(later->replies.back().text.find(ref) == std::string::npos);
  CHECK(later->replies.back().options.size() > 2);
  CHECK(w.f.run({"HGET", session, "ot"}).str.empty());  // the new episode has none open
}

TEST_CASE("a staff reply more than 24 hours after the citizen's last message is marked "
          "outside the window on WhatsApp and Messenger only", "[tickets][redis][outbox]") {
  World w;
  const std::string wa = w.file("whatsapp", "919876500001", "1", "बरेली", "9876500001");
  const std::string fb = w.file("messenger", "psid-1", "1", "बरेली", "9876500002");
  const std::string tg = w.file("telegram", "c1", "1", "बरेली", "9876500003");
  REQUIRE_FALSE(wa.empty());
  REQUIRE_FALSE(fb.empty());
  REQUIRE_FALSE(tg.empty());
  auto last_entry_for = [&w](const std::string& ref) {
    json found;
    for (const json& e : w.outbox()) {
      if (e.value("ticket", "") == ref) found = e;
    }
    return found;
  };
  // Within the window: an ordinary reply.
  REQUIRE(w.tickets->reply(kBareillyStaff, wa, "आपकी शिकायत दर्ज कर ली गई है।").ok());
  CHECK_FALSE(last_entry_for(wa).value("outside_window", false));

  w.now += 25LL * 3600 * 1000;
  for (const std::string& ref : {wa, fb, tg}) {
    REQUIRE(w.tickets->reply(kBareillyStaff, ref, "थाने से आपसे संपर्क किया जाएगा।").ok());
  }
  CHECK(last_entry_for(wa).value("outside_window", false));
  CHECK(last_entry_for(fb).value("outside_window", false));
  CHECK_FALSE(last_entry_for(tg).value("outside_window", false));  // Telegram has no window
}

TEST_CASE("SLA breaches escalate up the ladder exactly once, by a controllable clock",
          "[tickets][redis][sla]") {
  World w;
  std::string ref = w.file("telegram", "c1", "1", "बरेली", "9876543210");
  const int64_t created = std::stoll(w.ticket(ref)["created_at"]);
  SlaPolicy policy;  // normal: first response 4 h, resolution 7 days
  const int64_t first = policy.target("normal").first_response_ms;
  SlaScheduler a(*w.f.redis, policy);
  SlaScheduler b(*w.f.redis, policy);

  CHECK(a.run_once(created + first - 1).value() == 0);
  // Two processes checking at the same moment: one escalation between them.
  int escalated = 0;
  std::thread t1([&] { escalated += a.run_once(created + first + 1).value(); });
  t1.join();
  escalated += b.run_once(created + first + 1).value();
  CHECK(escalated == 1);
  auto t = w.ticket(ref);
  CHECK(t["escalation_level"] == "1");
  CHECK(t["escalated_to"] == "nodal");
  CHECK(t["sla_breached"] == "first_response");
  auto history = w.tickets->get(kIG, ref, false).value()["history"];
  REQUIRE(history.size() == 2);
  CHECK(history[1]["action"] == "escalated");
  CHECK(history[1]["by"] == "system");
  CHECK(std::string(history[1]["reason"]).find("first response overdue") != std::string::npos);

  // Still no answer: SP, then IG, then nothing higher.
  CHECK(a.run_once(created + 2 * first + 2).value() == 1);
  CHECK(w.ticket(ref)["escalated_to"] == "sp");
  CHECK(a.run_once(created + 3 * first + 3).value() == 1);
  CHECK(w.ticket(ref)["escalated_to"] == "ig");
  CHECK(a.run_once(created + 10 * first).value() == 0);

  // A ticket answered in time is not escalated for its first response.
  std::string answered = w.file("telegram", "c2", "1", "बरेली", "9876500001");
  REQUIRE(w.tickets->reply(kBareillyStaff, answered, "हम देख रहे हैं").ok());
  const int64_t created2 = std::stoll(w.ticket(answered)["created_at"]);
  CHECK(a.run_once(created2 + first + 1).value() == 0);
  CHECK(w.ticket(answered)["escalation_level"] == "0");
  // ...but its resolution deadline still runs.
  CHECK(a.run_once(created2 + policy.target("normal").resolution_ms + 1).value() == 1);
  CHECK(w.ticket(answered)["sla_breached"] == "resolution");
}

TEST_CASE("women's safety complaints hide the citizen's identity from staff, not supervisors",
          "[tickets][redis][privacy]") {
  World w;
  std::string ref = w.file("telegram", "c1", "3", "बरेली", "9876543210",
                           "एक लड़का रोज़ कॉलेज के रास्ते में परेशान करता है, मेरा नंबर 9876543210 है");
  REQUIRE(w.ticket(ref)["cell"] == "women");
  auto staff_view = w.tickets->get(kBareillyStaff, ref, true);
  REQUIRE(staff_view.ok());
  const std::string dumped = staff_view.value().dump();
  CHECK(dumped.find("9876543210") == std::string::npos);
  CHECK(dumped.find("सीता देवी") == std::string::npos);
  CHECK(staff_view.value()["mobile"] == "********10");
  CHECK(staff_view.value()["personal_data_masked"] == true);

  const long long audit_before = w.f.run({"XLEN", keys::audit()}).integer;
  auto nodal_view = w.tickets->get(kBareillyNodal, ref, true);
  REQUIRE(nodal_view.ok());
  CHECK(nodal_view.value()["mobile"] == "9876543210");
  // Reading personal data is audited.
  CHECK(w.f.run({"XLEN", keys::audit()}).integer == audit_before + 1);
}

TEST_CASE("a complaint about a child hides the citizen's identity from staff in any category",
          "[tickets][redis][privacy]") {
  World w;
  std::string ref = w.file("telegram", "c1", "4", "बरेली", "9876543210",
                           "पड़ोस का आदमी मेरी नाबालिग बेटी को रोज़ धमकाता है, हम बहुत डरे हुए हैं");
  REQUIRE(w.ticket(ref)["category"] == "assault");
  CHECK(w.ticket(ref)["involves_child"] == "true");
  auto staff_view = w.tickets->get(kBareillyStaff, ref, true);
  REQUIRE(staff_view.ok());
  CHECK(staff_view.value()["personal_data_masked"] == true);
  CHECK(staff_view.value().dump().find("9876543210") == std::string::npos);
  // An ordinary complaint is not masked.
  std::string plain = w.file("telegram", "c2", "4", "बरेली", "9876500001",
                             "पड़ोसी ने कल शाम मेरे साथ मारपीट की और गाली दी, मेरे हाथ में चोट है");
  CHECK(w.tickets->get(kBareillyStaff, plain, false).value()["mobile"] == "9876500001");
}

TEST_CASE("queues page by cursor without repeating or skipping a ticket", "[tickets][redis]") {
  World w;
  std::set<std::string> filed;
  for (int i = 0; i < 7; ++i) {
    filed.insert(w.file("telegram", "p" + std::to_string(i), "1", "बदायूँ",
                        "98765000" + std::to_string(10 + i)));
  }
  std::set<std::string> seen;
  TicketQuery q;
  q.limit = 3;
  int pages = 0;
  do {
    auto page = w.tickets->list(kIG, q);
    REQUIRE(page.ok());
    for (const auto& t : page->tickets) CHECK(seen.insert(t["id"]).second);
    q.cursor = page->next_cursor;
    ++pages;
  } while (!q.cursor.empty() && pages < 10);
  CHECK(seen == filed);
  CHECK(pages == 3);

  TicketQuery bad;
  bad.cursor = "nonsense";
  CHECK(w.tickets->list(kIG, bad).status().http_status() == 400);
  bad = {};
  bad.status = "pending";
  CHECK(w.tickets->list(kIG, bad).status().message().find("status") != std::string::npos);
}

TEST_CASE("a mobile number past the intake limit is answered politely and files nothing",
          "[tickets][redis][intake]") {
  PipelineOptions o;
  o.intake_limit = 2;
  World w(o);
  CHECK_FALSE(w.file("telegram", "c1", "1", "बरेली", "9876543210").empty());
  CHECK_FALSE(w.file("telegram", "c1", "4", "बरेली", "9876543210").empty());
  CHECK(w.file("telegram", "c1", "7", "बरेली", "9876543210").empty());
  REQUIRE_FALSE(w.last_replies.empty());
  CHECK(w.last_replies[0].text.find("112") != std::string::npos);
  CHECK(w.f.run({"ZCARD", keys::all_tickets()}).integer == 2);
  // The number itself appears in no key.
  CHECK(w.f.run({"KEYS", "*9876543210*"}).elements.empty());
  // After the window, filing works again.
  w.now += 31LL * 24 * 3600 * 1000;
  CHECK_FALSE(w.file("telegram", "c1", "7", "बरेली", "9876543210").empty());
}

TEST_CASE("the same complaint from the same mobile on another platform joins the first ticket",
          "[tickets][redis][intake]") {
  World w;
  std::string first = w.file("telegram", "t1", "1", "बरेली", "9876543210");
  REQUIRE_FALSE(first.empty());
  std::string again = w.file("whatsapp", "919876543210", "1", "बरेली", "9876543210");
  CHECK(again.empty());
  REQUIRE_FALSE(w.last_replies.empty());
  CHECK(w.last_replies[0].text.find(first) != std::string::npos);
  CHECK(w.f.run({"ZCARD", keys::all_tickets()}).integer == 1);
  auto view = w.tickets->get(kBareillyStaff, first, true).value();
  CHECK(view["history"].back()["action"] == "linked");
  CHECK(view["history"].back()["platform"] == "whatsapp");
  // A later message on WhatsApp is asked about, then added to the same ticket.
  REQUIRE(w.say("whatsapp", "919876543210", "एक बात और: चोर की फोटो मेरे पास है").ok());
  CHECK(w.ticket(first)["citizen_messages"] == "1");
  REQUIRE(w.say("whatsapp", "919876543210", "1").ok());
  // The linked complaint and the later message both count as the citizen's messages.
  CHECK(w.ticket(first)["citizen_messages"] == "2");
  // Another category is a new complaint.
  CHECK_FALSE(w.file("whatsapp", "919876543210", "4", "बरेली", "9876543210").empty());
  // ...and on the same platform, a second ticket is a second complaint.
  CHECK_FALSE(w.file("telegram", "t1", "1", "बरेली", "9876543210").empty());
}

TEST_CASE("a number with many tickets is checked against its newest few only",
          "[tickets][redis][intake]") {
  PipelineOptions o;
  o.intake_limit = 0;  // no limit: one number may file many complaints
  World w(o);
  std::string newest;
  for (int i = 0; i < 30; ++i) {
    newest = w.file("telegram", "t" + std::to_string(i), "1", "बरेली", "9876543210");
    REQUIRE_FALSE(newest.empty());
  }
  // The same complaint on WhatsApp: answered up to the confirmation, then counted.
  const std::vector<std::string> answers = {
      "नई शिकायत", "1", "बरेली", "पता नहीं", "स्टेशन रोड, बस अड्डे के पास", "कल शाम 7 बजे",
      "कल शाम बस अड्डे के पास मेरा मोबाइल फ़ोन किसी ने छीन लिया", "सीता देवी", "9876543210", "हाँ"};
  for (const auto& a : answers) REQUIRE(w.say("whatsapp", "919876543210", a).ok());
  w.f.run({"CONFIG", "RESETSTAT"});
  auto confirmed = w.say("whatsapp", "919876543210", "हाँ");
  REQUIRE(confirmed.ok());
  CHECK(confirmed->ticket_ref.empty());  // linked, not filed: the telegram tickets stay open
  REQUIRE_FALSE(confirmed->replies.empty());
  CHECK(confirmed->replies[0].text.find(newest) != std::string::npos);
  // Read: the session (an HMGET in the load script and one in the commit's check) and at most
  // 20 tickets, not all 30.
  const std::string stats = w.f.run({"INFO", "commandstats"}).str;
  auto at = stats.find("cmdstat_hmget:calls=");
  REQUIRE(at != std::string::npos);
  const long calls = std::stol(stats.substr(at + std::string("cmdstat_hmget:calls=").size()));
  CHECK(calls <= 22);
  CHECK(calls >= 2);
}

TEST_CASE("a citizen on another app sees a status after giving the mobile's last 4 digits",
          "[tickets][redis][status]") {
  World w;
  std::string ref = w.file("telegram", "t1", "1", "बरेली", "9876543210");
  auto all_text = [](const Result<Processed>& r) {
    std::string out;
    for (const auto& reply : r->replies) out += reply.text + "\n";
    return out;
  };
  auto stranger = w.say("whatsapp", "w1", "स्थिति " + ref);
  REQUIRE(stranger.ok());
  CHECK(all_text(stranger).find("आखिरी 4 अंक") != std::string::npos);
  auto wrong = w.say("whatsapp", "w1", "स्थिति " + ref + " 1111");
  REQUIRE(wrong.ok());
  CHECK(all_text(wrong).find("आखिरी 4 अंक") != std::string::npos);
  auto right = w.say("whatsapp", "w1", "स्थिति " + ref + " ३२१०");
  REQUIRE(right.ok());
  INFO(all_text(right));
  CHECK(all_text(right).find("आखिरी 4 अंक") == std::string::npos);
  CHECK(all_text(right).find(ref) != std::string::npos);
  CHECK(all_text(right).find(repo_flow().messages.at("ticket_status_new").at("hi")) !=
        std::string::npos);
}

TEST_CASE("a public mention opens a docket in the triage queue and is answered publicly",
          "[tickets][redis][mention]") {
  World w;
  InboundMessage m;
  m.platform = "x";
  m.kind = "mention";
  m.user_id = "4242";
  m.chat_id = "1790000000000000001";
  m.message_id = "tweet:1790000000000000001";
  m.text = "@bareillypolice मेरे मोहल्ले में रोज़ रात को हंगामा होता है";
  auto r = w.pipeline->process(m);
  REQUIRE(r.ok());
  REQUIRE_FALSE(r->ticket_ref.empty());
  auto t = w.ticket(r->ticket_ref);
  CHECK(t["district"] == "");
  CHECK(t["cell"] == "triage");
  CHECK(t["kind"] == "mention");
  auto out = w.outbox().back();
  CHECK(out["kind"] == "mention");
  CHECK(out["chat_id"] == m.chat_id);
  CHECK(std::string(out["replies"][0]["text"]).find(r->ticket_ref) != std::string::npos);
  TicketQuery triage;
  triage.district = "triage";
  CHECK(w.tickets->list(kIG, triage)->tickets.size() == 1);
  // Delivered twice, it is one docket.
  CHECK(w.pipeline->process(m)->duplicate);
}

TEST_CASE("SLA targets come from the configuration, and a bad one is named", "[tickets][sla]") {
  auto good = sla_policy(json{{"high", {{"first_response_minutes", 30}, {"resolution_hours", 48}}},
                              {"check_interval_seconds", 10}});
  REQUIRE(good.ok());
  CHECK(good->target("high").first_response_ms == 30 * 60 * 1000);
  CHECK(good->target("high").resolution_ms == 48LL * 3600 * 1000);
  CHECK(good->target("normal").first_response_ms == 4 * 3600 * 1000);  // default kept
  CHECK(good->check_interval_ms == 10000);
  struct Case {
    json block;
    std::string error;
  };
  const std::vector<Case> cases = {
      {json{{"high", {{"first_response_minutes", -5}}}},
       "sla.high.first_response_minutes: expected a number greater than 0"},
      {json{{"low", {{"first_response_minutes", 5}}}},
       "sla.low: unknown priority; use urgent, high or normal"},
      {json{{"urgent", 5}}, "sla.urgent: expected an object"},
      {json::array(), "sla: expected an object"},
  };
  for (const auto& c : cases) {
    INFO(c.block.dump());
    auto r = sla_policy(c.block);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == c.error);
  }
}

TEST_CASE("tickets filed in the same millisecond are each listed once across pages",
          "[tickets][redis]") {
  World w;
  // 1,200 tickets sharing one created_at: ties across batch boundaries, with one filter and
  // with two (status + category, where every third ticket matches).
  std::vector<std::vector<std::string>> cmds;
  for (int n = 0; n < 1200; ++n) {
    const std::string ref = "BLY-26-" + std::to_string(200000 + n);
    const std::string category = n % 3 == 0 ? "traffic" : "theft";
    cmds.push_back({"HSET", keys::ticket(ref), "id", ref, "district", "bareilly", "status", "new",
                    "category", category, "priority", "normal", "created_at",
                    std::to_string(kStart)});
    cmds.push_back({"ZADD", keys::district_tickets("bareilly"), std::to_string(kStart), ref});
    for (const auto& k : ticket_index_keys("bareilly", "new", category, "normal"))
      cmds.push_back({"ZADD", k, std::to_string(kStart), ref});
  }
  REQUIRE(w.f.redis->pipeline(cmds).ok());
  for (const char* category : {"", "traffic"}) {
    TicketQuery q;
    q.status = "new";
    q.category = category;
    std::set<std::string> seen;
    size_t listed = 0;
    int pages = 0;
    do {
      auto page = w.tickets->list(kBareillyStaff, q);
      REQUIRE(page.ok());
      for (const auto& t : page->tickets) seen.insert(t["id"].get<std::string>());
      listed += page->tickets.size();
      q.cursor = page->next_cursor;
    } while (!q.cursor.empty() && ++pages < 100);
    INFO("category filter: " << category);
    CHECK(listed == seen.size());  // none twice
    CHECK(seen.size() == (std::string(category).empty() ? 1200u : 400u));
  }
}

TEST_CASE("a rare combination of filters beyond the scan budget still pages to its tickets",
          "[tickets][redis]") {
  World w;
  // 25,100 new thefts and 25,100 closed traffic complaints, all newer than one new traffic
  // one: both indexes are longer than one page's budget (50 reads of 500 entries).
  auto add = [&](int n, const std::string& status, const std::string& category, int64_t at) {
    std::vector<std::vector<std::string>> cmds;
    const std::string ref = "BLY-26-" + std::to_string(100000 + n);
    cmds.push_back({"HSET", keys::ticket(ref), "id", ref, "district", "bareilly", "status", status,
                    "category", category, "priority", "normal", "created_at", std::to_string(at)});
    cmds.push_back({"ZADD", keys::district_tickets("bareilly"), std::to_string(at), ref});
    for (const auto& k : ticket_index_keys("bareilly", status, category, "normal")) {
      cmds.push_back({"ZADD", k, std::to_string(at), ref});
    }
    return cmds;
  };
  std::vector<std::vector<std::string>> batch = add(0, "new", "traffic", kStart);
  for (int i = 1; i <= 50200; ++i) {
    auto more = add(i, i <= 25100 ? "new" : "closed", i <= 25100 ? "theft" : "traffic", kStart + i);
    batch.insert(batch.end(), more.begin(), more.end());
    if (batch.size() > 5000 || i == 50200) {
      REQUIRE(w.f.redis->pipeline(batch).ok());
      batch.clear();
    }
  }
  TicketQuery q;
  q.status = "new";
  q.category = "traffic";
  std::vector<std::string> found;
  int pages = 0;
  do {
    auto page = w.tickets->list(kBareillyStaff, q);
    REQUIRE(page.ok());
    for (const auto& t : page->tickets) found.push_back(t["id"]);
    q.cursor = page->next_cursor;
    ++pages;
  } while (!q.cursor.empty() && pages < 10);
  CHECK(found == std::vector<std::string>{"BLY-26-100000"});
  CHECK(pages >= 2);  // the first page ran out of budget and said where to go on
}

TEST_CASE("the satisfaction question asked of a session that expired and was created again is "
          "not missed by a process that cached the old one",
          "[tickets][redis][feedback][cache]") {
  World w({}, true);
  std::string ref = w.file("telegram", "c9", "1", "बरेली", "9876543210");
  REQUIRE_FALSE(ref.empty());
  const std::string session = keys::session("telegram", "c9");
  w.f.run({"DEL", session});                        // the session expires
  REQUIRE(w.say("telegram", "c9", "नमस्ते").ok());  // a new one: version 1, cached
  w.f.run({"DEL", session});                        // and expires too
  REQUIRE(w.tickets->set_status(kBareillyStaff, ref, "resolved", "").ok());  // version 1, fb
  REQUIRE(w.f.run({"HGET", session, "v"}).str == "1");
  auto said = w.say("telegram", "c9", "हाँ");
  REQUIRE(said.ok());
  CHECK(w.ticket(ref)["status"] == "closed");
  CHECK(w.ticket(ref)["feedback"] == "satisfied");
}
