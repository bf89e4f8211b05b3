// gitfed::daemon configuration: flags > environment > file, per setting;
// parsing of durations, booleans, lists; every error names its source.

#include <catch2/catch.hpp>

#include <map>

#include "gitfed/daemon/config.h"

using namespace gitfed::daemon;

namespace {

struct Sources {
  Sources() = default;
  explicit Sources(std::vector<std::string> a) : args(std::move(a)) {}
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> files;

  Result<ParsedConfig> parse() const {
    ConfigSources s;
    s.args = args;
    s.env = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    s.readFile = [this](const std::string& name) -> Result<std::string> {
      auto it = files.find(name);
      if (it == files.end()) return fail("cannot read " + name);
      return it->second;
    };
    return parseConfig(s);
  }
};

const std::vector<std::string> kMinimal = {"--cluster", "eu-west-1", "--repo", "https://git.example.com/fleet.git"};

}  // namespace

TEST_CASE("config: the minimal command line and the defaults", "[daemon]") {
  auto r = Sources{kMinimal}.parse();
  REQUIRE(r);
  const auto& c = r->config;
  CHECK(c.cluster == "eu-west-1");
  CHECK(c.git.url == "https://git.example.com/fleet.git");
  CHECK(c.git.ref == "main");
  CHECK(c.git.paths == std::vector<std::string>{""});
  CHECK(c.interval == std::chrono::seconds(60));
  CHECK(c.driftInterval == std::chrono::minutes(5));
  CHECK(c.selfHeal);
  CHECK(c.prune);
  CHECK(c.inventoryId == "eu-west-1");
  CHECK(c.leader.enabled);
  CHECK(c.leader.leaseName == "gitfed-eu-west-1");
  CHECK(c.leader.leaseDuration == std::chrono::seconds(15));
  CHECK(c.leader.renewDeadline == std::chrono::seconds(10));
  CHECK(c.leader.retryPeriod == std::chrono::seconds(2));
  CHECK(c.status.enabled);
  CHECK(c.status.branch == "gitfed-status");
  CHECK(c.status.heartbeat == std::chrono::seconds(0));
  CHECK(c.httpAddress == ":8080");
  CHECK_FALSE(c.once);
}

TEST_CASE("config: flags win over the environment, which wins over the file", "[daemon]") {
  Sources s;
  s.files["/etc/gitfed/config.yaml"] = R"(
cluster: from-file
labels: {region: eu-west, tier: gold}
repository:
  url: https://git.example.com/fleet.git
  ref: release
  paths: [clusters, apps]
interval: 30s
driftInterval: 10m
mode: report-only
prune: false
status:
  branch: fleet-status
  heartbeat: 1h
leaderElection:
  leaseDuration: 20s
)";
  s.args = {"--config", "/etc/gitfed/config.yaml", "--interval", "5s", "--label", "region=us-east"};
  s.env = {{"GITFED_INTERVAL", "45s"}, {"GITFED_DRIFT_INTERVAL", "7m"}, {"GITFED_CLUSTER", "from-env"}};
  auto r = s.parse();
  REQUIRE(r);
  const auto& c = r->config;
  CHECK(c.cluster == "from-env");                     // env over file
  CHECK(c.interval == std::chrono::seconds(5));       // flag over env over file
  CHECK(c.driftInterval == std::chrono::minutes(7));  // env over file
  CHECK(c.git.ref == "release");                      // file
  CHECK(c.git.paths == std::vector<std::string>{"clusters", "apps"});
  // A list given on the command line replaces the file's.
  CHECK(c.labels == std::map<std::string, std::string>{{"region", "us-east"}});
  CHECK_FALSE(c.selfHeal);
  CHECK_FALSE(c.prune);
  CHECK(c.status.branch == "fleet-status");
  CHECK(c.status.heartbeat == std::chrono::hours(1));
  CHECK(c.leader.leaseDuration == std::chrono::seconds(20));
  CHECK(c.configFile == "/etc/gitfed/config.yaml");
}

