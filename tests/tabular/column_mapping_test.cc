// Tests for ColumnMapping and parse_cell (src/tabular/column_mapping.h): how CSV columns reach model
// features, and how cells become numbers.
#include "tabular/column_mapping.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "engine/model.h"

namespace orchard {
namespace {

// A model schema only: ColumnMapping looks at nothing but the features and whether they are named.
Model schema(const std::vector<std::string>& names, bool named) {
  Model model;
  for (const auto& name : names) model.features.push_back(Feature{name, FeatureType::kNumeric, {}});
  model.has_feature_names = named;
  return model;
}

std::vector<std::string_view> cells_of(const std::vector<std::string>& cells) {
  return std::vector<std::string_view>(cells.begin(), cells.end());
}

template <typename Body>
void expect_invalid_argument(Body body, const std::vector<std::string>& parts) {
  try {
    body();
    ADD_FAILURE() << "expected an orchard::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument) << e.what();
    const std::string message = e.what();
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "\"" << part << "\" not in: " << message;
  }
}

double parsed(std::string_view cell) {
  double value = -12345.0;
  EXPECT_TRUE(parse_cell(cell, value)) << "\"" << cell << "\"";
  return value;
}

bool rejects(std::string_view cell) {
  double value = 0.0;
  return !parse_cell(cell, value);
}

// --- Matching by name --------------------------------------------------------------------------------

TEST(ColumnMappingTest, ByNameInSameOrder) {
  const Model model = schema({"a", "b", "c"}, true);
  const ColumnMapping mapping(model, {"a", "b", "c"}, "in.csv");
  EXPECT_TRUE(mapping.by_name());
  EXPECT_EQ(mapping.num_features(), 3u);
  double row[3];
  mapping.fill(cells_of({"1", "2", "3"}), 2, row);
  EXPECT_EQ(row[0], 1.0);
  EXPECT_EQ(row[1], 2.0);
  EXPECT_EQ(row[2], 3.0);
}

TEST(ColumnMappingTest, ByNameReorderedColumnsLandInModelOrder) {
  const Model model = schema({"a", "b", "c"}, true);
  const ColumnMapping mapping(model, {"c", "a", "b"}, "in.csv");
  double row[3];
  mapping.fill(cells_of({"3", "1", "2"}), 2, row);
  EXPECT_EQ(row[0], 1.0);
  EXPECT_EQ(row[1], 2.0);
  EXPECT_EQ(row[2], 3.0);
}

TEST(ColumnMappingTest, ByNameExtraColumnsAreIgnoredEvenIfNotNumbers) {
  const Model model = schema({"a", "b"}, true);
  const ColumnMapping mapping(model, {"id", "b", "label", "a", "target"}, "in.csv");
  EXPECT_EQ(mapping.num_features(), 2u);
  double row[2];
  mapping.fill(cells_of({"row-17", "2.5", "cat", "-1", ""}), 2, row);
  EXPECT_EQ(row[0], -1.0);
  EXPECT_EQ(row[1], 2.5);
}

TEST(ColumnMappingTest, ByNameMissingFeatureIsAnErrorNamingIt) {
  const Model model = schema({"age", "tenure", "plan"}, true);
  expect_invalid_argument([&] { ColumnMapping mapping(model, {"age", "plan", "target"}, "in.csv"); },
                          {"\"tenure\"", "in.csv"});
}

TEST(ColumnMappingTest, ByNameEveryMissingFeatureIsNamed) {
  const Model model = schema({"age", "tenure", "plan"}, true);
  expect_invalid_argument([&] { ColumnMapping mapping(model, {"plan"}, "in.csv"); }, {"\"age\"", "\"tenure\""});
}

TEST(ColumnMappingTest, ByNameIsCaseSensitive) {
  const Model model = schema({"Age"}, true);
  expect_invalid_argument([&] { ColumnMapping mapping(model, {"age"}, "in.csv"); }, {"\"Age\""});
}

TEST(ColumnMappingTest, ByNameDuplicateColumnIsAnError) {
  const Model model = schema({"a", "b"}, true);
  expect_invalid_argument([&] { ColumnMapping mapping(model, {"a", "b", "a"}, "in.csv"); }, {"\"a\"", "twice"});
}

// --- Matching by position (the model has no feature names) ---------------------------------------------

TEST(ColumnMappingTest, ByPositionIgnoresHeaderNames) {
  const Model model = schema({"f0", "f1"}, false);
  const ColumnMapping mapping(model, {"whatever", "f0"}, "in.csv");
  EXPECT_FALSE(mapping.by_name());
  double row[2];
  mapping.fill(cells_of({"10", "20"}), 2, row);
  EXPECT_EQ(row[0], 10.0);
  EXPECT_EQ(row[1], 20.0);
}

TEST(ColumnMappingTest, ByPositionTooFewColumnsIsAnError) {
  const Model model = schema({"f0", "f1", "f2"}, false);
  expect_invalid_argument([&] { ColumnMapping mapping(model, {"a", "b"}, "in.csv"); }, {"in.csv", "2 columns", "3 columns"});
}

TEST(ColumnMappingTest, ByPositionTooManyColumnsIsAnError) {
  const Model model = schema({"f0", "f1"}, false);
  expect_invalid_argument([&] { ColumnMapping mapping(model, {"a", "b", "target"}, "in.csv"); }, {"3 columns", "2 columns"});
}

// --- Rows ---------------------------------------------------------------------------------------------

TEST(ColumnMappingTest, RowWithTooFewCellsIsAnErrorNamingTheLine) {
  const Model model = schema({"a", "b"}, true);
  const ColumnMapping mapping(model, {"a", "b", "target"}, "in.csv");
  double row[2];
  expect_invalid_argument([&] { mapping.fill(cells_of({"1", "2"}), 7, row); }, {"in.csv:7", "2 cells", "3"});
}

TEST(ColumnMappingTest, RowWithTooManyCellsIsAnErrorNamingTheLine) {
  const Model model = schema({"f0", "f1"}, false);
  const ColumnMapping mapping(model, {"a", "b"}, "in.csv");
  double row[2];
  expect_invalid_argument([&] { mapping.fill(cells_of({"1", "2", "3"}), 12, row); }, {"in.csv:12", "3 cells"});
}

TEST(ColumnMappingTest, MissingValueCellsBecomeNaN) {
  const Model model = schema({"a", "b", "c", "d", "e"}, true);
  const ColumnMapping mapping(model, {"a", "b", "c", "d", "e"}, "in.csv");
  double row[5];
  mapping.fill(cells_of({"", "NaN", "nan", "  ", "4"}), 2, row);
  EXPECT_TRUE(std::isnan(row[0]));
  EXPECT_TRUE(std::isnan(row[1]));
  EXPECT_TRUE(std::isnan(row[2]));
  EXPECT_TRUE(std::isnan(row[3]));
  EXPECT_EQ(row[4], 4.0);
}

TEST(ColumnMappingTest, NonNumberCellIsAnErrorNamingLineAndColumn) {
  const Model model = schema({"age", "plan"}, true);
  // "plan" is the CSV's third column: the message gives the CSV's 1-based column and its name.
  const ColumnMapping mapping(model, {"age", "id", "plan"}, "in.csv");
  double row[2];
  expect_invalid_argument([&] { mapping.fill(cells_of({"31", "x", "gold"}), 42, row); },
                          {"in.csv:42", "column 3", "\"plan\"", "\"gold\""});
}

TEST(ColumnMappingTest, NonNumberCellByPositionNamesLineAndColumn) {
  const Model model = schema({"f0", "f1"}, false);
  const ColumnMapping mapping(model, {"x", "y"}, "in.csv");
  double row[2];
  expect_invalid_argument([&] { mapping.fill(cells_of({"1", "1.2.3"}), 3, row); }, {"in.csv:3", "column 2", "\"1.2.3\""});
}

// --- parse_cell ---------------------------------------------------------------------------------------

TEST(ParseCellTest, PlainNumbers) {
  EXPECT_EQ(parsed("0"), 0.0);
  EXPECT_EQ(parsed("42"), 42.0);
  EXPECT_EQ(parsed("-3.25"), -3.25);
  EXPECT_EQ(parsed("1e3"), 1000.0);
  EXPECT_EQ(parsed("2.5E-3"), 2.5e-3);
  EXPECT_EQ(parsed(".5"), 0.5);
  EXPECT_EQ(parsed("5."), 5.0);
  EXPECT_EQ(parsed("0.1"), 0.1);  // correctly rounded, as strtod
}

TEST(ParseCellTest, LeadingPlusSign) {
  EXPECT_EQ(parsed("+1.5"), 1.5);
  EXPECT_EQ(parsed("+0"), 0.0);
  EXPECT_EQ(parsed("+2e2"), 200.0);
}

TEST(ParseCellTest, SurroundingSpacesAndTabs) {
  EXPECT_EQ(parsed(" 2 "), 2.0);
  EXPECT_EQ(parsed("\t-7\t"), -7.0);
  EXPECT_EQ(parsed("  +1.5  "), 1.5);
}

TEST(ParseCellTest, MissingValueMarkers) {
  EXPECT_TRUE(std::isnan(parsed("")));
  EXPECT_TRUE(std::isnan(parsed("   ")));
  EXPECT_TRUE(std::isnan(parsed("NaN")));
  EXPECT_TRUE(std::isnan(parsed("nan")));
  EXPECT_TRUE(std::isnan(parsed("NAN")));
  EXPECT_TRUE(std::isnan(parsed(" NaN ")));
}

TEST(ParseCellTest, Infinities) {
  EXPECT_EQ(parsed("inf"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(parsed("-inf"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(parsed("+inf"), std::numeric_limits<double>::infinity());
}

TEST(ParseCellTest, OverflowBecomesSignedInfinity) {
  EXPECT_EQ(parsed("1e400"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(parsed("-1e400"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(parsed("+1E400"), std::numeric_limits<double>::infinity());
}

TEST(ParseCellTest, UnderflowBecomesSignedZero) {
  const double negative = parsed("-1e-400");
  EXPECT_EQ(negative, 0.0);
  EXPECT_TRUE(std::signbit(negative));
  const double positive = parsed("1e-400");
  EXPECT_EQ(positive, 0.0);
  EXPECT_FALSE(std::signbit(positive));
  EXPECT_TRUE(std::signbit(parsed("-1E-400")));
}

TEST(ParseCellTest, NegativeZeroKeepsItsSign) {
  const double value = parsed("-0");
  EXPECT_EQ(value, 0.0);
  EXPECT_TRUE(std::signbit(value));
}

TEST(ParseCellTest, ExtremesThatFitAreExact) {
  EXPECT_EQ(parsed("1.7976931348623157e308"), std::numeric_limits<double>::max());
  EXPECT_EQ(parsed("2.2250738585072014e-308"), std::numeric_limits<double>::min());
}

TEST(ParseCellTest, SubnormalsAreKept) {
  EXPECT_EQ(parsed("1e-320"), 1e-320);
  EXPECT_EQ(parsed("-4.9406564584124654e-324"), -std::numeric_limits<double>::denorm_min());
}

TEST(ParseCellTest, NonNumbersAreRejected) {
  EXPECT_TRUE(rejects("abc"));
  EXPECT_TRUE(rejects("1.5x"));
  EXPECT_TRUE(rejects("x1.5"));
  EXPECT_TRUE(rejects("1 2"));
  EXPECT_TRUE(rejects("1.2.3"));
  EXPECT_TRUE(rejects("+"));
  EXPECT_TRUE(rejects("++1"));
  EXPECT_TRUE(rejects("-"));
  EXPECT_TRUE(rejects("0x10"));
  EXPECT_TRUE(rejects("1,5"));
  EXPECT_TRUE(rejects("yes"));
  EXPECT_TRUE(rejects("\"1\""));
}

// Known bugs, disabled until src/cli/column_mapping.cc is fixed (reported, not fixed here).
//
// parse_cell accepts "+-1" as -1 (it strips one '+' and hands "-1" to from_chars); strtod rejects it.
TEST(ParseCellTest, DoubleSignIsRejected) {
  EXPECT_TRUE(rejects("+-1"));
}

// An out-of-range value is classed as underflow or overflow by the sign of its exponent alone, so a
// huge number written with a negative exponent, or a tiny one without an exponent, gets the wrong end.
TEST(ParseCellTest, OutOfRangeIsClassedByMagnitudeNotExponentSign) {
  EXPECT_EQ(parsed("1" + std::string(400, '0') + "e-1"), std::numeric_limits<double>::infinity());  // 1e399
  EXPECT_EQ(parsed("0." + std::string(400, '0') + "1"), 0.0);                                        // 1e-401
}

TEST(ColumnMappingTest, CategoryNamesBecomeTheirCodes) {
  // A feature with category names (Orchard's model format): a name is its position, a number is taken
  // as a code, an empty cell is missing, any other text an unknown category (-1, not missing).
  Model model = schema({"plan", "x"}, true);
  model.features[0].type = FeatureType::kCategorical;
  model.features[0].categories = {"basic", "premium", "gold"};
  const ColumnMapping mapping(model, {"x", "plan"}, "in.csv");
  double row[2];
  const std::vector<std::pair<std::string, double>> cases = {
      {"premium", 1.0}, {"basic", 0.0}, {"gold", 2.0}, {"1", 1.0}, {"platinum", kUnknownCategory}, {"Premium", kUnknownCategory}};
  for (const auto& [cell, code] : cases) {
    mapping.fill(cells_of({"0.5", cell}), 2, row);
    EXPECT_EQ(row[0], code) << cell;
    EXPECT_EQ(row[1], 0.5);
  }
  mapping.fill(cells_of({"0.5", ""}), 2, row);
  EXPECT_TRUE(std::isnan(row[0]));
  // Features without names still refuse text.
  EXPECT_THROW(mapping.fill(cells_of({"premium", "basic"}), 2, row), Error);
}

// Category names that are numbers themselves (region codes "10", "20", "30"): a number is then a
// name, never a code, so an unseen "1" is an unknown region rather than the second one.
TEST(ColumnMappingTest, NumbersAreNotCodesWhenTheNamesAreNumbers) {
  Model model = schema({"region", "x"}, true);
  model.features[0].type = FeatureType::kCategorical;
  model.features[0].categories = {"10", "20", "30", "north"};
  const ColumnMapping mapping(model, {"region", "x"}, "in.csv");
  double row[2];
  const std::vector<std::pair<std::string, double>> cases = {
      {"20", 1.0}, {"north", 3.0}, {"1", kUnknownCategory}, {"3", kUnknownCategory}, {"40", kUnknownCategory}};
  for (const auto& [cell, code] : cases) {
    mapping.fill(cells_of({cell, "0.5"}), 2, row);
    EXPECT_EQ(row[0], code) << cell;
  }
  EXPECT_FALSE(numbers_are_category_codes(model.features[0]));
  model.features[0].categories = {"basic", "premium"};
  EXPECT_TRUE(numbers_are_category_codes(model.features[0]));
}

}  // namespace
}  // namespace orchard
