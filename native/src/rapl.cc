// Raw RAPL reads for src/sources/rapl.ts: the powercap zone walk, the per-sample energy_uj
// reads, and MSR reads. No policy here: wraps, dedupe by domain name, units and attribution
// are done in TypeScript so the fs fallback reader shares them.
#include "glibc-compat.h"
#include "rapl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "errors.h"

namespace {

const char* ErrnoCode(int err) {
  switch (err) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EIO: return "EIO";
    case ENODATA: return "ENODATA";
    case ENXIO: return "ENXIO";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case EBUSY: return "EBUSY";
    case EAGAIN: return "EAGAIN";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ELOOP: return "ELOOP";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return "EUNKNOWN";
  }
}

// Reads a small sysfs file; returns 0 or an errno.
int ReadSmall(const std::string& path, char* buf, size_t cap, size_t* len) {
  int fd;
  do fd = open(path.c_str(), O_RDONLY | O_CLOEXEC); while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno;
  ssize_t n;
  do n = read(fd, buf, cap - 1); while (n < 0 && errno == EINTR);
  int err = n < 0 ? errno : 0;
  close(fd);
  if (err) return err;
  buf[n] = '\0';
  *len = static_cast<size_t>(n);
  return 0;
}

// Parses a decimal unsigned integer followed only by whitespace; EINVAL otherwise.
int ReadUnsigned(const std::string& path, double* out) {
  char buf[64];
  size_t len = 0;
  int err = ReadSmall(path, buf, sizeof buf, &len);
  if (err) return err;
  // strtoull alone would accept leading blanks and a sign; sysfs writes bare digits.
  if (buf[0] < '0' || buf[0] > '9') return EINVAL;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(buf, &end, 10);
  if (end == buf || errno) return EINVAL;
  while (*end == '\n' || *end == ' ' || *end == '\t') ++end;
  if (*end != '\0') return EINVAL;
  *out = static_cast<double>(v);
  return 0;
}

// intel-rapl:0, intel-rapl:0:1, intel-rapl-mmio:0 ... (not the control types intel-rapl, intel-rapl-mmio).
bool IsZoneName(const char* n) {
  const char* p;
  if (strncmp(n, "intel-rapl-mmio:", 16) == 0) p = n + 16;
  else if (strncmp(n, "intel-rapl:", 11) == 0) p = n + 11;
  else return false;
  bool digit = false;
  for (; *p; ++p) {
    if (*p >= '0' && *p <= '9') digit = true;
    else if (*p == ':' && digit) digit = false;
    else return false;
  }
  return digit;
}

// open(O_DIRECTORY) rather than stat(): stat is a GLIBC_2.33 symbol, too new for the prebuilds.
bool IsDir(const std::string& path) {
  int fd;
  do fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); while (fd < 0 && errno == EINTR);
  if (fd < 0) return false;
  close(fd);
  return true;
}

struct Walk {
  Napi::Env env;
  Napi::Array out;
  std::set<std::string> seen;
  uint32_t count = 0;
};

void AddZone(Walk& w, const std::string& dir, const std::string& id);

// Lists `dir` and adds each zone directory in it (and, through AddZone, its subzones).
void Scan(Walk& w, const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> names;
  while (struct dirent* e = readdir(d)) {
    if (IsZoneName(e->d_name)) names.emplace_back(e->d_name);
  }
  closedir(d);
  for (const auto& n : names) AddZone(w, dir + "/" + n, n);
}

void AddZone(Walk& w, const std::string& dir, const std::string& id) {
  if (!IsDir(dir)) return;
  char real[PATH_MAX];
  std::string key = realpath(dir.c_str(), real) ? std::string(real) : dir;
  if (!w.seen.insert(key).second) return;

  Napi::Object z = Napi::Object::New(w.env);
  z.Set("path", dir);
  z.Set("id", id);
  z.Set("realPath", key);
  const char* errorFile = nullptr;
  int error = 0;

  char buf[256];
  size_t len = 0;
  int err = ReadSmall(dir + "/name", buf, sizeof buf, &len);
  if (err == 0) {
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' ')) buf[--len] = '\0';
    z.Set("name", std::string(buf, len));
  } else {
    error = err;
    errorFile = "name";
  }
  double v = 0;
  err = ReadUnsigned(dir + "/energy_uj", &v);
  if (err == 0) z.Set("energyUj", v);
  else if (!error) { error = err; errorFile = "energy_uj"; }
  err = ReadUnsigned(dir + "/max_energy_range_uj", &v);
  if (err == 0) z.Set("maxEnergyRangeUj", v);
  else if (!error) { error = err; errorFile = "max_energy_range_uj"; }

  double maxPower = 0;
  for (int i = 0; i < 16; ++i) {
    double p = 0;
    std::string f = dir + "/constraint_" + std::to_string(i) + "_max_power_uw";
    int e2 = ReadUnsigned(f, &p);
    if (e2 == ENOENT) {
      if (access((dir + "/constraint_" + std::to_string(i) + "_name").c_str(), F_OK) != 0) break;
      continue;
    }
    if (e2 == 0 && p > maxPower) maxPower = p;
  }
  if (maxPower > 0) z.Set("maxPowerUw", maxPower);
  if (error) {
    z.Set("error", ErrnoCode(error));
    z.Set("errorFile", errorFile);
  }
  w.out.Set(w.count++, z);
  Scan(w, dir);
}

