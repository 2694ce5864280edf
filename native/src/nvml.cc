// NVML for src/sources/nvml.ts: libnvidia-ml is dlopen()ed at run time (never linked), each
// function is resolved with dlsym, and each call is a thin wrapper that either returns the
// value or throws an Error whose `code` comes from the one status table below. Policy
// (selection, counter vs power integration, attribution) lives in TypeScript.
#include "glibc-compat.h"
#include "nvml.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "errors.h"

namespace {

// The subset of nvml.h used here; layouts follow NVIDIA's header.
typedef int nvmlReturn_t;
typedef struct nvmlDevice_st* nvmlDevice_t;
struct nvmlUtilization_t {
  unsigned int gpu;
  unsigned int memory;
};
struct nvmlProcessUtilizationSample_t {
  unsigned int pid;
  unsigned long long timeStamp;
  unsigned int smUtil;
  unsigned int memUtil;
  unsigned int encUtil;
  unsigned int decUtil;
};

constexpr nvmlReturn_t NVML_SUCCESS = 0;
constexpr nvmlReturn_t NVML_ERROR_UNINITIALIZED = 1;
constexpr nvmlReturn_t NVML_ERROR_INVALID_ARGUMENT = 2;
constexpr nvmlReturn_t NVML_ERROR_NOT_SUPPORTED = 3;
constexpr nvmlReturn_t NVML_ERROR_NOT_FOUND = 6;
constexpr nvmlReturn_t NVML_ERROR_INSUFFICIENT_SIZE = 7;
constexpr nvmlReturn_t NVML_ERROR_LIBRARY_NOT_FOUND = 12;
constexpr nvmlReturn_t NVML_ERROR_FUNCTION_NOT_FOUND = 13;
constexpr nvmlReturn_t NVML_ERROR_IN_USE = 19;
constexpr unsigned kNameBufferSize = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE, NVML_DEVICE_UUID_V2_BUFFER_SIZE
constexpr unsigned kDriverVersionBufferSize = 80;

// The one table from nvmlReturn_t to the string code thrown to JS (values from nvml.h).
struct StatusName {
  nvmlReturn_t value;
  const char* code;
};
constexpr StatusName kStatusNames[] = {
    {0, "NVML_SUCCESS"},
    {1, "NVML_ERROR_UNINITIALIZED"},
    {2, "NVML_ERROR_INVALID_ARGUMENT"},
    {3, "NVML_ERROR_NOT_SUPPORTED"},
    {4, "NVML_ERROR_NO_PERMISSION"},
    {5, "NVML_ERROR_ALREADY_INITIALIZED"},
    {6, "NVML_ERROR_NOT_FOUND"},
    {7, "NVML_ERROR_INSUFFICIENT_SIZE"},
    {8, "NVML_ERROR_INSUFFICIENT_POWER"},
    {9, "NVML_ERROR_DRIVER_NOT_LOADED"},
    {10, "NVML_ERROR_TIMEOUT"},
    {11, "NVML_ERROR_IRQ_ISSUE"},
    {12, "NVML_ERROR_LIBRARY_NOT_FOUND"},
    {13, "NVML_ERROR_FUNCTION_NOT_FOUND"},
    {14, "NVML_ERROR_CORRUPTED_INFOROM"},
    {15, "NVML_ERROR_GPU_IS_LOST"},
    {16, "NVML_ERROR_RESET_REQUIRED"},
    {17, "NVML_ERROR_OPERATING_SYSTEM"},
    {18, "NVML_ERROR_LIB_RM_VERSION_MISMATCH"},
    {19, "NVML_ERROR_IN_USE"},
    {20, "NVML_ERROR_MEMORY"},
    {21, "NVML_ERROR_NO_DATA"},
    {22, "NVML_ERROR_VGPU_ECC_NOT_SUPPORTED"},
    {23, "NVML_ERROR_INSUFFICIENT_RESOURCES"},
    {24, "NVML_ERROR_FREQ_NOT_SUPPORTED"},
    {25, "NVML_ERROR_ARGUMENT_VERSION_MISMATCH"},
    {26, "NVML_ERROR_DEPRECATED"},
    {27, "NVML_ERROR_NOT_READY"},
    {28, "NVML_ERROR_GPU_NOT_FOUND"},
    {29, "NVML_ERROR_INVALID_STATE"},
    {999, "NVML_ERROR_UNKNOWN"},
};

const char* StatusCode(nvmlReturn_t ret) {
  for (const StatusName& s : kStatusNames) {
    if (s.value == ret) return s.code;
  }
  return "NVML_ERROR_UNKNOWN";
}

// Resolved entry points. Required ones are checked in Load(); a null optional one makes its
// wrapper throw NVML_ERROR_NOT_SUPPORTED, as NVML itself does for unsupported features.
struct Api {
  nvmlReturn_t (*init)();
  nvmlReturn_t (*shutdown)();
  const char* (*errorString)(nvmlReturn_t);
  nvmlReturn_t (*getCount)(unsigned int*);
  nvmlReturn_t (*getHandleByIndex)(unsigned int, nvmlDevice_t*);
  nvmlReturn_t (*getName)(nvmlDevice_t, char*, unsigned int);
  nvmlReturn_t (*getUuid)(nvmlDevice_t, char*, unsigned int);
  nvmlReturn_t (*getArchitecture)(nvmlDevice_t, unsigned int*);
  nvmlReturn_t (*getTotalEnergy)(nvmlDevice_t, unsigned long long*);
  nvmlReturn_t (*getPowerUsage)(nvmlDevice_t, unsigned int*);
  nvmlReturn_t (*getEnforcedPowerLimit)(nvmlDevice_t, unsigned int*);
  nvmlReturn_t (*getUtilization)(nvmlDevice_t, nvmlUtilization_t*);
  nvmlReturn_t (*getProcessUtilization)(nvmlDevice_t, nvmlProcessUtilizationSample_t*, unsigned int*,
                                        unsigned long long);
  nvmlReturn_t (*getHandleByUuid)(const char*, nvmlDevice_t*);
  nvmlReturn_t (*isMigDeviceHandle)(nvmlDevice_t, unsigned int*);
  nvmlReturn_t (*getParentOfMig)(nvmlDevice_t, nvmlDevice_t*);
  nvmlReturn_t (*getIndex)(nvmlDevice_t, unsigned int*);
  nvmlReturn_t (*getDriverVersion)(char*, unsigned int);
};

// Process-wide state shared by every Node environment (main thread and worker threads, which may
// load the addon and call it concurrently). NVML itself reference-counts nvmlInit/nvmlShutdown, and
// so do we, to know when another library may be loaded. g_lib, g_libPath and g_api change only
// under the exclusive lock while g_initCount is 0; every call into NVML holds the shared lock, so a
// worker's shutdown can never swap the library under another thread's call.
std::shared_mutex g_mutex;
void* g_lib = nullptr;
std::string g_libPath;
Api g_api = {};
std::atomic<int> g_initCount{0};

// Per-environment state: the nvmlInit calls this environment has not balanced yet. When the
// environment goes away (a worker ends, the main thread exits) its cleanup releases them, so a
// worker that never called nvmlShutdown does not pin NVML for the rest of the process.
struct EnvState {
  int inits = 0;
};

void ReleaseEnv(Napi::Env, EnvState* state);

EnvState* StateOf(Napi::Env env) {
  EnvState* state = env.GetInstanceData<EnvState>();
  if (state == nullptr) {
    state = new EnvState();
    env.SetInstanceData<EnvState, ReleaseEnv>(state);
  }
  return state;
}

void* Sym(void* lib, const char* name, const char* fallback = nullptr) {
  void* p = dlsym(lib, name);
  if (p == nullptr && fallback != nullptr) p = dlsym(lib, fallback);
  return p;
}

template <typename F>
void Bind(F& slot, void* lib, const char* name, const char* fallback = nullptr) {
  slot = reinterpret_cast<F>(Sym(lib, name, fallback));
}

Napi::Value Throw(Napi::Env env, const char* code, const std::string& message, int nvmlReturn) {
  Napi::Error err = CodedError(env, code, message);
  if (nvmlReturn >= 0) err.Value().Set("nvmlReturn", Napi::Number::New(env, nvmlReturn));
  err.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowStatus(Napi::Env env, const char* fn, nvmlReturn_t ret) {
  const char* text = g_api.errorString != nullptr ? g_api.errorString(ret) : nullptr;
  std::string message = std::string(fn) + ": " + (text != nullptr ? text : StatusCode(ret));
  return Throw(env, StatusCode(ret), message, ret);
}

Napi::Value ThrowNotSupported(Napi::Env env, const char* fn) {
  return Throw(env, "NVML_ERROR_NOT_SUPPORTED",
               std::string(fn) + ": not exported by " + g_libPath + " (older driver)", NVML_ERROR_NOT_SUPPORTED);
}

// Loads `path` and resolves the entry points; returns an empty string or the failure text.
std::string Load(const std::string& path, int* code) {
  dlerror();
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    *code = NVML_ERROR_LIBRARY_NOT_FOUND;
    return "dlopen(" + path + "): " + (why != nullptr ? why : "unknown error");
  }
  Api api = {};
  Bind(api.init, lib, "nvmlInit_v2", "nvmlInit");
  Bind(api.shutdown, lib, "nvmlShutdown");
  Bind(api.errorString, lib, "nvmlErrorString");
  Bind(api.getCount, lib, "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
  Bind(api.getHandleByIndex, lib, "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
  Bind(api.getName, lib, "nvmlDeviceGetName");
  Bind(api.getUuid, lib, "nvmlDeviceGetUUID");
  Bind(api.getArchitecture, lib, "nvmlDeviceGetArchitecture");
  Bind(api.getTotalEnergy, lib, "nvmlDeviceGetTotalEnergyConsumption");
  Bind(api.getPowerUsage, lib, "nvmlDeviceGetPowerUsage");
  Bind(api.getEnforcedPowerLimit, lib, "nvmlDeviceGetEnforcedPowerLimit");
  Bind(api.getUtilization, lib, "nvmlDeviceGetUtilizationRates");
  Bind(api.getProcessUtilization, lib, "nvmlDeviceGetProcessUtilization");
  Bind(api.getHandleByUuid, lib, "nvmlDeviceGetHandleByUUID");
  Bind(api.isMigDeviceHandle, lib, "nvmlDeviceIsMigDeviceHandle");
  Bind(api.getParentOfMig, lib, "nvmlDeviceGetDeviceHandleFromMigDeviceHandle");
  Bind(api.getIndex, lib, "nvmlDeviceGetIndex");
  Bind(api.getDriverVersion, lib, "nvmlSystemGetDriverVersion");
  const char* missing = api.init == nullptr               ? "nvmlInit_v2"
                        : api.shutdown == nullptr         ? "nvmlShutdown"
                        : api.getCount == nullptr         ? "nvmlDeviceGetCount_v2"
                        : api.getHandleByIndex == nullptr ? "nvmlDeviceGetHandleByIndex_v2"
                        : api.getName == nullptr          ? "nvmlDeviceGetName"
                        : api.getUuid == nullptr          ? "nvmlDeviceGetUUID"
                                                          : nullptr;
  if (missing != nullptr) {
    dlclose(lib);
    *code = NVML_ERROR_FUNCTION_NOT_FOUND;
    return path + " does not export " + missing + " (not an NVML library?)";
  }
  // A previously loaded library is never dlclose()d: NVML may keep threads or handlers alive.
  g_lib = lib;
  g_libPath = path;
  g_api = api;
  return "";
}

void ReleaseEnv(Napi::Env, EnvState* state) {
  std::unique_lock<std::shared_mutex> lock(g_mutex);
  for (; state->inits > 0 && g_initCount > 0; state->inits--) {
    g_initCount--;
    g_api.shutdown();
  }
  delete state;
}

bool ArgIndex(const Napi::CallbackInfo& info, unsigned int* index) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Throw(info.Env(), "NVML_ERROR_INVALID_ARGUMENT", "expected a device index (number)", NVML_ERROR_INVALID_ARGUMENT);
    return false;
  }
  *index = info[0].As<Napi::Number>().Uint32Value();
  return true;
}

// Resolves the handle of device `index` (argument 0); false after throwing.
bool Handle(const Napi::CallbackInfo& info, const char* fn, nvmlDevice_t* device, unsigned int* indexOut = nullptr) {
  if (g_initCount == 0) {
    ThrowStatus(info.Env(), fn, NVML_ERROR_UNINITIALIZED);
    return false;
  }
  unsigned int index;
  if (!ArgIndex(info, &index)) return false;
  nvmlReturn_t ret = g_api.getHandleByIndex(index, device);
  if (ret != NVML_SUCCESS) {
    ThrowStatus(info.Env(), fn, ret);
    return false;
  }
  if (indexOut != nullptr) *indexOut = index;
  return true;
}

/* nvmlInit(libraryPath?): loads NVML (default "libnvidia-ml.so.1", searched by the dynamic
   loader) and calls nvmlInit_v2. While an earlier nvmlInit is not shut down, its library stays in
   use: no path (or the same path) shares it, another path throws NVML_ERROR_IN_USE. */
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (info.Length() > 0 && info[0].IsString()) {
    path = info[0].As<Napi::String>().Utf8Value();
  } else if (info.Length() > 0 && !info[0].IsUndefined() && !info[0].IsNull()) {
    return Throw(env, "NVML_ERROR_INVALID_ARGUMENT", "nvmlInit: libraryPath must be a string", NVML_ERROR_INVALID_ARGUMENT);
  }
  EnvState* state = StateOf(env);
  std::unique_lock<std::shared_mutex> lock(g_mutex);
  if (g_initCount > 0) {
    if (!path.empty() && path != g_libPath) {
      return Throw(env, "NVML_ERROR_IN_USE",
                   "nvmlInit: NVML is already loaded from " + g_libPath + "; close its users before loading " + path,
                   NVML_ERROR_IN_USE);
    }
  } else {
    if (path.empty()) path = "libnvidia-ml.so.1";
    if (g_lib == nullptr || path != g_libPath) {
      int code = 0;
      std::string failure = Load(path, &code);
      if (!failure.empty()) return Throw(env, StatusCode(code), failure, code);
    }
  }
  nvmlReturn_t ret = g_api.init();
  if (ret != NVML_SUCCESS) return ThrowStatus(env, "nvmlInit_v2", ret);
  g_initCount++;
  state->inits++;
  return Napi::String::New(env, g_libPath);
}

