// Tests for the forward input over real sockets (unix and TCP on 127.0.0.1): batches, acks
// only after push() returned, bad input closing one connection, pause, stale socket files,
// the shared_key handshake, idle timeout, limits and TLS.
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "ferry/input/forward.h"
#include "forward_test_util.h"

namespace ferry::input {
namespace {

using namespace std::chrono_literals;
using namespace forward::testing;

// Collects batches; push() can be held until the test releases it.
class FakeContext : public InputContext {
public:
  bool push(core::BatchRef batch) override {
    std::unique_lock lock(mu_);
    ++push_calls_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !hold_ || stopping_; });
    if (stopping_) return false;
    records_ += batch->size();
    batches_.push_back(std::move(batch));
    cv_.notify_all();
    return true;
  }
  bool paused() const override { return paused_.load(); }
  const std::string& name() const override { return name_; }
  uint32_t id() const override { return 7; }
  obs::Metrics& metrics() override { return metrics_; }

  void hold(bool on) {
    std::lock_guard lock(mu_);
    hold_ = on;
    cv_.notify_all();
  }
  void setPaused(bool on) { paused_.store(on); }
  void stopping() {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  bool waitRecords(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return records_ >= n; });
  }
  bool waitPushCalls(size_t n, std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return push_calls_ >= n; });
  }
  std::vector<core::BatchRef> batches() {
    std::lock_guard lock(mu_);
    return batches_;
  }
  size_t records() {
    std::lock_guard lock(mu_);
    return records_;
  }
  size_t pushCalls() {
    std::lock_guard lock(mu_);
    return push_calls_;
  }
  uint64_t errors(const std::string& reason) {
    return metrics_.counterValue("ferry_input_errors_total",
                                 {{"input", name_}, {"reason", reason}});
  }
  int64_t connections() {
    return metrics_.gaugeValue("ferry_input_connections", {{"input", name_}});
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<core::BatchRef> batches_;
  size_t records_ = 0;
  size_t push_calls_ = 0;
  bool hold_ = false;
  bool stopping_ = false;
  std::atomic<bool> paused_{false};
  std::string name_ = "forward";
  obs::Metrics metrics_;
};

ForwardListenAddress unixAt(const std::filesystem::path& p) {
  return *parseForwardListen("unix://" + p.string());
}
ForwardListenAddress tcpAny() {
  return *parseForwardListen("tcp://127.0.0.1:0");
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  operator int() const { return fd; }
};

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

class ForwardServerTest : public ::testing::Test {
protected:
  void TearDown() override {
    context_.hold(false);
    context_.stopping();
    if (input_) {
      input_->stop();
      input_->join();
    }
  }
  ForwardInput& start(ForwardInputConfig config) {
    input_ = std::make_unique<ForwardInput>(std::move(config));
    input_->start(context_);
    return *input_;
  }

  test::TempDir dir_;
  FakeContext context_;
  std::unique_ptr<ForwardInput> input_;
};

TEST_F(ForwardServerTest, UnixSocketDeliversBatchesWithTheTagPrefix) {
  ForwardInputConfig config;
  config.listen = {unixAt(dir_ / "fluent.sock")};
  config.tag_prefix = "ecs.";
  start(config);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "fluent.sock").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);

  Fd fd(connectUnix(dir_ / "fluent.sock"));
  ASSERT_GE(fd, 0);
  const auto entries = makeEntries(3);
  ASSERT_TRUE(sendAll(fd, forwardFrame("app", entries)));
  ASSERT_TRUE(context_.waitRecords(3));
  const auto batches = context_.batches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0]->tag(), "ecs.app");
  EXPECT_EQ(batches[0]->inputId(), 7u);
  EXPECT_EQ(batches[0]->record(2).data, record(2));
  EXPECT_EQ(batches[0]->record(2).timestamp_ns, 1700000002LL * 1'000'000'000 + 2000);
  EXPECT_EQ(context_.connections(), 1);
}

