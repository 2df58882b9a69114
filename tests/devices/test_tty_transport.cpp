// TtyTransport on pseudo-terminal pairs (openpty: in glibc's libc since 2.34, no -lutil):
// bytes written to the master arrive at the slave; silence is Timeout ("quiet"), closing the
// master is Gone (what an unplug looks like); raw mode keeps "\r\n" and does not echo.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "attune/devices/serial_transport.hpp"
#include "attune/devices/tty_transport.hpp"

using namespace attune::devices;
using Clock = std::chrono::steady_clock;

namespace {

struct Pty {
    int master = -1;
    int slave = -1;
    std::string slave_path;

    Pty() {
        char name[256] = {};
        if (::openpty(&master, &slave, name, nullptr, nullptr) != 0) return;
        slave_path = name;
        // The slave keeps the kernel's cooked defaults (ECHO, ICANON, ICRNL, ONLCR): raw mode
        // must come from the transport.
    }
    ~Pty() {
        CloseMaster();
        CloseSlave();
    }
    void CloseMaster() {
        if (master >= 0) ::close(master);
        master = -1;
    }
    // The transport opens its own slave fd; drop ours so only the transport holds the slave.
    void CloseSlave() {
        if (slave >= 0) ::close(slave);
        slave = -1;
    }
    void Send(const std::string& s) const { REQUIRE(::write(master, s.data(), s.size()) == static_cast<ssize_t>(s.size())); }
};

std::string ReadAll(TtyTransport& t, std::size_t want, int budget_ms) {
    std::string got;
    std::uint8_t buf[256];
    const auto end = Clock::now() + std::chrono::milliseconds(budget_ms);
    while (got.size() < want && Clock::now() < end) {
        const ReadResult r = t.Read(buf, sizeof buf, 50);
        if (r.status == ReadStatus::Ok) got.append(reinterpret_cast<const char*>(buf), r.bytes);
        if (r.status == ReadStatus::Gone || r.status == ReadStatus::Error) break;
    }
    return got;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

TEST_CASE("tty transport: bytes written to the master arrive, in raw mode", "[tty]") {
    Pty pty;
    REQUIRE(pty.master >= 0);
    TtyTransport t(pty.slave_path, 115200);
    REQUIRE(t.Open().empty());
    pty.CloseSlave();
    CHECK(t.IsOpen());
    CHECK(t.Describe() == "tty " + pty.slave_path + " @115200");

    SECTION("text lines with CR LF arrive unchanged") {
        pty.Send("S512\r\nB72\r\nQ833\r\n");
        CHECK(ReadAll(t, 17, 1000) == "S512\r\nB72\r\nQ833\r\n");
    }
    SECTION("lone CR, NUL and high bytes are not translated") {
        const std::string bytes("a\rb\n\0\x7f\xff\x03\x1a\x11\x13", 12);  // incl. ^C ^Z XON XOFF
        pty.Send(bytes);
        CHECK(ReadAll(t, bytes.size(), 1000) == bytes);
    }
    SECTION("no echo: what we read is not sent back to the master") {
        pty.Send("hello\n");
        CHECK(ReadAll(t, 6, 1000) == "hello\n");
        pollfd pfd{pty.master, POLLIN, 0};
        CHECK(::poll(&pfd, 1, 100) == 0);
    }
    SECTION("writes reach the master (answering 'press any key')") {
        REQUIRE(t.Write("x\n").empty());
        char buf[8] = {};
        pollfd pfd{pty.master, POLLIN, 0};
        REQUIRE(::poll(&pfd, 1, 1000) == 1);
        CHECK(::read(pty.master, buf, sizeof buf) == 2);
        CHECK(std::string(buf, 2) == "x\n");
    }
}

TEST_CASE("tty transport: silence is Timeout (quiet), not Gone", "[tty]") {
    Pty pty;
    REQUIRE(pty.master >= 0);
    TtyTransport t(pty.slave_path, 9600);
    REQUIRE(t.Open().empty());
    pty.CloseSlave();
    std::uint8_t buf[64];
    const auto t0 = Clock::now();
    for (int i = 0; i < 5; ++i) {
        const ReadResult r = t.Read(buf, sizeof buf, 40);
        CHECK(r.status == ReadStatus::Timeout);
        CHECK(r.bytes == 0);
    }
    const double ms = Ms(Clock::now() - t0);
    CHECK(ms >= 190.0);  // it really waited for the timeout each time
    CHECK(ms < 1000.0);
}

TEST_CASE("tty transport: closing the master (unplug) is Gone within 1 s", "[tty]") {
    Pty pty;
    REQUIRE(pty.master >= 0);
    TtyTransport t(pty.slave_path, 115200);
    REQUIRE(t.Open().empty());
    pty.CloseSlave();

    SECTION("while idle") {
        std::uint8_t buf[64];
        CHECK(t.Read(buf, sizeof buf, 20).status == ReadStatus::Timeout);
        const auto t0 = Clock::now();
        pty.CloseMaster();
        ReadResult r;
        while (Ms(Clock::now() - t0) < 1000.0) {
            r = t.Read(buf, sizeof buf, 50);
            if (r.status != ReadStatus::Timeout) break;
        }
        const double ms = Ms(Clock::now() - t0);
        CHECK(r.status == ReadStatus::Gone);
        CHECK_FALSE(r.error.empty());
        CHECK(ms < 1000.0);
        WARN("unplug noticed after " << ms << " ms (" << r.error << ")");
        // Stays gone.
        CHECK(t.Read(buf, sizeof buf, 20).status == ReadStatus::Gone);
    }
    SECTION("while a Read is waiting in poll()") {
        std::thread closer([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
            pty.CloseMaster();
        });
        std::uint8_t buf[64];
        const auto t0 = Clock::now();
        ReadResult r = t.Read(buf, sizeof buf, 500);
        closer.join();
        if (r.status == ReadStatus::Timeout) r = t.Read(buf, sizeof buf, 500);
        CHECK(r.status == ReadStatus::Gone);
        CHECK(Ms(Clock::now() - t0) < 400.0);  // woke on the hang-up, not on the timeout
    }
}

TEST_CASE("tty transport: open errors and symlinks", "[tty]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(ATTUNE_TEST_TMP_DIR) / "tty_transport";
    fs::create_directories(dir);

    SECTION("a missing path is a readable error, not a crash") {
        TtyTransport t((dir / "does-not-exist").string());
        const std::string err = t.Open();
        CHECK(err.find("does-not-exist") != std::string::npos);
        CHECK_FALSE(t.IsOpen());
        std::uint8_t buf[4];
        CHECK(t.Read(buf, sizeof buf, 10).status == ReadStatus::Error);
    }
    SECTION("a regular file is not a terminal") {
        const fs::path file = dir / "plain.txt";
        { std::FILE* f = std::fopen(file.c_str(), "w"); std::fputs("x", f); std::fclose(f); }
        TtyTransport t(file.string());
        CHECK(t.Open().find("not a terminal") != std::string::npos);
    }
    SECTION("an unsupported baud rate is refused") {
        Pty pty;
        TtyTransport t(pty.slave_path, 12345);
        CHECK(t.Open().find("baud") != std::string::npos);
        TtyTransport ok(pty.slave_path, 9600);
        REQUIRE(ok.Open().empty());
        CHECK_FALSE(ok.SetBaud(7).empty());
        CHECK(ok.SetBaud(115200).empty());
        CHECK(ok.Baud() == 115200);
    }
    SECTION("a symlink is resolved at open but the given path is kept") {
        Pty pty;
        const fs::path link = dir / "fake-sensor";
        fs::remove(link);
        fs::create_symlink(pty.slave_path, link);
        TtyTransport t(link.string());
        REQUIRE(t.Open().empty());
        CHECK(t.Path() == link.string());
        CHECK(t.ResolvedPath() == pty.slave_path);
        CHECK(t.Identity().path == link.string());
        CHECK(t.Describe().find(link.string()) != std::string::npos);
        pty.Send("S1\n");
        CHECK(ReadAll(t, 3, 1000) == "S1\n");

        // Re-point the link at another pty: a reopen follows it.
        Pty other;
        fs::remove(link);
        fs::create_symlink(other.slave_path, link);
        REQUIRE(t.Open().empty());
        CHECK(t.ResolvedPath() == other.slave_path);
        other.Send("S2\n");
        CHECK(ReadAll(t, 3, 1000) == "S2\n");
        fs::remove(link);
    }
}

TEST_CASE("transport for a path: ptys go to the termios transport", "[tty]") {
    // libserialport 0.1.1 refuses ptys, so MakeTransportForPath must fall back to TtyTransport.
    Pty pty;
    auto t = MakeTransportForPath(pty.slave_path, 115200);
    REQUIRE(t != nullptr);
    CHECK(t->Describe().rfind("tty ", 0) == 0);
    REQUIRE(t->Open().empty());
    pty.Send("S7\n");
    std::uint8_t buf[16];
    ReadResult r;
    for (int i = 0; i < 20 && r.status != ReadStatus::Ok; ++i) r = t->Read(buf, sizeof buf, 50);
    CHECK(r.status == ReadStatus::Ok);
}

TEST_CASE("auto transport factory: ptys and missing paths use the termios transport", "[tty]") {
    Pty pty;
    auto factory = MakeAutoTransportFactory(pty.slave_path, 57600);
    auto t = factory();
    REQUIRE(t != nullptr);
    CHECK(t->Describe() == "tty " + pty.slave_path + " @57600");
    CHECK(t->Open().empty());
    auto missing = MakeAutoTransportFactory("/dev/ttyACM-attune-missing", 115200)();
    CHECK(missing->Describe().rfind("tty ", 0) == 0);
    CHECK_FALSE(missing->Open().empty());
}

TEST_CASE("serial transport: a pty or a missing port gives an error, not a crash", "[serial]") {
    Pty pty;
    SerialTransport s(pty.slave_path, 115200);
    const std::string err = s.Open();
    CHECK_FALSE(err.empty());  // libserialport 0.1.1 rejects ptys
    CHECK_FALSE(s.IsOpen());
    SerialTransport missing("/dev/ttyACM-attune-missing", 115200);
    CHECK_FALSE(missing.Open().empty());
    std::uint8_t buf[4];
    CHECK(missing.Read(buf, sizeof buf, 5).status == ReadStatus::Error);
    CHECK(missing.Describe() == "serial /dev/ttyACM-attune-missing @115200");
    // With a reconnect target that is not present, Open still just fails.
    TransportIdentity id;
    id.usb_vid = 0x2341;
    id.usb_pid = 0x0043;
    id.serial_number = "attune-test-none";
    missing.SetReconnectTarget(id);
    CHECK_FALSE(missing.Open().empty());
}
