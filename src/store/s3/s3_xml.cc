// S3 XML parsing with expat (see s3_xml.h).
#include "store/s3/s3_xml.h"

#include <expat.h>

#include <charconv>
#include <memory>
#include <optional>

#include "store/s3/s3_config.h"

namespace ds::store::s3 {
namespace {

// Collects the text of the elements at the paths a handler asks for. The document is small
// (one page of a listing, or an error), so it is parsed in one call.
class Collector {
 public:
  // Called at the end of every element with its path ("ListBucketResult/Contents/Key") and its
  // text (the text directly inside it, after its last child element).
  virtual void OnElement(const std::string& path, const std::string& text) = 0;
  virtual void OnOpen(const std::string& /*path*/) {}
  virtual ~Collector() = default;

  // False when the document is not well-formed XML.
  bool Parse(std::string_view xml) {
    std::unique_ptr<XML_ParserStruct, decltype(&XML_ParserFree)> parser(XML_ParserCreate("UTF-8"),
                                                                        &XML_ParserFree);
    if (!parser) return false;
    XML_SetUserData(parser.get(), this);
    XML_SetElementHandler(parser.get(), &Collector::Start, &Collector::End);
    XML_SetCharacterDataHandler(parser.get(), &Collector::Text);
    return XML_Parse(parser.get(), xml.data(), static_cast<int>(xml.size()), 1) == XML_STATUS_OK;
  }

 private:
  static void Start(void* self_ptr, const XML_Char* name, const XML_Char** /*attrs*/) {
    auto* self = static_cast<Collector*>(self_ptr);
    self->lengths_.push_back(self->path_.size());
    if (!self->path_.empty()) self->path_.push_back('/');
    self->path_ += name;
    self->text_.clear();
    self->OnOpen(self->path_);
  }
  static void End(void* self_ptr, const XML_Char* /*name*/) {
    auto* self = static_cast<Collector*>(self_ptr);
    self->OnElement(self->path_, self->text_);
    self->text_.clear();
    self->path_.resize(self->lengths_.back());
    self->lengths_.pop_back();
  }
  static void Text(void* self_ptr, const XML_Char* s, int len) {
    static_cast<Collector*>(self_ptr)->text_.append(s, static_cast<size_t>(len));
  }

  std::string path_;
  std::vector<size_t> lengths_;
  std::string text_;
};

class ListCollector final : public Collector {
 public:
  void OnOpen(const std::string& path) override {
    if (path == "ListBucketResult") saw_root_ = true;
    if (path == "ListBucketResult/Contents") result_.objects.emplace_back();
  }
  void OnElement(const std::string& path, const std::string& text) override {
    if (path == "ListBucketResult/IsTruncated") {
      result_.is_truncated = text == "true";
    } else if (path == "ListBucketResult/NextContinuationToken") {
      result_.next_continuation_token = text;
    } else if (path == "ListBucketResult/EncodingType") {
      encoding_ = text;
    } else if (path == "ListBucketResult/Contents/Key") {
      result_.objects.back().key = text;
    } else if (path == "ListBucketResult/Contents/ETag") {
      result_.objects.back().etag = text;
    } else if (path == "ListBucketResult/Contents/Size") {
      uint64_t size = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
      if (ec != std::errc() || end != text.data() + text.size()) bad_size_ = true;
      result_.objects.back().size = size;
    }
  }

  bool saw_root_ = false;
  bool bad_size_ = false;
  std::string encoding_;
  ListObjectsResult result_;
};

class ErrorCollector final : public Collector {
 public:
  void OnElement(const std::string& path, const std::string& text) override {
    if (path == "Error/Code") error_.code = text;
    if (path == "Error/Message") error_.message = text;
  }
  S3Error error_;
};

}  // namespace

Result<ListObjectsResult> ParseListObjectsV2(std::string_view xml) {
  ListCollector collector;
  if (!collector.Parse(xml) || !collector.saw_root_) {
    return Status::Corruption("S3 listing is not a well-formed ListBucketResult");
  }
  if (collector.bad_size_) return Status::Corruption("S3 listing has a bad <Size>");
  ListObjectsResult result = std::move(collector.result_);
  if (collector.encoding_ == "url") {
    for (ListedObject& object : result.objects) {
      std::optional<std::string> key = PercentDecode(object.key, true);
      if (!key) return Status::Corruption("S3 listing has a badly encoded key: " + object.key);
      object.key = std::move(*key);
    }
  }
  for (const ListedObject& object : result.objects) {
    if (object.key.empty()) return Status::Corruption("S3 listing has an entry without a key");
  }
  if (result.is_truncated && result.next_continuation_token.empty()) {
    return Status::Corruption("S3 listing is truncated but has no NextContinuationToken");
  }
  return result;
}

S3Error ParseS3Error(std::string_view xml) {
  ErrorCollector collector;
  if (!collector.Parse(xml)) return {};
  return collector.error_;
}

}  // namespace ds::store::s3
