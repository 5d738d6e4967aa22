//! Signing keys and signatures in cosign's formats, so that what morph signs cosign verifies and
//! the other way round: ECDSA P-256 keys in PEM (the private key PKCS#8, encrypted with a
//! passphrase as cosign encrypts it: scrypt for the key, NaCl secretbox for the bytes, the
//! parameters in a JSON document), and the "simple signing" payload that names a manifest
//! digest, signed with SHA-256 and stored base64 in a layer annotation.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use crypto_secretbox::aead::{Aead, KeyInit, OsRng};
use crypto_secretbox::XSalsa20Poly1305;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};

/// The layer type of a simple-signing payload, and the annotation its signature is in.
pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The PEM label of an encrypted private key (cosign's current one; the older is read too).
const ENCRYPTED_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
const OLD_ENCRYPTED_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// scrypt's cost, cosign's default (N = 2^15, r = 8, p = 1), and the sizes secretbox takes.
const SCRYPT_LOG_N: u8 = 15;
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Format(String),
    #[error("the passphrase does not open this key")]
    WrongPassphrase,
    #[error("this key is encrypted; give its passphrase in COSIGN_PASSWORD (or MORPH_PASSWORD)")]
    NeedsPassphrase,
}

/// A new key pair: the private key as PEM (encrypted when `passphrase` is given) and the public
/// key as PEM.
pub fn generate(passphrase: Option<&str>) -> Result<(String, String), KeyError> {
    let key = SigningKey::random(&mut OsRng);
    let public = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| KeyError::Format(format!("cannot encode the public key: {e}")))?;
    let der = key.to_pkcs8_der().map_err(|e| KeyError::Format(format!("cannot encode the private key: {e}")))?;
    let private = match passphrase {
        None => der.to_pem("PRIVATE KEY", LineEnding::LF).map_err(|e| KeyError::Format(e.to_string()))?.to_string(),
        Some(p) => pem_encode(ENCRYPTED_LABEL, &encrypt(der.as_bytes(), p.as_bytes())?),
    };
    Ok((private, public))
}

/// A private key from PEM: cosign's encrypted form (opened with `passphrase`), PKCS#8 or SEC1.
pub fn read_private(pem: &str, passphrase: Option<&str>) -> Result<SigningKey, KeyError> {
    let (label, body) = pem_decode(pem)?;
    match label.as_str() {
        ENCRYPTED_LABEL | OLD_ENCRYPTED_LABEL => {
            let passphrase = passphrase.ok_or(KeyError::NeedsPassphrase)?;
            let der = decrypt(&body, passphrase.as_bytes())?;
            SigningKey::from_pkcs8_der(&der).map_err(|e| KeyError::Format(format!("not an ECDSA P-256 key: {e}")))
        }
        "PRIVATE KEY" => {
            SigningKey::from_pkcs8_der(&body).map_err(|e| KeyError::Format(format!("not an ECDSA P-256 key: {e}")))
        }
        "EC PRIVATE KEY" => p256::SecretKey::from_sec1_der(&body)
            .map(SigningKey::from)
            .map_err(|e| KeyError::Format(format!("not an ECDSA P-256 key: {e}"))),
        other => Err(KeyError::Format(format!("a `{other}` PEM block is not a private key"))),
    }
}

/// A public key from PEM (`PUBLIC KEY`, as cosign writes it).
pub fn read_public(pem: &str) -> Result<VerifyingKey, KeyError> {
    VerifyingKey::from_public_key_pem(pem.trim())
        .map_err(|e| KeyError::Format(format!("not an ECDSA P-256 public key in PEM: {e}")))
}

/// The simple-signing payload for the manifest `digest` of `repository` (`host/path`).
pub fn payload(repository: &str, digest: &str) -> Vec<u8> {
    serde_json::json!({
        "critical": {
            "identity": { "docker-reference": repository },
            "image": { "docker-manifest-digest": digest },
            "type": "cosign container image signature",
        },
        "optional": null,
    })
    .to_string()
    .into_bytes()
}

/// The manifest digest a payload vouches for, when it is a simple-signing payload.
pub fn payload_digest(payload: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    Some(v["critical"]["image"]["docker-manifest-digest"].as_str()?.to_string())
}

/// The signature of `payload`, base64 of its DER encoding (what cosign stores).
pub fn sign(key: &SigningKey, payload: &[u8]) -> String {
    let signature: DerSignature = key.sign(payload);
    B64.encode(signature.as_bytes())
}

/// Whether `signature` (base64, DER or the raw 64 bytes) is `key`'s over `payload`.
pub fn verify(key: &VerifyingKey, payload: &[u8], signature: &str) -> bool {
    let Ok(bytes) = B64.decode(signature.trim()) else { return false };
    let parsed = Signature::from_der(&bytes).or_else(|_| Signature::from_slice(&bytes));
    parsed.is_ok_and(|s| key.verify(payload, &s).is_ok())
}

