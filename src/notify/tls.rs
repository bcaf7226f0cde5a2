//! What the SMTP client trusts, and what it says when a TLS handshake fails. Trust is the
//! bundled public roots, the operating system's store (`SSL_CERT_FILE` / `SSL_CERT_DIR` when
//! set, else the distribution's bundle) and every certificate in `[smtp] ca_file`; it is
//! built once per send and shared by its connections. Speaking SMTP is `smtp.rs`'s job.

use std::path::Path;

use lettre::transport::smtp::client::{Certificate, CertificateStore, TlsParameters};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{CertificateError, RootCertStore};

use super::smtp::SmtpError;
use crate::domain::text::display_path;

/// The TLS set-up for one server name, and where its roots came from.
#[derive(Clone)]
pub struct Trust {
    pub parameters: TlsParameters,
    /// The operating system's certificates that were usable as roots.
    pub system_roots: usize,
    /// The certificates read from `ca_file`.
    pub ca_file_roots: usize,
}

impl Trust {
    /// Builds the roots for connections to `host`: bundled, system and `ca_file`.
    pub fn load(host: &str, ca_file: Option<&Path>) -> Result<Trust, SmtpError> {
        let extra = match ca_file {
            Some(path) => read_ca_file(path)?,
            None => Vec::new(),
        };
        let system = usable_roots(rustls_native_certs::load_native_certs().certs);
        let mut builder = TlsParameters::builder(host.to_owned())
            .certificate_store(CertificateStore::WebpkiRoots);
        for der in system.iter().chain(&extra) {
            let cert = Certificate::from_der(der.to_vec())
                .map_err(|e| SmtpError::Config(format!("TLS set-up: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        let parameters = builder
            .build_rustls()
            .map_err(|e| SmtpError::Config(format!("TLS set-up: {e}")))?;
        Ok(Trust {
            parameters,
            system_roots: system.len(),
            ca_file_roots: extra.len(),
        })
    }
}

/// The certificates a root store accepts; the system store may hold a few it cannot use
/// (old formats), which are skipped rather than failing every connection.
fn usable_roots(certs: Vec<CertificateDer<'static>>) -> Vec<CertificateDer<'static>> {
    certs
        .into_iter()
        .filter(|der| RootCertStore::empty().add(der.clone()).is_ok())
        .collect()
}

/// Every certificate in a PEM file; a file that cannot be read, holds no certificate or one
/// that is not usable as a root is a config error naming the file.
fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, SmtpError> {
    let shown = display_path(path);
    let bytes = std::fs::read(path)
        .map_err(|e| SmtpError::Config(format!("cannot read ca_file {shown}: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SmtpError::Config(format!("ca_file {shown} is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(SmtpError::Config(format!(
            "ca_file {shown} holds no certificate: it should hold your company's CA in PEM \
             (-----BEGIN CERTIFICATE-----)"
        )));
    }
    for (n, der) in certs.iter().enumerate() {
        RootCertStore::empty().add(der.clone()).map_err(|e| {
            SmtpError::Config(format!(
                "ca_file {shown}: certificate {} cannot be used as a CA: {e}",
                n + 1
            ))
        })?;
    }
    Ok(certs)
}

/// Why a TLS handshake with `host` failed, in words that name the setting that fixes it;
/// `None` when `e` is not a TLS failure.
pub fn explain(e: &lettre::transport::smtp::Error, host: &str) -> Option<String> {
    let tls = rustls_error(e)?;
    Some(match tls {
        rustls::Error::InvalidCertificate(cert) => explain_certificate(cert, host),
        rustls::Error::InvalidMessage(_) => format!(
            "the TLS handshake failed ({tls}): does the server speak TLS at once on this \
             port? Use `tls = \"tls\"` for implicit TLS (port 465), `tls = \"starttls\"` for \
             587 or 25"
        ),
        other => format!("the TLS handshake failed: {other}"),
    })
}

fn explain_certificate(cert: &CertificateError, host: &str) -> String {
    match cert {
        CertificateError::UnknownIssuer => "the server's certificate is signed by an authority \
            this machine does not trust: add your company's CA with `ca_file` under [smtp] (PEM)"
            .to_owned(),
        CertificateError::ExpiredContext { time, not_after } => format!(
            "the server's certificate expired on {} (it is now {}): the mail server needs a \
             new certificate",
            date(not_after.as_secs()),
            date(time.as_secs())
        ),
        CertificateError::Expired => {
            "the server's certificate has expired: the mail server needs a new certificate"
                .to_owned()
        }
        CertificateError::NotValidYetContext { time, not_before } => format!(
            "the server's certificate is valid only from {} (it is now {}): check this \
             machine's clock",
            date(not_before.as_secs()),
            date(time.as_secs())
        ),
        CertificateError::NotValidForNameContext { presented, .. } => {
            let names: Vec<String> = presented.iter().map(|n| presented_name(n)).collect();
            let names = if names.is_empty() {
                "no name".to_owned()
            } else {
                names.join(" or ")
            };
            format!(
                "the certificate is for {names}, not `{host}`: set `host` under [smtp] to the \
                 name on the certificate"
            )
        }
        CertificateError::NotValidForName => format!(
            "the certificate is not for `{host}`: set `host` under [smtp] to the name on the \
             certificate"
        ),
        other => format!("the server's certificate was refused: {other}"),
    }
}

/// `DnsName("mail.corp.example")` (how rustls reports a presented name) as
/// `mail.corp.example`.
fn presented_name(name: &str) -> String {
    let inner = name
        .split_once('(')
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .unwrap_or(name);
    inner.trim_matches('"').to_owned()
}

fn date(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || format!("{secs} (UNIX time)"),
            |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
}

/// The rustls error behind a lettre error: lettre wraps it in an `io::Error`, whose
/// `source()` skips the error it wraps, so each `io::Error` is opened by hand.
fn rustls_error(e: &lettre::transport::smtp::Error) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && let Some(tls) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(tls);
        }
        next = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_names_lose_their_wrapping() {
        assert_eq!(
            presented_name("DnsName(\"mail.corp.example\")"),
            "mail.corp.example"
        );
        assert_eq!(presented_name("IpAddress(10.0.0.7)"), "10.0.0.7");
        assert_eq!(presented_name("plain"), "plain");
    }

    #[test]
    fn dates_are_shown_in_utc() {
        assert_eq!(date(1_577_836_800), "2020-01-01 00:00 UTC");
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("company-ca.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = read_ca_file(&empty).unwrap_err().to_string();
        assert!(err.contains("company-ca.pem holds no certificate"), "{err}");
        let missing = dir.path().join("missing.pem");
        let err = read_ca_file(&missing).unwrap_err().to_string();
        assert!(err.contains("cannot read ca_file"), "{err}");
        assert!(err.contains("missing.pem"), "{err}");
    }
}