/* nvmlShutdown(): balances one successful nvmlInit of this environment; a no-op when it has none. */
Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  EnvState* state = StateOf(info.Env());
  std::unique_lock<std::shared_mutex> lock(g_mutex);
  if (state->inits == 0 || g_initCount == 0) return info.Env().Undefined();
  state->inits--;
  g_initCount--;
  nvmlReturn_t ret = g_api.shutdown();
  if (ret != NVML_SUCCESS) return ThrowStatus(info.Env(), "nvmlShutdown", ret);
  return info.Env().Undefined();
}

/* nvmlDeviceGetCount(): number of GPUs NVML sees (all of them, whatever CUDA_VISIBLE_DEVICES says). */
Napi::Value GetCount(const Napi::CallbackInfo& info) {
  std::shared_lock<std::shared_mutex> lock(g_mutex);
  if (g_initCount == 0) return ThrowStatus(info.Env(), "nvmlDeviceGetCount_v2", NVML_ERROR_UNINITIALIZED);
  unsigned int count = 0;
  nvmlReturn_t ret = g_api.getCount(&count);
  if (ret != NVML_SUCCESS) return ThrowStatus(info.Env(), "nvmlDeviceGetCount_v2", ret);
  return Napi::Number::New(info.Env(), count);
}

/* nvmlSystemGetDriverVersion(): e.g. "550.54.15". */
Napi::Value GetDriverVersion(const Napi::CallbackInfo& info) {
  std::shared_lock<std::shared_mutex> lock(g_mutex);
  const char* fn = "nvmlSystemGetDriverVersion";
  if (g_initCount == 0) return ThrowStatus(info.Env(), fn, NVML_ERROR_UNINITIALIZED);
  if (g_api.getDriverVersion == nullptr) return ThrowNotSupported(info.Env(), fn);
  char buf[kDriverVersionBufferSize] = {0};
  nvmlReturn_t ret = g_api.getDriverVersion(buf, sizeof buf);
  if (ret != NVML_SUCCESS) return ThrowStatus(info.Env(), fn, ret);
  return Napi::String::New(info.Env(), buf);
}

