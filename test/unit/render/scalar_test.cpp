#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "gitfed/render/scalar.h"

using gitfed::render::formatGoFloat32;
using gitfed::render::keyText;
using gitfed::render::needsQuoting;
using gitfed::render::resolvePlainScalar;
using gitfed::render::resolveTaggedScalar;
using nlohmann::json;

namespace {
json resolve(const char* s) {
  auto r = resolvePlainScalar(s);
  REQUIRE(r.has_value());
  return *r;
}
}  // namespace

TEST_CASE("plain null scalars", "[render][scalar]") {
  for (const char* s : {"", "~", "null", "Null", "NULL"}) CHECK(resolve(s).is_null());
  CHECK(resolve("nULL") == json("nULL"));
}

TEST_CASE("plain booleans follow YAML 1.1", "[render][scalar]") {
  for (const char* s : {"true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON"})
    CHECK(resolve(s) == json(true));
  for (const char* s : {"false", "False", "FALSE", "no", "No", "NO", "n", "N", "off", "Off", "OFF"})
    CHECK(resolve(s) == json(false));
  CHECK(resolve("yES") == json("yES"));
  CHECK(resolve("tRUE") == json("tRUE"));
}

TEST_CASE("plain integers", "[render][scalar]") {
  CHECK(resolve("42") == json(42));
  CHECK(resolve("-7") == json(-7));
  CHECK(resolve("+12") == json(12));
  CHECK(resolve("1_000") == json(1000));
  CHECK(resolve("0644") == json(420));
  CHECK(resolve("0x1F") == json(31));
  CHECK(resolve("-0x1F") == json(-31));
  CHECK(resolve("0o17") == json(15));
  CHECK(resolve("0b101") == json(5));
  CHECK(resolve("-0b101") == json(-5));
  CHECK(resolve("0") == json(0));
  CHECK(resolve("9223372036854775807") == json(INT64_MAX));
  CHECK(resolve("-9223372036854775808") == json(INT64_MIN));
  // Beyond int64, kubectl's JSON decoding holds a float64.
  CHECK(resolve("18446744073709551615") == json(18446744073709551615.0));
}

TEST_CASE("a leading zero that is not octal reads as a decimal float", "[render][scalar]") {
  CHECK(resolve("09") == json(9.0));
  CHECK(resolve("0999") == json(999.0));
}

TEST_CASE("plain floats", "[render][scalar]") {
  CHECK(resolve("1.5") == json(1.5));
  CHECK(resolve(".5") == json(0.5));
  CHECK(resolve("1e3") == json(1000.0));
  CHECK(resolve("1e3").is_number_float());  // values are normalised by the reader, keys are not
  CHECK(resolve("-2.5E-3") == json(-0.0025));
  CHECK(resolve("+.5") == json(0.5));
  CHECK(resolve("1.") == json(1.0));
  CHECK(resolve("1e400") == json("1e400"));  // out of range: go-yaml keeps the string
}

TEST_CASE("infinities and NaN are errors", "[render][scalar]") {
  for (const char* s : {".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN"}) {
    auto r = resolvePlainScalar(s);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message, Catch::Contains("not a number JSON can hold"));
  }
}

TEST_CASE("everything else is a string", "[render][scalar]") {
  for (const char* s : {"2024-01-01", "1.2.3", "v1", "0x", "1e", "--", "-", "+", ".", "0b2", "1_0.0.1", "12:30",
                        "inf", "nan", "-inf", "<<", ". 5", "1 2"})
    CHECK(resolve(s) == json(s));
}

TEST_CASE("tagged scalars", "[render][scalar]") {
  CHECK(*resolveTaggedScalar("tag:yaml.org,2002:str", "123") == json("123"));
  CHECK(*resolveTaggedScalar("tag:yaml.org,2002:str", "true") == json("true"));
  CHECK(*resolveTaggedScalar("tag:yaml.org,2002:int", "0x10") == json(16));
  CHECK(*resolveTaggedScalar("tag:yaml.org,2002:float", "3") == json(3));
  CHECK(*resolveTaggedScalar("!custom", "42") == json("42"));
  auto bad = resolveTaggedScalar("tag:yaml.org,2002:int", "abc");
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().message, Catch::Contains("!!int"));
}

