// A seeded random subset that does not depend on the order items arrive in: an item's rank is a hash
// of the seed and its index (a pixel's row-major position, a pair's position), and the subset is the
// `capacity` items of lowest rank. Windows read in any order by any number of threads therefore give
// the same subset, which keeps sampled training data and scatter plots thread-invariant.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace smr {

// splitmix64's finaliser: consecutive inputs give unrelated outputs.
inline std::uint64_t splitmix64(std::uint64_t state) {
  state += 0x9e3779b97f4a7c15ULL;
  state = (state ^ (state >> 30)) * 0xbf58476d1ce4e5b9ULL;
  state = (state ^ (state >> 27)) * 0x94d049bb133111ebULL;
  return state ^ (state >> 31);
}

template <typename Payload>
class SeededSample {
 public:
  struct Item {
    std::uint64_t rank;
    std::uint64_t index;
    Payload payload;
  };
  static constexpr std::size_t kEverything = std::numeric_limits<std::size_t>::max();

  // capacity: how many items to keep; kEverything keeps all of them.
  SeededSample(std::size_t capacity, std::uint64_t seed) : capacity_(capacity), seed_state_(splitmix64(seed)) {}

  void add(std::uint64_t index, Payload payload) {
    if (capacity_ == 0) return;
    items_.push_back({capacity_ == kEverything ? index : splitmix64(seed_state_ + index), index, std::move(payload)});
    prune_when_full();
  }

  void absorb(SeededSample&& other) {
    for (auto& item : other.items_) {
      items_.push_back(std::move(item));
      prune_when_full();
    }
    other.items_.clear();
  }

  // The kept items, in the order of their indices.
  std::vector<Item> take_in_index_order() {
    prune();
    std::sort(items_.begin(), items_.end(), [](const Item& a, const Item& b) { return a.index < b.index; });
    return std::move(items_);
  }

 private:
  // Pruning only at twice the capacity keeps the cost of nth_element low while bounding memory.
  void prune_when_full() {
    if (capacity_ <= kEverything / 2 && items_.size() >= 2 * capacity_) prune();
  }
  void prune() {
    if (items_.size() <= capacity_) return;
    std::nth_element(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(capacity_), items_.end(),
                     [](const Item& a, const Item& b) { return a.rank != b.rank ? a.rank < b.rank : a.index < b.index; });
    items_.resize(capacity_);
  }

  std::size_t capacity_;
  std::uint64_t seed_state_;
  std::vector<Item> items_;
};

}  // namespace smr