TEST_F(ForwardServerTest, APackedForwardOfAThousandRecordsIsOneBatch) {
  ForwardInputConfig config;
  config.listen = {tcpAny()};
  auto& input = start(config);
  ASSERT_NE(input.tcpPort(), 0);
  Fd fd(connectTcp(input.tcpPort()));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, packedFrame("p", packedEntries(makeEntries(1000)))));
  ASSERT_TRUE(context_.waitRecords(1000));
  const auto batches = context_.batches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0]->size(), 1000u);
}

TEST_F(ForwardServerTest, AckIsSentOnlyAfterPushReturned) {
  ForwardInputConfig config;
  config.listen = {tcpAny()};
  auto& input = start(config);
  context_.hold(true);
  Fd fd(connectTcp(input.tcpPort()));
  ASSERT_TRUE(sendAll(fd, packedFrame("p", packedEntries(makeEntries(10)),
                                      Options{.chunk = "chunk-1", .size = 10})));
  ASSERT_TRUE(context_.waitPushCalls(1)); // the loop is inside push(), held
  MsgpackReader reader(fd);
  EXPECT_FALSE(reader.next(300ms)) << "ack sent before push() returned";
  context_.hold(false);
  auto ack = reader.next(5s);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ackOf(ack->get()), "chunk-1");
  EXPECT_EQ(context_.records(), 10u);
}

TEST_F(ForwardServerTest, MessageModeFramesInOneWriteShareABatchAndAllAreAcked) {
  ForwardInputConfig config;
  config.listen = {unixAt(dir_ / "f.sock")};
  start(config);
  Fd fd(connectUnix(dir_ / "f.sock"));
  std::string frames;
  for (int i = 0; i < 50; ++i) {
    frames += messageFrame("m", packTime(TimeFormat::kInt, 1), record(i),
                           Options{.chunk = "c" + std::to_string(i)});
  }
  ASSERT_TRUE(sendAll(fd, frames));
  MsgpackReader reader(fd);
  for (int i = 0; i < 50; ++i) {
    auto ack = reader.next(5s);
    ASSERT_TRUE(ack) << i;
    EXPECT_EQ(ackOf(ack->get()), "c" + std::to_string(i));
  }
  EXPECT_EQ(context_.records(), 50u);
  EXPECT_LT(context_.batches().size(), 50u); // coalesced, not one batch per record
}

TEST_F(ForwardServerTest, MalformedInputClosesOnlyThatConnection) {
  ForwardInputConfig config;
  config.listen = {tcpAny()};
  auto& input = start(config);
  Fd bad(connectTcp(input.tcpPort()));
  Fd good(connectTcp(input.tcpPort()));
  ASSERT_TRUE(eventually([&] { return context_.connections() == 2; }));
  ASSERT_TRUE(sendAll(bad, std::string("\x93\xa1t\xc1", 4)));
  EXPECT_TRUE(waitClosed(bad, 5s));
  EXPECT_TRUE(eventually([&] { return context_.errors("malformed") == 1; }));
  EXPECT_TRUE(eventually([&] { return context_.connections() == 1; }));

  ASSERT_TRUE(sendAll(good, forwardFrame("ok", makeEntries(2), Options{.chunk = "g"})));
  MsgpackReader reader(good);
  auto ack = reader.next(5s);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ackOf(ack->get()), "g");
  EXPECT_EQ(context_.records(), 2u);
}

TEST_F(ForwardServerTest, RecordsBeforeABadFrameAreKept) {
  ForwardInputConfig config;
  config.listen = {unixAt(dir_ / "f.sock")};
  start(config);
  Fd fd(connectUnix(dir_ / "f.sock"));
  ASSERT_TRUE(sendAll(fd, forwardFrame("ok", makeEntries(4)) +
                              packedFrame("gz", "garbage", Options{.compressed = "gzip"})));
  EXPECT_TRUE(waitClosed(fd, 5s));
  EXPECT_TRUE(context_.waitRecords(4));
  EXPECT_TRUE(eventually([&] { return context_.errors("bad_gzip") == 1; }));
}