/* nvmlDeviceGetName(index): marketing name, e.g. "NVIDIA H200". */
Napi::Value GetName(const Napi::CallbackInfo& info) {
  std::shared_lock<std::shared_mutex> lock(g_mutex);
  const char* fn = "nvmlDeviceGetName";
  nvmlDevice_t device;
  if (!Handle(info, fn, &device)) return info.Env().Undefined();
  char buf[kNameBufferSize] = {0};
  nvmlReturn_t ret = g_api.getName(device, buf, sizeof buf);
  if (ret != NVML_SUCCESS) return ThrowStatus(info.Env(), fn, ret);
  return Napi::String::New(info.Env(), buf);
}

/* nvmlDeviceGetUuid(index): "GPU-xxxxxxxx-xxxx-...". */
Napi::Value GetUuid(const Napi::CallbackInfo& info) {
  std::shared_lock<std::shared_mutex> lock(g_mutex);
  const char* fn = "nvmlDeviceGetUUID";
  nvmlDevice_t device;
  if (!Handle(info, fn, &device)) return info.Env().Undefined();
  char buf[kNameBufferSize] = {0};
  nvmlReturn_t ret = g_api.getUuid(device, buf, sizeof buf);
  if (ret != NVML_SUCCESS) return ThrowStatus(info.Env(), fn, ret);
  return Napi::String::New(info.Env(), buf);
}

