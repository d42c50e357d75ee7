// Fuzz target: the server's request routing and protocol adapters (OrchardService::handle: /v2/...,
// /endpoints/N/invocations, /api/v1/... reads, /metrics, the web UI) over a registry holding the demo
// models, created once in a temporary folder. HTTP framing itself is Boost.Beast's (http_server.cc);
// this starts from the HttpRequest it hands over.
//
// Input: "METHOD TARGET\n", then "name: value\n" header lines, then an empty line and the body (all
// optional past the method). Requests that would change the registry (anything but GET and HEAD
// under /api/v1/, and Triton's /v2/repository/ load and unload) are skipped, so that every input
// meets the same state; those paths are covered by tests/server/bad_input_test.cc.
#include <stdlib.h>

#include <cctype>
#include <filesystem>
#include <memory>

#include "fuzz_support.h"
#include "registry/registry.h"
#include "server/serving_catalog.h"
#include "server/service.h"

namespace {

using namespace orchard;

OrchardService& service() {
  // Built once and never destroyed (the catalog and the shadow thread live as long as the process).
  static OrchardService* const instance = [] {
    std::string dir = (std::filesystem::temp_directory_path() / "orchard-fuzz-XXXXXX").string();
    if (!::mkdtemp(dir.data())) std::abort();
    const std::string examples = std::string(ORCHARD_SOURCE_DIR) + "/examples";
    Registry* registry = Registry::open_local(dir, "fuzz").release();
    PushOptions churn1;
    churn1.alias = "production";
    registry->push("churn", examples + "/churn/churn_xgboost.ubj", churn1);
    PushOptions churn2;
    churn2.alias = "staging";
    registry->push("churn", examples + "/churn/churn_lightgbm.txt", churn2);
    PushOptions iris;
    iris.alias = "production";
    registry->push("iris", examples + "/iris/iris_xgboost.json", iris);
    auto* catalog = new ServingCatalog(*registry);
    catalog->refresh();
    ServiceOptions options;
    options.max_rows = 1000;
    auto* service = new OrchardService(*registry, *catalog, options);
    service->set_ready(true);
    return service;
  }();
  return *instance;
}

std::string_view take_line(std::string_view& rest) {
  const std::size_t newline = rest.find('\n');
  const std::string_view line = rest.substr(0, newline);
  rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest = fuzz::as_view(data, size);
  HttpRequest request;
  const std::string_view first = take_line(rest);
  const std::size_t space = first.find(' ');
  request.method = std::string(first.substr(0, space));
  request.target = space == std::string_view::npos ? "/" : std::string(first.substr(space + 1));
  while (!rest.empty()) {
    const std::string_view line = take_line(rest);
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    request.headers.emplace_back(std::move(name), std::string(value));
  }
  request.body = std::string(rest);
  request.remote_address = "127.0.0.1";
  const std::string_view path = request.path();
  const bool reads = request.method == "GET" || request.method == "HEAD";
  if (!reads && (path.rfind("/api/v1", 0) == 0 || path.rfind("/v2/repository", 0) == 0)) return 0;
  const HttpResponse response = service().handle(std::move(request));
  if (response.status < 100 || response.status > 599) __builtin_trap();
  return 0;
}