TEST_CASE("config: the file may be JSON and may be named by GITFED_CONFIG", "[daemon]") {
  Sources s;
  s.files["c.json"] = R"({"cluster": "c1", "repository": {"url": "file:///srv/fleet.git"}, "jitter": 0.2})";
  s.env = {{"GITFED_CONFIG", "c.json"}};
  auto r = s.parse();
  REQUIRE(r);
  CHECK(r->config.cluster == "c1");
  CHECK(r->config.jitter == Approx(0.2));
}

TEST_CASE("config: booleans as flags, --no- flags, values and variables", "[daemon]") {
  auto args = kMinimal;
  args.insert(args.end(), {"--no-prune", "--leader-elect=false", "--once"});
  auto r = Sources{args}.parse();
  REQUIRE(r);
  CHECK_FALSE(r->config.prune);
  CHECK_FALSE(r->config.leader.enabled);
  CHECK(r->config.once);

  Sources s{kMinimal};
  s.env = {{"GITFED_PRUNE", "false"}, {"GITFED_STATUS", "0"}};
  r = s.parse();
  REQUIRE(r);
  CHECK_FALSE(r->config.prune);
  CHECK_FALSE(r->config.status.enabled);

  s.env = {{"GITFED_PRUNE", "maybe"}};
  r = s.parse();
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("GITFED_PRUNE") == 0);
}

TEST_CASE("config: lists from the environment are comma-separated", "[daemon]") {
  Sources s{kMinimal};
  s.env = {{"GITFED_LABEL", "region=eu-west, tier=gold"}, {"GITFED_PATH", "a,b/c"}};
  auto r = s.parse();
  REQUIRE(r);
  CHECK(r->config.labels == std::map<std::string, std::string>{{"region", "eu-west"}, {"tier", "gold"}});
  CHECK(r->config.git.paths == std::vector<std::string>{"a", "b/c"});
}

TEST_CASE("config: errors name the flag, variable or key", "[daemon]") {
  auto error = [](Sources s) {
    auto r = s.parse();
    REQUIRE_FALSE(r);
    return r.error().message;
  };
  CHECK(error(Sources{{"--repo", "https://h/f.git"}}).find("--cluster is required") == 0);
  CHECK(error(Sources{{"--cluster", "c1"}}).find("--repo is required") == 0);
  CHECK(error(Sources{{"--cluster", "C_1", "--repo", "https://h/f.git"}}).find("--cluster") == 0);
  auto args = kMinimal;
  args.push_back("--bogus");
  CHECK(error(Sources{args}) == "unknown option --bogus");
  args = kMinimal;
  args.insert(args.end(), {"--interval", "soon"});
  CHECK(error(Sources{args}).find("--interval: \"soon\" is not a duration") == 0);
  args = kMinimal;
  args.push_back("--interval");
  CHECK(error(Sources{args}).find("--interval needs a value") == 0);
  // Credentials never live in the URL.
  CHECK(error(Sources{{"--cluster", "c1", "--repo", "https://user:secret@h/f.git"}}).find("--repo") == 0);
  CHECK(error(Sources{{"--cluster", "c1", "--repo", "https://h/f.git", "--ref", "main~3"}}).find("--ref") == 0);
  CHECK(error(Sources{{"--cluster", "c1", "--repo", "https://h/f.git", "--path", "../etc"}}).find("--path") == 0);
  CHECK(error(Sources{{"--cluster", "c1", "--repo", "https://h/f.git", "--label", "bad key=x"}}).find("--label") == 0);
  CHECK(error(Sources{{"--cluster", "c1", "--repo", "https://h/f.git", "--mode", "yolo"}}).find("--mode") == 0);
  // client-go's rules for the election timings.
  CHECK(error(Sources{{"--cluster", "c1", "--repo", "https://h/f.git", "--lease-duration", "5s"}})
            .find("--lease-duration must be longer than --renew-deadline") == 0);
  CHECK(error(Sources{{"--cluster", "c1", "--repo", "https://h/f.git", "--retry-period", "9s"}})
            .find("--renew-deadline must be longer") == 0);
  CHECK(error(Sources{{"--cluster", "c1", "--repo", "https://h/f.git", "--http-address", "8080"}})
            .find("--http-address") == 0);

  Sources s{kMinimal};
  s.files["c.yaml"] = "intervall: 5s\n";
  s.args.insert(s.args.end(), {"--config", "c.yaml"});
  CHECK(error(s) == "c.yaml: unknown setting \"intervall\"");
  s.files["c.yaml"] = "repository: {url: https://h/f.git, reff: main}\n";
  CHECK(error(s) == "c.yaml: unknown setting \"repository.reff\"");
  s.files["c.yaml"] = "labels: [a, b]\n";
  CHECK(error(s).find("c.yaml: labels: must be a map") == 0);
  s.files["c.yaml"] = "interval: [1]\n";
  CHECK(error(s).find("c.yaml: interval: must be a single value") == 0);
  s.files["c.yaml"] = "interval: 5 minutes\n";
  CHECK(error(s).find("c.yaml: interval: \"5 minutes\" is not a duration") == 0);
  s.files["c.yaml"] = "a: [\n";
  CHECK(error(s).find("c.yaml: ") == 0);
  s.args = {"--config", "missing.yaml"};
  CHECK(error(s).find("--config: cannot read missing.yaml") == 0);
}

