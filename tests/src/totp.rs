//! RFC 6238 written out on its own (HMAC-SHA-1, 6 digits, 30-second steps), playing the
//! authenticator app, so that tests do not check roster's codes with roster's own code.

use hmac::{Hmac, Mac};
use sha1::Sha1;

const BASE32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_decode(text: &str) -> Vec<u8> {
    let (mut bits, mut held, mut out) = (0u64, 0u32, Vec::new());
    for c in text.trim_end_matches('=').chars() {
        let value = BASE32
            .find(c.to_ascii_uppercase())
            .unwrap_or_else(|| panic!("{c:?} is not base32")) as u64;
        bits = (bits << 5) | value;
        held += 5;
        if held >= 8 {
            held -= 8;
            out.push((bits >> held) as u8);
            bits &= (1 << held) - 1;
        }
    }
    out
}

/// The 6-digit code for `secret` (base32) at `unix_secs`.
pub fn code(secret: &str, unix_secs: u64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(&base32_decode(secret)).expect("any key length");
    mac.update(&(unix_secs / 30).to_be_bytes());
    let h = mac.finalize().into_bytes();
    let at = (h[19] & 0x0f) as usize;
    let value = u32::from_be_bytes([h[at] & 0x7f, h[at + 1], h[at + 2], h[at + 3]]) % 1_000_000;
    format!("{value:06}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_app_agrees_with_the_rfc() {
        // RFC 6238 appendix B (SHA-1), the 8-digit codes' last six digits.
        let seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // "12345678901234567890"
        assert_eq!(super::code(seed, 59), "287082");
        assert_eq!(super::code(seed, 1111111109), "081804");
        assert_eq!(super::code(seed, 2000000000), "279037");
    }
}
