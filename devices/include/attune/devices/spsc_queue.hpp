// SpscQueue<T>: a fixed-capacity, lock-free, single-producer / single-consumer ring buffer.
//
// Threading rules: exactly ONE producer thread calls TryPush/Emplace (in Attune, the device
// thread) and exactly ONE consumer thread calls TryPop/Front/Pop (the UI / session thread).
// Size(), Capacity() and Dropped() may be read from any thread (approximate while running).
//
// Capacity is rounded up to a power of two so the slot index is `counter & mask`. All slots are
// allocated (and default-constructed) in the constructor; pushing and popping never allocate
// (moving a T in or out may, if T itself allocates: a DeviceEvent only does for Status text).
//
// Full queue: the producer must never block (the device thread would stop reading and the
// kernel buffer would overflow) and cannot pop the oldest item (only the consumer may touch
// m_head), so a push onto a full queue fails, the item is dropped, and Dropped() counts it.
//
// Memory ordering. m_tail (next slot to write) is written only by the producer, m_head (next
// slot to read) only by the consumer; both are monotonically increasing 64-bit counters (they
// never wrap in practice), so size = tail - head and "full" is size == capacity.
//  * Producer: reads its own m_tail relaxed; writes the slot; then stores m_tail with RELEASE.
//    The consumer's ACQUIRE load of m_tail synchronises with it, so the slot's contents are
//    visible before the consumer reads them.
//  * Consumer: reads its own m_head relaxed; moves the item out of the slot; then stores m_head
//    with RELEASE. The producer's ACQUIRE load of m_head synchronises with it, so the consumer
//    has finished with a slot before the producer overwrites it.
//  * Each side keeps a cached copy of the other side's index (m_head_cache for the producer,
//    m_tail_cache for the consumer) and reloads the shared atomic only when the cache says
//    full/empty, so in steady state the two cores do not bounce each other's cache lines.
//  * m_head, m_tail and the caches sit on separate cache lines (64 bytes; alignas) to avoid
//    false sharing. Same scheme as Tracy's tracy_SPSCQueue.h (after Erik Rigtorp's SPSCQueue).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace attune::devices {

template <typename T>
class SpscQueue {
    static_assert(std::is_default_constructible_v<T>, "slots are default-constructed up front");
    static_assert(std::is_move_assignable_v<T>, "items are moved in and out of slots");

public:
    // Capacity is rounded up to a power of two (at least 2).
    explicit SpscQueue(std::size_t min_capacity)
        : m_capacity(RoundUp(min_capacity)), m_mask(m_capacity - 1), m_slots(new T[m_capacity]) {}

    SpscQueue(const SpscQueue&) = delete;
    SpscQueue& operator=(const SpscQueue&) = delete;

    // --- producer side ------------------------------------------------------------------
    // Moves `value` in and returns true, or returns false (value untouched) and counts a drop.
    bool TryPush(T&& value) {
        const std::uint64_t tail = m_tail.load(std::memory_order_relaxed);
        if (tail - m_head_cache == m_capacity) {
            m_head_cache = m_head.load(std::memory_order_acquire);
            if (tail - m_head_cache == m_capacity) {
                m_dropped.fetch_add(1, std::memory_order_relaxed);
                return false;
            }
        }
        m_slots[tail & m_mask] = std::move(value);
        m_tail.store(tail + 1, std::memory_order_release);
        return true;
    }
    bool TryPush(const T& value) {
        T copy(value);
        return TryPush(std::move(copy));
    }
    // True if a push would succeed now (producer only).
    bool HasRoom() {
        const std::uint64_t tail = m_tail.load(std::memory_order_relaxed);
        if (tail - m_head_cache < m_capacity) return true;
        m_head_cache = m_head.load(std::memory_order_acquire);
        return tail - m_head_cache < m_capacity;
    }

    // --- consumer side ------------------------------------------------------------------
    // Moves the oldest item into `out` and returns true, or returns false when empty.
    bool TryPop(T& out) {
        T* front = Front();
        if (front == nullptr) return false;
        out = std::move(*front);
        Pop();
        return true;
    }
    // The oldest item, or nullptr when empty. Valid until Pop().
    T* Front() {
        const std::uint64_t head = m_head.load(std::memory_order_relaxed);
        if (head == m_tail_cache) {
            m_tail_cache = m_tail.load(std::memory_order_acquire);
            if (head == m_tail_cache) return nullptr;
        }
        return &m_slots[head & m_mask];
    }
    // Discards the oldest item; only after Front() returned non-null.
    void Pop() {
        const std::uint64_t head = m_head.load(std::memory_order_relaxed);
        m_head.store(head + 1, std::memory_order_release);
    }

    // --- any thread ---------------------------------------------------------------------
    std::size_t Capacity() const { return m_capacity; }
    std::size_t Size() const {
        const std::uint64_t head = m_head.load(std::memory_order_acquire);
        const std::uint64_t tail = m_tail.load(std::memory_order_acquire);
        return tail >= head ? static_cast<std::size_t>(tail - head) : 0;
    }
    bool Empty() const { return Size() == 0; }
    std::uint64_t Dropped() const { return m_dropped.load(std::memory_order_relaxed); }

private:
    static constexpr std::size_t kCacheLine = 64;

    static std::size_t RoundUp(std::size_t n) {
        std::size_t c = 2;
        while (c < n) c <<= 1;
        return c;
    }

    const std::size_t m_capacity;
    const std::size_t m_mask;
    const std::unique_ptr<T[]> m_slots;

    // Consumer-owned.
    alignas(kCacheLine) std::atomic<std::uint64_t> m_head{0};
    std::uint64_t m_tail_cache = 0;
    // Producer-owned.
    alignas(kCacheLine) std::atomic<std::uint64_t> m_tail{0};
    std::uint64_t m_head_cache = 0;
    alignas(kCacheLine) std::atomic<std::uint64_t> m_dropped{0};
};

}  // namespace attune::devices
