#include "gitfed/kube/status.h"

#include <catch2/catch.hpp>

using namespace gitfed::kube;
using nlohmann::json;

TEST_CASE("errorFromResponse: the API Status object gives reason and message", "[kube][status]") {
  const std::string body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
    "message":"ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain",
    "reason":"Invalid","details":{"name":"Bad_Name","kind":"ConfigMap"},"code":422})";
  Error e = errorFromResponse(422, body, "apply v1 ConfigMap ns/Bad_Name");
  CHECK(e.status == 422);
  CHECK(e.reason == "Invalid");
  CHECK(e.message.starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name"));
  CHECK(e.format() == "apply v1 ConfigMap ns/Bad_Name: 422 Invalid: " + e.message);
  CHECK_FALSE(e.notFound());
}

TEST_CASE("errorFromResponse: a Status without reason gets the standard one", "[kube][status]") {
  Error e = errorFromResponse(404, R"({"kind":"Status","message":"the server could not find the requested resource"})", "get x");
  CHECK(e.reason == "NotFound");
  CHECK(e.notFound());
  CHECK(e.format() == "get x: 404 NotFound: the server could not find the requested resource");
}

TEST_CASE("errorFromResponse: a non-JSON body (a proxy's page) becomes a one-line snippet", "[kube][status]") {
  Error e = errorFromResponse(503, "<html>\n<body>upstream\tdown</body>\n</html>\n", "list v1 Pod");
  CHECK(e.reason == "ServiceUnavailable");
  CHECK(e.message == "<html> <body>upstream down</body> </html>");
  Error big = errorFromResponse(500, std::string(1000, 'x'), "t");
  CHECK(big.message.size() == 303);
  CHECK(big.message.ends_with("..."));
  Error unknown = errorFromResponse(418, "", "t");
  CHECK(unknown.reason.empty());
  CHECK(unknown.format() == "t: 418");
}

TEST_CASE("Error::format for transport errors has no status number", "[kube][status]") {
  Error e{0, "ConnectionFailed", "Failed to connect to 127.0.0.1 port 1", "get v1 ConfigMap a/b"};
  CHECK(e.format() == "get v1 ConfigMap a/b: ConnectionFailed: Failed to connect to 127.0.0.1 port 1");
}

TEST_CASE("base64 round trips and rejects garbage", "[kube][status]") {
  CHECK(base64Encode("") == "");
  CHECK(base64Encode("f") == "Zg==");
  CHECK(base64Encode("fo") == "Zm8=");
  CHECK(base64Encode("foo") == "Zm9v");
  CHECK(base64Encode("hunter2!") == "aHVudGVyMiE=");
  CHECK(base64Decode("aHVudGVyMiE=") == "hunter2!");
  CHECK(base64Decode("Zm9v\nYmFy") == "foobar");
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  CHECK(base64Decode(base64Encode(all)) == all);
  CHECK_FALSE(base64Decode("Zm9"));
  CHECK_FALSE(base64Decode("Zm9*"));
  CHECK_FALSE(base64Decode("Zg==Zg=="));
  CHECK_FALSE(base64Decode("Z==="));
}

TEST_CASE("secretValues: data (encoded and decoded) and stringData (plain and encoded)", "[kube][status][redact]") {
  json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "db"}, {"namespace", "shop"}}},
                 {"data", {{"password", base64Encode("s3cr3t-pw")}, {"empty", ""}}},
                 {"stringData", {{"token", "tok\"en\nline2"}}}};
  auto values = secretValues(secret);
  auto has = [&](const std::string& v) { return std::find(values.begin(), values.end(), v) != values.end(); };
  CHECK(has("s3cr3t-pw"));
  CHECK(has(base64Encode("s3cr3t-pw")));
  CHECK(has("tok\"en\nline2"));
  CHECK(has("tok\\\"en\\nline2"));  // as it appears inside a JSON/Go quoted string
  CHECK(has(base64Encode("tok\"en\nline2")));
  CHECK_FALSE(has(""));
  CHECK(secretValues(json{{"kind", "ConfigMap"}, {"data", {{"a", "b"}}}}).empty());
  CHECK(secretValues(json::array()).empty());
}

TEST_CASE("redact: every occurrence, overlapping values, never a partial value", "[kube][status][redact]") {
  CHECK(redact("password is hunter2, again hunter2", {"hunter2"}) == "password is <redacted>, again <redacted>");
  // Overlapping values merge into one marker; nothing of either survives.
  CHECK(redact("xx abcdef yy", {"abcd", "cdef"}) == "xx <redacted> yy");
  // A value that is part of the marker text does not rewrite markers.
  CHECK(redact("secret red", {"secret", "red"}) == "<redacted> <redacted>");
  CHECK(redact("nothing here", {"zzz", ""}) == "nothing here");
  const std::string message = R"(admission webhook denied: data.password "aHVudGVyMg==" decodes to "hunter2")";
  const json secret = {{"kind", "Secret"}, {"data", {{"password", base64Encode("hunter2")}}}};
  const std::string out = redact(message, secretValues(secret));
  CHECK(out.find("hunter2") == std::string::npos);
  CHECK(out.find("aHVudGVyMg==") == std::string::npos);
  CHECK(out == R"(admission webhook denied: data.password "<redacted>" decodes to "<redacted>")");
}
