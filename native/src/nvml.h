#pragma once
#include <napi.h>
// Registers the nvml* functions on the addon's exports (owned by nvml.cc).
void InitNvml(Napi::Env env, Napi::Object exports);
