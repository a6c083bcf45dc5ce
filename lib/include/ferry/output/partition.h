// Partition templates (plugin.h, limits.partition_template): the key that decides which open
// batch of a partitioned output a record joins. $TAG, $TAG[n] (the tag's n-th '.'-separated
// part, from 0), $(field) and $(a.b) (record fields, nested through maps; a line record's only
// field is "log"), $$ for a '$'; anything else is literal text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::output {

class PartitionTemplate {
public:
  PartitionTemplate() = default;
  // Refuses an unterminated $( or $TAG[, an empty field name, or a part number that is not
  // a number; the message quotes the offending piece.
  static std::expected<PartitionTemplate, std::string> parse(std::string_view text);

  bool empty() const { return pieces_.empty(); }
  // Whether the key depends on anything but the tag (then it is evaluated per record; else
  // once per batch).
  bool usesFields() const { return uses_fields_; }

  // The key of one record. `format` is a ferry_record_format. Missing fields, nil and
  // malformed records give "" for their piece.
  std::string evaluate(std::string_view tag, std::string_view data, uint32_t format) const;

private:
  struct Piece {
    enum class Kind : uint8_t { kText, kTag, kTagPart, kField };
    Kind kind = Kind::kText;
    std::string text;              // kText
    size_t part = 0;               // kTagPart
    std::vector<std::string> path; // kField
  };
  std::vector<Piece> pieces_;
  bool uses_fields_ = false;
};

// The n-th part of `tag` split on '.', or empty when it has fewer parts.
std::string_view tagPart(std::string_view tag, size_t n);

// The text of the field at `path` (keys from the top-level map down) of a msgpack map
// record, as PartitionTemplate renders it; nullopt-like empty when missing.
std::string msgpackFieldText(std::string_view record, const std::vector<std::string>& path);

} // namespace ferry::output