TEST_F(ForwardServerTest, PausedStopsReadingWithoutClosing) {
  ForwardInputConfig config;
  config.listen = {unixAt(dir_ / "f.sock")};
  start(config);
  context_.setPaused(true);
  std::this_thread::sleep_for(100ms); // let the loop see the pause
  Fd fd(connectUnix(dir_ / "f.sock"));
  ASSERT_TRUE(sendAll(fd, forwardFrame("p", makeEntries(5))));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(context_.pushCalls(), 0u) << "read while paused";
  EXPECT_FALSE(waitClosed(fd, 50ms)) << "closed while paused";
  context_.setPaused(false);
  EXPECT_TRUE(context_.waitRecords(5));
}

TEST_F(ForwardServerTest, AClientHangingUpWhilePausedIsReadAfterThePause) {
  ForwardInputConfig config;
  config.listen = {unixAt(dir_ / "f.sock")};
  start(config);
  context_.setPaused(true);
  std::this_thread::sleep_for(100ms);
  {
    Fd fd(connectUnix(dir_ / "f.sock"));
    ASSERT_TRUE(sendAll(fd, forwardFrame("p", makeEntries(5))));
  } // closed: the server sees a hang-up while paused
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(context_.pushCalls(), 0u);
  context_.setPaused(false);
  EXPECT_TRUE(context_.waitRecords(5));
  EXPECT_TRUE(eventually([&] { return context_.connections() == 0; }));
}

TEST_F(ForwardServerTest, AStaleSocketFileIsReplaced) {
  const auto path = dir_ / "stale.sock";
  { // a socket file whose server is gone, as after a crash
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  ForwardInputConfig config;
  config.listen = {unixAt(path)};
  start(config);
  Fd fd(connectUnix(path));
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendAll(fd, forwardFrame("s", makeEntries(1))));
  EXPECT_TRUE(context_.waitRecords(1));
}

TEST_F(ForwardServerTest, APathThatIsNotASocketIsLeftAlone) {
  const auto path = dir_ / "precious.txt";
  test::writeFile(path, "keep me");
  ForwardInputConfig config;
  config.listen = {unixAt(path)};
  ForwardInput input(config);
  EXPECT_THROW(input.start(context_), std::runtime_error);
  EXPECT_EQ(test::readFile(path), "keep me");
}

TEST_F(ForwardServerTest, ASocketInUseIsNotStolen) {
  ForwardInputConfig config;
  config.listen = {unixAt(dir_ / "busy.sock")};
  start(config);
  FakeContext other;
  ForwardInput second(config);
  EXPECT_THROW(second.start(other), std::runtime_error);
  Fd fd(connectUnix(dir_ / "busy.sock")); // the first one still serves
  ASSERT_TRUE(sendAll(fd, forwardFrame("s", makeEntries(1))));
  EXPECT_TRUE(context_.waitRecords(1));
}

TEST_F(ForwardServerTest, StopRemovesTheSocketFileAndJoins) {
  ForwardInputConfig config;
  config.listen = {unixAt(dir_ / "gone.sock"), tcpAny()};
  start(config);
  ASSERT_TRUE(std::filesystem::exists(dir_ / "gone.sock"));
  input_->stop();
  input_->join();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "gone.sock"));
  EXPECT_LT(connectUnix(dir_ / "gone.sock"), 0);
}

TEST_F(ForwardServerTest, StopSendsTheAcksThatAreDue) {
  ForwardInputConfig config;
  config.listen = {tcpAny()};
  auto& input = start(config);
  Fd fd(connectTcp(input.tcpPort()));
  context_.hold(true);
  ASSERT_TRUE(sendAll(fd, forwardFrame("s", makeEntries(2), Options{.chunk = "last"})));
  ASSERT_TRUE(context_.waitPushCalls(1));
  std::thread stopper([&] { input_->stop(); });
  std::this_thread::sleep_for(50ms);
  context_.hold(false); // push() takes the batch: the ack is due, then the loop stops
  MsgpackReader reader(fd);
  auto ack = reader.next(5s);
  stopper.join();
  input_->join();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ackOf(ack->get()), "last");
}

// The client side of the shared_key handshake, computed here independently.
std::string sha512Hex(std::initializer_list<std::string_view> parts) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr);
  for (auto p : parts)
    EVP_DigestUpdate(ctx, p.data(), p.size());
  unsigned char md[64];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, md, &n);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  char buf[3];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof(buf), "%02x", md[i]);
    hex += buf;
  }
  return hex;
}

