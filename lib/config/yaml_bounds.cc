// Bounded YAML loading. yaml-cpp shares an anchored node between its aliases, but everything
// that walks the tree (validation, interpolation, the plugins' JSON, `ferry validate`'s
// rendering) visits each alias in full: a few KiB of nested aliases ("billion laughs") or a
// flat list of aliases to a big anchor becomes gigabytes and minutes of work. So the text is
// first read as a stream of parser events, counting the nodes and the scalar bytes the
// document holds once every alias is expanded, and refused past kMaxYamlNodes nodes or
// kMaxConfigBytes of scalars (what the text itself may hold) before any node is built.
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include "ferry/config/units.h"
#include "ferry/config/validator.h"

namespace ferry::config {
namespace {

[[noreturn]] void refuse(const std::string& name, int line, std::string message) {
  throw ConfigError(
      {Diagnostic{.file = name, .line = line, .key = "", .message = std::move(message)}});
}

// What a node stands for once its aliases are expanded.
struct Weight {
  uint64_t nodes = 0;
  uint64_t bytes = 0; // of scalars
};

// Counts the first document with aliases expanded: an alias weighs what its anchored node
// holds (its own aliases expanded too), so the total is what a walk of the loaded tree visits.
class NodeCounter : public YAML::EventHandler {
public:
  NodeCounter(const std::string& name, Weight limit) : name_(name), limit_(limit) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor, 0); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    leaf(mark, anchor, value.size());
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    for (const Open& o : open_) {
      if (o.anchor == anchor) {
        refuse(name_, mark.line >= 0 ? mark.line + 1 : 0,
               "an alias inside the node it refers to (the document would be infinite)");
      }
    }
    add(mark, anchor < weights_.size() ? weights_[anchor] : Weight{1, 0}, true);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

private:
  struct Open {
    YAML::anchor_t anchor;
    Weight first; // total_ before the collection's own node was counted
  };

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, uint64_t bytes) {
    add(mark, {1, bytes}, false);
    remember(anchor, {1, bytes});
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    open_.push_back({anchor, total_});
    add(mark, {1, 0}, false);
  }
  void close() {
    if (open_.empty()) return;
    const Open o = open_.back();
    open_.pop_back();
    remember(o.anchor, {total_.nodes - o.first.nodes, total_.bytes - o.first.bytes});
  }
  void remember(YAML::anchor_t anchor, Weight w) {
    if (anchor == YAML::NullAnchor) return;
    if (anchor >= weights_.size()) weights_.resize(anchor + 1, Weight{1, 0});
    weights_[anchor] = w;
  }
  // Weights never exceed the limits and the total is refused as soon as it does, so nothing
  // here can overflow.
  void add(const YAML::Mark& mark, Weight w, bool alias) {
    total_.nodes += w.nodes;
    total_.bytes += w.bytes;
    if (total_.nodes <= limit_.nodes && total_.bytes <= limit_.bytes) return;
    const int line = mark.line >= 0 ? mark.line + 1 : 0;
    const std::string limit = total_.nodes > limit_.nodes
                                  ? fmt::format("{} nodes", limit_.nodes)
                                  : fmt::format("{} of text", formatSize(limit_.bytes));
    if (alias) {
      refuse(name_, line,
             fmt::format("too many aliases expanded (limit {} with every alias expanded)", limit));
    }
    refuse(name_, line, fmt::format("too many YAML nodes (limit {})", limit));
  }

  const std::string& name_;
  Weight limit_;
  Weight total_;
  std::vector<Weight> weights_; // anchor id → what it stands for
  std::vector<Open> open_;
};

[[noreturn]] void invalidYaml(const std::string& name, const YAML::Exception& e) {
  refuse(name, e.mark.line >= 0 ? e.mark.line + 1 : 0, fmt::format("invalid YAML: {}", e.msg));
}

} // namespace

void checkYamlBounds(const std::string& name, const std::string& text, uint64_t max_nodes) {
  if (text.size() > kMaxConfigBytes) {
    refuse(name, 0,
           fmt::format("the configuration is {} bytes, over the limit of {}", text.size(),
                       formatSize(kMaxConfigBytes)));
  }
  std::istringstream in(text);
  NodeCounter counter(name, Weight{max_nodes, kMaxConfigBytes});
  try {
    YAML::Parser parser(in);
    parser.HandleNextDocument(counter); // YAML::Load reads the first document only
  } catch (const YAML::Exception& e) {
    invalidYaml(name, e);
  }
}

YAML::Node loadBoundedYaml(const std::string& name, const std::string& text) {
  checkYamlBounds(name, text, kMaxYamlNodes);
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    invalidYaml(name, e);
  }
}

} // namespace ferry::config
