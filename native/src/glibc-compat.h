#pragma once
// Prebuilds must load on glibc 2.17 (RHEL 7, Ubuntu 14.04 and newer; the oldest glibc of any
// aarch64 distribution). glibc 2.34 moved dlopen & co. into libc.so.6 under a new symbol version,
// so a build on a newer glibc would require GLIBC_2.34; these directives bind the old versions,
// which every glibc since keeps as compatibility symbols. test/native/prebuild-abi.test.ts checks
// the result with objdump. stat() (GLIBC_2.33) and other newer symbols are simply not used.
// libstdc++ is linked dynamically but only through symbols of GCC 4.8 (GLIBCXX_3.4.19, RHEL 7):
// binding.gyp builds with the pre-C++11 string ABI and without sized deallocation.
#if defined(__linux__)
#include <features.h>
#endif
#if defined(__linux__) && defined(__GLIBC__)
#if defined(__x86_64__)
#define WATTPRINT_GLIBC_BASE "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define WATTPRINT_GLIBC_BASE "GLIBC_2.17"
#endif
#ifdef WATTPRINT_GLIBC_BASE
__asm__(".symver dlopen,dlopen@" WATTPRINT_GLIBC_BASE);
__asm__(".symver dlsym,dlsym@" WATTPRINT_GLIBC_BASE);
__asm__(".symver dlerror,dlerror@" WATTPRINT_GLIBC_BASE);
__asm__(".symver dlclose,dlclose@" WATTPRINT_GLIBC_BASE);
// std::shared_mutex is header-only over these (libpthread merged into libc in 2.34, too).
__asm__(".symver pthread_rwlock_rdlock,pthread_rwlock_rdlock@" WATTPRINT_GLIBC_BASE);
__asm__(".symver pthread_rwlock_wrlock,pthread_rwlock_wrlock@" WATTPRINT_GLIBC_BASE);
__asm__(".symver pthread_rwlock_unlock,pthread_rwlock_unlock@" WATTPRINT_GLIBC_BASE);
#endif
#endif
