// The open-files limit at start-up: the soft RLIMIT_NOFILE is raised to the hard one.
#pragma once

namespace ferry::daemon {

// Raises the soft limit on open files to the hard limit (1024 is the usual soft default of
// shells and container runtimes, far below what a host allows) and logs what it became.
// A refusal is a warning: ferry runs within the limit it has (the tail input's
// max_open_files keeps to half of it).
void raiseFdLimit();

} // namespace ferry::daemon
