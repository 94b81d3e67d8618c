// PosixDisk on a fresh directory under /tmp: the env::Disk contract on real files.
#include "prod/posix_disk.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "prod/temp_dir.h"

namespace keel::prod {
namespace {

using env::OpenMode;

std::string text(const Result<Bytes>& r) {
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? std::string(as_chars(*r)) : std::string();
}

std::string read_all(env::Disk& disk, const std::string& path) {
    auto f = disk.open(path, OpenMode::read_only);
    EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().to_string());
    if (!f.ok()) return {};
    return text((*f)->read(0, 1 << 20));
}

TEST(PosixDisk, WritesReadsSyncsAndTruncates) {
    TempDir tmp;
    PosixDisk disk(tmp.path());
    ASSERT_TRUE(disk.make_dirs("orders-0").ok());
    auto f = disk.open("orders-0/00000000000000000000.log", OpenMode::create_new);
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    env::File& file = **f;

    auto first = file.append(as_bytes("hello "));
    auto second = file.append(as_bytes("world"));
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_EQ(*first, 0u);
    EXPECT_EQ(*second, 6u);
    ASSERT_TRUE(file.write(0, as_bytes("J")).ok());
    ASSERT_TRUE(file.sync().ok());
    ASSERT_TRUE(disk.sync_dir("orders-0").ok());
    EXPECT_EQ(*file.size(), 11u);
    EXPECT_EQ(text(file.read(0, 100)), "Jello world");  // fewer bytes only at end of file
    EXPECT_EQ(text(file.read(6, 3)), "wor");
    EXPECT_EQ(text(file.read(50, 3)), "");              // empty past the end

    ASSERT_TRUE(file.write(14, as_bytes("!")).ok());    // a gap reads as zeros
    EXPECT_EQ(text(file.read(11, 4)), std::string("\0\0\0!", 4));

    ASSERT_TRUE(file.truncate(5).ok());
    EXPECT_EQ(*file.size(), 5u);
    EXPECT_EQ(read_all(disk, "orders-0/00000000000000000000.log"), "Jello");
    EXPECT_EQ(file.path(), "orders-0/00000000000000000000.log");

    auto again = disk.open("orders-0/00000000000000000000.log", OpenMode::create_new);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.code(), Errc::already_exists);
}

TEST(PosixDisk, RenameReplacesAtomically) {
    TempDir tmp;
    PosixDisk disk(tmp.path());
    for (auto [name, body] : {std::pair{"meta", "old"}, std::pair{"meta.tmp", "new"}}) {
        auto f = disk.open(name, OpenMode::create);
        ASSERT_TRUE(f.ok());
        ASSERT_TRUE((*f)->append(as_bytes(body)).ok());
        ASSERT_TRUE((*f)->sync().ok());
    }
    auto reader = disk.open("meta", OpenMode::read_only);  // holds the old inode open
    ASSERT_TRUE(reader.ok());

    ASSERT_TRUE(disk.rename("meta.tmp", "meta").ok());
    ASSERT_TRUE(disk.sync_dir("").ok());

    EXPECT_EQ(read_all(disk, "meta"), "new");
    EXPECT_FALSE(*disk.exists("meta.tmp"));
    EXPECT_EQ(text((*reader)->read(0, 10)), "old");  // the replaced file was never half-written
    auto missing = disk.rename("meta.tmp", "meta");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.code(), Errc::not_found);
}

TEST(PosixDisk, ListIsSorted) {
    TempDir tmp;
    PosixDisk disk(tmp.path());
    ASSERT_TRUE(disk.make_dirs("t-0/nested/deeper").ok());
    ASSERT_TRUE(disk.make_dirs("t-0/nested").ok());  // existing directories are fine
    for (const char* name : {"t-0/c.log", "t-0/a.index", "t-0/b.timeindex", "t-0/B.log"}) {
        ASSERT_TRUE(disk.open(name, OpenMode::create).ok());
    }
    auto names = disk.list("t-0");
    ASSERT_TRUE(names.ok());
    EXPECT_EQ(*names, (std::vector<std::string>{"B.log", "a.index", "b.timeindex", "c.log",
                                                "nested"}));
    EXPECT_EQ(*disk.list(""), std::vector<std::string>{"t-0"});

    ASSERT_TRUE(disk.remove("t-0/c.log").ok());
    ASSERT_TRUE(disk.remove("t-0/nested/deeper").ok());  // an empty directory
    EXPECT_EQ(disk.remove("t-0/nested/deeper").code(), Errc::not_found);
    auto busy = disk.remove("t-0");
    ASSERT_FALSE(busy.ok());
    EXPECT_EQ(busy.code(), Errc::io_error);
    EXPECT_NE(busy.error().message.find("t-0"), std::string::npos) << busy.error().message;
    EXPECT_EQ(disk.list("t-0")->size(), 4u);
}

