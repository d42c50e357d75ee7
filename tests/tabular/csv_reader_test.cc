// Tests for CsvReader (src/tabular/csv_reader.h): the hand-written RFC 4180 reader behind `orchard predict`.
#include "tabular/csv_reader.h"

#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "support/test_support.h"

namespace orchard {
namespace {

using Row = std::vector<std::string>;

// Reads every data row of `text` into owned strings (the reader's views die at the next call).
std::vector<Row> read_all(CsvReader& reader) {
  std::vector<Row> rows;
  std::vector<std::string_view> cells;
  while (reader.next_row(cells)) rows.emplace_back(cells.begin(), cells.end());
  return rows;
}

std::vector<Row> read_all(const std::string& text) {
  std::istringstream in(text);
  CsvReader reader(in, "test.csv");
  return read_all(reader);
}

// Runs `body`, expecting an orchard::Error of `kind` whose message contains every one of `parts`.
template <typename Body>
void expect_error(Body body, ErrorKind kind, const std::vector<std::string>& parts) {
  try {
    body();
    ADD_FAILURE() << "expected an orchard::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    const std::string message = e.what();
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "\"" << part << "\" not in: " << message;
  }
}

// --- Header and plain rows -------------------------------------------------------------------------

TEST(CsvReaderTest, ReadsHeaderAndRows) {
  std::istringstream in("a,b,c\n1,2,3\n4,5,6\n");
  CsvReader reader(in, "test.csv");
  EXPECT_EQ(reader.header(), (Row{"a", "b", "c"}));
  EXPECT_EQ(reader.name(), "test.csv");
  EXPECT_EQ(read_all(reader), (std::vector<Row>{{"1", "2", "3"}, {"4", "5", "6"}}));
}

// A stream that gives its text, then fails as a disk or a network file system can.
class FailingBuffer : public std::streambuf {
 public:
  explicit FailingBuffer(std::string text) : text_(std::move(text)) {}

 protected:
  int_type underflow() override {
    if (served_) throw std::runtime_error("EIO");  // the stream turns this into badbit
    served_ = true;
    setg(text_.data(), text_.data(), text_.data() + text_.size());
    return traits_type::to_int_type(text_[0]);
  }

