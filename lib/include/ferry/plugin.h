/* ferry sink plugin ABI: the only thing that crosses the dlopen line.
 *
 * Pure C, standard headers only. A sink plugin is a shared library exporting the
 * ferry_on_* functions below; the host (ferry's output runner) offers ferry_host_*
 * callbacks. The plugin does one job: turn records into a request and judge the response.
 * The host owns batching, concurrency, retry timing, budgets, acknowledgements and the
 * HTTP transport.
 *
 * Versioning: a change to any declaration here bumps FERRY_PLUGIN_ABI_MAJOR (breaking) or
 * FERRY_PLUGIN_ABI_MINOR (additive). The host refuses a plugin whose major differs or whose
 * minor is newer than its own, so a loaded plugin was built against the host's minor or an
 * older one. No struct carries a size field; what is additive is:
 *   - a new optional export: the host looks it up with dlsym and, when it is missing, does
 *     what it did before (ferry_on_request_bytes, ferry_on_check, ferry_on_request_records);
 *   - a new trailing field of a struct the host allocates and zeroes before the plugin fills
 *     it (ferry_plugin_limits, ferry_plugin_verdict), zero meaning the old behaviour: an
 *     older plugin never writes it (limits.parallel_encode, ABI 1.1);
 *   - a new trailing field of ferry_host_api, which the plugin only reads: a plugin that
 *     knows the field was built with a minor that has it, and the host's is not older;
 *   - a new trailing field of ferry_plugin_descriptor that the host reads only when the
 *     descriptor's abi_minor says the plugin has it.
 * Anything else breaks: a field in the middle, a field of an array element (the
 * ferry_plugin_record and ferry_plugin_option strides would change), a changed signature.
 * tests/lib/output/plugin_host_test.cc pins a hash of this file so that an edit without a
 * version bump fails the build's tests (an edit of comments alone re-pins the hash only).
 *
 * Conventions: every function returns quickly and never throws (a C++ plugin catches
 * everything at the boundary). OWNERSHIP says who frees a buffer; THREADING says from which
 * threads a function may be called. An instance is only ever used by one runner thread at a
 * time (except ferry_on_encode when the plugin sets limits.parallel_encode), so a plugin
 * needs no locking of its own unless it starts threads or asks for parallel encoding.
 */
#ifndef FERRY_PLUGIN_H
#define FERRY_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FERRY_PLUGIN_ABI_MAJOR 1
#define FERRY_PLUGIN_ABI_MINOR 5

#if defined(__GNUC__)
#define FERRY_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define FERRY_PLUGIN_EXPORT
#endif

/* ---- Records ------------------------------------------------------------------------ */

/* How a record's bytes encode its fields. */
typedef enum ferry_record_format {
  /* data is one msgpack map (string keys), exactly as a forward client sent it. */
  FERRY_RECORD_MSGPACK_MAP = 0,
  /* data is one line of text (no newline); its only field is "log". */
  FERRY_RECORD_LINE = 1,
} ferry_record_format;

/* A read-only view of one record.
 * OWNERSHIP: all pointers belong to the host and stay valid until the request built from
 * them is freed (ferry_on_request_free), so an encoder may keep views into them.
 * data may contain any bytes (invalid UTF-8 included). */
typedef struct ferry_plugin_record {
  int64_t timestamp_ns; /* nanoseconds since the Unix epoch */
  const char* tag;
  size_t tag_len;
  const uint8_t* data;
  size_t data_len;
  uint32_t format; /* ferry_record_format */
} ferry_plugin_record;

/* ---- Options ------------------------------------------------------------------------ */

