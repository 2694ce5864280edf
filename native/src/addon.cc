// Entry point of the wattprint native addon: registers the NVML and RAPL functions.
// The addon never links NVML: nvml.cc dlopen()s it at run time.
#include <napi.h>
#include "nvml.h"
#include "rapl.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitNvml(env, exports);
  InitRapl(env, exports);
  return exports;
}

NODE_API_MODULE(wattprint, Init)
