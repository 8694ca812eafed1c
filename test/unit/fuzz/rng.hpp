// A small deterministic random source for the loader fuzzer (licence: GPL-2.0-only).
// SplitMix64: every input is derived from (seed, iteration) alone, so one input can be
// replayed with --only N without running the ones before it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kpatch::fuzz {

class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    static Rng for_input(std::uint64_t seed, std::uint64_t iteration)
    {
        Rng mix(seed ^ (iteration * 0x9e3779b97f4a7c15ull));
        mix.next();
        return Rng(mix.next());
    }

    std::uint64_t next()
    {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, n); 0 when n is 0.
    std::size_t below(std::size_t n) { return n ? static_cast<std::size_t>(next() % n) : 0; }
    // True with probability PERCENT/100.
    bool percent(unsigned p) { return below(100) < p; }
    template <typename T>
    const T &pick(const std::vector<T> &v) { return v[below(v.size())]; }

    // A value that tends to break size and offset arithmetic.
    std::uint64_t interesting()
    {
        static const std::uint64_t values[] = {0, 1, 2, 7, 8, 23, 24, 25, 63, 64, 0x7f, 0x80, 0xff, 0x100, 0x7fff,
                                               0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
                                               0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull,
                                               0xfffffffffffffff0ull};
        return values[below(sizeof values / sizeof values[0])];
    }

private:
    std::uint64_t state_;
};

} // namespace kpatch::fuzz