/* nvmlDeviceGetArchitecture(index): NVML_DEVICE_ARCH_* (5 Volta ... 9 Hopper, 10 Blackwell). */
Napi::Value GetArchitecture(const Napi::CallbackInfo& info) {
  std::shared_lock<std::shared_mutex> lock(g_mutex);
  const char* fn = "nvmlDeviceGetArchitecture";
  nvmlDevice_t device;
  if (!Handle(info, fn, &device)) return info.Env().Undefined();
  if (g_api.getArchitecture == nullptr) return ThrowNotSupported(info.Env(), fn);
  unsigned int arch = 0;
  nvmlReturn_t ret = g_api.getArchitecture(device, &arch);
  if (ret != NVML_SUCCESS) return ThrowStatus(info.Env(), fn, ret);
  return Napi::Number::New(info.Env(), arch);
}

/* nvmlDeviceGetTotalEnergyConsumption(index): mJ since the driver loaded, as a BigInt (exact). */
Napi::Value GetTotalEnergy(const Napi::CallbackInfo& info) {
  std::shared_lock<std::shared_mutex> lock(g_mutex);
  const char* fn = "nvmlDeviceGetTotalEnergyConsumption";
  nvmlDevice_t device;
  if (!Handle(info, fn, &device)) return info.Env().Undefined();
  if (g_api.getTotalEnergy == nullptr) return ThrowNotSupported(info.Env(), fn);
  unsigned long long energyMj = 0;
  nvmlReturn_t ret = g_api.getTotalEnergy(device, &energyMj);
  if (ret != NVML_SUCCESS) return ThrowStatus(info.Env(), fn, ret);
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(energyMj));
}