/// cosign's encrypted key document.
#[derive(Serialize, Deserialize)]
struct Encrypted {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

fn box_key(passphrase: &[u8], salt: &[u8], params: &KdfParams) -> Result<XSalsa20Poly1305, KeyError> {
    if !params.n.is_power_of_two() || params.n < 2 {
        return Err(KeyError::Format(format!("scrypt N = {} is not a power of two", params.n)));
    }
    let log_n = params.n.trailing_zeros() as u8;
    let scrypt = scrypt::Params::new(log_n, params.r, params.p, 32)
        .map_err(|e| KeyError::Format(format!("scrypt parameters: {e}")))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(passphrase, salt, &scrypt, &mut key).map_err(|e| KeyError::Format(e.to_string()))?;
    Ok(XSalsa20Poly1305::new(&key.into()))
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut bytes);
    bytes
}

fn encrypt(plain: &[u8], passphrase: &[u8]) -> Result<Vec<u8>, KeyError> {
    let (salt, nonce) = (random::<SALT_LEN>(), random::<NONCE_LEN>());
    let params = KdfParams { n: 1 << SCRYPT_LOG_N, r: 8, p: 1 };
    let sealed = box_key(passphrase, &salt, &params)?
        .encrypt(&nonce.into(), plain)
        .map_err(|_| KeyError::Format("cannot encrypt the key".into()))?;
    let doc = Encrypted {
        kdf: Kdf { name: "scrypt".into(), params, salt: B64.encode(salt) },
        cipher: Cipher { name: "nacl/secretbox".into(), nonce: B64.encode(nonce) },
        ciphertext: B64.encode(sealed),
    };
    serde_json::to_vec(&doc).map_err(|e| KeyError::Format(e.to_string()))
}

fn decrypt(doc: &[u8], passphrase: &[u8]) -> Result<Vec<u8>, KeyError> {
    let doc: Encrypted =
        serde_json::from_slice(doc).map_err(|e| KeyError::Format(format!("not cosign's encrypted key format: {e}")))?;
    if doc.kdf.name != "scrypt" || doc.cipher.name != "nacl/secretbox" {
        return Err(KeyError::Format(format!("unsupported key encryption {} / {}", doc.kdf.name, doc.cipher.name)));
    }
    let b64 = |s: &str| B64.decode(s).map_err(|e| KeyError::Format(format!("bad base64 in the key: {e}")));
    let (salt, nonce, sealed) = (b64(&doc.kdf.salt)?, b64(&doc.cipher.nonce)?, b64(&doc.ciphertext)?);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| KeyError::Format("the nonce is not 24 bytes".into()))?;
    box_key(passphrase, &salt, &doc.kdf.params)?
        .decrypt(&nonce.into(), sealed.as_slice())
        .map_err(|_| KeyError::WrongPassphrase)
}

fn pem_encode(label: &str, bytes: &[u8]) -> String {
    let body = B64.encode(bytes);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// The label and bytes of the first PEM block in `text`.
fn pem_decode(text: &str) -> Result<(String, Vec<u8>), KeyError> {
    let not_pem = || KeyError::Format("not a PEM key (no -----BEGIN … KEY----- line)".into());
    let start = text.find("-----BEGIN ").ok_or_else(not_pem)?;
    let rest = &text[start + 11..];
    let label_end = rest.find("-----").ok_or_else(not_pem)?;
    let label = rest[..label_end].to_string();
    let body_and_end = &rest[label_end + 5..];
    let end = body_and_end.find(&format!("-----END {label}-----")).ok_or_else(not_pem)?;
    let body: String = body_and_end[..end].chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = B64.decode(body).map_err(|e| KeyError::Format(format!("bad base64 in the PEM block: {e}")))?;
    Ok((label, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_encrypted_key_signs_what_its_public_key_verifies() {
        let (private, public) = generate(Some("hunter2")).unwrap();
        assert!(private.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
        assert!(matches!(read_private(&private, Some("wrong")), Err(KeyError::WrongPassphrase)));
        assert!(matches!(read_private(&private, None), Err(KeyError::NeedsPassphrase)));
        let key = read_private(&private, Some("hunter2")).unwrap();
        let public = read_public(&public).unwrap();
        let p = payload("localhost:5000/acme/hello", "sha256:ab");
        assert_eq!(payload_digest(&p).as_deref(), Some("sha256:ab"));
        let s = sign(&key, &p);
        assert!(verify(&public, &p, &s));
        assert!(!verify(&public, &payload("localhost:5000/acme/hello", "sha256:cd"), &s));
        let (_, other) = generate(None).unwrap();
        assert!(!verify(&read_public(&other).unwrap(), &p, &s));
    }

    #[test]
    fn a_plain_key_reads_without_a_passphrase() {
        let (private, _) = generate(None).unwrap();
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
        read_private(&private, None).unwrap();
        assert!(read_private("nothing", None).is_err());
    }
}