typedef enum ferry_option_type {
  FERRY_OPTION_STRING = 0,
  FERRY_OPTION_BOOL = 1,
  FERRY_OPTION_INT = 2,         /* signed 64-bit */
  FERRY_OPTION_SIZE = 3,        /* "64MiB", "5MB", bare bytes → integer bytes */
  FERRY_OPTION_DURATION = 4,    /* "500ms", "5s", "2m" → integer milliseconds */
  FERRY_OPTION_ENUM = 5,        /* one of enum_values ("gzip|zstd|none") → string */
  FERRY_OPTION_STRING_LIST = 6, /* YAML sequence of scalars, or one scalar → array */
  FERRY_OPTION_STRING_MAP = 7,  /* YAML map of scalars → object of strings */
} ferry_option_type;

/* One declared option. The host validates the user's YAML against this table (unknown
 * keys, wrong types, out-of-range values, missing required ones: errors naming file, line
 * and key), masks secrets everywhere, and generates documentation from it.
 * OWNERSHIP: static storage in the plugin; valid while the library is loaded. */
typedef struct ferry_plugin_option {
  const char* name;
  uint32_t type;             /* ferry_option_type */
  const char* default_value; /* as the user would write it; NULL = no default */
  int required;              /* nonzero: must be given (and non-empty after interpolation) */
  int secret;                /* nonzero: never printed, logged or exported */
  const char* enum_values;   /* FERRY_OPTION_ENUM: '|'-separated choices; else NULL */
  int64_t min_value;         /* INT/SIZE/DURATION bounds (ms for durations); min > max = */
  int64_t max_value;         /*   unbounded */
  const char* doc;           /* one sentence for the README */
} ferry_plugin_option;

/* What a plugin is. Returned by ferry_on_describe.
 * OWNERSHIP: static storage in the plugin. */
typedef struct ferry_plugin_descriptor {
  uint32_t abi_major; /* FERRY_PLUGIN_ABI_MAJOR the plugin was built with */
  uint32_t abi_minor;
  const char* type_name;   /* the `type:` users write, e.g. "datadog" */
  const char* description; /* one line */
  const ferry_plugin_option* options;
  size_t option_count;
} ferry_plugin_descriptor;

/* ---- Host callbacks ----------------------------------------------------------------- */

typedef enum ferry_log_level {
  FERRY_LOG_DEBUG = 0,
  FERRY_LOG_INFO = 1,
  FERRY_LOG_WARN = 2,
  FERRY_LOG_ERROR = 3,
} ferry_log_level;

/* THREADING: every callback may be called from any thread, at any time between
 * ferry_on_init and the return of ferry_on_destroy. */
typedef struct ferry_host_api {
  uint32_t abi_major;
  uint32_t abi_minor;
  void* host_context; /* pass back as the first argument of every callback */
  /* Log one line through ferry's own logger (rate-limited there).
   * OWNERSHIP: message is copied before return. Never pass secrets. */
  void (*log)(void* host_context, uint32_t level, const char* message, size_t len);
  /* Add to a plugin-specific counter, exported as ferry_output_<name>_total{output}.
   * name must be [a-z0-9_]+. OWNERSHIP: name is copied. */
  void (*counter_add)(void* host_context, const char* name, uint64_t value);
  /* ABI 1.5 (present when abi_minor >= 5). Only from inside ferry_on_encode, on the thread
   * running it: the partition key (limits.partition_template evaluated) shared by every
   * record that call was offered. Sets *key and returns its length; the bytes are host-owned
   * and valid until ferry_on_encode returns (copy them into the request to keep them). An
   * output without a partition template, or a call from anywhere else, gets "" and 0. */
  size_t (*encode_partition)(void* host_context, const char** key);
} ferry_host_api;

/* ---- Instances, limits and requests ------------------------------------------------- */

typedef struct ferry_plugin_instance ferry_plugin_instance; /* opaque, plugin-owned */
typedef struct ferry_plugin_request ferry_plugin_request;   /* opaque, plugin-owned */

typedef enum ferry_transport {
  /* The host sends each request over HTTP(S) with its own client (keep-alive, HTTP/2,
   * proxies from the environment, TLS verification) and hands the response back. */
  FERRY_TRANSPORT_HTTP = 0,
  /* The plugin delivers each request itself in ferry_on_deliver (stdout, file, null). */
  FERRY_TRANSPORT_LOCAL = 1,
} ferry_transport;

