// Table-driven utterance tests for every matcher: Devanagari, misspelt, Hinglish, English,
// digits and extra words.
#include "dialogs/match.h"

#include <catch2/catch.hpp>

#include "dialogs/test_fixtures.h"
#include "dialogs/text.h"

namespace nivaran::dialogs {
namespace {

const ReferenceData& ref() { return testing::real_reference_data(); }
const Flow& flow() { return testing::grievance_flow(); }

std::string one(const NameMatch& m) { return m.codes.size() == 1 ? m.codes.front() : ""; }

}  // namespace

TEST_CASE("districts are recognised in any script, with typos and extra words",
          "[match][district]") {
  struct Case {
    const char* said;
    const char* district;
  };
  const Case cases[] = {
      {"बरेली", "bareilly"},
      {"Bareilly", "bareilly"},
      {"BAREILLY", "bareilly"},
      {"bareli", "bareilly"},
      {"barely", "bareilly"},
      {"bareiley", "bareilly"},
      {"barelly", "bareilly"},
      {"बरैली", "bareilly"},
      {"mai bareilly se hu", "bareilly"},
      {"बरेली जिला", "bareilly"},
      {"बदायूं", "badaun"},
      {"बदायूँ", "badaun"},
      {"badaun", "badaun"},
      {"budaun", "badaun"},
      {"Budaun district", "badaun"},
      {"badayun", "badaun"},
      {"baduan", "badaun"},
      {"bdaun", "badaun"},
      {"बदायू", "badaun"},
      {"पीलीभीत", "pilibhit"},
      {"मैं पीलीभीत जिले से हूँ", "pilibhit"},
      {"pilibhit", "pilibhit"},
      {"pilibheet", "pilibhit"},
      {"peelibheet", "pilibhit"},
      {"pilibhitt", "pilibhit"},
      {"pilbheet", "pilibhit"},
      {"piliibhiit", "pilibhit"},
      {"Pilibhit me", "pilibhit"},
      {"शाहजहांपुर", "shahjahanpur"},
      {"शाहजहाँपुर", "shahjahanpur"},
      {"shahjahanpur", "shahjahanpur"},
      {"Shahjahanpur ke paas", "shahjahanpur"},
      {"shahjhanpur", "shahjahanpur"},
      {"sahjahanpur", "shahjahanpur"},
      {"shajahanpur", "shahjahanpur"},
      {"shajanpur", "shahjahanpur"},
      {"bariely", "bareilly"},
      {"शाहजहापुर", "shahjahanpur"},
      {"hum shahjahanpur jile me rehte hain", "shahjahanpur"},
  };
  for (const auto& c : cases) {
    INFO(c.said);
    CHECK(one(match_district(Utterance::of(c.said), ref())) == c.district);
  }
}

TEST_CASE("words that name no district match none", "[match][district]") {
  for (const char* said : {"lucknow", "लखनऊ", "मेरा फोन चोरी हो गया", "haan", "1", "", "delhi"}) {
    INFO(said);
    CHECK(match_district(Utterance::of(said), ref()).codes.empty());
  }
}

TEST_CASE("a pressed district button is taken as is", "[match][district]") {
  CHECK(one(match_district(Utterance::of("", "dist:badaun"), ref())) == "badaun");
}

TEST_CASE("police stations are recognised within their district", "[match][police_station]") {
  struct Case {
    const char* district;
    const char* said;
    const char* station;
  };
  const Case cases[] = {
      {"bareilly", "कोतवाली", "kotwali_bareilly"},
      {"bareilly", "kotwali", "kotwali_bareilly"},
      {"bareilly", "बारादरी", "baradari"},
      {"bareilly", "baradari thana", "baradari"},
      {"bareilly", "प्रेमनगर", "prem_nagar"},
      {"bareilly", "prem nagar", "prem_nagar"},
      {"bareilly", "premnagar", "prem_nagar"},
      {"bareilly", "इज्जतनगर", "izzatnagar"},
      {"bareilly", "izzatnagar", "izzatnagar"},
      {"bareilly", "बहेड़ी", "baheri"},
      {"bareilly", "बहेडी", "baheri"},
      {"bareilly", "baheri", "baheri"},
      {"bareilly", "फरीदपुर थाना", "faridpur"},
      {"bareilly", "faridpur", "faridpur"},
      {"bareilly", "aonla", "aonla"},
      {"bareilly", "सीबीगंज", "cb_ganj"},
      {"badaun", "उझानी", "ujhani"},
      {"badaun", "ujhani", "ujhani"},
      {"badaun", "sahaswan", "sahaswan"},
      {"badaun", "बिसौली", "bisauli"},
      {"badaun", "civil lines", "civil_lines_badaun"},
      {"pilibhit", "सुनगढ़ी", "sungarhi"},
      {"pilibhit", "sunghadi", "sungarhi"},
      {"pilibhit", "पूरनपुर", "puranpur"},
      {"pilibhit", "puranpur", "puranpur"},
      {"pilibhit", "bisalpur", "bisalpur"},
      {"shahjahanpur", "तिलहर", "tilhar"},
      {"shahjahanpur", "tilhar", "tilhar"},
      {"shahjahanpur", "sadar bazar", "sadar_bazar"},
      {"shahjahanpur", "सदर बाजार", "sadar_bazar"},
      {"shahjahanpur", "roza", "roza"},
      {"shahjahanpur", "jalalabad", "jalalabad"},
      {"shahjahanpur", "powayan", "powayan"},
      // A name inside a longer name found in the same words yields to the longer one.
      {"shahjahanpur", "chowk kotwali", "chowk_kotwali"},
      {"shahjahanpur", "चौक कोतवाली", "chowk_kotwali"},
      {"shahjahanpur", "thana chowk kotwali ke paas", "chowk_kotwali"},
      {"shahjahanpur", "कोतवाली", "kotwali_shahjahanpur"},
      {"shahjahanpur", "sadar kotwali", "kotwali_shahjahanpur"},
      {"badaun", "kotwali budaun", "kotwali_badaun"},
  };
  for (const auto& c : cases) {
    INFO(c.district << ": " << c.said);
    const District* d = ref().find_district(c.district);
    REQUIRE(d != nullptr);
    CHECK(one(match_police_station(Utterance::of(c.said), *d)) == c.station);
  }
}

TEST_CASE("two different stations named apart still get a did-you-mean", "[match][police_station]") {
  const District* d = ref().find_district("shahjahanpur");
  REQUIRE(d != nullptr);
  auto m = match_police_station(Utterance::of("kotwali ya chowk kotwali pata nahi"), *d);
  CHECK(m.codes == std::vector<std::string>{"kotwali_shahjahanpur", "chowk_kotwali"});
}

TEST_CASE("mobile numbers are normalised to ten digits", "[match][mobile]") {
  struct Case {
    const char* said;
    const char* mobile;  // "" when not a valid mobile
  };
  const Case cases[] = {
      {"9876543210", "9876543210"},
      {"+919876543210", "9876543210"},
      {"+91 98765 43210", "9876543210"},
      {"91 9876543210", "9876543210"},
      {"919876543210", "9876543210"},
      {"09876543210", "9876543210"},
      {"098765-43210", "9876543210"},
      {"98765-43210", "9876543210"},
      {"98765 43210", "9876543210"},
      {"९८७६५४३२१०", "9876543210"},
      {"+९१ ९८७६५ ४३२१०", "9876543210"},
      {"मेरा नंबर 9876543210 है", "9876543210"},
      {"mobile no. 7007123456", "7007123456"},
      {"6398012345", "6398012345"},
      {"8XXXXXXXXX", ""},
      {"5876543210", ""},
      {"987654321", ""},
      {"98765432101", ""},
      {"12345", ""},
      {"नहीं है", ""},
      {"", ""},
      {"9876543210 aur 9123456780", ""},
      {"0581 2510000", ""},
  };
  for (const auto& c : cases) {
    INFO(c.said);
    CHECK(match_mobile(c.said).value_or("") == c.mobile);
  }
}

TEST_CASE("names are accepted when they look like names", "[match][name]") {
  CHECK(match_name("राम कुमार").value_or("") == "राम कुमार");
  CHECK(match_name("  Sita   Devi ").value_or("") == "Sita Devi");
  CHECK(match_name("Mohd. Irfan").value_or("") == "Mohd. Irfan");
  CHECK_FALSE(match_name("9876543210"));
  CHECK_FALSE(match_name("a"));
  CHECK_FALSE(match_name(""));
}

TEST_CASE("menu choices by number, Devanagari digit, number word, button or text",
          "[match][menu]") {
  const Phrases theft = Phrases::of({"चोरी / लूट", "Theft / robbery"});
  const Phrases fraud = Phrases::of({"साइबर / ऑनलाइन ठगी", "Cyber / online fraud"});
  const Phrases women = Phrases::of({"महिला सुरक्षा / छेड़छाड़", "Women's safety"});
  const std::vector<MenuItem> items = {
      {"cat:theft", &theft.keys},
      {"cat:cyber_fraud", &fraud.keys},
      {"cat:women_safety", &women.keys},
  };
  struct Case {
    const char* said;
    const char* button;
    int index;  // -1: none
  };
  const Case cases[] = {
      {"1", "", 0},
      {"2", "", 1},
      {"3", "", 2},
      {"१", "", 0},
      {"२", "", 1},
      {"३", "", 2},
      {"एक", "", 0},
      {"दो", "", 1},
      {"तीन", "", 2},
      {"ek", "", 0},
      {"do", "", 1},
      {"teen", "", 2},
      {"one", "", 0},
      {"Two", "", 1},
      {"three", "", 2},
      {"option 2", "", 1},
      {"नंबर ३", "", 2},
      {"no. 1", "", 0},
      {"2.", "", 1},
      {" 3 ", "", 2},
      {"", "cat:theft", 0},
      {"", "cat:women_safety", 2},
      {"चोरी / लूट", "", 0},
      {"Theft / robbery", "", 0},
      {"theft robbery", "", 0},
      {"Women's safety", "", 2},
      {"4", "", -1},
      {"0", "", -1},
      {"चार", "", -1},
      {"xyz", "", -1},
      {"", "cat:unknown", -1},
  };
  for (const auto& c : cases) {
    INFO(c.said << " / " << c.button);
    auto got = match_choice(Utterance::of(c.said, c.button), items, flow().numbers);
    CHECK((got ? static_cast<int>(*got) : -1) == c.index);
  }
}

TEST_CASE("categories are guessed from free text in Hindi, Hinglish and English",
          "[match][category]") {
  struct Case {
    const char* said;
    const char* category;
  };
  const Case cases[] = {
      {"mera phone chori ho gaya", "theft"},
      {"मेरा मोबाइल चोरी हो गया", "theft"},
      {"meri bike chori ho gayi", "theft"},
      {"someone stole my bike", "theft"},
      {"chain snatching hui", "theft"},
      {"UPI se paise kat gaye", "cyber_fraud"},
      {"मेरे खाते से पैसे कट गए", "cyber_fraud"},
      {"online fraud ho gaya", "cyber_fraud"},
      {"OTP maang ke paise nikal liye", "cyber_fraud"},
      {"कोई लड़का रोज़ परेशान करता है", "women_safety"},
      {"ladki ko chhedta hai", "women_safety"},
      {"dahej ke liye pareshan", "women_safety"},
      {"padosi ne marpeet ki", "assault"},
      {"मुझे जान से मारने की धमकी दी", "assault"},
      {"zameen par kabza kar liya", "land_dispute"},
      {"मेरे खेत पर कब्जा", "land_dispute"},
      {"mera beta 2 din se lapata hai", "missing_person"},
      {"मेरी बेटी गुमशुदा है", "missing_person"},
      {"sadak par jam laga rehta hai", "traffic"},
      {"daroga ne rishwat maangi", "police_conduct"},
      {"थानेदार ने रिपोर्ट नहीं लिखी", "police_conduct"},
      {"facebook par galat post", "objectionable_post"},
      {"fake id bana ke afwah faila raha", "objectionable_post"},
  };
  for (const auto& c : cases) {
    INFO(c.said);
    auto got = guess_categories(Utterance::of(c.said), ref());
    REQUIRE_FALSE(got.empty());
    CHECK(got.front() == c.category);
    CHECK(got.size() == 1);
  }
}

TEST_CASE("yes, no and don't-know words in every spelling", "[match][vocabulary]") {
  for (const char* w : {"हाँ", "हां", "haan", "Han", "ji", "yes", "OK", "ठीक है", "theek hai"}) {
    INFO(w);
    CHECK(flow().yes.equals(Utterance::of(w)));
    CHECK_FALSE(flow().no.equals(Utterance::of(w)));
  }
  for (const char* w : {"नहीं", "नही", "nahi", "nahin", "no", "NO"}) {
    INFO(w);
    CHECK(flow().no.equals(Utterance::of(w)));
    CHECK_FALSE(flow().yes.equals(Utterance::of(w)));
  }
  for (const char* w :
       {"पता नहीं", "pata nahi", "pta nahi", "don't know", "dont know", "मालूम नहीं"}) {
    INFO(w);
    CHECK(flow().dont_know.equals(Utterance::of(w)));
  }
}

TEST_CASE("emergency words are found inside longer messages", "[match][emergency]") {
  for (const char* w :
       {"बचाओ", "बचाओ!! कोई है", "वो लोग मुझे मार रहे हैं", "घर में आग लगी है", "bachao",
        "maar rahe hai log", "my son was kidnapped", "अपहरण हो गया", "गोली चल रही है"}) {
    INFO(w);
    CHECK(flow().emergency.occurs_in(Utterance::of(w)));
  }
  for (const char* w : {"मेरा फोन चोरी हो गया", "help", "मदद", "kal raat marpeet hui thi"}) {
    INFO(w);
    CHECK_FALSE(flow().emergency.occurs_in(Utterance::of(w)));
  }
}

TEST_CASE("commands are understood in Hindi, Hinglish and English", "[match][commands]") {
  struct Case {
    const char* said;
    const char* command;
  };
  const Case cases[] = {
      {"मदद", "help"},
      {"Madad", "help"},
      {"help", "help"},
      {"HELP", "help"},
      {"सहायता", "help"},
      {"मदद चाहिए", "help"},
      {"रद्द", "cancel"},
      {"रद्द करें", "cancel"},
      {"radd karo", "cancel"},
      {"cancel", "cancel"},
      {"Cancel.", "cancel"},
      {"कैंसल", "cancel"},
      {"नई शिकायत", "restart"},
      {"nayi shikayat", "restart"},
      {"nai shikayat", "restart"},
      {"new complaint", "restart"},
      {"start over", "restart"},
      {"शुरू से", "restart"},
      {"पीछे", "back"},
      {"peeche", "back"},
      {"piche", "back"},
      {"back", "back"},
      {"वापस", "back"},
      {"English", "lang_en"},
      {"english", "lang_en"},
      {"इंग्लिश", "lang_en"},
      {"अंग्रेज़ी", "lang_en"},
      {"अंग्रेजी", "lang_en"},
      {"angrezi", "lang_en"},
      {"हिंदी", "lang_hi"},
      {"हिन्दी", "lang_hi"},
      {"Hindi", "lang_hi"},
      {"hindi mein", "lang_hi"},
      {"आगे बढ़ें", "continue"},
      {"continue", "continue"},
  };
  for (const auto& c : cases) {
    INFO(c.said);
    std::string found;
    for (const auto& [name, words] : flow().commands)
      if (words.equals(Utterance::of(c.said))) found = name;
    CHECK(found == c.command);
  }
  for (const char* said :
       {"मेरी मदद कीजिए मेरा फोन चोरी हुआ", "help me file", "hindustan", "back side"}) {
    INFO(said);
    for (const auto& [name, words] : flow().commands)
      CHECK_FALSE(words.equals(Utterance::of(said)));
  }
}

TEST_CASE("more complaints in the words citizens use", "[match][category]") {
  struct Case {
    const char* said;
    const char* category;
  };
  const Case cases[] = {
      {"रास्ते में मेरी चेन छीन ली", "theft"},
      {"ghar me chori ho gayi", "theft"},
      {"my purse was snatched", "theft"},
      {"dukaan ka taala tod ke chor saman le gaye", "theft"},
      {"phonepe par fraud", "cyber_fraud"},
      {"kisi ne link bheja aur account khali", "cyber_fraud"},
      {"लॉटरी के नाम पर ठगी", "cyber_fraud"},
      {"my facebook account was hacked", "cyber_fraud"},
      {"loan app wale dhamka rahe", "cyber_fraud"},
      {"पति दहेज के लिए मारता है", "women_safety"},
      {"someone is stalking my sister", "women_safety"},
      {"गंदे मैसेज भेजता है", "women_safety"},
      {"पड़ोसियों ने लाठी से हमला किया", "assault"},
      {"they attacked my father", "assault"},
      {"jaan se maarne ki dhamki", "assault"},
      {"भाइयों ने खेत की मेड़ काट दी", "land_dispute"},
      {"plot par kabja", "land_dispute"},
      {"someone grabbed my land", "land_dispute"},
      {"बच्चा स्कूल से घर नहीं लौटा", "missing_person"},
      {"my brother is missing since monday", "missing_person"},
      {"रोज़ जाम लगता है", "traffic"},
      {"galat challan kat gaya", "traffic"},
      {"सिपाही ने बदतमीजी की", "police_conduct"},
      {"thane me fir nahi likhi", "police_conduct"},
      {"the constable asked for a bribe", "police_conduct"},
      {"whatsapp par afwah faila rahe", "objectionable_post"},
      {"भड़काऊ वीडियो वायरल", "objectionable_post"},
  };
  for (const auto& c : cases) {
    INFO(c.said);
    auto got = guess_categories(Utterance::of(c.said), ref());
    REQUIRE_FALSE(got.empty());
    CHECK(got.front() == c.category);
  }
  for (const char* said : {"नमस्ते", "hello sir", "मुझे शिकायत करनी है", "1", ""}) {
    INFO(said);
    CHECK(guess_categories(Utterance::of(said), ref()).empty());
  }
}

TEST_CASE("number words choose menu items in every script", "[match][menu]") {
  std::vector<MenuItem> items(10);
  for (size_t i = 0; i < items.size(); ++i) items[i].id = "item" + std::to_string(i + 1);
  struct Case {
    const char* said;
    int number;
  };
  const Case cases[] = {
      {"चार", 4},  {"char", 4}, {"four", 4}, {"पांच", 5},   {"पाँच", 5},    {"paanch", 5},
      {"five", 5}, {"छह", 6},   {"six", 6},  {"सात", 7},   {"saat", 7},   {"आठ", 8},
      {"aath", 8}, {"नौ", 9},   {"nau", 9},  {"दस", 10},   {"das", 10},   {"ten", 10},
      {"10", 10},  {"१०", 10},  {"पहला", 1}, {"dusra", 2}, {"teesra", 3}, {"४", 4},
  };
  for (const auto& c : cases) {
    INFO(c.said);
    auto got = match_choice(Utterance::of(c.said), items, flow().numbers);
    REQUIRE(got);
    CHECK(static_cast<int>(*got) + 1 == c.number);
  }
}

TEST_CASE("number words above ten choose rows of a long police-station list", "[match][menu]") {
  std::vector<MenuItem> items(31);
  for (size_t i = 0; i < items.size(); ++i) items[i].id = "item" + std::to_string(i + 1);
  struct Case {
    const char* said;
    int number;
  };
  const Case cases[] = {
      {"ग्यारह", 11},  {"gyarah", 11},     {"eleven", 11},  {"बारह", 12},     {"barah", 12},
      {"तेरह", 13},    {"चौदह", 14},       {"पंद्रह", 15},   {"pandrah", 15},  {"सोलह", 16},
      {"सत्रह", 17},   {"अठारह", 18},      {"उन्नीस", 19},   {"बीस", 20},      {"bees", 20},
      {"twenty", 20}, {"इक्कीस", 21},      {"twenty one", 21}, {"बाईस", 22},  {"तेईस", 23},
      {"चौबीस", 24},   {"chaubis", 24},    {"पच्चीस", 25},   {"छब्बीस", 26},    {"सत्ताईस", 27},
      {"अट्ठाईस", 28}, {"उनतीस", 29},      {"तीस", 30},     {"tees", 30},     {"इकतीस", 31},
      {"नंबर सत्रह", 17}, {"option twenty nine", 29}, {"२७", 27}, {"27", 27},
  };
  for (const auto& c : cases) {
    INFO(c.said);
    auto got = match_choice(Utterance::of(c.said), items, flow().numbers);
    REQUIRE(got);
    CHECK(static_cast<int>(*got) + 1 == c.number);
  }
}

TEST_CASE("a number beyond the list, or words around a number word, choose nothing",
          "[match][menu]") {
  std::vector<MenuItem> items(12);
  for (size_t i = 0; i < items.size(); ++i) items[i].id = "item" + std::to_string(i + 1);
  for (const char* said : {"तेरह", "thirty", "13", "बारह बजे", "twenty one two", "eleven eleven"}) {
    INFO(said);
    CHECK_FALSE(match_choice(Utterance::of(said), items, flow().numbers));
  }
}

TEST_CASE("every category keyword is found spelt as in the file and with one typo",
          "[match][category]") {
  // guess_categories looks keywords up by the first three or last two letters a matching
  // word must share with them; this walks every keyword, and one-letter changes of its long
  // first word, to show the index misses none.
  const ReferenceData& r = ref();
  REQUIRE(r.keywords.size() > 100);
  size_t typos = 0;
  for (const auto& kw : r.keywords) {
    const std::string code = r.categories[kw.category].code;
    auto found_with = [&](const std::vector<std::string>& words) {
      Utterance u;
      u.words = words;
      auto got = guess_categories(u, r);
      return std::find(got.begin(), got.end(), code) != got.end();
    };
    INFO(code << ": " << kw.words.front());
    CHECK(found_with(kw.words));
    const std::string& first = kw.words.front();
    if (first.size() < 6 || kw.words.size() > 1) continue;
    for (size_t i = 0; i < first.size(); ++i) {
      std::string swapped = first, dropped = first, changed = first;
      if (i + 1 < first.size()) std::swap(swapped[i], swapped[i + 1]);
      dropped.erase(i, 1);
      changed[i] = changed[i] == 'q' ? 'x' : 'q';
      for (const auto& typo : {swapped, dropped, changed}) {
        INFO("typo " << typo);
        // Another category may share the misspelt word; then this one must at least tie.
        CHECK(found_with({typo}));
        ++typos;
      }
    }
  }
  CHECK(typos > 100);
}

}  // namespace nivaran::dialogs