/* nvmlDeviceGetPowerUsage(index): board power in mW (a ~1 s average on recent GPUs). */
Napi::Value GetPowerUsage(const Napi::CallbackInfo& info) {
  std::shared_lock<std::shared_mutex> lock(g_mutex);
  const char* fn = "nvmlDeviceGetPowerUsage";
  nvmlDevice_t device;
  if (!Handle(info, fn, &device)) return info.Env().Undefined();
  if (g_api.getPowerUsage == nullptr) return ThrowNotSupported(info.Env(), fn);
  unsigned int powerMw = 0;
  nvmlReturn_t ret = g_api.getPowerUsage(device, &powerMw);
  if (ret != NVML_SUCCESS) return ThrowStatus(info.Env(), fn, ret);
  return Napi::Number::New(info.Env(), powerMw);
}

/* nvmlDeviceGetEnforcedPowerLimit(index): the power cap in force, mW. */
Napi::Value GetEnforcedPowerLimit(const Napi::CallbackInfo& info) {
  std::shared_lock<std::shared_mutex> lock(g_mutex);
  const char* fn = "nvmlDeviceGetEnforcedPowerLimit";
  nvmlDevice_t device;
  if (!Handle(info, fn, &device)) return info.Env().Undefined();
  if (g_api.getEnforcedPowerLimit == nullptr) return ThrowNotSupported(info.Env(), fn);
  unsigned int limitMw = 0;
  nvmlReturn_t ret = g_api.getEnforcedPowerLimit(device, &limitMw);
  if (ret != NVML_SUCCESS) return ThrowStatus(info.Env(), fn, ret);
  return Napi::Number::New(info.Env(), limitMw);
}