TEST_CASE("non-string keys become the JSON text of their value", "[render][scalar]") {
  CHECK(*keyText(json(80)) == "80");
  CHECK(*keyText(json(true)) == "true");
  CHECK(*keyText(json(false)) == "false");
  CHECK(*keyText(json(16)) == "16");
  CHECK(*keyText(json(1.5)) == "1.5");
  CHECK(*keyText(json("x")) == "x");
  CHECK_FALSE(keyText(json(nullptr)).has_value());
}

TEST_CASE("float keys are written as Go's %g of a float32", "[render][scalar]") {
  CHECK(formatGoFloat32(1.5) == "1.5");
  CHECK(formatGoFloat32(1000) == "1000");
  CHECK(formatGoFloat32(1e6) == "1e+06");
  CHECK(formatGoFloat32(123456789.0) == "1.2345679e+08");
  CHECK(formatGoFloat32(0.0001) == "0.0001");
  CHECK(formatGoFloat32(0.00001) == "1e-05");
  CHECK(formatGoFloat32(-2.5) == "-2.5");
  CHECK(formatGoFloat32(0.1) == "0.1");
  CHECK(formatGoFloat32(1e21) == "1e+21");
}

TEST_CASE("strings that would read back as another type need quotes", "[render][scalar]") {
  for (const char* s : {"", "true", "yes", "n", "80", "1.5", "0x10", "null", "~", "<<", ".inf", "1e3"})
    CHECK(needsQuoting(s));
  for (const char* s : {"web", "2024-01-01", "v1.2", "nginx:1.17"}) CHECK_FALSE(needsQuoting(s));
}

namespace {
// Scalars that reach every rule of resolvePlainScalar (the words, numbers in
// every base, floats, infinities), and every string of up to three
// characters from an alphabet that reaches the number and word rules.
std::vector<std::string> trickyScalars() {
  std::vector<std::string> texts = {"", "~", "null", "Null", "NULL", "nulls", "y", "Y", "n", "N", "yes", "Yes", "YES",
                                    "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "true", "True", "TRUE",
                                    "false", "False", "FALSE", "falsey", "tRue", ".inf", "-.Inf", ".nan", "1", "-1",
                                    "0x1F", "1_000", "1e3", ".5", "+", "-", ".", "1.2.3", "name", "namespace", "weight",
                                    "totalReplicas", "c0001", "*", "<<", "a b", "0o", "99999999999999999999",
                                    "+.INF", "-.inf", "+.Inf", ".NaN", "1e+10", "-1.5e-3", "0b101", "0o17", "1_0_0",
                                    "0.", "00", "08", "+0x1", "-0b1", "truex", "FALSEy", "nullx", "1e400", "-1e400",
                                    "registry.example.com/a:1", "2024-01-01", "v1.2", "nginx:1.17", "<<<"};
  const std::string alphabet = "0159.+-_eExXoOnNyYtTfF~ab";
  for (char a : alphabet) {
    texts.emplace_back(1, a);
    for (char b : alphabet) {
      texts.push_back(std::string{a, b});
      for (char c : alphabet) texts.push_back(std::string{a, b, c});
    }
  }
  return texts;
}
}  // namespace

TEST_CASE("plainScalarIsString says exactly when a plain scalar reads as itself", "[render][scalar]") {
  for (const auto& t : trickyScalars()) {
    INFO("'" << t << "'");
    auto r = gitfed::render::resolvePlainScalar(t);
    CHECK(gitfed::render::plainScalarIsString(t) == (r && r->is_string() && r->get<std::string>() == t));
  }
}

TEST_CASE("needsQuoting is exactly: the empty string, <<, or what does not read back as the string", "[render][scalar]") {
  // needsQuoting asks plainScalarIsString; the reference asks resolvePlainScalar itself.
  for (const auto& t : trickyScalars()) {
    INFO("'" << t << "'");
    auto r = gitfed::render::resolvePlainScalar(t);
    CHECK(needsQuoting(t) == (t.empty() || t == "<<" || !r || !r->is_string()));
  }
}
