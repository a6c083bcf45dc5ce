// The input side of the plugin boundary (inputs are built into libferry, not plugins):
// an input reads, packs records into Batches, and pushes them into the ring through its
// InputContext, which applies backpressure.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "ferry/core/batch.h"
#include "ferry/obs/metrics.h"

namespace ferry::input {

// What the host gives an input.
class InputContext {
public:
  virtual ~InputContext() = default;
  // Hands a batch to the ring. Blocks while the ring is full or while this input is paused
  // by an output's full buffer (backpressure: the input simply stops reading). Counts the
  // records and bytes in ferry_input_records_total / ferry_input_bytes_total.
  // Without storage it always returns true: the ring is waited on, never refused (when the
  // daemon stops, the pause ends and the batch is taken anyway). With storage on it returns
  // false only when the daemon stops while the disk still cannot take the batch: nothing was
  // stored or counted, and the batch is freed unresolved, so its finalizer reports kFailed
  // and the source does not acknowledge it (the sender or the file has it again).
  virtual bool push(core::BatchRef batch) = 0;
  // True while an output fed by this input is over budget (or, with storage on, while the
  // disk buffer cannot take more). Inputs with their own event loop (forward, tcp) check it
  // to stop reading sockets instead of blocking in push(). The host decides the pause here
  // and nowhere else, and keeps ferry_input_paused current as it does.
  virtual bool paused() const = 0;
  // The input's label value in metrics ("forward", "tail.0", or the user's `name`).
  virtual const std::string& name() const = 0;
  virtual uint32_t id() const = 0;
  virtual obs::Metrics& metrics() = 0;
};

class Input {
public:
  virtual ~Input() = default;
  // Starts the input's own thread(s). Throws std::runtime_error on start-up failure (cannot
  // bind, cannot open), caught by the daemon.
  virtual void start(InputContext& context) = 0;
  // Asks the input to stop accepting/reading; it pushes what it holds and returns from its
  // threads soon after. Safe to call from any thread, more than once.
  virtual void stop() = 0;
  // Waits for the input's threads to end.
  virtual void join() = 0;
  // True for inputs that end by themselves (stdin at end of file); the daemon exits when
  // every input is finite and has finished and everything is flushed.
  virtual bool finite() const { return false; }
  virtual bool finished() const { return false; }
};

using InputPtr = std::unique_ptr<Input>;

} // namespace ferry::input
