#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "gitfed/render/source_tree.h"

namespace gitfed::render {
namespace {

// RAII owner of a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

SourceTree::EntryType typeOf(const struct stat& st) {
  if (S_ISREG(st.st_mode)) return SourceTree::EntryType::File;
  if (S_ISDIR(st.st_mode)) return SourceTree::EntryType::Directory;
  if (S_ISLNK(st.st_mode)) return SourceTree::EntryType::Symlink;
  return SourceTree::EntryType::Other;
}

std::string errnoText(int err) { return std::strerror(err); }

}  // namespace

DiskSourceTree::DiskSourceTree(std::filesystem::path root) : root_(std::move(root)) {}

std::filesystem::path DiskSourceTree::resolve(std::string_view relative) const {
  if (relative.empty()) return root_;
  return root_ / std::filesystem::path(relative);
}

Result<SourceTree::Entry> DiskSourceTree::stat(std::string_view path) const {
  struct stat st {};
  auto full = resolve(path);
  // The root itself may be a link the user chose; below it, lstat.
  int rc = path.empty() ? ::stat(full.c_str(), &st) : ::lstat(full.c_str(), &st);
  if (rc != 0) return fail(errnoText(errno), std::string(path));
  auto name = std::filesystem::path(path).filename().string();
  return Entry{name, typeOf(st), static_cast<std::uint64_t>(st.st_size)};
}

Result<std::vector<SourceTree::Entry>> DiskSourceTree::list(std::string_view dir) const {
  std::vector<Entry> entries;
  std::error_code ec;
  std::filesystem::directory_iterator it(resolve(dir), ec);
  if (ec) return fail("cannot list directory: " + ec.message(), std::string(dir));
  for (const auto& e : it) {
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) != 0) continue;  // vanished meanwhile
    entries.push_back(Entry{e.path().filename().string(), typeOf(st), static_cast<std::uint64_t>(st.st_size)});
  }
  return entries;
}

Result<std::string> DiskSourceTree::read(std::string_view path, std::uint64_t maxBytes) const {
  auto full = resolve(path);
  // O_NOFOLLOW: a file swapped for a link after listing is still not followed;
  // O_NONBLOCK: a FIFO cannot block us.
  Fd fd(::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ELOOP) return fail("symlinks are not followed", std::string(path));
    return fail("cannot open: " + errnoText(errno), std::string(path));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail("cannot stat: " + errnoText(errno), std::string(path));
  if (!S_ISREG(st.st_mode)) return fail("not a regular file", std::string(path));
  if (static_cast<std::uint64_t>(st.st_size) > maxBytes)
    return fail("file is " + std::to_string(st.st_size) + " bytes, over the limit of " +
                    std::to_string(maxBytes) + " bytes",
                std::string(path));
  // One read of the size fstat gave, into a buffer one byte longer (so that a
  // file that grew since is noticed, and read on), neither zero-filled nor grown.
  std::string data;
  std::size_t done = 0;
  std::size_t want = static_cast<std::size_t>(st.st_size) + 1;
  while (true) {
    int error = 0;
    bool atEnd = false;
    data.resize_and_overwrite(want, [&](char* buffer, std::size_t size) {
      while (done < size && done <= maxBytes) {
        ssize_t n = ::read(fd.get(), buffer + done, size - done);
        if (n < 0) {
          if (errno == EINTR) continue;
          error = errno;
          break;
        }
        if (n == 0) {
          atEnd = true;
          break;
        }
        done += static_cast<std::size_t>(n);
      }
      return done;
    });
    if (error != 0) return fail("cannot read: " + errnoText(error), std::string(path));
    if (done > maxBytes)
      return fail("file is over the limit of " + std::to_string(maxBytes) + " bytes", std::string(path));
    if (atEnd) break;
    want = done + 4096;
  }
  return data;
}

}  // namespace gitfed::render
