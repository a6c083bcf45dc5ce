// Metrics registry and its Prometheus text exposition (format version 0.0.4).
#include "ferry/obs/metrics.h"

#include <fmt/format.h>

#include <map>

namespace ferry::obs {
namespace {

void appendEscapedLabel(std::string& out, const std::string& v) {
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

} // namespace

Metrics::Series* Metrics::find(const std::string& name, const Labels& labels) const {
  for (const auto& s : series_) {
    if (s.name == name && s.labels == labels) return const_cast<Series*>(&s);
  }
  return nullptr;
}

Metrics::Series& Metrics::getOrCreate(const std::string& name, const Labels& labels,
                                      const std::string& help, bool is_counter) {
  std::lock_guard lock(mu_);
  if (Series* s = find(name, labels)) return *s;
  Series& s = series_.emplace_back();
  s.name = name;
  s.labels = labels;
  s.help = help;
  s.is_counter = is_counter;
  return s;
}

Counter& Metrics::counter(const std::string& name, const Labels& labels, const std::string& help) {
  return getOrCreate(name, labels, help, true).counter;
}

Gauge& Metrics::gauge(const std::string& name, const Labels& labels, const std::string& help) {
  return getOrCreate(name, labels, help, false).gauge;
}

uint64_t Metrics::counterValue(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  const Series* s = find(name, labels);
  return s ? s->counter.value() : 0;
}

int64_t Metrics::gaugeValue(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mu_);
  const Series* s = find(name, labels);
  return s ? s->gauge.value() : 0;
}

std::string Metrics::renderPrometheus() const {
  std::lock_guard lock(mu_);
  // Group series by family name, keeping first-seen order of families.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Series*>> families;
  for (const auto& s : series_) {
    auto [it, inserted] = families.try_emplace(s.name);
    if (inserted) order.push_back(s.name);
    it->second.push_back(&s);
  }
  std::string out;
  for (const auto& name : order) {
    const auto& list = families[name];
    const Series* first = list.front();
    if (!first->help.empty()) out += fmt::format("# HELP {} {}\n", name, first->help);
    out += fmt::format("# TYPE {} {}\n", name, first->is_counter ? "counter" : "gauge");
    for (const Series* s : list) {
      out += name;
      if (!s->labels.empty()) {
        out += '{';
        for (size_t i = 0; i < s->labels.size(); ++i) {
          if (i) out += ',';
          out += s->labels[i].first;
          out += "=\"";
          appendEscapedLabel(out, s->labels[i].second);
          out += '"';
        }
        out += '}';
      }
      out += ' ';
      out += s->is_counter ? std::to_string(s->counter.value()) : std::to_string(s->gauge.value());
      out += '\n';
    }
  }
  return out;
}

Metrics& Metrics::global() {
  static Metrics m;
  return m;
}

} // namespace ferry::obs