std::string nonceOf(const msgpack::object& helo) {
  EXPECT_EQ(helo.type, msgpack::type::ARRAY);
  EXPECT_EQ(helo.via.array.ptr[0].as<std::string>(), "HELO");
  const auto& opts = helo.via.array.ptr[1];
  for (uint32_t i = 0; i < opts.via.map.size; ++i) {
    if (opts.via.map.ptr[i].key.as<std::string>() == "nonce") {
      const auto& v = opts.via.map.ptr[i].val;
      return v.type == msgpack::type::BIN ? std::string(v.via.bin.ptr, v.via.bin.size)
                                          : v.as<std::string>();
    }
  }
  return "";
}

std::string ping(std::string_view nonce, std::string_view key, std::string_view salt) {
  Packer p;
  p.pk().pack_array(6);
  p.pk().pack(std::string("PING")).pack(std::string("client.test")).pack(std::string(salt));
  p.pk().pack(sha512Hex({salt, "client.test", nonce, key}));
  p.pk().pack(std::string("")).pack(std::string(""));
  return p.str();
}

TEST_F(ForwardServerTest, SharedKeyHandshakeAccepted) {
  ForwardInputConfig config;
  config.listen = {tcpAny()};
  config.shared_key = "s3cret";
  config.self_hostname = "server.test";
  auto& input = start(config);
  Fd fd(connectTcp(input.tcpPort()));
  MsgpackReader reader(fd);
  auto helo = reader.next(5s);
  ASSERT_TRUE(helo);
  const std::string nonce = nonceOf(helo->get());
  ASSERT_EQ(nonce.size(), 16u);
  ASSERT_TRUE(sendAll(fd, ping(nonce, "s3cret", "0123456789abcdef")));
  auto pong = reader.next(5s);
  ASSERT_TRUE(pong);
  const auto& a = pong->get().via.array;
  ASSERT_EQ(a.size, 5u);
  EXPECT_EQ(a.ptr[0].as<std::string>(), "PONG");
  EXPECT_TRUE(a.ptr[1].as<bool>());
  EXPECT_EQ(a.ptr[3].as<std::string>(), "server.test");
  EXPECT_EQ(a.ptr[4].as<std::string>(),
            sha512Hex({"0123456789abcdef", "server.test", nonce, "s3cret"}));
  ASSERT_TRUE(sendAll(fd, forwardFrame("auth", makeEntries(2), Options{.chunk = "a"})));
  auto ack = reader.next(5s);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ackOf(ack->get()), "a");
  EXPECT_EQ(context_.records(), 2u);
}

TEST_F(ForwardServerTest, SharedKeyHandshakeRefused) {
  ForwardInputConfig config;
  config.listen = {tcpAny()};
  config.shared_key = "s3cret";
  auto& input = start(config);
  Fd fd(connectTcp(input.tcpPort()));
  MsgpackReader reader(fd);
  auto helo = reader.next(5s);
  ASSERT_TRUE(helo);
  const std::string nonce = nonceOf(helo->get());
  ASSERT_TRUE(sendAll(fd, ping(nonce, "wrong", "saltsaltsaltsalt") +
                              forwardFrame("sneaky", makeEntries(2))));
  auto pong = reader.next(5s);
  ASSERT_TRUE(pong);
  const auto& a = pong->get().via.array;
  ASSERT_GE(a.size, 3u);
  EXPECT_FALSE(a.ptr[1].as<bool>());
  EXPECT_EQ(a.ptr[2].as<std::string>(), "shared_key mismatch");
  EXPECT_TRUE(waitClosed(fd, 5s));
  EXPECT_TRUE(eventually([&] { return context_.errors("auth_failed") == 1; }));
  EXPECT_EQ(context_.pushCalls(), 0u);
}

TEST_F(ForwardServerTest, DataWithoutAPingIsRefused) {
  ForwardInputConfig config;
  config.listen = {tcpAny()};
  config.shared_key = "s3cret";
  auto& input = start(config);
  Fd fd(connectTcp(input.tcpPort()));
  ASSERT_TRUE(sendAll(fd, forwardFrame("sneaky", makeEntries(2))));
  EXPECT_TRUE(waitClosed(fd, 5s));
  EXPECT_EQ(context_.pushCalls(), 0u);
}

