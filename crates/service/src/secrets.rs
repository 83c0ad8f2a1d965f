//! Keys derived from the server secret, which lives outside the database: signing JWTs,
//! sealing stored credentials (legacy API keys, invite tokens) and keyed look-up hashes.
//! A database leak alone reveals no usable credential.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct Secrets {
    jwt: Vec<u8>,
    seal: [u8; 32],
    lookup: Vec<u8>,
    fingerprint: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

fn derive(master: &[u8], label: &str) -> [u8; 32] {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(master).expect("HMAC takes any key length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

impl Secrets {
    /// Derives every key from the master secret (at least 32 bytes).
    pub fn from_master(master: &[u8]) -> Secrets {
        Secrets {
            jwt: derive(master, "roster jwt v1").to_vec(),
            seal: derive(master, "roster seal v1"),
            lookup: derive(master, "roster lookup v1").to_vec(),
            fingerprint: hex::encode(&derive(master, "roster fingerprint v1")[..8]),
        }
    }

    /// A short value that identifies the secret without revealing it; stored in the database
    /// so that a node started with the wrong secret refuses to run.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn jwt_key(&self) -> &[u8] {
        &self.jwt
    }

    /// The keyed hash under which a credential is looked up.
    pub fn lookup_hash(&self, value: &str) -> String {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.lookup).expect("HMAC takes any key length");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Encrypts a value for storage.
    pub fn seal(&self, plain: &str) -> String {
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        let mut nonce = [0u8; 24];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .expect("encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Decrypts a stored value; None if it was sealed with another secret or altered.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let raw = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if raw.len() < 24 {
            return None;
        }
        let cipher = XChaCha20Poly1305::new((&self.seal).into());
        let plain = cipher
            .decrypt(XNonce::from_slice(&raw[..24]), &raw[24..])
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

/// A random URL-safe token of `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A random legacy API key: 40 hexadecimal characters, as Label Studio issues them.
pub fn random_legacy_key() -> String {
    let mut buf = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_secret() {
        let a = Secrets::from_master(&[7u8; 32]);
        let b = Secrets::from_master(&[8u8; 32]);
        let sealed = a.seal("0123456789abcdef");
        assert_eq!(a.open(&sealed).as_deref(), Some("0123456789abcdef"));
        assert_eq!(b.open(&sealed), None);
        assert!(!sealed.contains("0123456789abcdef"));
    }

    #[test]
    fn lookup_hashes_are_keyed() {
        let a = Secrets::from_master(&[7u8; 32]);
        let b = Secrets::from_master(&[8u8; 32]);
        assert_eq!(a.lookup_hash("k"), a.lookup_hash("k"));
        assert_ne!(a.lookup_hash("k"), b.lookup_hash("k"));
    }

    #[test]
    fn legacy_keys_are_forty_hex() {
        let k = random_legacy_key();
        assert_eq!(k.len(), 40);
        assert!(k.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