/* Filled by the plugin in ferry_on_init: the vendor's limits, which clamp the runner. */
typedef struct ferry_plugin_limits {
  uint32_t transport;          /* ferry_transport */
  uint32_t max_records;        /* records offered per ferry_on_encode; 0 = host default */
  uint64_t max_request_bytes;  /* record bytes offered per ferry_on_encode; 0 = default */
  uint32_t max_concurrency;    /* upper bound on requests in flight; 0 = host default */
  uint64_t flush_interval_ms;  /* send a partial request after this long; 0 = default */
  uint64_t request_timeout_ms; /* HTTP timeout per attempt; 0 = default */
  /* ABI 1.1. Nonzero: ferry_on_encode is safe to call for this instance from several host
   * threads at once (the plugin keeps no unguarded per-instance scratch state), so the host
   * may encode and compress several requests in parallel. Every other function keeps the
   * one-runner-thread rule. */
  uint32_t parallel_encode;
  /* ABI 1.5. Partitioned batching: NULL or "" = none (every request may mix any records).
   * Otherwise a template the host evaluates for each record; the host keeps one open batch
   * per distinct value (all within the output's one buffer budget) and every
   * ferry_on_encode call, hence every request, holds records of one value only, in the order
   * they arrived (host->encode_partition tells the plugin which). The language:
   *   $TAG       the record's tag;
   *   $TAG[n]    its n-th '.'-separated part, n from 0 (empty when there is no such part);
   *   $(a) $(a.b) the value of field a (nested: field b of map a) of a msgpack map record
   *              (a line record's only field is "log"): strings as they are, numbers, true,
   *              false as text, maps and arrays as JSON, a missing field or nil as "";
   *   $$         a literal '$'; any other character stands for itself.
   * The host reads it once, when ferry_on_init returns, and refuses to start the output if
   * it does not parse (an unterminated $( or $TAG[). OWNERSHIP: plugin-owned; valid until
   * ferry_on_destroy. */
  const char* partition_template;
  /* ABI 1.5. Most partitions with records waiting to be encoded; 0 = host default (64).
   * When more are open, the host encodes the one holding the oldest record first, whatever
   * its size or the flush interval, until the count is back within the bound. */
  uint32_t max_partitions;
} ferry_plugin_limits;

/* An HTTP request the host should send. Filled by ferry_on_http_request.
 * OWNERSHIP: every pointer belongs to the plugin and must stay valid until the next call
 * on the same request (ferry_on_http_response, ferry_on_http_request or
 * ferry_on_request_free). */
typedef struct ferry_http_request {
  const char* method; /* "POST", "PUT", ... */
  const char* url;
  const char* const* headers; /* "Name: value" lines */
  size_t header_count;
  const uint8_t* body;
  size_t body_len;
} ferry_http_request;

/* An HTTP response (or a transport failure) handed back to the plugin.
 * OWNERSHIP: host-owned, valid only during the call. */
typedef struct ferry_http_response {
  int32_t status;             /* HTTP status, or 0 when the transport failed (see error) */
  const char* const* headers; /* "Name: value" lines, as received */
  size_t header_count;
  const uint8_t* body;
  size_t body_len;
  const char* error; /* transport error text when status == 0, else NULL */
} ferry_http_response;