TEST_F(ForwardServerTest, UnixSocketsSkipTheHandshake) {
  ForwardInputConfig config;
  config.listen = {unixAt(dir_ / "f.sock"), tcpAny()};
  config.shared_key = "s3cret";
  start(config);
  Fd fd(connectUnix(dir_ / "f.sock"));
  ASSERT_TRUE(sendAll(fd, forwardFrame("u", makeEntries(1))));
  EXPECT_TRUE(context_.waitRecords(1));
}

TEST_F(ForwardServerTest, IdleTimeoutClosesOnlyClientsStalledMidFrame) {
  ForwardInputConfig config;
  config.listen = {unixAt(dir_ / "f.sock")};
  config.idle_timeout = 200ms;
  start(config);
  Fd stalled(connectUnix(dir_ / "f.sock"));
  Fd idle(connectUnix(dir_ / "f.sock"));
  const auto frame = forwardFrame("i", makeEntries(2));
  ASSERT_TRUE(sendAll(stalled, std::string_view(frame).substr(0, frame.size() / 2)));
  EXPECT_TRUE(waitClosed(stalled, 3s));
  EXPECT_TRUE(eventually([&] { return context_.errors("idle_timeout") == 1; }));
  EXPECT_FALSE(waitClosed(idle, 300ms));
  ASSERT_TRUE(sendAll(idle, frame));
  EXPECT_TRUE(context_.waitRecords(2));
}

TEST_F(ForwardServerTest, AFrameOverBufferMaxSizeClosesTheConnection) {
  ForwardInputConfig config;
  config.listen = {unixAt(dir_ / "f.sock")};
  config.buffer_max_size = 4096;
  start(config);
  Fd fd(connectUnix(dir_ / "f.sock"));
  ASSERT_TRUE(sendAll(fd, packedFrame("big", packedEntries(makeEntries(200)))));
  EXPECT_TRUE(waitClosed(fd, 5s));
  EXPECT_TRUE(eventually([&] { return context_.errors("frame_too_large") == 1; }));
  EXPECT_EQ(context_.pushCalls(), 0u);
}

TEST_F(ForwardServerTest, MaxConnectionsRefusesTheExtraOnes) {
  ForwardInputConfig config;
  config.listen = {unixAt(dir_ / "f.sock")};
  config.max_connections = 1;
  start(config);
  Fd first(connectUnix(dir_ / "f.sock"));
  ASSERT_TRUE(eventually([&] { return context_.connections() == 1; }));
  Fd second(connectUnix(dir_ / "f.sock"));
  EXPECT_TRUE(waitClosed(second, 5s));
  EXPECT_TRUE(eventually([&] { return context_.errors("too_many_connections") == 1; }));
  ASSERT_TRUE(sendAll(first, forwardFrame("one", makeEntries(1))));
  EXPECT_TRUE(context_.waitRecords(1));
}

TEST_F(ForwardServerTest, OversizedRecordsAreDroppedAndCounted) {
  ForwardInputConfig config;
  config.listen = {unixAt(dir_ / "f.sock")};
  config.max_record_bytes = 100;
  start(config);
  Fd fd(connectUnix(dir_ / "f.sock"));
  const Entries entries = {{packTime(TimeFormat::kInt, 1), record(1)},
                           {packTime(TimeFormat::kInt, 2), record(2, std::string(500, 'x'))}};
  ASSERT_TRUE(sendAll(fd, forwardFrame("big", entries, Options{.chunk = "d"})));
  MsgpackReader reader(fd);
  auto ack = reader.next(5s);
  ASSERT_TRUE(ack);
  EXPECT_EQ(context_.records(), 1u);
  EXPECT_EQ(context_.errors("record_too_large"), 1u);
}

// ---- TLS ---------------------------------------------------------------------------------

void writeSelfSigned(const std::filesystem::path& cert, const std::filesystem::path& key) {
  EVP_PKEY* pkey = EVP_EC_gen("P-256");
  ASSERT_NE(pkey, nullptr);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  ASSERT_GT(X509_sign(x, pkey, EVP_sha256()), 0);
  FILE* f = std::fopen(cert.c_str(), "w");
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(key.c_str(), "w");
  PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(pkey);
}

