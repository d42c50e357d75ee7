// Tests of registry/names: which model, alias and tag names are accepted, and how NAME, NAME:VERSION
// and NAME@ALIAS references are parsed.
#include "registry/names.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace orchard {
namespace {

ErrorKind kind_of_check(const std::string& name) {
  try {
    check_name(name, "model name");
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "check_name accepted \"" << name << "\"";
  return ErrorKind::kInternal;
}

ErrorKind kind_of_parse(const std::string& text) {
  try {
    parse_model_ref(text);
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "parse_model_ref accepted \"" << text << "\"";
  return ErrorKind::kInternal;
}

TEST(CheckName, AcceptsLettersDigitsDashUnderscoreDot) {
  for (const std::string& name : std::vector<std::string>{"churn", "Churn2", "7up", "a", "churn-model_v2.1", "a..b", "x.", "A_B-C.D", "0"}) {
    EXPECT_NO_THROW(check_name(name, "model name")) << name;
  }
  EXPECT_NO_THROW(check_name(std::string(128, 'a'), "model name"));
  EXPECT_NO_THROW(check_name("9" + std::string(127, '_'), "model name"));
}

TEST(CheckName, RejectsNamesThatCouldBePathsOrOptions) {
  for (const std::string& name : std::vector<std::string>{"", "..", ".", ".hidden", "a/b", "/abs", "a\\b", "-x", "--help", "_x", "a b", " a", "a ",
                                 "a\tb", "a\nb", "churn:1", "churn@prod", "a*", "a'b", "a\"b", "a;b", "a$b"}) {
    EXPECT_EQ(kind_of_check(name), ErrorKind::kInvalidArgument) << "\"" << name << "\"";
  }
}

TEST(CheckName, RejectsLengthOver128) {
  EXPECT_EQ(kind_of_check(std::string(129, 'a')), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of_check(std::string(1000, 'a')), ErrorKind::kInvalidArgument);
}

TEST(CheckName, RejectsNonAscii) {
  for (const std::string& name : std::vector<std::string>{"caf\xc3\xa9", "\xc3\xa9t\xc3\xa9", "mod\xe2\x80\x8b" "el", "\xe6\xa8\xa1\xe5\x9e\x8b", "a\x7f", std::string("a\0b", 3)}) {
    EXPECT_EQ(kind_of_check(name), ErrorKind::kInvalidArgument);
  }
}

TEST(CheckName, MessageNamesWhatAndTheRule) {
  try {
    check_name("a/b", "alias");
    FAIL() << "accepted a/b";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("alias"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("a/b"), std::string::npos) << e.what();
    EXPECT_FALSE(e.expected().empty());
  }
}

TEST(CheckTag, KeyFollowsTheNameRuleAndValueIsFreeTextUpTo1024Bytes) {
  EXPECT_NO_THROW(check_tag("team", ""));
  EXPECT_NO_THROW(check_tag("team", "risk & fraud / EMEA \xc3\xa9"));
  EXPECT_NO_THROW(check_tag("team", std::string(1024, 'v')));
  EXPECT_THROW(check_tag("team", std::string(1025, 'v')), Error);
  EXPECT_THROW(check_tag("", "v"), Error);
  EXPECT_THROW(check_tag("a b", "v"), Error);
  EXPECT_THROW(check_tag("-k", "v"), Error);
  try {
    check_tag("k", std::string(2000, 'v'));
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
  }
}

TEST(ParseModelRef, Name) {
  const ModelRef ref = parse_model_ref("churn");
  EXPECT_EQ(ref.model, "churn");
  EXPECT_FALSE(ref.version.has_value());
  EXPECT_FALSE(ref.alias.has_value());
}

TEST(ParseModelRef, NameAndVersion) {
  const ModelRef ref = parse_model_ref("churn:3");
  EXPECT_EQ(ref.model, "churn");
  ASSERT_TRUE(ref.version.has_value());
  EXPECT_EQ(*ref.version, 3);
  EXPECT_FALSE(ref.alias.has_value());

  EXPECT_EQ(*parse_model_ref("churn:1").version, 1);
  EXPECT_EQ(*parse_model_ref("m.v2:9223372036854775807").version, INT64_MAX);
  EXPECT_EQ(parse_model_ref("m.v2:12").model, "m.v2");
}

TEST(ParseModelRef, NameAndAlias) {
  const ModelRef ref = parse_model_ref("churn@production");
  EXPECT_EQ(ref.model, "churn");
  ASSERT_TRUE(ref.alias.has_value());
  EXPECT_EQ(*ref.alias, "production");
  EXPECT_FALSE(ref.version.has_value());
  EXPECT_EQ(*parse_model_ref("a@b-2.c_d").alias, "b-2.c_d");
}

TEST(ParseModelRef, RejectsBadVersions) {
  for (const std::string& text : std::vector<std::string>{"churn:", "churn:0", "churn:-1", "churn:+3", "churn:3x", "churn:x", "churn: 3", "churn:3 ",
                                 "churn:1.5", "churn:1:2", "churn:99999999999999999999", "churn:0x10"}) {
    EXPECT_EQ(kind_of_parse(text), ErrorKind::kInvalidArgument) << text;
  }
}

TEST(ParseModelRef, RejectsBadNamesAndAliases) {
  for (const std::string& text : std::vector<std::string>{"", ":3", "@prod", "churn@", "churn@-x", "churn@a/b", "churn@a@b", "a/b", "a/b:1", "../x@prod",
                                 "-x", "churn@prod:3", "churn:3@prod", std::string(129, 'a'), std::string(129, 'a') + ":1"}) {
    EXPECT_EQ(kind_of_parse(text), ErrorKind::kInvalidArgument) << text;
  }
}

TEST(ParseModelRef, BothVersionAndAliasIsExplained) {
  try {
    parse_model_ref("churn:3@prod");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("both"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace orchard