/* nvmlDeviceGetUtilizationRates(index): {gpu, memory} percent over NVML's last sample period. */
Napi::Value GetUtilization(const Napi::CallbackInfo& info) {
  std::shared_lock<std::shared_mutex> lock(g_mutex);
  const char* fn = "nvmlDeviceGetUtilizationRates";
  nvmlDevice_t device;
  if (!Handle(info, fn, &device)) return info.Env().Undefined();
  if (g_api.getUtilization == nullptr) return ThrowNotSupported(info.Env(), fn);
  nvmlUtilization_t util = {};
  nvmlReturn_t ret = g_api.getUtilization(device, &util);
  if (ret != NVML_SUCCESS) return ThrowStatus(info.Env(), fn, ret);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("gpu", util.gpu);
  out.Set("memory", util.memory);
  return out;
}

/* nvmlDeviceGetProcessUtilization(index, lastSeenTimeStampUs): samples newer than the timestamp,
   [{pid, smUtil, memUtil, timeStampUs}]; [] where NVML has none (NVML_ERROR_NOT_FOUND). */
Napi::Value GetProcessUtilization(const Napi::CallbackInfo& info) {
  std::shared_lock<std::shared_mutex> lock(g_mutex);
  const char* fn = "nvmlDeviceGetProcessUtilization";
  Napi::Env env = info.Env();
  nvmlDevice_t device;
  if (!Handle(info, fn, &device)) return env.Undefined();
  if (g_api.getProcessUtilization == nullptr) return ThrowNotSupported(env, fn);
  unsigned long long lastSeenUs = 0;
  if (info.Length() > 1 && info[1].IsNumber()) {
    double v = info[1].As<Napi::Number>().DoubleValue();
    lastSeenUs = v > 0 ? static_cast<unsigned long long>(v) : 0;
  } else if (info.Length() > 1 && info[1].IsBigInt()) {
    bool lossless = true;
    lastSeenUs = info[1].As<Napi::BigInt>().Uint64Value(&lossless);
  }
  std::vector<nvmlProcessUtilizationSample_t> samples;
  unsigned int count = 0;
  nvmlReturn_t ret = g_api.getProcessUtilization(device, nullptr, &count, lastSeenUs);
  // The size query answers INSUFFICIENT_SIZE (or SUCCESS on some drivers); the count may grow
  // between the two calls as processes start, hence the slack and the single retry.
  for (int attempt = 0; attempt < 2 && (ret == NVML_SUCCESS || ret == NVML_ERROR_INSUFFICIENT_SIZE); attempt++) {
    if (count == 0) break;
    count += 8;
    samples.assign(count, nvmlProcessUtilizationSample_t{});
    ret = g_api.getProcessUtilization(device, samples.data(), &count, lastSeenUs);
    if (ret == NVML_SUCCESS) break;
  }
  if (ret == NVML_ERROR_NOT_FOUND || (ret == NVML_SUCCESS && samples.empty())) {
    count = 0;
    ret = NVML_SUCCESS;
  }
  if (ret != NVML_SUCCESS) return ThrowStatus(env, fn, ret);
  Napi::Array out = Napi::Array::New(env, count);
  for (unsigned int i = 0; i < count; i++) {
    Napi::Object s = Napi::Object::New(env);
    s.Set("pid", samples[i].pid);
    s.Set("smUtil", samples[i].smUtil);
    s.Set("memUtil", samples[i].memUtil);
    // Microseconds since the epoch stay below 2^53 until the year 2255: a Number is exact.
    s.Set("timeStampUs", static_cast<double>(samples[i].timeStamp));
    out.Set(i, s);
  }
  return out;
}