// A blocking TLS client (no certificate verification: the test's own self-signed server).
class TlsClient {
public:
  explicit TlsClient(uint16_t port) : fd_(connectTcp(port)) {
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    connected_ = SSL_connect(ssl_) == 1;
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool send(std::string_view bytes) {
    return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
           static_cast<int>(bytes.size());
  }
  std::optional<msgpack::object_handle> next() {
    while (true) {
      msgpack::object_handle oh;
      if (unpacker_.next(oh)) return oh;
      unpacker_.reserve_buffer(4096);
      const int n = SSL_read(ssl_, unpacker_.buffer(), 4096);
      if (n <= 0) return std::nullopt;
      unpacker_.buffer_consumed(static_cast<size_t>(n));
    }
  }

private:
  int fd_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool connected_ = false;
  msgpack::unpacker unpacker_;
};

TEST_F(ForwardServerTest, TlsCarriesFramesAndAcks) {
  writeSelfSigned(dir_ / "cert.pem", dir_ / "key.pem");
  ForwardInputConfig config;
  config.listen = {tcpAny()};
  config.tls_cert = dir_ / "cert.pem";
  config.tls_key = dir_ / "key.pem";
  config.buffer_chunk_size = 4096; // many reads per frame: exercises buffered TLS records
  auto& input = start(config);
  TlsClient client(input.tcpPort());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(
      client.send(packedFrame("tls", packedEntries(makeEntries(1000)), Options{.chunk = "t1"})));
  ASSERT_TRUE(client.send(forwardFrame("tls", makeEntries(3), Options{.chunk = "t2"})));
  auto ack = client.next();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ackOf(ack->get()), "t1");
  ack = client.next();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ackOf(ack->get()), "t2");
  EXPECT_EQ(context_.records(), 1003u);
}

TEST_F(ForwardServerTest, TlsWithTheSharedKeyHandshake) {
  writeSelfSigned(dir_ / "cert.pem", dir_ / "key.pem");
  ForwardInputConfig config;
  config.listen = {tcpAny()};
  config.tls_cert = dir_ / "cert.pem";
  config.tls_key = dir_ / "key.pem";
  config.shared_key = "k";
  config.self_hostname = "srv";
  auto& input = start(config);
  TlsClient client(input.tcpPort());
  ASSERT_TRUE(client.connected());
  auto helo = client.next();
  ASSERT_TRUE(helo);
  const std::string nonce = nonceOf(helo->get());
  ASSERT_TRUE(client.send(ping(nonce, "k", "salt")));
  auto pong = client.next();
  ASSERT_TRUE(pong);
  EXPECT_TRUE(pong->get().via.array.ptr[1].as<bool>());
  ASSERT_TRUE(client.send(
      messageFrame("m", packTime(TimeFormat::kInt, 1), record(1), Options{.chunk = "m1"})));
  auto ack = client.next();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ackOf(ack->get()), "m1");
}

TEST_F(ForwardServerTest, PlainTextOnATlsListenerIsRefused) {
  writeSelfSigned(dir_ / "cert.pem", dir_ / "key.pem");
  ForwardInputConfig config;
  config.listen = {tcpAny()};
  config.tls_cert = dir_ / "cert.pem";
  config.tls_key = dir_ / "key.pem";
  auto& input = start(config);
  Fd fd(connectTcp(input.tcpPort()));
  ASSERT_TRUE(sendAll(fd, forwardFrame("plain", makeEntries(1))));
  EXPECT_TRUE(waitClosed(fd, 5s));
  EXPECT_TRUE(eventually([&] { return context_.errors("tls") == 1; }));
  EXPECT_EQ(context_.pushCalls(), 0u);
}

TEST_F(ForwardServerTest, AMissingCertificateFailsAtStart) {
  ForwardInputConfig config;
  config.listen = {tcpAny()};
  config.tls_cert = dir_ / "nope.pem";
  config.tls_key = dir_ / "nope.key";
  ForwardInput input(config);
  EXPECT_THROW(input.start(context_), std::runtime_error);
}

} // namespace
} // namespace ferry::input
