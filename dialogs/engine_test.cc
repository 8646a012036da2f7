// Conversation tests: whole dialogs through step(), against the real flow and reference data.
#include "dialogs/engine.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>

#include "dialogs/test_fixtures.h"

namespace nivaran::dialogs {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'795'840'200'000;  // Saturday 2026-11-28 10:00 IST

// One citizen talking to the engine; plays the pipeline's part of storing the session and,
// when asked, of assigning a ticket reference.
class Chat {
 public:
  Chat() { ctx_ = StepContext{kNow, "ep-1", 330}; }

  const StepResult& say(const std::string& text) { return send(text, "", {}); }
  // The citizen goes quiet for a while before the next message.
  void wait_minutes(int minutes) { ctx_.now_ms += int64_t{minutes} * 60'000; }
  const StepResult& press(const std::string& button) { return send("", button, {}); }
  const StepResult& send(const std::string& text, const std::string& button,
                         std::vector<Attachment> attachments) {
    InboundMessage m;
    m.platform = "terminal";
    m.message_id = "m" + std::to_string(++count_);
    m.user_id = "u1";
    m.chat_id = "u1";
    m.text = text;
    m.button = button;
    m.attachments = std::move(attachments);
    last_ = step(testing::grievance_flow(), testing::real_reference_data(), session_, m, ctx_);
    session_ = last_.session;
    ctx_.now_ms += 60'000;
    ctx_.fresh_episode = "ep-" + std::to_string(count_ + 1);
    return last_;
  }
  // What the pipeline does after a create_ticket effect.
  void ticket_created(const std::string& ref) { session_.open_ticket = ref; }

  const Session& session() const { return session_; }
  const StepResult& last() const { return last_; }
  // All reply texts of the last step, joined.
  std::string text() const {
    std::string t;
    for (const auto& r : last_.replies) t += r.text + "\n";
    return t;
  }
  std::vector<std::string> option_ids() const {
    std::vector<std::string> ids;
    if (!last_.replies.empty())
      for (const auto& o : last_.replies.back().options) ids.push_back(o.id);
    return ids;
  }
  const Effect* effect(const std::string& type) const {
    for (const auto& e : last_.effects)
      if (e.type == type) return &e;
    return nullptr;
  }

 private:
  Session session_;
  StepContext ctx_;
  StepResult last_;
  int count_ = 0;
};

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// Walks a Hindi conversation up to the summary.
void walk_to_summary(Chat& chat) {
  chat.say("नमस्ते");
  chat.say("1");
  chat.say("बरेली");
  chat.say("पता नहीं");
  chat.say("स्टेशन रोड, सुभाष नगर");
  chat.say("कल रात 11 बजे");
  chat.say("कल रात मेरी बाइक घर के बाहर से चोरी हो गई");
  chat.say("राम कुमार");
  chat.say("९८७६५ ४३२१०");
  chat.say("हाँ");
  REQUIRE(chat.session().node == "confirm");
}

}  // namespace

SCENARIO("a citizen files a complete grievance in Hindi", "[engine][conversation]") {
  Chat chat;
  WHEN("they greet the bot") {
    chat.say("नमस्ते");
    THEN("a new episode starts and the categories are offered") {
      CHECK(chat.session().episode == "ep-1");
      CHECK(chat.session().started_at_ms == kNow);
      CHECK(chat.session().node == "category");
      CHECK(contains(chat.text(), "निवारण"));
      CHECK(contains(chat.text(), "112"));
      REQUIRE(chat.option_ids().size() == 10);
      CHECK(chat.option_ids().front() == "cat:theft");
      for (const auto& o : chat.last().replies.back().options) CHECK(o.id.size() <= 64);
    }
  }
  WHEN("they answer every question") {
    chat.say("नमस्ते");
    chat.say("1");
    CHECK(chat.session().node == "district");
    CHECK(chat.option_ids() == std::vector<std::string>{"dist:bareilly", "dist:badaun",
                                                        "dist:pilibhit", "dist:shahjahanpur",
                                                        "dist:other"});
    chat.say("बरेली");
    CHECK(chat.session().node == "police_station");
    CHECK(chat.option_ids().back() == "ps:unknown");
    chat.say("बारादरी");
    CHECK(chat.session().node == "place");
    chat.say("पुराना शहर, किला पुल के पास");
    CHECK(chat.session().node == "incident_time");
    chat.say("कल रात 11 बजे");
    CHECK(chat.session().node == "description");
    chat.say("कल रात मेरी बाइक घर के बाहर से चोरी हो गई");
    CHECK(chat.session().node == "name");
    chat.say("राम कुमार");
    CHECK(chat.session().node == "mobile");
    chat.say("+91 98765-43210");
    CHECK(chat.session().node == "consent");
    chat.say("हाँ");
    CHECK(chat.session().node == "confirm");
    THEN("the summary shows what they said") {
      const std::string summary = chat.text();
      CHECK(contains(summary, "चोरी / लूट"));
      CHECK(contains(summary, "बरेली"));
      CHECK(contains(summary, "बारादरी"));
      CHECK(contains(summary, "राम कुमार"));
      CHECK(contains(summary, "9876543210"));
      CHECK(chat.option_ids() == std::vector<std::string>{"yes", "edit", "cancel"});
    }
    AND_WHEN("they confirm") {
      chat.say("हाँ");
      THEN("a ticket is created with every field and they are told what happens next") {
        const Effect* e = chat.effect("create_ticket");
        REQUIRE(e != nullptr);
        CHECK(e->data["category"] == "theft");
        CHECK(e->data["district"] == "bareilly");
        CHECK(e->data["police_station"] == "baradari");
        CHECK(e->data["description"] == "कल रात मेरी बाइक घर के बाहर से चोरी हो गई");
        CHECK(e->data["attachments"] == json::array());
        CHECK(e->data["name"] == "राम कुमार");
        CHECK(e->data["mobile"] == "9876543210");
        CHECK(e->data["consent"] == true);
        CHECK(e->data["priority"] == "normal");
        CHECK(e->data["lang"] == "hi");
        CHECK(e->data["cell"] == "social_media");
        CHECK(e->data["emergency"] == false);
        CHECK(e->data["place"] == "पुराना शहर, किला पुल के पास");
        CHECK(e->data["incident_time"]["date"] == "2026-11-27");
        CHECK(e->data["incident_time"]["time"] == "23:00");
        CHECK(contains(chat.text(), "{ticket_ref}"));
        CHECK(contains(chat.text(), "बरेली पुलिस सोशल मीडिया सेल"));
        CHECK(chat.session().node == "done");
      }
      AND_WHEN("the pipeline files it and the citizen writes again") {
        chat.ticket_created("BLY-000123");
        chat.send("एक फ़ोटो और भेज रहा हूँ", "", {Attachment{"photo", "file-9", "image/jpeg"}});
        THEN("the message is added to that ticket and a new complaint is offered") {
          const Effect* e = chat.effect("attach_to_ticket");
          REQUIRE(e != nullptr);
          CHECK(e->data["ticket"] == "BLY-000123");
          CHECK(chat.effect("create_ticket") == nullptr);
          CHECK(contains(chat.text(), "BLY-000123"));
          CHECK(chat.option_ids() == std::vector<std::string>{"cmd:restart"});
          CHECK(chat.session().episode == "ep-1");
        }
        AND_WHEN("they choose a new complaint") {
          chat.press("cmd:restart");
          THEN("a new episode starts without the old ticket") {
            CHECK(chat.session().episode != "ep-1");
            CHECK(chat.session().open_ticket.empty());
            CHECK(chat.session().node == "category");
            CHECK(chat.session().slots.empty());
          }
        }
      }
    }
  }
}

TEST_CASE("buttons drive the whole conversation", "[engine][conversation]") {
  Chat chat;
  chat.say("hi");
  chat.press("cat:cyber_fraud");
  chat.press("dist:pilibhit");
  chat.press("ps:puranpur");
  chat.say("bus adda");
  chat.say("aaj subah");
  chat.say("UPI se 20000 rupaye kat gaye, kisi ne bank wala bankar OTP maanga");
  chat.say("Suresh");
  chat.say("7007123456");
  chat.press("no");
  chat.press("yes");
  const Effect* e = chat.effect("create_ticket");
  REQUIRE(e != nullptr);
  CHECK(e->data["category"] == "cyber_fraud");
  CHECK(e->data["district"] == "pilibhit");
  CHECK(e->data["police_station"] == "puranpur");
  CHECK(e->data["cell"] == "cyber");
  CHECK(e->data["priority"] == "high");
  CHECK(e->data["consent"] == false);
  CHECK(contains(chat.text(), "पीलीभीत पुलिस साइबर क्राइम सेल"));
}

TEST_CASE("cancel ends the complaint and the next message starts afresh", "[engine][commands]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("2");
  chat.say("रद्द");
  CHECK(contains(chat.text(), "रद्द कर दी गई"));
  CHECK(chat.session().node.empty());
  CHECK(chat.session().slots.empty());
  CHECK(chat.last().effects.empty());
  chat.say("नमस्ते");
  CHECK(chat.session().node == "category");
  CHECK(chat.session().episode == "ep-4");
}

TEST_CASE("cancel from the summary files nothing", "[engine][commands]") {
  Chat chat;
  walk_to_summary(chat);
  chat.press("cancel");
  CHECK(chat.last().effects.empty());
  CHECK(chat.session().node.empty());
}

TEST_CASE("help explains the commands and repeats the question", "[engine][commands]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("1");
  chat.say("मदद");
  CHECK(chat.session().node == "district");
  CHECK(contains(chat.text(), "रद्द"));
  CHECK(contains(chat.text(), "घटना किस ज़िले में हुई?"));
  CHECK(chat.option_ids().size() == 5);
  chat.say("help");
  CHECK(chat.session().node == "district");
}

TEST_CASE("the citizen can switch to English and back", "[engine][commands]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("English");
  CHECK(chat.session().lang == "en");
  CHECK(contains(chat.text(), "continue in English"));
  CHECK(contains(chat.text(), "What is your complaint about?"));
  CHECK(chat.last().replies.back().options.front().title == "Theft / robbery");
  chat.say("theft");
  CHECK(contains(chat.text(), "In which district"));
  chat.say("हिंदी");
  CHECK(chat.session().lang == "hi");
  CHECK(contains(chat.text(), "घटना किस ज़िले में हुई?"));
}

TEST_CASE("an English conversation files an English ticket", "[engine][conversation]") {
  Chat chat;
  chat.say("English");
  chat.say("my phone was stolen");
  CHECK(contains(chat.text(), "Theft / robbery"));
  CHECK(chat.option_ids() == std::vector<std::string>{"yes", "no"});
  chat.say("yes");
  CHECK(chat.session().slots["category"] == "theft");
  chat.say("Bareilly");
  chat.say("don't know");
  chat.say("near the bus stand");
  chat.say("yesterday 7 pm");
  CHECK(chat.session().slots["incident_time"]["time"] == "19:00");
  chat.say("My phone was stolen at the bus stand yesterday evening");
  chat.say("Anil Verma");
  chat.say("9812345678");
  chat.say("yes");
  CHECK(contains(chat.text(), "Is this correct?"));
  chat.say("yes");
  const Effect* e = chat.effect("create_ticket");
  REQUIRE(e != nullptr);
  CHECK(e->data["lang"] == "en");
  CHECK(e->data["police_station"].is_null());
  CHECK(contains(chat.text(), "Complaint number: {ticket_ref}"));
}

TEST_CASE("an invalid mobile number is asked again with an example", "[engine][mobile]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("1");
  chat.say("बरेली");
  chat.say("पता नहीं");
  chat.say("पता नहीं");
  chat.say("पता नहीं");
  chat.say("मेरी साइकिल स्कूल के बाहर से चोरी हो गई");
  chat.say("सीता देवी");
  chat.say("12345");
  CHECK(chat.session().node == "mobile");
  CHECK(contains(chat.text(), "9876543210"));
  CHECK(chat.session().failures == 1);
  chat.say("58765432100");
  chat.say("abc");
  CHECK(chat.session().failures == 3);
  CHECK(contains(chat.text(), "मदद"));
  chat.say("०९८७६५४३२१०");
  CHECK(chat.session().node == "consent");
  CHECK(chat.session().slots["mobile"] == "9876543210");
  CHECK(chat.session().failures == 0);
}

TEST_CASE("emergency words get 112 at once and make the ticket urgent", "[engine][emergency]") {
  Chat chat;
  chat.say("बचाओ! कुछ लोग मेरे भाई को मार रहे हैं");
  REQUIRE(chat.last().replies.size() >= 2);
  CHECK(contains(chat.last().replies.front().text, "112"));
  CHECK(chat.session().slots["emergency"] == true);
  chat.say("4");
  chat.say("शाहजहांपुर");
  chat.say("तिलहर");
  chat.say("तिलहर बाज़ार");
  chat.say("अभी");
  chat.say("बाज़ार में कुछ लोग मेरे भाई को लाठियों से पीट रहे हैं");
  chat.say("मोहन लाल");
  chat.say("9450012345");
  chat.say("हाँ");
  chat.say("हाँ");
  const Effect* e = chat.effect("create_ticket");
  REQUIRE(e != nullptr);
  CHECK(e->data["priority"] == "urgent");
  CHECK(e->data["emergency"] == true);
  CHECK(e->data["category"] == "assault");
}

TEST_CASE("an emergency about cyber fraud also gives 1930", "[engine][emergency]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.press("cat:cyber_fraud");
  chat.say("emergency! mere account se paise nikal rahe hain");
  CHECK(contains(chat.last().replies.front().text, "112"));
  CHECK(contains(chat.last().replies.front().text, "1930"));
}

TEST_CASE("a text after filing asks whether to add it to the ticket or file a new complaint",
          "[engine][sessions]") {
  Chat chat;
  walk_to_summary(chat);
  chat.say("हाँ");
  chat.ticket_created("BLY-000007");
  chat.say("मैं बताना भूल गया, बाइक का नंबर UP25 AB 1234 है");
  CHECK(chat.effect("attach_to_ticket") == nullptr);
  CHECK(contains(chat.text(), "BLY-000007"));
  CHECK(contains(chat.text(), "नई शिकायत है?"));
  CHECK(chat.option_ids() == std::vector<std::string>{"cmd:attach", "cmd:restart"});
  CHECK(chat.session().pending == "attach_or_new");

  SECTION("an unclear answer is asked again and kept with the first") {
    chat.say("पुलिस कब आएगी");
    CHECK(chat.effect("attach_to_ticket") == nullptr);
    CHECK(chat.option_ids() == std::vector<std::string>{"cmd:attach", "cmd:restart"});
    CHECK(chat.session().held == "मैं बताना भूल गया, बाइक का नंबर UP25 AB 1234 है\nपुलिस कब आएगी");
  }
  for (const char* add : {"1", "हाँ", "शिकायत में जोड़ें", "add to complaint", "cmd:attach"}) {
    SECTION(std::string("\"") + add + "\" adds it, and what follows is added without asking") {
      if (std::string(add) == "cmd:attach")
        chat.press(add);
      else
        chat.say(add);
      const Effect* e = chat.effect("attach_to_ticket");
      REQUIRE(e != nullptr);
      CHECK(e->data["ticket"] == "BLY-000007");
      CHECK(contains(chat.text(), "शिकायत BLY-000007 में जोड़ दिया गया"));
      CHECK(chat.session().held.empty());
      chat.say("और चाबी भी ले गए");
      CHECK(chat.effect("attach_to_ticket") != nullptr);
      AND_THEN("after the citizen falls idle, the next text is asked about again") {
        chat.wait_minutes(24 * 60);
        chat.say("एक और बात");
        CHECK(chat.effect("attach_to_ticket") == nullptr);
        CHECK(chat.session().pending == "attach_or_new");
      }
    }
  }
  for (const char* fresh : {"2", "नई शिकायत", "new", "cmd:restart"}) {
    SECTION(std::string("\"") + fresh + "\" starts a new complaint told by the held text") {
      chat.say("aur haan kal mera phone bhi chori ho gaya");  // joins the held text
      if (std::string(fresh) == "cmd:restart")
        chat.press(fresh);
      else
        chat.say(fresh);
      CHECK(chat.effect("attach_to_ticket") == nullptr);
      CHECK(chat.session().episode != "ep-1");
      CHECK(chat.session().open_ticket.empty());
      CHECK(chat.session().held.empty());
      // The story was read: theft is guessed and only confirmed.
      CHECK(chat.session().pending == "guess");
      CHECK(chat.session().candidates == std::vector<std::string>{"cat:theft"});
    }
  }
}

TEST_CASE("a photo after filing is added to the ticket without asking", "[engine][sessions]") {
  Chat chat;
  walk_to_summary(chat);
  chat.say("हाँ");
  chat.ticket_created("BLY-000008");
  chat.send("", "", {Attachment{"photo", "file-1", "image/jpeg"}});
  const Effect* e = chat.effect("attach_to_ticket");
  REQUIRE(e != nullptr);
  CHECK(e->data["ticket"] == "BLY-000008");
  CHECK(chat.session().pending.empty());
}

TEST_CASE("an emergency after filing attaches to the ticket as urgent", "[engine][emergency]") {
  Chat chat;
  walk_to_summary(chat);
  chat.say("हाँ");
  chat.ticket_created("BLY-000001");
  chat.say("वो फिर आ गए, बचाओ");
  CHECK(contains(chat.last().replies.front().text, "112"));
  const Effect* e = chat.effect("attach_to_ticket");
  REQUIRE(e != nullptr);
  CHECK(e->data["priority"] == "urgent");
}

TEST_CASE("any field can be changed from the summary", "[engine][edit]") {
  Chat chat;
  walk_to_summary(chat);
  chat.say("बदलें");
  CHECK(contains(chat.text(), "क्या बदलना"));
  CHECK(chat.option_ids().front() == "edit:category");
  chat.say("मोबाइल");
  CHECK(chat.session().node == "mobile");
  chat.say("9123456780");
  CHECK(chat.session().node == "confirm");
  CHECK(contains(chat.text(), "9123456780"));
  chat.say("हाँ");
  REQUIRE(chat.effect("create_ticket") != nullptr);
  CHECK(chat.effect("create_ticket")->data["mobile"] == "9123456780");
}

TEST_CASE("changing the district asks the police station again", "[engine][edit]") {
  Chat chat;
  walk_to_summary(chat);
  chat.press("edit");
  chat.press("edit:district");
  chat.say("pilibhit");
  CHECK(chat.session().node == "police_station");
  chat.say("puranpur");
  CHECK(chat.session().node == "confirm");
  CHECK(contains(chat.text(), "पूरनपुर"));
}

TEST_CASE("naming a field at the summary goes straight to it", "[engine][edit]") {
  Chat chat;
  walk_to_summary(chat);
  chat.say("नाम गलत है");
  CHECK(chat.session().node == "name");
}

TEST_CASE("back returns to the previous question", "[engine][commands]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("1");
  chat.say("बरेली");
  chat.say("पीछे");
  CHECK(chat.session().node == "district");
  chat.say("बदायूं");
  CHECK(chat.session().node == "police_station");
  CHECK(chat.session().slots["district"] == "badaun");
}

TEST_CASE("a place outside the range goes to the range triage desk", "[engine][routing]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("3");
  chat.press("dist:other");
  CHECK(contains(chat.text(), "परिक्षेत्र"));
  CHECK(chat.session().node == "place");
  chat.say("हज़रतगंज, लखनऊ");
  chat.say("परसों शाम");
  chat.say("लखनऊ में मेरे बेटे को कोई लड़का रोज़ परेशान करता है");
  chat.say("गीता");
  chat.say("9876501234");
  chat.say("हाँ");
  chat.say("हाँ");
  const Effect* e = chat.effect("create_ticket");
  REQUIRE(e != nullptr);
  CHECK(e->data["district"].is_null());
  CHECK(e->data["cell"] == "triage");
}

TEST_CASE("an ambiguous answer gets a did-you-mean choice", "[engine][category]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("mobile chori ho gaya aur UPI se paise bhi kat gaye");
  CHECK(chat.session().node == "category");
  CHECK(chat.option_ids() == std::vector<std::string>{"cat:theft", "cat:cyber_fraud"});
  chat.say("2");
  CHECK(chat.session().slots["category"] == "cyber_fraud");
  CHECK(chat.session().node == "district");
}

TEST_CASE("photos and voice notes become attachments", "[engine][attachments]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("1");
  chat.say("बरेली");
  chat.say("पता नहीं");
  chat.send("", "", {Attachment{"location", "", "", 28.36, 79.43}});
  CHECK(chat.session().slots["place"] == "भेजी गई लोकेशन");
  chat.say("आज");
  chat.send("", "", {Attachment{"photo", "photo-1", "image/jpeg"}});
  CHECK(chat.session().node == "description");
  CHECK(contains(chat.text(), "फ़ाइल"));
  chat.send("", "", {Attachment{"voice", "voice-1", "audio/ogg"}});
  CHECK(chat.session().node == "name");
  CHECK(chat.session().slots["attachments"].size() == 3);
}

TEST_CASE("the step is a pure function of its inputs", "[engine]") {
  Session s;
  InboundMessage m;
  m.text = "नमस्ते";
  StepContext ctx{1000, "ep-x", 330};
  auto a = step(testing::grievance_flow(), testing::real_reference_data(), s, m, ctx);
  auto b = step(testing::grievance_flow(), testing::real_reference_data(), s, m, ctx);
  CHECK(a.session == b.session);
  CHECK(a.replies == b.replies);
  CHECK(a.effects == b.effects);
}

TEST_CASE("a session survives a JSON round trip", "[engine][session]") {
  Chat chat;
  walk_to_summary(chat);
  chat.say("बदलें");
  json j = chat.session();
  Session back = j.get<Session>();
  CHECK(back == chat.session());
  CHECK(json::parse(j.dump()).get<Session>() == chat.session());
}

TEST_CASE("a session's text is what json_text(json(session)) gives", "[engine][session]") {
  Session empty;
  CHECK(session_json_text(empty) == json_text(json(empty)));
  Chat chat;
  walk_to_summary(chat);
  CHECK(session_json_text(chat.session()) == json_text(json(chat.session())));
  chat.say("बदलें");  // a side question: pending and candidates are set
  CHECK(session_json_text(chat.session()) == json_text(json(chat.session())));
  Session odd = chat.session();
  odd.held = "फिर से \"लिखा\"\n";
  odd.return_to = "summary";
  odd.pending = "edit";
  odd.candidates = {"a", "ब"};
  odd.failures = -3;
  odd.started_at_ms = -1;
  odd.slots["nested"] = json{{"z", 1.5}, {"a", {nullptr, true, "x"}}};
  CHECK(session_json_text(odd) == json_text(json(odd)));
  CHECK(json::parse(session_json_text(odd)).get<Session>() == odd);
}

TEST_CASE("a session from an unknown node restarts gracefully", "[engine][session]") {
  Session s;
  s.node = "no_such_node";
  InboundMessage m;
  m.text = "hello";
  auto r = step(testing::grievance_flow(), testing::real_reference_data(), s, m,
                StepContext{5, "ep-new", 330});
  CHECK(r.session.node == "category");
  CHECK(r.session.episode == "ep-new");
}

SCENARIO("an opening message that tells the story skips the questions it answers",
         "[engine][story]") {
  Chat chat;
  WHEN("the first message names category, district, police station and time") {
    chat.say("कल रात बरेली के बारादरी इलाके में मेरा मोबाइल चोरी हो गया");
    THEN("the category is only confirmed") {
      CHECK(contains(chat.text(), "चोरी / लूट"));
      CHECK(chat.option_ids() == std::vector<std::string>{"yes", "no"});
      CHECK(chat.session().slots["district"] == "bareilly");
      CHECK(chat.session().slots["police_station"] == "baradari");
      CHECK(chat.session().slots["incident_time"]["date"] == "2026-11-27");
      CHECK(chat.session().slots["incident_time"]["part"] == "night");
    }
    AND_WHEN("they confirm the category") {
      chat.say("हाँ");
      THEN("the next question is the first one the story did not answer") {
        CHECK(chat.session().slots["category"] == "theft");
        CHECK(chat.session().slots["place"] == "बारादरी इलाके");
        CHECK(chat.session().node == "name");  // place, time and description came with the story
      }
      AND_WHEN("they answer the rest") {
        chat.say("रमेश");
        chat.say("9876543210");
        chat.say("हाँ");
        CHECK(contains(chat.text(), "बारादरी"));
        chat.say("हाँ");
        const Effect* e = chat.effect("create_ticket");
        REQUIRE(e != nullptr);
        CHECK(e->data["description"] == "कल रात बरेली के बारादरी इलाके में मेरा मोबाइल चोरी हो गया");
        CHECK(e->data["police_station"] == "baradari");
      }
    }
    AND_WHEN("they say the guess is wrong") {
      chat.say("नहीं");
      THEN("the category menu is shown") {
        CHECK(chat.session().node == "category");
        CHECK(chat.option_ids().size() == 10);
      }
    }
  }
  WHEN("a Hinglish story names a police station but not the district") {
    chat.say("UPI se paise kat gaye, main Puranpur se hoon");
    THEN("the district follows from the station") {
      CHECK(chat.session().slots["district"] == "pilibhit");
      CHECK(chat.session().slots["police_station"] == "puranpur");
      CHECK(contains(chat.text(), "साइबर"));
    }
  }
  WHEN("the first message only greets") {
    chat.say("namaste sir");
    THEN("the category question is asked") {
      CHECK(chat.session().node == "category");
      CHECK(chat.session().slots.empty());
    }
  }
}

TEST_CASE("free text at the category question is guessed and confirmed", "[engine][category]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("कोई लड़का रोज़ परेशान करता है");
  CHECK(contains(chat.text(), "महिलाओं से जुड़ा अपराध"));
  chat.press("yes");
  CHECK(chat.session().slots["category"] == "women_safety");
  CHECK(chat.session().node == "district");
}

TEST_CASE("a district with a bigger typo gets a did-you-mean", "[engine][district]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("1");
  chat.say("sahajhapur");
  CHECK(chat.session().node == "district");
  CHECK(chat.option_ids() == std::vector<std::string>{"dist:shahjahanpur"});
  chat.say("हाँ");
  CHECK(chat.session().slots["district"] == "shahjahanpur");
  CHECK(chat.session().node == "police_station");
}

TEST_CASE("a future incident time is questioned", "[engine][datetime]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("1");
  chat.say("बरेली");
  chat.say("पता नहीं");
  chat.say("पता नहीं");
  chat.say("15/12/2026");
  CHECK(chat.session().node == "incident_time");
  CHECK(contains(chat.text(), "15/12/2026"));
  chat.say("12/11/2026");
  CHECK(chat.session().node == "description");
  CHECK(chat.session().slots["incident_time"]["date"] == "2026-11-12");
}

TEST_CASE("status of a ticket can be asked at any time", "[engine][status]") {
  Chat chat;
  SECTION("with a reference, before any complaint") {
    chat.say("स्थिति bly-000123");
    const Effect* e = chat.effect("ticket_status");
    REQUIRE(e != nullptr);
    CHECK(e->data["ticket"] == "BLY-000123");
    CHECK(contains(chat.text(), "{ticket_status}"));
  }
  SECTION("in the middle of a complaint, which then continues") {
    chat.say("नमस्ते");
    chat.say("1");
    chat.say("status PBT-42");
    REQUIRE(chat.effect("ticket_status") != nullptr);
    CHECK(chat.effect("ticket_status")->data["ticket"] == "PBT-42");
    CHECK(chat.session().node == "district");
    CHECK(contains(chat.text(), "घटना किस ज़िले में हुई?"));
  }
  SECTION("without a reference, about the open ticket") {
    walk_to_summary(chat);
    chat.say("हाँ");
    chat.ticket_created("BLY-000777");
    chat.say("स्थिति");
    REQUIRE(chat.effect("ticket_status") != nullptr);
    CHECK(chat.effect("ticket_status")->data["ticket"] == "BLY-000777");
    CHECK(chat.effect("attach_to_ticket") == nullptr);
  }
  SECTION("without any ticket, the citizen is told how to ask") {
    chat.say("नमस्ते");
    chat.say("status");
    CHECK(chat.effect("ticket_status") == nullptr);
    CHECK(contains(chat.text(), "BLY-26-000123"));
  }
}

TEST_CASE("after a long pause an unfinished complaint is offered to resume", "[engine][session]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("1");
  chat.wait_minutes(180);
  chat.say("बरेली");
  CHECK(chat.option_ids() == std::vector<std::string>{"cmd:continue", "cmd:restart"});
  CHECK(chat.session().node == "district");
  SECTION("continue repeats the question") {
    chat.say("आगे बढ़ें");
    CHECK(contains(chat.text(), "घटना किस ज़िले में हुई?"));
    chat.say("बरेली");
    CHECK(chat.session().node == "police_station");
  }
  SECTION("start over begins a new episode") {
    chat.press("cmd:restart");
    CHECK(chat.session().node == "category");
    CHECK(chat.session().slots.empty());
  }
  SECTION("an answer instead is taken as the answer") {
    chat.say("बदायूं");
    CHECK(chat.session().slots["district"] == "badaun");
  }
}

TEST_CASE("an emergency about a child also gives 1098", "[engine][emergency]") {
  Chat chat;
  chat.say("बचाओ, मेरे बच्चे को कोई उठा ले गया");
  CHECK(contains(chat.last().replies.front().text, "112"));
  CHECK(contains(chat.last().replies.front().text, "1098"));
}

TEST_CASE("three unusable answers to a menu get a simpler numbered prompt", "[engine][retry]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("1");
  chat.say("xyz");
  chat.say("abc");
  CHECK(contains(chat.text(), "बरेली, बदायूं"));
  chat.say("qqq");
  CHECK(contains(chat.text(), "सिर्फ़ एक नंबर"));
  CHECK(chat.option_ids().size() == 5);
  chat.say("३");
  CHECK(chat.session().slots["district"] == "pilibhit");
}

TEST_CASE("back at the first question says so", "[engine][commands]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("पीछे");
  CHECK(contains(chat.text(), "पहला ही सवाल"));
  CHECK(chat.session().node == "category");
}

TEST_CASE("every category files a ticket routed to its cell", "[engine][routing]") {
  struct Case {
    const char* category;
    const char* cell;
    const char* priority;
    const char* desk;
  };
  const Case cases[] = {
      {"theft", "social_media", "normal", "बदायूं पुलिस सोशल मीडिया सेल"},
      {"cyber_fraud", "cyber", "high", "बदायूं पुलिस साइबर क्राइम सेल"},
      {"women_safety", "women", "high", "बदायूं पुलिस महिला सहायता प्रकोष्ठ"},
      {"assault", "social_media", "normal", "बदायूं पुलिस सोशल मीडिया सेल"},
      {"land_dispute", "social_media", "normal", "बदायूं पुलिस सोशल मीडिया सेल"},
      {"missing_person", "social_media", "high", "बदायूं पुलिस सोशल मीडिया सेल"},
      {"traffic", "social_media", "normal", "बदायूं पुलिस सोशल मीडिया सेल"},
      {"police_conduct", "nodal", "high", "बदायूं पुलिस के नोडल अधिकारी (सोशल मीडिया)"},
      {"objectionable_post", "social_media", "normal", "बदायूं पुलिस सोशल मीडिया सेल"},
      {"other", "social_media", "normal", "बदायूं पुलिस सोशल मीडिया सेल"},
  };
  for (const auto& c : cases) {
    INFO(c.category);
    Chat chat;
    chat.say("नमस्ते");
    chat.press(std::string("cat:") + c.category);
    chat.press("dist:badaun");
    chat.press("ps:ujhani");
    chat.say("उझानी बस अड्डा");
    chat.say("परसों दोपहर");
    chat.say("घटना के बारे में पूरी जानकारी यहाँ लिखी है");
    chat.say("अनीता");
    chat.say("8765432109");
    chat.press("yes");
    chat.press("yes");
    const Effect* e = chat.effect("create_ticket");
    REQUIRE(e != nullptr);
    CHECK(e->data["category"] == c.category);
    CHECK(e->data["district"] == "badaun");
    CHECK(e->data["police_station"] == "ujhani");
    CHECK(e->data["cell"] == c.cell);
    CHECK(e->data["priority"] == c.priority);
    CHECK(e->data["incident_time"]["date"] == "2026-11-26");
    CHECK(e->data["mask_personal_data"] == (std::string(c.category) == "women_safety"));
    CHECK(contains(chat.text(), c.desk));
  }
}

TEST_CASE("a story told at the category question also answers later questions", "[engine][story]") {
  Chat chat;
  chat.say("नमस्ते");
  chat.say("aaj subah Shahjahanpur me Tilhar bazar se meri bike chori ho gayi");
  CHECK(chat.option_ids() == std::vector<std::string>{"yes", "no"});
  chat.say("haan");
  CHECK(chat.session().slots["district"] == "shahjahanpur");
  CHECK(chat.session().slots["police_station"] == "tilhar");
  CHECK(chat.session().slots["incident_time"]["part"] == "morning");
  CHECK(chat.session().slots["place"] == "Tilhar bazar");
  CHECK(chat.session().node == "name");
}

TEST_CASE("a police station that is also a common word is taken from a story only as a thana",
          "[engine][story]") {
  struct Case {
    const char* story;
    const char* district;  // "" when none should be taken
    const char* station;
  };
  const Case cases[] = {
      {"mera mobile chori ho gaya, sahi baat hai, kal raat ki ghatna hai", "", ""},
      {"ek banda aaya aur mera phone chheen ke bhaag gaya kal shaam", "", ""},
      {"kal raat shahi thane ke paas meri bike chori ho gayi", "bareilly", "shahi"},
      {"कल रात बरेली में शाही के पास मेरी बाइक चोरी हो गई", "bareilly", "shahi"},
  };
  for (const auto& c : cases) {
    INFO(c.story);
    Chat chat;
    chat.say(c.story);
    CHECK(chat.session().slots.value("district", "") == c.district);
    CHECK(chat.session().slots.value("police_station", "") == c.station);
  }
}

TEST_CASE("a story's place is taken from a place word and its neighbours", "[engine][story]") {
  struct Case {
    const char* story;
    const char* place;  // "" when none should be taken
  };
  const Case cases[] = {
      {"कल मेरी साइकिल स्कूल के बाहर से चोरी हो गई", "स्कूल के बाहर"},
      {"Station road par mera phone cheen liya", "Station road"},
      {"गांधी नगर में मेरे घर पर कब्जा कर लिया", "गांधी नगर"},
      {"mere gaon me zameen par kabza kar liya", ""},
      {"someone stole my bike near the market", ""},
  };
  for (const auto& c : cases) {
    INFO(c.story);
    Chat chat;
    chat.say(c.story);
    CHECK(chat.session().slots.value("place", "") == c.place);
  }
}

TEST_CASE("a damaged stored session reads as a fresh one", "[engine][session]") {
  json j = {{"node", 42}, {"slots", "oops"}, {"trail", {1, 2}}, {"lang", nullptr}};
  Session s = j.get<Session>();
  CHECK(s.node.empty());
  CHECK(s.slots.is_object());
  CHECK(s.trail.empty());
  CHECK(s.lang == "hi");
}

TEST_CASE("inputs found by the fuzzers are answered, not crashed on", "[engine][robustness]") {
  StepContext ctx{1795000000000, "ep-f", 330};
  // A status request with a reference of 30,000 digits (std::regex recursion).
  InboundMessage status;
  status.text = "status AB" + std::string(30000, '7');
  auto r = step(testing::grievance_flow(), testing::real_reference_data(), Session{}, status, ctx);
  CHECK_FALSE(r.replies.empty());
  // A stored session with a damaged category guess.
  Session damaged;
  damaged.node = "category";
  damaged.pending = "guess";
  damaged.candidates = {"x"};
  InboundMessage yes;
  yes.text = "हाँ";
  auto g = step(testing::grievance_flow(), testing::real_reference_data(), damaged, yes, ctx);
  CHECK_FALSE(g.replies.empty());
}

TEST_CASE("no input crashes the engine or leaves unserialisable state", "[engine][robustness]") {
  std::mt19937 random(20261128);  // fixed seed: the same inputs every run
  const std::vector<std::string> pieces = {"1",
                                           "२",
                                           "हाँ",
                                           "नहीं",
                                           "बरेली",
                                           "पता नहीं",
                                           "रद्द",
                                           "पीछे",
                                           "मदद",
                                           "English",
                                           "हिंदी",
                                           "स्थिति BLY-1",
                                           "बचाओ",
                                           "9876543210",
                                           "कल रात 9 बजे",
                                           "99/99/9999",
                                           "31/02/2026",
                                           "\xff\xfe",
                                           "\xe0\xa4",
                                           "\xed\xa0\x80",
                                           std::string("\0", 1),
                                           "{ticket_ref}",
                                           "cat:",
                                           ":",
                                           "बदलें",
                                           "मोबाइल",
                                           "नई शिकायत",
                                           "🙏",
                                           "ज़",
                                           "्",
                                           "ं",
                                           "a b c d e f g h i j k l m"};
  const std::vector<std::string> buttons = {"",
                                            "",
                                            "",
                                            "cat:theft",
                                            "dist:other",
                                            "ps:unknown",
                                            "yes",
                                            "edit",
                                            "edit:mobile",
                                            "cmd:back",
                                            "cmd:restart",
                                            "x"};
  for (int conversation = 0; conversation < 40; ++conversation) {
    Chat chat;
    for (int turn = 0; turn < 30; ++turn) {
      std::string text;
      int words = static_cast<int>(random() % 4);
      for (int w = 0; w < words; ++w) text += pieces[random() % pieces.size()] + " ";
      chat.send(text, buttons[random() % buttons.size()], {});
      if (chat.effect("create_ticket")) chat.ticket_created("BLY-9");
      REQUIRE_NOTHROW(json(chat.session()).dump());
      for (const auto& r : chat.last().replies) REQUIRE_NOTHROW(json(r).dump());
      REQUIRE_FALSE(chat.last().replies.empty());
    }
  }
}

TEST_CASE("a first message in English is answered in English", "[engine][language]") {
  Chat chat;
  chat.say("my phone was stolen at the bus stand");
  CHECK(chat.session().lang == "en");
  CHECK(contains(chat.text(), "Welcome"));
  CHECK(contains(chat.text(), "Theft / robbery"));
}

TEST_CASE("Hinglish and Hindi first messages stay in Hindi", "[engine][language]") {
  for (const char* said : {"mera phone chori ho gaya", "my phone chori ho gaya", "नमस्ते", "hi"}) {
    INFO(said);
    Chat chat;
    chat.say(said);
    CHECK(chat.session().lang == "hi");
  }
}

TEST_CASE("a district with many police stations asks for the name instead of a long list",
          "[engine][police_station]") {
  // Bareilly's real list (config/districts.json) is longer than a WhatsApp list.
  const ReferenceData& ref = testing::real_reference_data();
  REQUIRE(ref.find_district("bareilly")->police_stations.size() >= 10);
  Session s;
  StepContext ctx{kNow, "ep-1", 330};
  auto say = [&](const std::string& text) {
    InboundMessage m;
    m.text = text;
    auto r = step(testing::grievance_flow(), ref, s, m, ctx);
    s = r.session;
    return r;
  };
  say("नमस्ते");
  say("1");
  auto asked = say("बरेली");
  REQUIRE(asked.replies.back().options.size() == 1);
  CHECK(asked.replies.back().options.front().id == "ps:unknown");
  say("मीरगंज");
  CHECK(s.slots["police_station"] == "mirganj");
}

}  // namespace nivaran::dialogs
