// The `ferry` executable: command line, signal handling, wiring. Exit codes (SPEC.md):
// 0 clean stop, 1 bad config or usage (message names file, line and key), 2 runtime failure.
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.h"
#include "ferry/plugin.h"
#include "options_command.h"
#include "tail_command.h"
#include "top_command.h"

namespace {

const char* kUsage = R"(ferry — log shipping daemon

Usage:
  ferry run [-c FILE] [--dry-run]     run the daemon (the default command)
  ferry run --fluent-bit-config FILE  run from a Fluent Bit classic config (FireLens)
  ferry validate [-c FILE]            check the config and print it resolved, secrets masked
  ferry replay [-c FILE] [--output NAME]
                                      resend what outputs gave up on (storage dead letters)
  ferry convert FILE                  print the ferry YAML equivalent to a Fluent Bit config
  ferry tail [--json] [--level L] [--where K=V] [--from-head] PATH...
                                      follow files and print their records in the terminal
  ferry top [--url URL]               a live view of a running ferry (its /metrics)
  ferry options [--markdown] [TYPE...]
                                      every input, filter and output option, with defaults
  ferry version                       print the version
  ferry COMMAND --help                help for one command

Config source, first that is set wins: -c FILE; $FERRY_CONFIG (a path);
$FERRY_CONFIG_YAML (the YAML itself); the embedded default.
)";

} // namespace

int main(int argc, char** argv) {
  // Batches (~256 KiB) are allocated on one thread and freed on another, thousands a second.
  // With glibc's default dynamic threshold each one is mmap'ed, handed back to the kernel when
  // freed and faulted in again for the next: page faults were the largest cost in forward →
  // null. So batches stay on the heap (below 1 MiB), while request bodies of 1 MiB and more
  // (Firehose and Kinesis calls, S3 parts) are mmap'ed: freed, they leave at once instead of
  // staying in an arena as free holes between live batches (forward → firehose, 32 MiB
  // budget: peak RSS 73-92 MiB with an 8 MiB threshold and a malloc_trim every second,
  // 60-62 MiB with this, trimmed or not; records per CPU-second the same). The heap
  // keeps up to 32 MiB of free top (a lower threshold measured no better).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_TRIM_THRESHOLD, 32 << 20);
  // libcurl (loaded on an HTTP output's first request, lib/net/curl_loader.cc) brings GnuTLS
  // through librtmp and libldap, protocols ferry never uses; GnuTLS initialises itself on
  // load unless told not to (~0.7 MB of RSS). Set while the process is single-threaded.
  setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0);
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command = "run";
  if (!args.empty() && args[0].rfind('-', 0) != 0) {
    command = args[0];
    args.erase(args.begin());
  } else if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  } else if (!args.empty() && args[0] == "--version") {
    command = "version";
    args.erase(args.begin());
  }
  if (command == "run") return ferry::daemon::runCommand(args);
  if (command == "validate") return ferry::daemon::validateCommand(args);
  if (command == "replay") return ferry::daemon::replayCommand(args);
  if (command == "convert") return ferry::daemon::convertCommand(args);
  if (command == "tail") return ferry::daemon::tailCommand(args);
  if (command == "top") return ferry::daemon::topCommand(args);
  if (command == "options") return ferry::daemon::optionsCommand(args);
  if (command == "version") {
    std::printf("ferry %s (plugin ABI %d.%d)\n", FERRY_VERSION, FERRY_PLUGIN_ABI_MAJOR,
                FERRY_PLUGIN_ABI_MINOR);
    return 0;
  }
  if (command == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fprintf(stderr, "ferry: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 1;
}