typedef enum ferry_verdict_kind {
  /* Every record of the request reached the sink. */
  FERRY_VERDICT_DELIVERED = 0,
  /* Nothing was accepted; send the same request again after a backoff. */
  FERRY_VERDICT_RETRY = 1,
  /* The sink refused the request for good (e.g. HTTP 400): drop and count its records. */
  FERRY_VERDICT_DROP = 2,
  /* Some records were accepted (records_delivered), some dropped (records_dropped); the
   * plugin has narrowed the request to the rest, which the host sends again after a
   * backoff. Used for Firehose's FailedPutCount. */
  FERRY_VERDICT_PARTIAL = 3, /* a plugin that can should say which: ferry_on_request_records */
  /* The request was too large (e.g. HTTP 413): the host frees it and encodes its records
   * again as two requests of half the size. A single record too large is dropped. */
  FERRY_VERDICT_SPLIT = 4,
  /* The request has another step (e.g. multipart upload): the host calls
   * ferry_on_http_request again at once, with no backoff and no retry counted. */
  FERRY_VERDICT_CONTINUE = 5,
} ferry_verdict_kind;

/* The plugin's judgement of one attempt. The host zeroes it before each call. */
typedef struct ferry_plugin_verdict {
  uint32_t kind;              /* ferry_verdict_kind */
  uint32_t unhealthy;         /* nonzero: report the output unhealthy (401/403) until success */
  uint32_t throttled;         /* nonzero: the sink asked us to slow down (429): halve concurrency */
  uint64_t retry_after_ms;    /* > 0: wait at least this long before retrying (Retry-After) */
  uint64_t records_delivered; /* PARTIAL only */
  uint64_t records_dropped;   /* PARTIAL only */
  char message[256];          /* why, for the log; NUL-terminated; never secrets */
} ferry_plugin_verdict;

/* ---- Plugin exports ----------------------------------------------------------------- */

/* Describes the plugin. Called first, right after dlopen. THREADING: any thread. */
FERRY_PLUGIN_EXPORT const ferry_plugin_descriptor* ferry_on_describe(void);

/* Creates an instance from its validated options.
 * config_json: a JSON object holding every declared option with its value after
 * interpolation and defaults (sizes in bytes, durations in milliseconds, lists as arrays).
 * OWNERSHIP: config_json and host are host-owned; host outlives the instance. The instance
 * is freed with ferry_on_destroy. error (capacity error_cap) receives a NUL-terminated
 * reason on failure, naming the option.
 * Returns 0 on success. THREADING: main thread, during start-up or reload. */
FERRY_PLUGIN_EXPORT int ferry_on_init(const ferry_host_api* host, const char* config_json,
                                      size_t config_len, ferry_plugin_instance** instance,
                                      ferry_plugin_limits* limits, char* error, size_t error_cap);

/* Frees an instance. Every request has been freed before. THREADING: main thread. */
FERRY_PLUGIN_EXPORT void ferry_on_destroy(ferry_plugin_instance* instance);

/* Encodes a prefix of records into one request.
 * Sets *consumed to how many records (from the first, at least 1 when count > 0) the
 * request covers; the host offers the rest again in later calls. Records the plugin cannot
 * encode at all are still counted in *consumed and reported in *dropped.
 * OWNERSHIP: *request is plugin-owned, freed by ferry_on_request_free. The records array
 * itself is host-owned and valid only during the call; the record bytes it points to stay
 * valid until the request is freed.
 * Returns 0 on success. THREADING: the output's runner thread, or (limits.parallel_encode)
 * any of the host's encoder threads, concurrently. */
FERRY_PLUGIN_EXPORT int ferry_on_encode(ferry_plugin_instance* instance,
                                        const ferry_plugin_record* records, size_t count,
                                        size_t* consumed, size_t* dropped,
                                        ferry_plugin_request** request, char* error,
                                        size_t error_cap);

/* HTTP transport only. Describes the next attempt of a request (sign it now: dates and
 * credentials are fresh). Returns 0 on success; nonzero = retry later (e.g. credentials not
 * available yet), with the reason in error. THREADING: the output's runner thread. */
FERRY_PLUGIN_EXPORT int ferry_on_http_request(ferry_plugin_instance* instance,
                                              ferry_plugin_request* request,
                                              ferry_http_request* out, char* error,
                                              size_t error_cap);

/* HTTP transport only. Judges the response to the attempt last described.
 * THREADING: the output's runner thread. */
