// Metrics registry and its Prometheus text exposition (format version 0.0.4): HELP and TYPE
// once per family, label values escaped, histograms as cumulative _bucket{le} series with
// _sum and _count.
#include "ferry/obs/metrics.h"
#include "ferry/obs/process_metrics.h"

#include <fmt/format.h>

#include <cassert>
#include <cmath>
#include <map>

namespace ferry::obs {
namespace {

// Label values escape backslash, double quote and newline; HELP text escapes backslash and
// newline only (the exposition format's two rules).
void appendEscaped(std::string& out, const std::string& v, bool quote) {
  for (char c : v) {
    if (c == '\\' || (quote && c == '"')) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// Go's strconv formatting as Prometheus clients write it: shortest round-trip digits,
// and the spellings the format fixes for infinities and NaN.
std::string formatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

void appendSeries(std::string& out, const std::string& name, const Labels& labels,
                  const std::pair<std::string, std::string>* extra, const std::string& value) {
  out += name;
  if (!labels.empty() || extra) {
    out += '{';
    bool first = true;
    auto add = [&](const std::pair<std::string, std::string>& l) {
      if (!first) out += ',';
      first = false;
      out += l.first;
      out += "=\"";
      appendEscaped(out, l.second, true);
      out += '"';
    };
    for (const auto& l : labels)
      add(l);
    if (extra) add(*extra);
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

void appendHelpAndType(std::string& out, const std::string& name, const std::string& help,
                       const char* type) {
  if (!help.empty()) {
    out += "# HELP " + name + ' ';
    appendEscaped(out, help, false);
    out += '\n';
  }
  out += fmt::format("# TYPE {} {}\n", name, type);
}

// One unlabelled sample under its own HELP and TYPE.
void appendSingle(std::string& out, const std::string& name, const std::string& help,
                  const char* type, double value) {
  appendHelpAndType(out, name, help, type);
  appendSeries(out, name, {}, nullptr, formatFloat(value));
}

// The families and HELP texts of the Prometheus client libraries (client_golang,
// prometheus_client for Python), so dashboards and alerts written for them work unchanged.
void appendProcessMetrics(std::string& out) {
  const ProcessStats p = sampleProcess();
  if (p.stat) {
    appendSingle(out, "process_cpu_seconds_total",
                 "Total user and system CPU time spent in seconds.", "counter",
                 p.stat->cpu_seconds);
    appendSingle(out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
                 p.stat->resident_bytes);
    appendSingle(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge",
                 p.stat->virtual_bytes);
    appendSingle(out, "process_start_time_seconds",
                 "Start time of the process since unix epoch in seconds.", "gauge",
                 p.stat->start_time_seconds);
  }
  if (p.open_fds)
    appendSingle(out, "process_open_fds", "Number of open file descriptors.", "gauge", *p.open_fds);
  if (p.max_fds)
    appendSingle(out, "process_max_fds", "Maximum number of open file descriptors.", "gauge",
                 *p.max_fds);
}

} // namespace

Histogram::Histogram(std::span<const double> upper_bounds)
    : bounds_(upper_bounds.begin(), upper_bounds.end()),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 1; i < bounds_.size(); ++i)
    assert(bounds_[i - 1] < bounds_[i]);
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  // Buckets are few (about a dozen): a linear scan beats a binary search's branches here.
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::string Metrics::key(const std::string& name, const Labels& labels) {
  // NUL cannot occur in a metric or label name, so it separates unambiguously.
  std::string k = name;
  for (const auto& [n, v] : labels) {
    k += '\0';
    k += n;
    k += '\0';
    k += v;
  }
  return k;
}

Metrics::Series* Metrics::find(const std::string& name, const Labels& labels) const {
  auto it = index_.find(key(name, labels));
  return it == index_.end() ? nullptr : it->second;
}

Metrics::Series& Metrics::getOrCreate(const std::string& name, const Labels& labels,
                                      const std::string& help, Kind kind,
                                      std::span<const double> upper_bounds) {
  std::lock_guard lock(mu_);
  std::string k = key(name, labels);
  if (auto it = index_.find(k); it != index_.end()) {
    assert(it->second->kind == kind);
    return *it->second;
  }
  Series& s = series_.emplace_back();
  s.name = name;
  s.labels = labels;
  s.help = help;
  s.kind = kind;
  if (kind == Kind::kHistogram) s.histogram = std::make_unique<Histogram>(upper_bounds);
  index_.emplace(std::move(k), &s);
  return s;
}

Counter& Metrics::counter(const std::string& name, const Labels& labels, const std::string& help) {
  return getOrCreate(name, labels, help, Kind::kCounter).counter;
}

Gauge& Metrics::gauge(const std::string& name, const Labels& labels, const std::string& help) {
  return getOrCreate(name, labels, help, Kind::kGauge).gauge;
}

Histogram& Metrics::histogram(const std::string& name, const Labels& labels,
                              const std::string& help, std::span<const double> upper_bounds) {
  return *getOrCreate(name, labels, help, Kind::kHistogram, upper_bounds).histogram;
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
  // Group series by family name, keeping first-seen order of families: the format wants
  // every line of a family together, under one HELP and TYPE.
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
    // Series of one family may be registered from several places; any one's text will do.
    const std::string* help = &first->help;
    for (const Series* s : list) {
      if (!s->help.empty()) {
        help = &s->help;
        break;
      }
    }
    appendHelpAndType(out, name, *help,
                      first->kind == Kind::kCounter ? "counter"
                      : first->kind == Kind::kGauge ? "gauge"
                                                    : "histogram");
    for (const Series* s : list) {
      switch (s->kind) {
      case Kind::kCounter:
        appendSeries(out, name, s->labels, nullptr, std::to_string(s->counter.value()));
        break;
      case Kind::kGauge:
        appendSeries(out, name, s->labels, nullptr, std::to_string(s->gauge.value()));
        break;
      case Kind::kHistogram: {
        const Histogram::Snapshot snap = s->histogram->snapshot();
        const auto& bounds = s->histogram->upperBounds();
        const std::string bucket = name + "_bucket";
        for (size_t i = 0; i <= bounds.size(); ++i) {
          const std::pair<std::string, std::string> le{
              "le", i < bounds.size() ? formatFloat(bounds[i]) : "+Inf"};
          appendSeries(out, bucket, s->labels, &le, std::to_string(snap.cumulative[i]));
        }
        appendSeries(out, name + "_sum", s->labels, nullptr, formatFloat(snap.sum));
        appendSeries(out, name + "_count", s->labels, nullptr, std::to_string(snap.count));
        break;
      }
      }
    }
  }
  if (with_process_) appendProcessMetrics(out);
  return out;
}

Metrics& Metrics::global() {
  static Metrics m(/*with_process=*/true);
  return m;
}

} // namespace ferry::obs
