//! The TLS flags beyond `--cacert`: `--pinnedpubkey`, `--cert`/`--key` and `-k`/`--insecure`,
//! with curl's syntax and exit statuses.

use std::path::Path;

use wayfarer_blocking::{
    Certificate, CertificatePinner, Client, ClientBuilder, Config, PrivateKey,
};

use crate::args::Args;
use crate::exit::{Failure, code};

/// What `-k` prints on standard error, every time it is used (even with `-s`): it turns off
/// what makes https worth having, and a script that has it should say so in its logs.
pub const INSECURE_WARNING: &str = "wayfarer: warning: --insecure: the server's certificate is \
     not verified; anyone on the network path can read and change this transfer";

/// `--pinnedpubkey` as curl writes it: `sha256//BASE64` hashes separated by `;`. Turned into
/// the library's pins (`sha256/BASE64`) for every host, since curl checks the pin on every
/// connection of the transfer.
pub fn parse_pins(s: &str) -> Result<CertificatePinner, String> {
    let pins = s
        .split(';')
        .map(|pin| {
            let pin = pin.trim();
            pin.strip_prefix("sha256//")
                .map(|hash| format!("sha256/{hash}"))
                .ok_or_else(|| {
                    format!("{pin:?} is not a public key hash: expected sha256//BASE64 (files are not supported)")
                })
        })
        .collect::<Result<Vec<String>, String>>()?;
    CertificatePinner::builder()
        .add("**", &pins)
        .build()
        .map_err(|e| e.message().to_string())
}

/// Applies the TLS flags to the builder.
pub fn configure(
    mut builder: ClientBuilder<Client>,
    args: &Args,
) -> Result<ClientBuilder<Client>, Failure> {
    if let Some(pinner) = &args.pinned_pubkey {
        builder = builder.certificate_pinner(pinner.clone());
    }
    if let Some(cert) = &args.cert {
        let (chain, key) = client_certificate(cert, args.key.as_deref())?;
        builder = builder.client_certificate(chain, key);
    }
    if args.insecure {
        eprintln!("{INSECURE_WARNING}");
        builder = builder.danger_accept_invalid_certs(true);
    }
    Ok(builder)
}

/// Reads `--cert` (PEM chain, own certificate first) and its key (from `--key`, or from the
/// same file as curl allows), and checks that they belong together; any problem exits 58, as
/// curl's `CURLE_SSL_CERTPROBLEM`.
fn client_certificate(
    cert: &Path,
    key: Option<&Path>,
) -> Result<(Vec<Certificate>, PrivateKey), Failure> {
    let problem = |path: &Path, why: String| {
        Failure::new(
            code::SSL_CERTPROBLEM,
            format!(
                "could not use the client certificate {}: {why}",
                path.display()
            ),
        )
    };
    let read = |path: &Path| std::fs::read(path).map_err(|e| problem(path, e.to_string()));
    let cert_pem = read(cert)?;
    let chain = Certificate::from_pem_bundle(&cert_pem)
        .map_err(|e| problem(cert, e.message().to_string()))?;
    let key_path = key.unwrap_or(cert);
    let key = PrivateKey::from_pem(&read(key_path)?)
        .map_err(|e| problem(key_path, e.message().to_string()))?;
    // The pair is checked here, so that a key that is not the certificate's exits 58 rather
    // than failing later as a trust-store problem.
    Config::builder()
        .tls_built_in_roots(false)
        .client_certificate(chain.clone(), key.clone())
        .build()
        .map_err(|e| problem(cert, e.message().to_string()))?;
    Ok((chain, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_take_curls_syntax() {
        let a = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        let b = "sha256//BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=";
        let pinner = parse_pins(&format!("{a};{b}")).unwrap();
        let pins: Vec<String> = pinner.pins_for("any.host").map(|p| p.to_string()).collect();
        assert_eq!(
            pins,
            [
                "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "sha256/BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="
            ]
        );
        assert!(
            parse_pins("/etc/key.pem")
                .unwrap_err()
                .contains("sha256//BASE64")
        );
        assert!(parse_pins("sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").is_err());
        assert!(parse_pins("sha256//AAAA").unwrap_err().contains("32 bytes"));
        assert!(parse_pins(&format!("{a};")).is_err());
    }
}