 private:
  std::string text_;
  bool served_ = false;
};

// A read error after the header is an I/O error, not the end of the file.
TEST(CsvReaderTest, AReadErrorIsNotTakenForTheEnd) {
  FailingBuffer buffer("a,b\n1,2\n3,4\n");
  std::istream in(&buffer);
  CsvReader reader(in, "data.csv");
  std::vector<std::string_view> cells;
  ASSERT_TRUE(reader.next_row(cells));
  ASSERT_TRUE(reader.next_row(cells));
  EXPECT_ERROR_KIND(reader.next_row(cells), ErrorKind::kIo);
}

TEST(CsvReaderTest, LastLineWithoutNewlineIsRead) {
  EXPECT_EQ(read_all("a,b\n1,2\n3,4"), (std::vector<Row>{{"1", "2"}, {"3", "4"}}));
}

TEST(CsvReaderTest, HeaderOnlyFileHasNoRows) {
  std::istringstream in("a,b\n");
  CsvReader reader(in, "test.csv");
  EXPECT_EQ(reader.header(), (Row{"a", "b"}));
  std::vector<std::string_view> cells;
  EXPECT_FALSE(reader.next_row(cells));
  EXPECT_FALSE(reader.next_row(cells));  // stays at the end
}

TEST(CsvReaderTest, HeaderNamesAreTrimmedOfSpaces) {
  std::istringstream in(" a , b,c \n1,2,3\n");
  CsvReader reader(in, "test.csv");
  EXPECT_EQ(reader.header(), (Row{"a", "b", "c"}));
}

TEST(CsvReaderTest, DataCellsKeepTheirSpaces) {
  // Trimming numbers is parse_cell's job; the reader hands cells over untouched.
  EXPECT_EQ(read_all("a,b\n 1 , 2\n"), (std::vector<Row>{{" 1 ", " 2"}}));
}

// --- Empty cells: a trailing comma is one more (empty) cell -----------------------------------------

TEST(CsvReaderTest, TrailingCommaGivesTrailingEmptyCell) {
  EXPECT_EQ(read_all("x,y,z\na,b,\n"), (std::vector<Row>{{"a", "b", ""}}));
}

TEST(CsvReaderTest, TrailingCommaAfterQuotedFieldGivesTrailingEmptyCell) {
  EXPECT_EQ(read_all("x,y,z\n\"a\",b,\n"), (std::vector<Row>{{"a", "b", ""}}));
}

TEST(CsvReaderTest, EmptyCellsAnywhere) {
  EXPECT_EQ(read_all("x,y,z\n,,\n,b,\n"), (std::vector<Row>{{"", "", ""}, {"", "b", ""}}));
  EXPECT_EQ(read_all("x,y,z\n\"\",,\"\"\n"), (std::vector<Row>{{"", "", ""}}));
}

TEST(CsvReaderTest, TrailingCommaInHeaderGivesEmptyColumnName) {
  std::istringstream in("a,b,\n1,2,3\n");
  CsvReader reader(in, "test.csv");
  EXPECT_EQ(reader.header(), (Row{"a", "b", ""}));
}

// --- Quotes ------------------------------------------------------------------------------------------

TEST(CsvReaderTest, QuotedFieldsMayHoldCommas) {
  EXPECT_EQ(read_all("a,b,c\n\"1,5\",2,\"x, y\"\n"), (std::vector<Row>{{"1,5", "2", "x, y"}}));
}

TEST(CsvReaderTest, DoubledQuotesAreOneQuote) {
  EXPECT_EQ(read_all("a,b\n\"say \"\"hi\"\"\",\"\"\"\"\n"), (std::vector<Row>{{"say \"hi\"", "\""}}));
}

TEST(CsvReaderTest, QuotedHeaderNames) {
  std::istringstream in("\"a\",\"b,c\",\"d\"\"e\"\n1,2,3\n");
  CsvReader reader(in, "test.csv");
  EXPECT_EQ(reader.header(), (Row{"a", "b,c", "d\"e"}));
}

TEST(CsvReaderTest, QuotedAndPlainRowsMixed) {
  // The fast path (no quote on the line) and the unescaping path alternate without mixing up views.
  EXPECT_EQ(read_all("a,b\n1,2\n\"3\",\"4\"\n5,6\n\"7\",8\n"),
            (std::vector<Row>{{"1", "2"}, {"3", "4"}, {"5", "6"}, {"7", "8"}}));
}

TEST(CsvReaderTest, UnterminatedQuoteIsAnErrorNamingTheLine) {
  expect_error([] { read_all("a,b\n1,2\n\"3,4\n5,6\n"); }, ErrorKind::kInvalidArgument,
               {"test.csv:3", "unterminated quoted field"});
}

TEST(CsvReaderTest, QuoteSpanningLinesIsRefused) {
  expect_error([] { read_all("a,b\n\"multi\nline\",2\n"); }, ErrorKind::kInvalidArgument, {"test.csv:2", "unterminated"});
}

TEST(CsvReaderTest, UnterminatedQuoteInHeaderIsAnError) {
  expect_error(
      [] {
        std::istringstream in("\"a,b\n1,2\n");
        CsvReader reader(in, "test.csv");
      },
      ErrorKind::kInvalidArgument, {"test.csv:1", "unterminated"});
}

TEST(CsvReaderTest, TextAfterClosingQuoteIsAnErrorNamingTheLine) {
  expect_error([] { read_all("a,b\n\"1\"x,2\n"); }, ErrorKind::kInvalidArgument, {"test.csv:2", "after a closing quote"});
}

// --- Line endings, byte-order mark, blank lines ------------------------------------------------------

TEST(CsvReaderTest, CrlfLineEndingsAreStripped) {
  std::istringstream in("a,b\r\n1,2\r\n\"3\",4\r\n");
  CsvReader reader(in, "test.csv");
  EXPECT_EQ(reader.header(), (Row{"a", "b"}));
  EXPECT_EQ(read_all(reader), (std::vector<Row>{{"1", "2"}, {"3", "4"}}));
}

TEST(CsvReaderTest, CrlfWithTrailingEmptyCell) {
  EXPECT_EQ(read_all("a,b,c\r\n1,2,\r\n"), (std::vector<Row>{{"1", "2", ""}}));
}

TEST(CsvReaderTest, Utf8ByteOrderMarkIsNotPartOfFirstColumnName) {
  std::istringstream in("\xEF\xBB\xBF" "a,b\r\n1,2\r\n");
  CsvReader reader(in, "test.csv");
  EXPECT_EQ(reader.header(), (Row{"a", "b"}));
  EXPECT_EQ(read_all(reader), (std::vector<Row>{{"1", "2"}}));
}

TEST(CsvReaderTest, ByteOrderMarkBeforeQuotedHeader) {
  std::istringstream in("\xEF\xBB\xBF\"a\",b\n1,2\n");
  CsvReader reader(in, "test.csv");
  EXPECT_EQ(reader.header(), (Row{"a", "b"}));
}

TEST(CsvReaderTest, BlankLinesAreSkipped) {
  EXPECT_EQ(read_all("a,b\n\n1,2\n\n\n3,4\n\n"), (std::vector<Row>{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(read_all("a,b\r\n\r\n1,2\r\n\r\n"), (std::vector<Row>{{"1", "2"}}));
}

// --- line_number(): 1-based, the header is line 1, skipped blank lines still count ------------------

TEST(CsvReaderTest, LineNumberCountsHeaderAndBlankLines) {
  std::istringstream in("a\n1\n\n2\n\n\n3\n");
  CsvReader reader(in, "test.csv");
  EXPECT_EQ(reader.line_number(), 1u);
  std::vector<std::string_view> cells;
  ASSERT_TRUE(reader.next_row(cells));
  EXPECT_EQ(cells[0], "1");
  EXPECT_EQ(reader.line_number(), 2u);
  ASSERT_TRUE(reader.next_row(cells));
  EXPECT_EQ(cells[0], "2");
  EXPECT_EQ(reader.line_number(), 4u);
  ASSERT_TRUE(reader.next_row(cells));
  EXPECT_EQ(cells[0], "3");
  EXPECT_EQ(reader.line_number(), 7u);
  EXPECT_FALSE(reader.next_row(cells));
}

TEST(CsvReaderTest, ErrorLineNumberCountsBlankLines) {
  expect_error([] { read_all("a,b\n\n\n1,2\n\"bad\n"); }, ErrorKind::kInvalidArgument, {"test.csv:5"});
}

// --- Empty and missing files --------------------------------------------------------------------------

TEST(CsvReaderTest, EmptyStreamIsAnError) {
  expect_error(
      [] {
        std::istringstream in("");
        CsvReader reader(in, "empty.csv");
      },
      ErrorKind::kInvalidArgument, {"empty.csv", "empty"});
}

TEST(CsvReaderTest, EmptyFileIsAnError) {
  const std::string path = testing::write_file("csv_reader_empty.csv", "");
  expect_error([&] { CsvReader reader(path); }, ErrorKind::kInvalidArgument, {path, "empty"});
}

TEST(CsvReaderTest, MissingFileIsNotFound) {
  const std::string path = testing::temp_dir() + "/csv_reader_no_such_file.csv";
  expect_error([&] { CsvReader reader(path); }, ErrorKind::kNotFound, {path});
}

// --- Reading from a path: same results, sizes known for progress -------------------------------------

TEST(CsvReaderTest, ReadsFromPathAndReportsSizes) {
  const std::string text = "a,b\r\n1,2\r\n3,\"4\"\r\n";
  const std::string path = testing::write_file("csv_reader_path.csv", text);
  CsvReader reader(path);
  EXPECT_EQ(reader.name(), path);
  EXPECT_EQ(reader.header(), (Row{"a", "b"}));
  EXPECT_EQ(reader.total_bytes(), text.size());
  EXPECT_EQ(read_all(reader), (std::vector<Row>{{"1", "2"}, {"3", "4"}}));
  EXPECT_EQ(reader.bytes_read(), text.size());
}

}  // namespace
}  // namespace orchard
