// Counts heap allocations and tracks the peak of live heap bytes, for tests that check that training
// allocates nothing per epoch and that the memory estimate covers what a training really holds.
// heap_counter.cpp replaces malloc and friends (forwarding to glibc), so Eigen's buffers, which never
// go through operator new, are counted too. Under a sanitizer, whose runtime owns malloc, nothing is
// replaced and available() is false: tests then say so and check nothing.
#pragma once

#include <cstddef>

namespace smr::test {

struct HeapCount {
  long long allocations = 0;  // malloc, calloc, realloc, aligned allocations, operator new
  std::size_t peak_bytes = 0;  // highest live heap bytes above those live when counting began
};

class HeapCounter {
 public:
  static bool available();
  HeapCounter();   // starts counting (one counter at a time)
  ~HeapCounter();  // stops, and allocations succeed again
  HeapCount stop();
  // While counting, an allocation of more than `bytes` fails as on a machine out of memory.
  void fail_above(std::size_t bytes);
};

}  // namespace smr::test
