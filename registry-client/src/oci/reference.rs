//! OCI references (`[registry/]repository[:tag][@digest]`), read by hand.
//!
//! The grammar is the distribution project's, as docker and oci-client read it; oci-client's
//! parser compiles that grammar as one large regex on first use, which cost ~45 ms of every
//! command that names a reference (a warm pull is a few ms of other work). What a reference
//! means after parsing (Hub's default registry and `library/`, `latest` when no tag or digest is
//! given) is the same as there.

use oci_client::Reference;

/// The longest repository name the distribution spec allows.
const NAME_MAX: usize = 255;
const HUB: &str = "docker.io";
const HUB_LEGACY: &str = "index.docker.io";

/// Why a string is not a reference, in the words the error message uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Invalid(pub &'static str);

pub(super) fn parse(s: &str) -> Result<Reference, Invalid> {
    if s.is_empty() {
        return Err(Invalid("it is empty"));
    }
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (s, None),
    };
    // A tag is a `:` after the last `/`; one before it is a registry's port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    check_name(name)?;
    if let Some(t) = tag {
        check_tag(t)?;
    }
    if let Some(d) = digest {
        check_digest(d)?;
    }
    let (registry, repository) = split_registry(name);
    if repository.len() > NAME_MAX {
        return Err(Invalid("the repository name is longer than 255 characters"));
    }
    Ok(match (tag, digest) {
        (Some(t), Some(d)) => Reference::with_tag_and_digest(registry, repository, t.into(), d.into()),
        (None, Some(d)) => Reference::with_digest(registry, repository, d.into()),
        (Some(t), None) => Reference::with_tag(registry, repository, t.into()),
        (None, None) => Reference::with_tag(registry, repository, "latest".into()),
    })
}

/// `name` is an optional registry (`host[:port]`) then `/`-separated path components.
fn check_name(name: &str) -> Result<(), Invalid> {
    let mut parts = name.split('/').peekable();
    let first = parts.next().unwrap_or_default();
    let first_is_registry = parts.peek().is_some() && is_registry(first);
    if !first_is_registry && !is_path_component(first) {
        return Err(Invalid(
            "a repository name is lowercase letters and digits, separated by '.', '_', '__', '-' or '/'",
        ));
    }
    for part in parts {
        if !is_path_component(part) {
            return Err(Invalid(
                "a repository name is lowercase letters and digits, separated by '.', '_', '__', '-' or '/'",
            ));
        }
    }
    Ok(())
}

/// `host[:port]`: labels of letters, digits and inner `-`, joined by `.`.
fn is_registry(s: &str) -> bool {
    let (host, port) = match s.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let label = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    host.split('.').all(label) && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `[a-z0-9]+` runs joined by one `.`, one `_`, `__`, or any number of `-`.
fn is_path_component(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &s[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn check_tag(t: &str) -> Result<(), Invalid> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = !t.is_empty()
        && t.len() <= 128
        && word(t.as_bytes()[0])
        && t.bytes().all(|b| word(b) || b == b'.' || b == b'-');
    ok.then_some(())
        .ok_or(Invalid("a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'"))
}

/// `algorithm:hex`, with the hex as long as the algorithm's digest.
fn check_digest(d: &str) -> Result<(), Invalid> {
    let (algorithm, hex) = d.split_once(':').ok_or(Invalid("a digest is ALGORITHM:HEX, e.g. sha256:…"))?;
    let wanted = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(Invalid("the digest algorithm is not sha256, sha384 or sha512")),
    };
    if hex.len() != wanted || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Invalid("the digest's hex part has the wrong length or characters"));
    }
    Ok(())
}

/// The registry and repository of a checked name: the first component is a registry when it
/// looks like a host (a `.`, a `:` or `localhost`); otherwise Docker Hub, whose one-component
/// names live under `library/`.
fn split_registry(name: &str) -> (String, String) {
    let (mut registry, mut repository) = match name.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (first.to_string(), rest.to_string())
        }
        _ => (HUB.to_string(), name.to_string()),
    };
    if registry == HUB_LEGACY {
        registry = HUB.to_string();
    }
    if registry == HUB && !repository.contains('/') {
        repository = format!("library/{repository}");
    }
    (registry, repository)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What oci-client's own parser makes of the same strings: the two must agree.
    fn same_as_oci_client(s: &str) {
        let theirs: Result<Reference, _> = s.parse();
        let ours = parse(s);
        match (theirs, ours) {
            (Ok(t), Ok(o)) => assert_eq!(
                (t.registry(), t.repository(), t.tag(), t.digest()),
                (o.registry(), o.repository(), o.tag(), o.digest()),
                "{s}"
            ),
            (Err(_), Err(_)) => {}
            (t, o) => panic!("{s}: oci-client {t:?}, morph {o:?}"),
        }
    }

    #[test]
    fn agrees_with_the_distribution_grammar() {
        let hex = "a".repeat(64);
        for s in [
            "localhost:5000/acme/hello:1.0.0",
            "127.0.0.1:5000/a/b/c:latest",
            "ghcr.io/hayride-dev/morphs/cli:v0.1",
            &format!("ghcr.io/acme/x@sha256:{hex}"),
            &format!("ghcr.io/acme/x:1@sha256:{hex}"),
            "ubuntu",
            "ubuntu:24.04",
            "library/ubuntu",
            "index.docker.io/library/ubuntu",
            "docker.io/acme/x",
            "localhost/x",
            "a.b-c__d---e/f",
            "host:5000",
            "my_registry/x",
            "UPPER/x",
            "ghcr.io/Acme/x",
            "ghcr.io/acme/x:",
            "ghcr.io/acme/x:-bad",
            "ghcr.io/acme/x@sha256:abc",
            "ghcr.io/acme/x@md5:00",
            "ghcr.io//x",
            "ghcr.io/acme/x/",
            "-host.io/x",
            "host-.io/x",
            "host.io:/x",
            "a..b/x",
            "a/x.",
            "a/_x",
            "ghcr.io/acme/x:1.0.0:2",
            &format!("ghcr.io/acme/x:{}", "t".repeat(129)),
            &format!("ghcr.io/acme/x:{}", "t".repeat(128)),
            &format!("ghcr.io/{}", "x".repeat(256)),
        ] {
            same_as_oci_client(s);
        }
    }
}
