#include "storage/s3/s3_xml.h"

#include <tinyxml2.h>

#include <cstdlib>

#include "storage/s3/s3_time.h"

namespace ailee::storage::s3 {
namespace {

using tinyxml2::XMLDocument;
using tinyxml2::XMLElement;

// Element name without a namespace prefix ("s3:Key" -> "Key").
std::string_view LocalName(const XMLElement* e) {
  std::string_view n = e->Name();
  auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

const XMLElement* Child(const XMLElement* parent, std::string_view name) {
  for (const XMLElement* c = parent->FirstChildElement(); c; c = c->NextSiblingElement()) {
    if (LocalName(c) == name) return c;
  }
  return nullptr;
}

std::string Text(const XMLElement* parent, std::string_view name) {
  const XMLElement* c = Child(parent, name);
  return c && c->GetText() ? std::string(c->GetText()) : std::string();
}

Status NotDocument(std::string_view what, std::string_view body) {
  std::string head(body.substr(0, 200));
  for (char& ch : head) {
    if (ch == '\n' || ch == '\r') ch = ' ';
  }
  return Internal("expected an S3 " + std::string(what) + " document, got: " + head);
}

// Parses `body` and returns its root if it is named `root`, else nullptr.
const XMLElement* Root(XMLDocument& doc, std::string_view body, std::string_view root) {
  if (doc.Parse(body.data(), body.size()) != tinyxml2::XML_SUCCESS) return nullptr;
  const XMLElement* r = doc.RootElement();
  return r && LocalName(r) == root ? r : nullptr;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::optional<S3ErrorBody> ParseErrorBody(std::string_view body) {
  XMLDocument doc;
  const XMLElement* r = Root(doc, body, "Error");
  if (!r) return std::nullopt;
  return S3ErrorBody{Text(r, "Code"), Text(r, "Message")};
}

Result<ListPage> ParseListObjectsV2(std::string_view body) {
  XMLDocument doc;
  const XMLElement* r = Root(doc, body, "ListBucketResult");
  if (!r) return NotDocument("ListBucketResult", body);
  ListPage page;
  for (const XMLElement* c = r->FirstChildElement(); c; c = c->NextSiblingElement()) {
    if (LocalName(c) != "Contents") continue;
    ListedObject o;
    o.key = Text(c, "Key");
    o.size = std::strtoull(Text(c, "Size").c_str(), nullptr, 10);
    o.last_modified_ms = ParseIso8601Millis(Text(c, "LastModified")).value_or(0);
    page.objects.push_back(std::move(o));
  }
  page.truncated = Text(r, "IsTruncated") == "true";
  page.next_continuation_token = Text(r, "NextContinuationToken");
  return page;
}

Result<UploadsPage> ParseListMultipartUploads(std::string_view body) {
  XMLDocument doc;
  const XMLElement* r = Root(doc, body, "ListMultipartUploadsResult");
  if (!r) return NotDocument("ListMultipartUploadsResult", body);
  UploadsPage page;
  for (const XMLElement* c = r->FirstChildElement(); c; c = c->NextSiblingElement()) {
    if (LocalName(c) != "Upload") continue;
    PendingUpload u;
    u.key = Text(c, "Key");
    u.upload_id = Text(c, "UploadId");
    u.initiated_ms = ParseIso8601Millis(Text(c, "Initiated")).value_or(0);
    page.uploads.push_back(std::move(u));
  }
  page.truncated = Text(r, "IsTruncated") == "true";
  page.next_key_marker = Text(r, "NextKeyMarker");
  page.next_upload_id_marker = Text(r, "NextUploadIdMarker");
  return page;
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view body) {
  XMLDocument doc;
  const XMLElement* r = Root(doc, body, "InitiateMultipartUploadResult");
  if (!r || Text(r, "UploadId").empty()) return NotDocument("InitiateMultipartUploadResult", body);
  return Text(r, "UploadId");
}

bool ParseObjectLockEnabled(std::string_view body) {
  XMLDocument doc;
  const XMLElement* r = Root(doc, body, "ObjectLockConfiguration");
  return r && Text(r, "ObjectLockEnabled") == "Enabled";
}

std::string BuildCompleteMultipartUpload(const std::vector<std::string>& etags) {
  std::string out = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (size_t i = 0; i < etags.size(); ++i) {
    out += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + XmlEscape(etags[i]) +
           "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

}  // namespace ailee::storage::s3