TEST_CASE("config: --help", "[daemon]") {
  auto r = Sources{{"--help"}}.parse();
  REQUIRE(r);
  CHECK(r->help);
  CHECK(usage().find("--drift-interval DURATION") != std::string::npos);
  CHECK(usage().find("[leaderElection.leaseDuration]") != std::string::npos);
}

TEST_CASE("config: durations", "[daemon]") {
  using std::chrono::milliseconds;
  CHECK(parseDuration("90s") == milliseconds(90'000));
  CHECK(parseDuration("1m30s") == milliseconds(90'000));
  CHECK(parseDuration("1h") == milliseconds(3'600'000));
  CHECK(parseDuration("250ms") == milliseconds(250));
  CHECK(parseDuration("1.5s") == milliseconds(1500));
  CHECK(parseDuration("30") == milliseconds(30'000));
  CHECK(parseDuration("0") == milliseconds(0));
  CHECK_FALSE(parseDuration(""));
  CHECK_FALSE(parseDuration("-5s"));
  CHECK_FALSE(parseDuration("5 s"));
  CHECK_FALSE(parseDuration("5d"));
  CHECK_FALSE(parseDuration("s"));
  CHECK(formatDuration(milliseconds(90'000)) == "1m30s");
  CHECK(formatDuration(milliseconds(250)) == "250ms");
  CHECK(formatDuration(milliseconds(0)) == "0s");
}

TEST_CASE("config: the effective configuration holds file names, never secrets", "[daemon]") {
  auto args = kMinimal;
  args.insert(args.end(), {"--git-password-file", "/etc/gitfed/git/password", "--git-username", "bot"});
  auto r = Sources{args}.parse();
  REQUIRE(r);
  auto j = toJson(r->config);
  CHECK(j["repository"]["passwordFile"] == "/etc/gitfed/git/password");
  CHECK(j["repository"]["username"] == "bot");
  CHECK(j["interval"] == "1m");
  CHECK(j["mode"] == "self-heal");
}

TEST_CASE("config: an inventory id is derived from a dotted cluster name", "[daemon]") {
  auto r = Sources{{"--cluster", "eu.west.1", "--repo", "https://h/f.git"}}.parse();
  REQUIRE(r);
  CHECK(r->config.inventoryId == "eu-west-1");
  CHECK(r->config.leader.leaseName == "gitfed-eu-west-1");
}