TEST(PosixDisk, MissingFileIsNotFound) {
    TempDir tmp;
    PosixDisk disk(tmp.path());
    auto f = disk.open("nope/x.log", OpenMode::read_write);
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.code(), Errc::not_found);
    EXPECT_NE(f.error().message.find("nope/x.log"), std::string::npos) << f.error().message;
    EXPECT_NE(f.error().message.find("No such file"), std::string::npos) << f.error().message;
    EXPECT_EQ(disk.list("nope").code(), Errc::not_found);
    EXPECT_EQ(disk.remove("nope").code(), Errc::not_found);
    EXPECT_FALSE(*disk.exists("nope"));
    EXPECT_FALSE(*disk.exists("nope/deeper"));
    EXPECT_EQ(disk.sync_dir("nope").code(), Errc::not_found);

    ASSERT_TRUE(disk.make_dirs("dir").ok());
    auto dir = disk.open("dir", OpenMode::read_only);
    ASSERT_FALSE(dir.ok());
    EXPECT_EQ(dir.code(), Errc::io_error);  // a directory is not a file
}

TEST(PosixDisk, RejectsPathsOutsideItsRoot) {
    TempDir tmp;
    PosixDisk disk(tmp.path() + "/data");
    ASSERT_TRUE(PosixDisk::open_root(tmp.path() + "/data").ok());
    for (const std::string& bad : std::vector<std::string>{"/etc/passwd", "..", "../x", "a/../../x", "a/./b", "a//b", "a/",
                            std::string("a\0b", 3)}) {
        SCOPED_TRACE(bad);
        EXPECT_EQ(disk.open(bad, OpenMode::create).code(), Errc::invalid_argument);
        EXPECT_EQ(disk.make_dirs(bad).code(), Errc::invalid_argument);
        EXPECT_EQ(disk.list(bad).code(), Errc::invalid_argument);
        EXPECT_EQ(disk.exists(bad).code(), Errc::invalid_argument);
        EXPECT_EQ(disk.remove(bad).code(), Errc::invalid_argument);
        EXPECT_EQ(disk.rename("x", bad).code(), Errc::invalid_argument);
        EXPECT_EQ(disk.sync_dir(bad).code(), Errc::invalid_argument);
    }
    EXPECT_EQ(disk.open("", OpenMode::create).code(), Errc::invalid_argument);
    struct stat st {};
    EXPECT_NE(::stat((tmp.path() + "/x").c_str(), &st), 0);  // nothing escaped the root
}

TEST(PosixDisk, FullDiskReportsDiskFull) {
    EXPECT_EQ(disk_errc(ENOSPC), Errc::disk_full);
    EXPECT_EQ(disk_errc(EDQUOT), Errc::disk_full);
    EXPECT_EQ(disk_errc(ENOENT), Errc::not_found);
    EXPECT_EQ(disk_errc(EEXIST), Errc::already_exists);
    EXPECT_EQ(disk_errc(EIO), Errc::io_error);
    EXPECT_EQ(disk_errc(EACCES), Errc::io_error);
    Error e = disk_error(ENOSPC, "write", "t-0/0.log");
    EXPECT_EQ(e.code, Errc::disk_full);
    EXPECT_EQ(e.message, "write t-0/0.log: No space left on device");

    if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "/dev/full is not writable here";
    PosixDisk dev("/dev");  // every write to /dev/full fails with ENOSPC
    auto f = dev.open("full", OpenMode::read_write);
    ASSERT_TRUE(f.ok()) << f.error().to_string();
    auto w = (*f)->write(0, as_bytes("record"));
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.code(), Errc::disk_full);
    EXPECT_NE(w.error().message.find("full"), std::string::npos);
    auto a = (*f)->append(as_bytes("record"));
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.code(), Errc::disk_full);
}

}  // namespace
}  // namespace keel::prod
