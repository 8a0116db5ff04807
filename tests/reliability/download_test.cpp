// download_dataset() with file:// URLs (curl reads them like any URL), and the
// SHA-256 it relies on.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/dataset.hpp"
#include "core/sha256.hpp"
#include "tests/reliability/subprocess.hpp"

namespace {

using mga::test::slurp;
using mga::test::TempDir;

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(mga::sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(mga::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Two blocks (FIPS 180-2 example), and lengths around the 55/56/64-byte padding edges.
  EXPECT_EQ(mga::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(mga::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(mga::sha256_hex(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(mga::sha256_hex(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(mga::sha256_hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

// Only `expected` in `dir`: no temporary download files left behind.
void expect_only(const std::filesystem::path& dir, const std::vector<std::string>& expected) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    found.push_back(entry.path().filename().string());
  std::sort(found.begin(), found.end());
  EXPECT_EQ(found, expected);
}

class Download : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = src_.write("names.txt", content_);
    url_ = "file://" + source_;
    sha_ = mga::sha256_hex(content_);
    target_ = out_ / "data/names.txt";
  }
  const std::string content_ = "anna\nbob\ncarl\n";
  TempDir src_, out_;
  std::string source_, url_, sha_, target_;
};

TEST_F(Download, CorrectShaInstallsTheFile) {
  ASSERT_NO_THROW(mga::download_dataset(target_, url_, sha_));
  EXPECT_EQ(slurp(target_), content_);
  expect_only(out_.path() / "data", {"names.txt"});
  EXPECT_EQ(mga::load_dataset(target_).docs.size(), 3U);
}

TEST_F(Download, ShaMismatchLeavesNothingBehind) {
  const std::string wrong(64, '0');
  try {
    mga::download_dataset(target_, url_, wrong);
    FAIL() << "a sha256 mismatch must throw";
  } catch (const mga::DatasetError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("sha256"), std::string::npos) << message;
    EXPECT_NE(message.find(sha_), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_FALSE(std::filesystem::exists(target_));
  EXPECT_FALSE(std::filesystem::exists(out_.path() / "data")) << "the directory made for it stays";
}

TEST_F(Download, MismatchKeepsAnExistingTarget) {
  std::filesystem::create_directories(out_.path() / "data");
  out_.write("data/names.txt", "previous\n");
  EXPECT_THROW(mga::download_dataset(target_, url_, std::string(64, 'f')), mga::DatasetError);
  EXPECT_EQ(slurp(target_), "previous\n");
  expect_only(out_.path() / "data", {"names.txt"});
}

TEST_F(Download, MissingSourceFailsCleanly) {
  try {
    mga::download_dataset(target_, "file://" + (src_ / "does-not-exist.txt"), sha_);
    FAIL() << "a missing source must throw";
  } catch (const mga::DatasetError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("curl failed"), std::string::npos) << message;
    EXPECT_NE(message.find("curl: (37)"), std::string::npos) << "curl's reason: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_FALSE(std::filesystem::exists(target_));
  EXPECT_FALSE(std::filesystem::exists(out_.path() / "data")) << "the directory made for it stays";
}

TEST_F(Download, UnreachableHostFailsCleanly) {
  // Port 9 on localhost: nothing listens, the connection is refused at once.
  EXPECT_THROW(mga::download_dataset(target_, "http://127.0.0.1:9/names.txt", sha_),
               mga::DatasetError);
  EXPECT_FALSE(std::filesystem::exists(target_));
  EXPECT_FALSE(std::filesystem::exists(out_.path() / "data")) << "the directory made for it stays";
}

TEST_F(Download, EmptySourceWithItsShaIsRefusedByTheParserNotTheDownload) {
  const std::string empty = src_.write("empty.txt", "");
  ASSERT_NO_THROW(mga::download_dataset(target_, "file://" + empty, mga::sha256_hex("")));
  EXPECT_THROW(mga::load_dataset(target_), mga::DatasetError);
}

}  // namespace
