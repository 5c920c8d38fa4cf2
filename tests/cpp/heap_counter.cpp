#include "heap_counter.hpp"

#include <atomic>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SMR_HEAP_COUNTER 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define SMR_HEAP_COUNTER 0
#endif
#endif
#if !defined(SMR_HEAP_COUNTER) && defined(__GLIBC__)
#define SMR_HEAP_COUNTER 1
#endif
#ifndef SMR_HEAP_COUNTER
#define SMR_HEAP_COUNTER 0
#endif

namespace {

// Constant-initialised: malloc runs before any dynamic initialiser.
std::atomic<bool> counting{false};
std::atomic<long long> allocations{0};
std::atomic<long long> live_bytes{0};   // every block since the start of the process
std::atomic<long long> baseline{0};
std::atomic<long long> peak{0};
std::atomic<std::size_t> failing_above{0};  // 0: every allocation is passed on

}  // namespace

#if SMR_HEAP_COUNTER
#include <malloc.h>

#include <cerrno>
#include <cstdlib>

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* pointer, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void __libc_free(void* pointer);
}

namespace {

bool refused(std::size_t size) {
  const std::size_t limit = failing_above.load(std::memory_order_relaxed);
  return limit > 0 && size > limit && counting.load(std::memory_order_relaxed);
}

void note_allocated(void* pointer) {
  if (pointer == nullptr) return;
  const auto size = static_cast<long long>(malloc_usable_size(pointer));
  const long long now = live_bytes.fetch_add(size, std::memory_order_relaxed) + size;
  if (!counting.load(std::memory_order_relaxed)) return;
  allocations.fetch_add(1, std::memory_order_relaxed);
  long long seen = peak.load(std::memory_order_relaxed);
  while (now > seen && !peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
  }
}

void note_freed(void* pointer) {
  if (pointer != nullptr) live_bytes.fetch_sub(static_cast<long long>(malloc_usable_size(pointer)), std::memory_order_relaxed);
}

}  // namespace

extern "C" {

void* malloc(std::size_t size) {
  if (refused(size)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* pointer = __libc_malloc(size);
  note_allocated(pointer);
  return pointer;
}

void* calloc(std::size_t count, std::size_t size) {
  if (size > 0 && refused(count * size)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* pointer = __libc_calloc(count, size);
  note_allocated(pointer);
  return pointer;
}

void* realloc(void* pointer, std::size_t size) {
  if (refused(size)) {
    errno = ENOMEM;
    return nullptr;  // the old block stays as it was
  }
  note_freed(pointer);
  void* moved = __libc_realloc(pointer, size);
  if (moved == nullptr && size != 0 && pointer != nullptr) {  // failed: the old block is still live
    live_bytes.fetch_add(static_cast<long long>(malloc_usable_size(pointer)), std::memory_order_relaxed);
    return nullptr;
  }
  note_allocated(moved);
  return moved;
}

void free(void* pointer) {
  note_freed(pointer);
  __libc_free(pointer);
}

void* memalign(std::size_t alignment, std::size_t size) {
  if (refused(size)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* pointer = __libc_memalign(alignment, size);
  note_allocated(pointer);
  return pointer;
}

void* aligned_alloc(std::size_t alignment, std::size_t size) { return memalign(alignment, size); }

int posix_memalign(void** result, std::size_t alignment, std::size_t size) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* pointer = memalign(alignment, size);
  if (pointer == nullptr) return ENOMEM;
  *result = pointer;
  return 0;
}

}  // extern "C"
#endif

namespace smr::test {

bool HeapCounter::available() { return SMR_HEAP_COUNTER != 0; }

HeapCounter::HeapCounter() {
  allocations = 0;
  baseline = live_bytes.load();
  peak = baseline.load();
  counting = true;
}

HeapCounter::~HeapCounter() {
  counting = false;
  failing_above = 0;
}

void HeapCounter::fail_above(std::size_t bytes) { failing_above = bytes; }

HeapCount HeapCounter::stop() {
  counting = false;
  failing_above = 0;
  const long long above = peak.load() - baseline.load();
  return {allocations.load(), static_cast<std::size_t>(above > 0 ? above : 0)};
}

}  // namespace smr::test