// raplReadZones(powercapRoot: string): RawZone[]
Napi::Value ReadZones(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    return ThrowInvalidArg(env, "raplReadZones(powercapRoot: string)");
  }
  std::string root = info[0].As<Napi::String>().Utf8Value();
  Walk w{env, Napi::Array::New(env), {}, 0};
  // Control-type folders first so zones are reported under their nested path, then the flat
  // class entries (symlinks to the same folders, dropped by realpath) for trees without them.
  Scan(w, root + "/intel-rapl");
  Scan(w, root + "/intel-rapl-mmio");
  Scan(w, root);
  return w.out;
}

// raplReadFiles(paths: string[]): number[]; a value >= 0 in µJ, or -errno (-22 when unparsable).
Napi::Value ReadFiles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) {
    return ThrowInvalidArg(env, "raplReadFiles(paths: string[])");
  }
  Napi::Array paths = info[0].As<Napi::Array>();
  uint32_t n = paths.Length();
  Napi::Array out = Napi::Array::New(env, n);
  std::string path;
  for (uint32_t i = 0; i < n; ++i) {
    Napi::Value p = paths.Get(i);
    double v = -EINVAL;
    if (p.IsString()) {
      path = p.As<Napi::String>().Utf8Value();
      double r = 0;
      int err = ReadUnsigned(path, &r);
      v = err ? -static_cast<double>(err) : r;
    }
    out.Set(i, Napi::Number::New(env, v));
  }
  return out;
}

// Throws the errno of a failed system call the way Node's fs does: code, errno, syscall, path.
Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& path) {
  const char* code = ErrnoCode(err);
  Napi::Error e = CodedError(env, code, std::string(code) + ": " + strerror(err) + ", " + syscall + " '" + path + "'");
  e.Value().Set("errno", Napi::Number::New(env, -err));
  e.Value().Set("syscall", Napi::String::New(env, syscall));
  e.Value().Set("path", Napi::String::New(env, path));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// msrRead(devRoot: string, cpu: number, reg: number): bigint; throws {code: 'EACCES'|'ENOENT'|'EIO'...}
Napi::Value MsrRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber()) {
    return ThrowInvalidArg(env, "msrRead(devRoot: string, cpu: number, reg: number)");
  }
  std::string root = info[0].As<Napi::String>().Utf8Value();
  int64_t cpu = info[1].As<Napi::Number>().Int64Value();
  double regD = info[2].As<Napi::Number>().DoubleValue();
  if (cpu < 0 || regD < 0 || regD > 4294967295.0) {
    CodedError(env, "ERR_OUT_OF_RANGE", "msrRead: cpu and reg must be non-negative, reg < 2^32").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = root + "/cpu/" + std::to_string(cpu) + "/msr";
  int fd;
  do fd = open(path.c_str(), O_RDONLY | O_CLOEXEC); while (fd < 0 && errno == EINTR);
  if (fd < 0) return ThrowErrno(env, errno, "open", path);
  uint64_t value = 0;
  ssize_t r;
  do r = pread(fd, &value, sizeof value, static_cast<off_t>(static_cast<uint64_t>(regD))); while (r < 0 && errno == EINTR);
  int err = r < 0 ? errno : (r != sizeof value ? EIO : 0);
  close(fd);
  if (err) return ThrowErrno(env, err, "pread", path);
  return Napi::BigInt::New(env, value);
}

}  // namespace

void InitRapl(Napi::Env env, Napi::Object exports) {
  exports.Set("raplReadZones", Napi::Function::New(env, ReadZones, "raplReadZones"));
  exports.Set("raplReadFiles", Napi::Function::New(env, ReadFiles, "raplReadFiles"));
  exports.Set("msrRead", Napi::Function::New(env, MsrRead, "msrRead"));
}