/* nvmlDeviceResolveUuid(uuid): {index, mig} of the GPU that holds `uuid`; a MIG UUID maps to its
   parent GPU. Throws NVML_ERROR_NOT_FOUND for an unknown UUID. */
Napi::Value ResolveUuid(const Napi::CallbackInfo& info) {
  std::shared_lock<std::shared_mutex> lock(g_mutex);
  const char* fn = "nvmlDeviceGetHandleByUUID";
  Napi::Env env = info.Env();
  if (g_initCount == 0) return ThrowStatus(env, fn, NVML_ERROR_UNINITIALIZED);
  if (info.Length() < 1 || !info[0].IsString()) {
    return Throw(env, "NVML_ERROR_INVALID_ARGUMENT", "expected a UUID string", NVML_ERROR_INVALID_ARGUMENT);
  }
  if (g_api.getHandleByUuid == nullptr || g_api.getIndex == nullptr) return ThrowNotSupported(env, fn);
  std::string uuid = info[0].As<Napi::String>().Utf8Value();
  nvmlDevice_t device;
  nvmlReturn_t ret = g_api.getHandleByUuid(uuid.c_str(), &device);
  if (ret != NVML_SUCCESS) return ThrowStatus(env, fn, ret);
  unsigned int isMig = 0;
  if (g_api.isMigDeviceHandle != nullptr && g_api.isMigDeviceHandle(device, &isMig) != NVML_SUCCESS) isMig = 0;
  if (isMig != 0) {
    if (g_api.getParentOfMig == nullptr) return ThrowNotSupported(env, "nvmlDeviceGetDeviceHandleFromMigDeviceHandle");
    nvmlDevice_t parent;
    ret = g_api.getParentOfMig(device, &parent);
    if (ret != NVML_SUCCESS) return ThrowStatus(env, "nvmlDeviceGetDeviceHandleFromMigDeviceHandle", ret);
    device = parent;
  }
  unsigned int index = 0;
  ret = g_api.getIndex(device, &index);
  if (ret != NVML_SUCCESS) return ThrowStatus(env, "nvmlDeviceGetIndex", ret);
  Napi::Object out = Napi::Object::New(env);
  out.Set("index", index);
  out.Set("mig", Napi::Boolean::New(env, isMig != 0));
  return out;
}

}  // namespace

void InitNvml(Napi::Env env, Napi::Object exports) {
  exports.Set("nvmlInit", Napi::Function::New(env, Init, "nvmlInit"));
  exports.Set("nvmlShutdown", Napi::Function::New(env, Shutdown, "nvmlShutdown"));
  exports.Set("nvmlDeviceGetCount", Napi::Function::New(env, GetCount, "nvmlDeviceGetCount"));
  exports.Set("nvmlSystemGetDriverVersion", Napi::Function::New(env, GetDriverVersion, "nvmlSystemGetDriverVersion"));
  exports.Set("nvmlDeviceGetName", Napi::Function::New(env, GetName, "nvmlDeviceGetName"));
  exports.Set("nvmlDeviceGetUuid", Napi::Function::New(env, GetUuid, "nvmlDeviceGetUuid"));
  exports.Set("nvmlDeviceGetArchitecture", Napi::Function::New(env, GetArchitecture, "nvmlDeviceGetArchitecture"));
  exports.Set("nvmlDeviceGetTotalEnergyConsumption",
              Napi::Function::New(env, GetTotalEnergy, "nvmlDeviceGetTotalEnergyConsumption"));
  exports.Set("nvmlDeviceGetPowerUsage", Napi::Function::New(env, GetPowerUsage, "nvmlDeviceGetPowerUsage"));
  exports.Set("nvmlDeviceGetEnforcedPowerLimit",
              Napi::Function::New(env, GetEnforcedPowerLimit, "nvmlDeviceGetEnforcedPowerLimit"));
  exports.Set("nvmlDeviceGetUtilizationRates", Napi::Function::New(env, GetUtilization, "nvmlDeviceGetUtilizationRates"));
  exports.Set("nvmlDeviceGetProcessUtilization",
              Napi::Function::New(env, GetProcessUtilization, "nvmlDeviceGetProcessUtilization"));
  exports.Set("nvmlDeviceResolveUuid", Napi::Function::New(env, ResolveUuid, "nvmlDeviceResolveUuid"));
}
