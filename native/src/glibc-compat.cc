// libstdc++'s headers (GCC 11+) read glibc 2.32's __libc_single_threaded to skip atomic reference
// counts; that would require GLIBC_2.32. This hidden definition satisfies those references inside
// the addon: 0 means "maybe multi-threaded", so the atomic path is always taken (worker threads do
// call the addon). See glibc-compat.h.
#if defined(__linux__)
#include <features.h>
#if defined(__GLIBC__)
extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}
#endif
#endif
