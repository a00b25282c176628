//! Minimal fixed-size bitsets over `u64` words.

pub(crate) const fn words(bits: usize) -> usize {
    bits.div_ceil(64)
}

pub(crate) fn set(s: &mut [u64], i: usize) {
    s[i / 64] |= 1 << (i % 64);
}

pub(crate) fn clear(s: &mut [u64], i: usize) {
    s[i / 64] &= !(1 << (i % 64));
}

pub(crate) fn get(s: &[u64], i: usize) -> bool {
    s[i / 64] >> (i % 64) & 1 == 1
}

pub(crate) fn or_into(dst: &mut [u64], src: &[u64]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d |= s;
    }
}
