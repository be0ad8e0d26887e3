//! The capacity Go gives a slice that `append` grows: `growslice`'s next capacity rounded up to a malloc size class.
//!
//! Go's `slice` builtin checks its indexes against the capacity, so what a
//! template may slice past a list's length depends on how the list was
//! built. These are the rules of the Go runtime Helm 4 is built with (Go
//! 1.22 and later: a malloc header in objects of more than 512 bytes that
//! hold pointers).

use super::value::Elem;

/// Go's small-object size classes, in bytes.
const SIZE_CLASSES: [usize; 68] = [
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320,
    352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792,
    2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728,
    10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672,
    32768,
];
const MAX_SMALL: usize = 32768;
const PAGE: usize = 8192;
const MALLOC_HEADER: usize = 8;

/// The size of an element and whether it holds pointers.
fn layout(elem: Elem) -> (usize, bool) {
    match elem {
        Elem::Any | Elem::String => (16, true),
        Elem::AnyList => (24, true),
        Elem::Int => (8, false),
        Elem::Uint8 => (1, false),
    }
}

/// `roundupsize`: the bytes malloc hands out for a request of `size`.
fn round_up(size: usize, pointers: bool) -> usize {
    if size > MAX_SMALL - MALLOC_HEADER {
        return size.div_ceil(PAGE) * PAGE;
    }
    let header = if pointers && size > 512 { MALLOC_HEADER } else { 0 };
    let request = size + header;
    let class = SIZE_CLASSES.iter().copied().find(|&c| c >= request).unwrap_or(MAX_SMALL);
    class - header
}

/// The capacity `append` gives a slice of capacity `old` that must hold `needed` elements.
pub(crate) fn grown_cap(old: usize, needed: usize, elem: Elem) -> usize {
    let (size, pointers) = layout(elem);
    let double = old * 2;
    let mut cap = old;
    if needed > double {
        cap = needed;
    } else if old < 256 {
        cap = double;
    } else {
        while cap < needed {
            cap += (cap + 3 * 256) >> 2;
        }
    }
    round_up(cap.saturating_mul(size), pointers) / size
}

/// The capacity of a slice built by appending `n` elements one at a time to an empty one.
pub(crate) fn appended_cap(n: usize, elem: Elem) -> usize {
    appended_cap_from(0, n, elem)
}

/// The capacity of a slice of capacity `start` (and length at most `n`)
/// after appending one element at a time until it holds `n`.
pub(crate) fn appended_cap_from(start: usize, n: usize, elem: Elem) -> usize {
    let mut cap = start;
    while cap < n {
        cap = grown_cap(cap, cap + 1, elem);
    }
    cap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities() {
        // (elements appended one by one, element type, capacity)
        let cases = [
            (0, Elem::Any, 0),
            (1, Elem::Any, 1),
            (3, Elem::Any, 4),
            (5, Elem::Any, 8),
            (17, Elem::Any, 32),
            // Past 512 bytes a pointerful object carries an 8-byte header
            // (measured with the helm-template oracle: Helm's Go).
            (65, Elem::Any, 71),
            (100, Elem::Any, 143),
            (300, Elem::Any, 303),
            (100, Elem::Int, 128),
            (5, Elem::Int, 8),
            (4, Elem::Int, 4),
        ];
        for (n, elem, want) in cases {
            assert_eq!(appended_cap(n, elem), want, "{n} {elem:?}");
        }
        assert_eq!(grown_cap(3, 4, Elem::Any), 6);
        assert_eq!(grown_cap(1, 4, Elem::Any), 4);
        assert_eq!(grown_cap(40, 41, Elem::Any), 87);
        // Go's regexp starts a FindAll result at capacity 10.
        assert_eq!(appended_cap_from(10, 3, Elem::String), 10);
        assert_eq!(appended_cap_from(10, 11, Elem::String), 20);
        assert_eq!(appended_cap_from(2, 3, Elem::String), 4);
    }
}