FERRY_PLUGIN_EXPORT void ferry_on_http_response(ferry_plugin_instance* instance,
                                                ferry_plugin_request* request,
                                                const ferry_http_response* response,
                                                ferry_plugin_verdict* verdict);

/* LOCAL transport only. Delivers the request and judges the outcome.
 * THREADING: the output's runner thread. */
FERRY_PLUGIN_EXPORT void ferry_on_deliver(ferry_plugin_instance* instance,
                                          ferry_plugin_request* request,
                                          ferry_plugin_verdict* verdict);

/* Frees a request. THREADING: the output's runner thread. */
FERRY_PLUGIN_EXPORT void ferry_on_request_free(ferry_plugin_instance* instance,
                                               ferry_plugin_request* request);

/* ABI 1.2, optional (the host looks it up; a plugin without it still loads). The bytes of
 * memory the request holds in the plugin: its body as it will be sent (compressed or not)
 * and whatever else it keeps to rebuild it. The host counts them in the output's
 * buffer.max_bytes beside the records the request was built from (those are the host's and
 * already counted), and stops encoding new requests while the bytes held by encoded,
 * unacknowledged requests pass half of that budget. Called once after ferry_on_encode
 * returns the request, after each ferry_on_http_request and after each verdict (a partial
 * resend may shrink it). Without this export the host counts the body of the attempt last
 * described (ferry_http_request.body_len), nothing before the first one.
 * THREADING: the thread that encoded the request (before the host takes it over) or the
 * output's runner thread; never concurrently for one request. */
FERRY_PLUGIN_EXPORT uint64_t ferry_on_request_bytes(ferry_plugin_instance* instance,
                                                    const ferry_plugin_request* request);

/* ABI 1.3, optional (the host looks it up; a plugin without it still loads). Checks the
 * options exactly as ferry_on_init would, without creating an instance: no sockets, files,
 * threads or network. `ferry validate` and `ferry run` both call it for every output before
 * anything starts, so a config that validates also starts, and a bad option is a config
 * error (exit 1) in both.
 * config_json: as for ferry_on_init. error (capacity error_cap) receives a NUL-terminated
 * "option: reason" on failure (never a secret's value).
 * Returns 0 when the options are valid. THREADING: main thread. */
FERRY_PLUGIN_EXPORT int ferry_on_check(const char* config_json, size_t config_len, char* error,
                                       size_t error_cap);

/* What became of one record of a request, as ferry_on_request_records reports it. */
typedef enum ferry_record_state {
  FERRY_RECORD_HELD = 0,      /* still in the request: it will be sent (again) */
  FERRY_RECORD_DELIVERED = 1, /* accepted by the sink (a PARTIAL verdict) */
  FERRY_RECORD_DROPPED = 2,   /* refused for good: by the encoder (*dropped) or by the sink */
} ferry_record_state;

/* ABI 1.4, optional (the host looks it up; a plugin without it still loads). Says which
 * records a request still holds: states has one entry per record ferry_on_encode consumed
 * for it, in the order they were offered, and the plugin sets each to a ferry_record_state.
 * The host asks after an encode that reported *dropped > 0 and after each PARTIAL verdict,
 * and resolves at once the records the plugin names (so their batches are acknowledged and a
 * later SPLIT re-encodes only what is left). The counts must agree with the verdict
 * (records_delivered, records_dropped) and a resolved record never becomes held again;
 * otherwise, or without this export, the host knows only the counts: it keeps the request's
 * records until the request ends and never re-encodes records the sink took part of (a SPLIT
 * after a PARTIAL sends the narrowed request again, after a backoff).
 * Returns 0 when it filled states. THREADING: the output's runner thread. */
FERRY_PLUGIN_EXPORT int ferry_on_request_records(ferry_plugin_instance* instance,
                                                 const ferry_plugin_request* request,
                                                 uint8_t* states, size_t count);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_PLUGIN_H */
