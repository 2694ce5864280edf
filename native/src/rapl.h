#pragma once
#include <napi.h>
// Registers the rapl*/msr* functions on the addon's exports (owned by rapl.cc).
void InitRapl(Napi::Env env, Napi::Object exports);
