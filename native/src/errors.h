#pragma once
// The one error shape of the addon: an Error whose `code` is a string (an NVML status name, an
// errno name, or ERR_INVALID_ARG_TYPE), as Node's own errors are. Every function throws only this.
#include <napi.h>

#include <string>

inline Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Value().Set("code", Napi::String::New(env, code));
  return err;
}

// Throws ERR_INVALID_ARG_TYPE (bad arguments are a caller bug, named like Node's own) and returns undefined.
inline Napi::Value ThrowInvalidArg(Napi::Env env, const std::string& message) {
  CodedError(env, "ERR_INVALID_ARG_TYPE", message).ThrowAsJavaScriptException();
  return env.Undefined();
}
